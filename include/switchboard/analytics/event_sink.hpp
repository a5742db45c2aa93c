#pragma once
#include <functional>
#include <string_view>
#include <vector>

#include "switchboard/analytics/event.hpp"

namespace switchboard::analytics {

// Where analytics events end up: a JSON-lines file, stdout, an HTTP collector or a Redis stream (or nowhere).
// Only the EventRecorder calls a sink, from its own thread and one batch at a time, so a sink may block in
// write() (files) or complete later from another thread (HTTP, Redis); either way no I/O thread waits for it.
class EventSink {
 public:
  // true: the batch was written; false: it was given up on (the recorder counts its events as dropped).
  using Done = std::function<void(bool written)>;

  virtual ~EventSink() = default;

  // A short name for logs ("file", "stdout", "http", "redis", "none").
  virtual std::string_view name() const = 0;

  // Writes a non-empty batch and calls `done` exactly once, from any thread, within a bounded time (the
  // sink's own timeouts and retries bound it).
  virtual void write(std::vector<Event> batch, Done done) = 0;
};

}  // namespace switchboard::analytics
