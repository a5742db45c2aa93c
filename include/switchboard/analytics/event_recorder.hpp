#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "switchboard/analytics/event.hpp"
#include "switchboard/analytics/event_sink.hpp"

namespace switchboard::analytics {

class Metrics;

struct EventRecorderOptions {
  std::string dataset = "switchboard";             // analytics.dataset
  std::size_t queue_size = 10000;                  // analytics.queue_size
  std::size_t batch_max = 100;                     // analytics.batch_max_events
  std::chrono::milliseconds flush_interval{1000};  // analytics.flush_interval_ms
  // The longest the recorder waits for one batch, in case a sink never answers (its io_context stopped).
  std::chrono::milliseconds write_timeout{120000};
};

// The front of analytics: record() puts an event on a bounded in-memory queue and returns at once; a thread
// of its own takes batches off the queue (up to batch_max, or whatever is there once the oldest event has
// waited flush_interval) and hands them to the sink, one batch at a time. A full queue drops the new event
// and counts it, so analytics never slows chat down nor grows memory without bound.
//
// Thread-safety: record(), flush(), stats() from any thread; start() and stop() from one thread (the
// composition root). record() holds a mutex only to push onto the queue.
class EventRecorder final {
 public:
  EventRecorder(std::unique_ptr<EventSink> sink, EventRecorderOptions options);
  ~EventRecorder();  // stop(0) if still running
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Starts the drain thread. Events recorded before start() wait on the queue.
  void start();

  // Stamps the event with the dataset and (if unset) the time, clamps it to the data-point limits and queues
  // it; drops and counts it when the queue is full or the recorder has stopped.
  void record(Event event);

  // Writes what is queued without waiting for flush_interval; `done` runs once the queue is empty and no
  // batch is in flight, on the recorder's thread (at once on the caller's if the thread is not running).
  void flush(std::function<void()> done);

  // Writes what is still queued, waiting at most `timeout` for the sink, then ends the thread. What could not
  // be written in time is counted as dropped (reason "shutdown"). Idempotent.
  void stop(std::chrono::milliseconds timeout);

  struct Stats {
    std::uint64_t recorded = 0;            // accepted onto the queue
    std::uint64_t written = 0;             // confirmed by the sink
    std::uint64_t dropped_queue_full = 0;  // refused: the queue was full
    std::uint64_t dropped_sink = 0;        // the sink gave up on their batch
    std::uint64_t dropped_shutdown = 0;    // still queued (or recorded) when stop() ran out of time
    std::size_t queued = 0;
  };
  Stats stats() const;

  std::string_view sink_name() const;

  // Adds the recorder's counters and queue length to `metrics` (switchboard_analytics_*). The recorder must
  // outlive scrapes of `metrics` or be stopped; its counters are shared with the collector.
  void export_metrics(Metrics& metrics) const;

  struct State;

 private:
  void run();

  std::unique_ptr<EventSink> sink_;
  const EventRecorderOptions options_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace switchboard::analytics
