#pragma once
#include "switchboard/analytics/event_sink.hpp"

namespace switchboard::analytics {

// Writes events as JSON lines to standard output (for containers whose log collector reads stdout). Each
// batch is one fwrite, so lines never interleave with the logger's lines. Thread-safety: none; only the
// EventRecorder's thread calls it.
class StdoutEventSink final : public EventSink {
 public:
  std::string_view name() const override { return "stdout"; }
  void write(std::vector<Event> batch, Done done) override;
};

}  // namespace switchboard::analytics
