#include "switchboard/analytics/event_recorder.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "switchboard/analytics/metrics.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::analytics {
namespace {

using Clock = std::chrono::steady_clock;

constexpr util::AreaLogger log{"analytics"};

}  // namespace

// Shared with sink callbacks, which may complete after the recorder is gone.
struct EventRecorder::State {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Event> queue;
  Clock::time_point oldest_at{};  // when the oldest queued event was recorded
  std::vector<std::function<void()>> flush_waiters;
  bool running = false;
  bool stopping = false;
  bool stopped = false;
  Clock::time_point stop_deadline{};
  std::uint64_t generation = 0;  // of the batch in flight; late completions of older batches are ignored
  bool batch_done = false;
  bool batch_ok = false;

  std::atomic<std::uint64_t> recorded{0}, written{0}, dropped_queue_full{0}, dropped_sink{0},
      dropped_shutdown{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::int64_t> last_drop_log_ms{0};

  // At most one warning per 10 s, so a flood of drops does not become a flood of log lines.
  void warn_dropped(const char* why) {
    const auto now = util::steady_ms();
    auto last = last_drop_log_ms.load(std::memory_order_relaxed);
    if (last != 0 && now - last < 10'000) return;
    if (!last_drop_log_ms.compare_exchange_strong(last, now)) return;
    log()->warn("analytics events dropped ({}): {} so far for a full queue, {} for sink failures", why,
                dropped_queue_full.load(), dropped_sink.load());
  }
};

EventRecorder::EventRecorder(std::unique_ptr<EventSink> sink, EventRecorderOptions options)
    : sink_(std::move(sink)), options_(std::move(options)), state_(std::make_shared<State>()) {}

EventRecorder::~EventRecorder() {
  stop(std::chrono::milliseconds(0));
}

std::string_view EventRecorder::sink_name() const {
  return sink_->name();
}

void EventRecorder::start() {
  std::lock_guard lock(state_->mutex);
  if (state_->running || state_->stopped) return;
  state_->running = true;
  thread_ = std::thread([this] { run(); });
}

void EventRecorder::record(Event event) {
  event.dataset = options_.dataset;
  if (event.timestamp == 0) event.timestamp = util::now_ms();
  event.clamp();
  State& s = *state_;
  bool wake = false;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopped) {
      ++s.dropped_shutdown;
      return;
    }
    if (s.queue.size() >= options_.queue_size) {
      ++s.dropped_queue_full;
    } else {
      if (s.queue.empty()) {
        s.oldest_at = Clock::now();
        wake = true;  // the thread may be waiting without a deadline
      }
      s.queue.push_back(std::move(event));
      ++s.recorded;
      s.queued = s.queue.size();
      wake = wake || s.queue.size() == options_.batch_max;
      if (wake) s.cv.notify_one();
      return;
    }
  }
  s.warn_dropped("queue full");
}

void EventRecorder::flush(std::function<void()> done) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->running && !state_->stopped) {
      state_->flush_waiters.push_back(std::move(done));
      state_->cv.notify_one();
      return;
    }
  }
  done();
}

void EventRecorder::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped) return;
    state_->stopping = true;
    state_->stop_deadline = Clock::now() + timeout;
    state_->cv.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    state_->running = false;
    // Never started, or out of time: what is left is lost.
    state_->dropped_shutdown += state_->queue.size();
    state_->queue.clear();
    state_->queued = 0;
    waiters = std::move(state_->flush_waiters);
  }
  for (auto& w : waiters) w();
}

