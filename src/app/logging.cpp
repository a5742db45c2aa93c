#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "switchboard/app/app.hpp"
#include "switchboard/util/json_text.hpp"

namespace switchboard::app {
namespace {

// One JSON object per line, with the message escaped properly (a pattern cannot escape quotes).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    nlohmann::json line = {{"ts", ms},
                           {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                 spdlog::level::to_string_view(msg.level).size())},
                           {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                           {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    const auto text = util::json_text(line);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void init_logging(const config::Config::Log& log) {
  if (spdlog::get("app")) return;  // already set up (tests)
  // A bounded queue: when the terminal cannot keep up, the oldest lines are dropped instead of stalling I/O
  // threads.
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  if (log.format == "json") {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  }
  const auto level = spdlog::level::from_str(log.level);
  for (const char* name : {"app", "net", "api", "auth", "chat", "presence", "session", "store", "ai", "redis",
                           "security", "analytics", "http_client"}) {
    auto logger = std::make_shared<spdlog::async_logger>(name, sink, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::overrun_oldest);
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
  }
  spdlog::set_default_logger(spdlog::get("app"));
}

}  // namespace switchboard::app
