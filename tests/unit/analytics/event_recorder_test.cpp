#include "switchboard/analytics/event_recorder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "switchboard/analytics/events.hpp"
#include "switchboard/analytics/metrics.hpp"

namespace switchboard::analytics {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// A sink that records batches and can be told to hold (not answer) or to fail.
class ScriptedSink final : public EventSink {
 public:
  std::string_view name() const override { return "scripted"; }
  void write(std::vector<Event> batch, Done done) override {
    std::unique_lock lock(mutex_);
    batches_.push_back(batch);
    if (hold_) {
      held_.push_back(std::move(done));
      cv_.notify_all();
      return;
    }
    const bool ok = !fail_;
    lock.unlock();
    done(ok);
  }
  void hold(bool h) {
    std::vector<Done> release;
    {
      std::lock_guard lock(mutex_);
      hold_ = h;
      if (!h) release = std::move(held_);
    }
    for (auto& d : release) d(true);
  }
  void fail(bool f) {
    std::lock_guard lock(mutex_);
    fail_ = f;
  }
  std::vector<std::vector<Event>> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::vector<Event>> batches_;
  std::vector<Done> held_;
  bool hold_ = false;
  bool fail_ = false;
};

struct Fixture {
  explicit Fixture(EventRecorderOptions options = make_options()) {
    auto s = std::make_unique<ScriptedSink>();
    sink = s.get();
    recorder = std::make_unique<EventRecorder>(std::move(s), options);
  }
  static EventRecorderOptions make_options() {
    EventRecorderOptions o;
    o.dataset = "test_ds";
    o.queue_size = 4;
    o.batch_max = 2;
    o.flush_interval = 20ms;
    o.write_timeout = 5000ms;
    return o;
  }
  // Room for 100 events, written only when a flush or stop asks (the interval never comes in a test).
  static EventRecorderOptions make_patient_options() {
    auto o = make_options();
    o.flush_interval = 60s;
    o.batch_max = 100;
    o.queue_size = 100;
    return o;
  }
  ScriptedSink* sink;
  std::unique_ptr<EventRecorder> recorder;
};

TEST(EventRecorder, StampsDatasetAndTimeAndWritesInBatches) {
  Fixture f;
  f.recorder->start();
  for (int i = 0; i < 3; ++i)
    f.recorder->record(events::nudge("user_" + std::to_string(i), "group", "general"));
  ASSERT_TRUE(eventually([&] { return f.recorder->stats().written == 3; }));
  const auto batches = f.sink->batches();
  ASSERT_GE(batches.size(), 2u);  // batch_max is 2
  for (const auto& b : batches) EXPECT_LE(b.size(), 2u);
  const Event& e = batches.front().front();
  EXPECT_EQ(e.dataset, "test_ds");
  EXPECT_EQ(e.index, "user_0");
  EXPECT_EQ(e.name(), "nudge");
  EXPECT_GT(e.timestamp, 1'600'000'000'000);
}

TEST(EventRecorder, AFullQueueDropsAndCountsWithoutBlocking) {
  Fixture f;
  f.sink->hold(true);  // the sink stalls: the first batch stays in flight
  f.recorder->start();
  f.recorder->record(events::login_failed("unknown_account"));
  f.recorder->record(events::login_failed("unknown_account"));
  ASSERT_TRUE(eventually([&] { return f.sink->held() == 1; }));
  // Four fit in the queue behind the stalled batch; the rest are dropped at once.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) f.recorder->record(events::login_failed("unknown_account"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms) << "record() must not wait for the sink";
  auto s = f.recorder->stats();
  EXPECT_EQ(s.recorded, 6u);
  EXPECT_EQ(s.dropped_queue_full, 6u);
  EXPECT_EQ(s.queued, 4u);

  f.sink->hold(false);
  ASSERT_TRUE(eventually([&] { return f.recorder->stats().written == 6; }));
  s = f.recorder->stats();
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.dropped_queue_full, 6u);