void EventRecorder::run() {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  for (;;) {
    // Wait for a batch to be due: full, flush requested, stopping, or the oldest event has waited long
    // enough.
    for (;;) {
      if (!s.queue.empty()) {
        if (s.queue.size() >= options_.batch_max || !s.flush_waiters.empty() || s.stopping) break;
        const auto due = s.oldest_at + options_.flush_interval;
        if (Clock::now() >= due) break;
        s.cv.wait_until(lock, due);
        continue;
      }
      if (!s.flush_waiters.empty()) {
        auto waiters = std::move(s.flush_waiters);
        s.flush_waiters.clear();
        lock.unlock();
        for (auto& w : waiters) w();
        lock.lock();
        continue;
      }
      if (s.stopping) return;
      s.cv.wait(lock);
    }
    if (s.stopping && Clock::now() >= s.stop_deadline) return;  // stop() counts what is left

    std::vector<Event> batch;
    const std::size_t n = std::min(options_.batch_max, s.queue.size());
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(s.queue.front()));
      s.queue.pop_front();
    }
    s.queued = s.queue.size();
    // Events left behind have waited at least as long as the batch: they go out next without a new wait.
    const std::uint64_t gen = ++s.generation;
    s.batch_done = false;
    lock.unlock();
    sink_->write(std::move(batch), [weak = std::weak_ptr<State>(state_), gen](bool ok) {
      const auto st = weak.lock();
      if (!st) return;
      std::lock_guard l(st->mutex);
      if (st->generation != gen || st->batch_done) return;
      st->batch_done = true;
      st->batch_ok = ok;
      st->cv.notify_one();
    });
    lock.lock();
    const auto give_up_at = Clock::now() + options_.write_timeout;
    while (!s.batch_done) {
      const auto until = s.stopping ? std::min(give_up_at, s.stop_deadline) : give_up_at;
      if (Clock::now() >= until) break;
      s.cv.wait_until(lock, until);
    }
    if (s.batch_done && s.batch_ok) {
      s.written += n;
    } else {
      if (!s.batch_done) ++s.generation;  // abandon it: a late answer must not count for the next batch
      s.dropped_sink += n;
      lock.unlock();
      s.warn_dropped(s.batch_done ? "the sink failed" : "the sink did not answer in time");
      lock.lock();
    }
  }
}

EventRecorder::Stats EventRecorder::stats() const {
  const State& s = *state_;
  Stats out;
  out.recorded = s.recorded.load();
  out.written = s.written.load();
  out.dropped_queue_full = s.dropped_queue_full.load();
  out.dropped_sink = s.dropped_sink.load();
  out.dropped_shutdown = s.dropped_shutdown.load();
  out.queued = s.queued.load();
  return out;
}

void EventRecorder::export_metrics(Metrics& metrics) const {
  metrics.add_collector([state = state_, capacity = options_.queue_size](PrometheusWriter& w) {
    const State& s = *state;
    w.family("switchboard_analytics_events_recorded_total", "Analytics events accepted onto the queue.",
             "counter");
    w.sample("switchboard_analytics_events_recorded_total", {}, static_cast<double>(s.recorded.load()));
    w.family("switchboard_analytics_events_written_total", "Analytics events the sink confirmed.", "counter");
    w.sample("switchboard_analytics_events_written_total", {}, static_cast<double>(s.written.load()));
    w.family("switchboard_analytics_events_dropped_total",
             "Analytics events lost: queue full, sink gave up, or still queued at shutdown.", "counter");
    w.sample("switchboard_analytics_events_dropped_total", {{"reason", "queue_full"}},
             static_cast<double>(s.dropped_queue_full.load()));
    w.sample("switchboard_analytics_events_dropped_total", {{"reason", "sink_failed"}},
             static_cast<double>(s.dropped_sink.load()));
    w.sample("switchboard_analytics_events_dropped_total", {{"reason", "shutdown"}},
             static_cast<double>(s.dropped_shutdown.load()));
    w.family("switchboard_analytics_queue_length", "Analytics events waiting for the sink.", "gauge");
    w.sample("switchboard_analytics_queue_length", {}, static_cast<double>(s.queued.load()));
    w.family("switchboard_analytics_queue_capacity", "The analytics queue's size (analytics.queue_size).",
             "gauge");
    w.sample("switchboard_analytics_queue_capacity", {}, static_cast<double>(capacity));
  });
}

}  // namespace switchboard::analytics
