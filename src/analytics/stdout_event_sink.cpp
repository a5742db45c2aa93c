#include "switchboard/analytics/stdout_event_sink.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"

namespace switchboard::analytics {

void StdoutEventSink::write(std::vector<Event> batch, Done done) {
  std::string lines;
  for (const auto& e : batch) {
    lines += util::json_text(to_json(e));
    lines += '\n';
  }
  const bool ok =
      std::fwrite(lines.data(), 1, lines.size(), stdout) == lines.size() && std::fflush(stdout) == 0;
  done(ok);
}

}  // namespace switchboard::analytics