  Metrics m;
  f.recorder->export_metrics(m);
  const auto text = m.render();
  EXPECT_NE(text.find("switchboard_analytics_events_dropped_total{reason=\"queue_full\"} 6\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("switchboard_analytics_events_written_total 6\n"), std::string::npos);
}

TEST(EventRecorder, SinkFailuresCountAsDropped) {
  Fixture f;
  f.sink->fail(true);
  f.recorder->start();
  f.recorder->record(events::logout("user_1", false, 12));
  ASSERT_TRUE(eventually([&] { return f.recorder->stats().dropped_sink == 1; }));
  EXPECT_EQ(f.recorder->stats().written, 0u);
}

TEST(EventRecorder, FlushWritesWithoutWaitingForTheInterval) {
  const auto options = Fixture::make_patient_options();
  Fixture f(options);
  f.recorder->start();
  f.recorder->record(events::ws_open("user_1", "room", "group", "general"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(f.recorder->stats().written, 0u);  // waiting for its batch to fill or age
  std::promise<void> flushed;
  f.recorder->flush([&] { flushed.set_value(); });
  ASSERT_EQ(flushed.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.recorder->stats().written, 1u);
}

TEST(EventRecorder, StopWritesWhatIsQueuedAndCountsWhatCannotBe) {
  const auto options = Fixture::make_patient_options();
  {
    Fixture f(options);
    f.recorder->start();
    for (int i = 0; i < 5; ++i) f.recorder->record(events::wink("user_1", "group", "general", "kiss"));
    f.recorder->stop(2000ms);
    EXPECT_EQ(f.recorder->stats().written, 5u);
    f.recorder->record(events::wink("user_1", "group", "general", "kiss"));
    EXPECT_EQ(f.recorder->stats().dropped_shutdown, 1u);  // recorded after stop
  }
  {
    Fixture f(options);
    f.sink->hold(true);  // never answers: stop() gives up at its deadline
    f.recorder->start();
    for (int i = 0; i < 3; ++i) f.recorder->record(events::wink("user_1", "group", "general", "kiss"));
    const auto t0 = std::chrono::steady_clock::now();
    f.recorder->stop(200ms);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    const auto s = f.recorder->stats();
    EXPECT_EQ(s.written, 0u);
    EXPECT_EQ(s.dropped_sink + s.dropped_shutdown, 3u);
    f.sink->hold(false);  // a late answer after stop is ignored
    EXPECT_EQ(f.recorder->stats().written, 0u);
  }
}

TEST(Event, ClampsToDataPointLimits) {
  Event e;
  e.index =
      std::string(90, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";  // 98 bytes, 2-byte characters at the end
  for (int i = 0; i < 25; ++i) e.blobs.push_back("b");
  for (int i = 0; i < 25; ++i) e.doubles.push_back(i);
  e.blobs[1] = std::string(2000, 'x');
  e.clamp();
  EXPECT_EQ(e.index.size(), 96u);  // 90 + three whole characters
  EXPECT_EQ(e.blobs.size(), Event::kMaxBlobs);
  EXPECT_EQ(e.doubles.size(), Event::kMaxDoubles);
  EXPECT_EQ(e.blobs[1].size(), Event::kMaxBlobBytes);
}

TEST(Events, CatalogNeverCarriesText) {
  const auto m = events::message_sent("user_3", "direct", "", "ws", 5, 7);
  EXPECT_EQ(m.index, "user_3");
  EXPECT_EQ(m.blobs, (std::vector<std::string>{"message_sent", "direct", "", "ws"}));
  EXPECT_EQ(m.doubles, (std::vector<double>{5, 7}));
  const auto failed = events::login_failed("unknown_account");
  EXPECT_EQ(failed.index, std::string(events::kAnonymous));
  const auto ai = events::ai_invocation("user_1", "bot_clippy", "openai", "ok", "", 812, 17, 120);
  EXPECT_EQ(ai.blobs[1], "bot_clippy");
  EXPECT_EQ(ai.doubles, (std::vector<double>{812, 17, 120}));
}

}  // namespace
}  // namespace switchboard::analytics
