#include "switchboard/analytics/stdout_event_sink.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace switchboard::analytics {

void StdoutEventSink::write(std::vector<Event> batch, Done done) {
  std::string lines;
  for (const auto& e : batch) {
    lines += to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    lines += '\n';
  }
  const bool ok =
      std::fwrite(lines.data(), 1, lines.size(), stdout) == lines.size() && std::fflush(stdout) == 0;
  done(ok);
}

}  // namespace switchboard::analytics
