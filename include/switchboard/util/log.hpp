#pragma once
#include <spdlog/spdlog.h>

#include <memory>

namespace switchboard::util {

// The logger of one area ("net", "chat", "ai", ...): the one app::init_logging set up, or spdlog's default
// logger before that (unit tests, tools), so it is never null. Looked up on each call (a map lookup under
// spdlog's lock, nothing next to the work a log line does): a cached copy would keep the default logger
// forever when it was first asked for before set-up.
std::shared_ptr<spdlog::logger> logger(const char* area);

// A file's logger, declared once at namespace scope (`constexpr util::AreaLogger log{"net"};`) and used as
// `log()->info(...)`.
class AreaLogger {
 public:
  explicit constexpr AreaLogger(const char* area) : area_(area) {}
  std::shared_ptr<spdlog::logger> operator()() const { return logger(area_); }

 private:
  const char* area_;
};

}  // namespace switchboard::util
