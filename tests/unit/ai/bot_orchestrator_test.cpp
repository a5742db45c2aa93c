#include "switchboard/ai/bot_orchestrator.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "switchboard/ai/memory_quota_store.hpp"
#include "test_support.hpp"

namespace switchboard::ai {
namespace {

using namespace std::chrono_literals;
using test::msg;
using Clock = std::chrono::steady_clock;

// Records what the orchestrator does to a room.
class FakeRoom final : public chat::BotRoomHandle {
 public:
  struct Event {
    std::string kind;  // typing_on, typing_off, delta, reply, system
    std::string bot;
    std::string id;
    std::string text;
    Clock::time_point at;
  };

  void bot_typing(const std::string& bot, bool on) override {
    add({on ? "typing_on" : "typing_off", bot, "", ""});
  }
  void bot_delta(const std::string& bot, const std::string& id, const std::string& d) override {
    add({"delta", bot, id, d});
  }
  void bot_reply(const std::string& bot, const std::string& id, const std::string& t) override {
    add({"reply", bot, id, t});
  }
  void bot_system(const std::string& bot, const std::string& t) override { add({"system", bot, "", t}); }

  // Waits until `n` events of `kind` arrived.
  bool wait_for(const std::string& kind, std::size_t n = 1, std::chrono::milliseconds timeout = 3000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return count_locked(kind) >= n; });
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<Event> of(const std::string& kind) const {
    std::vector<Event> out;
    for (const auto& e : events())
      if (e.kind == kind) out.push_back(e);
    return out;
  }

 private:
  void add(Event e) {
    e.at = Clock::now();
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  std::size_t count_locked(const std::string& kind) const {
    std::size_t n = 0;
    for (const auto& e : events_) n += e.kind == kind;
    return n;
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// A scripted provider: each call plays the deltas with a pause between them, then reports the result (or
// stalls until cancelled). Calls run on their own threads, as a real provider's callbacks arrive on a foreign
// strand.
class FakeProvider final : public LlmProvider {
 public:
  struct Script {
    std::vector<std::string> deltas;
    std::chrono::milliseconds gap{10ms};
    LlmResult result;  // text defaults to the joined deltas
    bool stall = false;
  };

  ~FakeProvider() override { join_all(); }

  // Waits for every call's thread (a stalled one must have been cancelled).
  void join_all() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // the last reference went away on this very thread
      } else {
        t.join();
      }
    }
  }
  std::string_view name() const override { return "fake"; }

  LlmCallId complete(LlmRequest request, DeltaHandler on_delta, CompletionHandler on_done) override {
    std::lock_guard lock(mutex_);
    const LlmCallId id = ++next_id_;
    requests_.push_back(request);
    const Script script = script_;
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    cancels_[id] = cancelled;
    threads_.emplace_back([script, request, on_delta, on_done, cancelled] {
      std::string text;
      for (const auto& d : script.deltas) {
        std::this_thread::sleep_for(script.gap);
        if (*cancelled) break;
        text += d;
        if (request.stream) on_delta(d);
      }
      while (script.stall && !*cancelled) std::this_thread::sleep_for(5ms);
      LlmResult r = script.result;
      if (*cancelled) {
        r = {LlmErrorKind::kCancelled, text, 0, "cancelled"};
      } else if (r.ok() && r.text.empty()) {
        r.text = text;
      }
      on_done(r);
    });
    return id;
  }

  void cancel(LlmCallId id) override {
    std::lock_guard lock(mutex_);
    ++cancel_calls_;
    if (auto it = cancels_.find(id); it != cancels_.end()) *it->second = true;
  }

  void set_script(Script s) {
    std::lock_guard lock(mutex_);
    script_ = std::move(s);
  }
  std::vector<LlmRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int cancel_calls() const {
    std::lock_guard lock(mutex_);
    return cancel_calls_;
  }

 private:
  mutable std::mutex mutex_;
  Script script_;
  LlmCallId next_id_ = 0;
  std::vector<LlmRequest> requests_;
  std::map<LlmCallId, std::shared_ptr<std::atomic<bool>>> cancels_;
  std::vector<std::thread> threads_;
  int cancel_calls_ = 0;
};

class AiOrchestrator : public ::testing::Test {
 protected:
  AiOrchestrator() : guard_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    options_.reply_deadline = 3s;
    options_.typing_refresh = 1s;
  }
  ~AiOrchestrator() override {
    provider_->join_all();  // their completions are posted before the io_context winds down
    guard_.reset();
    for (auto& t : threads_) t.join();  // run() returns once every reply has finished
    orchestrator_.reset();
  }

  BotOrchestrator& orchestrator(bool with_provider = true) {
    if (!orchestrator_)
      orchestrator_ = std::make_shared<BotOrchestrator>(
          io_, test::directory(), with_provider ? provider_ : nullptr, quotas_, options_);
    return *orchestrator_;
  }

  void dm_chat(const std::string& text, const std::string& user = "user_1",
               const std::string& bot = "bot_clippy") {
    const std::string room_id = "dm_" + std::min(user, bot) + "__" + std::max(user, bot);
    const chat::RoomInfo info{room_id, true, {std::min(user, bot), std::max(user, bot)}};
    const auto m = msg(user, user == "user_1" ? "Alex" : "Jordan", text, room_id);
    orchestrator().on_human_chat(room_, info, m, {m});
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::shared_ptr<FakeProvider> provider_ = std::make_shared<FakeProvider>();
  std::shared_ptr<MemoryQuotaStore> quotas_ = std::make_shared<MemoryQuotaStore>();
  std::shared_ptr<FakeRoom> room_ = std::make_shared<FakeRoom>();
  BotOrchestratorOptions options_;
  std::shared_ptr<BotOrchestrator> orchestrator_;
};

TEST_F(AiOrchestrator, DirectMessageStreamsDeltasThenTheFinalReplyWithTheSameId) {
  provider_->set_script({{"Clippy: Hel", "lo ", "**there**", "!"}, 40ms, {}, false});
  dm_chat("hi clippy");
  ASSERT_TRUE(room_->wait_for("reply"));
  const auto events = room_->events();
  EXPECT_EQ(events.front().kind, "typing_on");
  EXPECT_EQ(events.front().bot, "bot_clippy");
  const auto reply = room_->of("reply").at(0);
  EXPECT_EQ(reply.text, "Hello there!");
  EXPECT_EQ(reply.bot, "bot_clippy");
  const auto deltas = room_->of("delta");
  ASSERT_FALSE(deltas.empty());
  std::string streamed;
  for (const auto& d : deltas) {
    EXPECT_EQ(d.id, reply.id);
    streamed += d.text;
  }
  EXPECT_EQ(reply.text.compare(0, streamed.size(), streamed), 0) << streamed;  // deltas never show the label
  EXPECT_EQ(room_->of("system").size(), 0u);

  const auto requests = provider_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].stream);
  EXPECT_EQ(requests[0].messages.front().role, "system");
  EXPECT_EQ(requests[0].messages.back(), (ChatMessage{"user", "Alex: hi clippy"}));
  EXPECT_EQ(orchestrator().stats().replied, 1u);
}

TEST_F(AiOrchestrator, GroupMentionUsesTheRoomContext) {
  provider_->set_script({{"I am completely operational."}, 5ms, {}, false});
  const chat::RoomInfo general{"general", false, {}};
  std::vector<chat::Message> context = {msg("user_2", "Jordan", "anyone there?"),
                                        msg("user_1", "Alex", "@hal status?")};
  orchestrator().on_human_chat(room_, general, context.back(), context);
  orchestrator().on_human_chat(room_, general, msg("user_1", "Alex", "no mention here"), context);
  ASSERT_TRUE(room_->wait_for("reply"));
  EXPECT_EQ(room_->of("reply").at(0).bot, "bot_hal9000");
  const auto requests = provider_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].messages.back(), (ChatMessage{"user", "Jordan: anyone there?\nAlex: @hal status?"}));
  EXPECT_NE(requests[0].messages.front().content.find("HAL 9000"), std::string::npos);
}

TEST_F(AiOrchestrator, DeltasAreCoalescedToAtMostTenASecond) {
  std::vector<std::string> tokens(80, "word ");
  provider_->set_script({tokens, 5ms, {}, false});
  dm_chat("tell me a long story");
  ASSERT_TRUE(room_->wait_for("reply", 1, 5s));
  const auto deltas = room_->of("delta");
  ASSERT_GE(deltas.size(), 2u);
  // 100 ms pacing by the orchestrator's clock; the room sees it through thread scheduling, hence the slack.
  for (std::size_t i = 1; i < deltas.size(); ++i)
    EXPECT_GE(deltas[i].at - deltas[i - 1].at, 60ms) << "delta " << i;
  const auto span = deltas.back().at - deltas.front().at;
  EXPECT_LE(static_cast<double>(deltas.size() - 1), std::chrono::duration<double>(span).count() * 10 + 1);
}

TEST_F(AiOrchestrator, NonStreamingReplyHasNoDeltas) {
  options_.stream = false;
  provider_->set_script({{"\"Greetings, sir.\""}, 5ms, {}, false});
  dm_chat("hello", "user_1", "bot_ask_jeeves");
  ASSERT_TRUE(room_->wait_for("reply"));
  EXPECT_EQ(room_->of("reply").at(0).text, "Greetings, sir.");
  EXPECT_TRUE(room_->of("delta").empty());
  EXPECT_FALSE(provider_->requests().at(0).stream);
}

TEST_F(AiOrchestrator, ProviderFailureEndsInAnInCharacterApology) {
  LlmResult failure{LlmErrorKind::kHttpStatus, "", 500, "HTTP 500: boom"};
  provider_->set_script({{"partial "}, 5ms, failure, false});
  dm_chat("hi");
  ASSERT_TRUE(room_->wait_for("reply"));
  const auto reply = room_->of("reply").at(0);
  EXPECT_EQ(reply.text, test::directory().find_bot("bot_clippy")->apology);
  for (const auto& d : room_->of("delta"))
    EXPECT_EQ(d.id, reply.id);  // the apology replaces the partial text
  const auto stats = orchestrator().stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.failures.at("http_status"), 1u);
}

TEST_F(AiOrchestrator, EveryFailureKindApologises) {
  std::size_t n = 0;
  for (const auto kind : {LlmErrorKind::kTimeout, LlmErrorKind::kConnect, LlmErrorKind::kMalformed,
                          LlmErrorKind::kEmpty, LlmErrorKind::kCut, LlmErrorKind::kProvider}) {
    provider_->set_script({{}, 1ms, {kind, "", 0, "x"}, false});
    dm_chat("hi", "user_2", "bot_tom");
    ASSERT_TRUE(room_->wait_for("reply", ++n)) << to_string(kind);
  }
  for (const auto& r : room_->of("reply")) EXPECT_EQ(r.text, test::directory().find_bot("bot_tom")->apology);
  const auto stats = orchestrator().stats();
  EXPECT_EQ(stats.failed, 6u);
  for (const char* kind : {"timeout", "connect", "malformed", "empty", "cut", "provider"})
    EXPECT_EQ(stats.failures.count(kind), 1u) << kind;
}

TEST_F(AiOrchestrator, ReplyThatCleansToNothingIsAFailure) {
  provider_->set_script({{"Clippy:  "}, 1ms, {}, false});
  dm_chat("hi");
  ASSERT_TRUE(room_->wait_for("reply"));
  EXPECT_EQ(orchestrator().stats().failures.at("empty"), 1u);
}

TEST_F(AiOrchestrator, StalledProviderHitsTheDeadlineAndTypingIsRefreshed) {
  options_.reply_deadline = 400ms;
  options_.typing_refresh = 100ms;
  provider_->set_script({{}, 1ms, {}, true});
  const auto start = Clock::now();
  dm_chat("hello?");
  ASSERT_TRUE(room_->wait_for("reply"));
  EXPECT_GE(Clock::now() - start, 350ms);
  EXPECT_EQ(room_->of("reply").at(0).text, test::directory().find_bot("bot_clippy")->apology);
  EXPECT_GE(room_->of("typing_on").size(), 3u);
  EXPECT_EQ(provider_->cancel_calls(), 1);
  EXPECT_EQ(orchestrator().stats().failures.at("timeout"), 1u);
}

TEST_F(AiOrchestrator, NoProviderAnswersWithASystemMessageNamingTheConfigKey) {
  orchestrator(false);
  dm_chat("hi");
  ASSERT_TRUE(room_->wait_for("system"));
  const auto s = room_->of("system").at(0);
  EXPECT_EQ(s.bot, "bot_clippy");
  EXPECT_NE(s.text.find("ai.provider"), std::string::npos);
  EXPECT_NE(s.text.find("SWITCHBOARD_AI_PROVIDER"), std::string::npos);
  EXPECT_TRUE(room_->of("reply").empty());
  EXPECT_FALSE(orchestrator().bots_available());
}

TEST_F(AiOrchestrator, DisabledMeansNoReplyAtAll) {
  options_.enabled = false;
  dm_chat("hi");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(room_->events().empty());
  EXPECT_TRUE(provider_->requests().empty());
  EXPECT_FALSE(orchestrator().bots_available());
}

TEST_F(AiOrchestrator, UserAndGlobalQuotas) {
  options_.quota = {2, 3};
  provider_->set_script({{"ok!"}, 1ms, {}, false});
  dm_chat("one");
  ASSERT_TRUE(room_->wait_for("reply", 1));
  dm_chat("two");
  ASSERT_TRUE(room_->wait_for("reply", 2));
  dm_chat("three");
  ASSERT_TRUE(room_->wait_for("system", 1));
  EXPECT_EQ(room_->of("system").at(0).text, "(Bot limit reached: User Quota)");
  dm_chat("hi", "user_2", "bot_tom");
  ASSERT_TRUE(room_->wait_for("reply", 3));
  dm_chat("again", "user_2", "bot_tom");
  ASSERT_TRUE(room_->wait_for("system", 2));
  EXPECT_EQ(room_->of("system").at(1).text, "(Bot limit reached: Global Quota)");
  EXPECT_EQ(provider_->requests().size(), 3u);
  const auto stats = orchestrator().stats();
  EXPECT_EQ(stats.quota_user, 1u);
  EXPECT_EQ(stats.quota_global, 1u);
}

TEST_F(AiOrchestrator, UnavailableQuotaStoreFailsClosed) {
  class DownStore final : public QuotaStore {
   public:
    void try_consume(const std::string&, const QuotaLimits&,
                     std::function<void(QuotaDecision)> done) override {
      done(QuotaDecision::kUnavailable);
    }
  };
  orchestrator_ = std::make_shared<BotOrchestrator>(io_, test::directory(), provider_,
                                                    std::make_shared<DownStore>(), options_);
  dm_chat("hi");
  ASSERT_TRUE(room_->wait_for("reply"));
  EXPECT_TRUE(provider_->requests().empty());
}

TEST_F(AiOrchestrator, BotMessagesAndUnaddressedMessagesAreIgnored) {
  const chat::RoomInfo general{"general", false, {}};
  orchestrator().on_human_chat(room_, general, msg("bot_tom", "Tom", "@clippy hey"), {});
  orchestrator().on_human_chat(room_, general, msg("user_1", "Alex", "just chatting"), {});
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(room_->events().empty());
  EXPECT_EQ(orchestrator().stats().triggered, 0u);
}

TEST_F(AiOrchestrator, OverTheConcurrencyCapApologisesAtOnce) {
  options_.max_concurrent_replies = 1;
  provider_->set_script({{}, 1ms, {}, true});
  dm_chat("first");
  ASSERT_TRUE(room_->wait_for("typing_on"));
  dm_chat("second", "user_2", "bot_tom");
  ASSERT_TRUE(room_->wait_for("reply", 1, 500ms));
  EXPECT_EQ(room_->of("reply").at(0).bot, "bot_tom");
  EXPECT_EQ(orchestrator().stats().busy, 1u);
  orchestrator().shutdown();
}

TEST_F(AiOrchestrator, ShutdownClearsTypingAndPostsNothing) {
  provider_->set_script({{}, 1ms, {}, true});
  dm_chat("hi");
  ASSERT_TRUE(room_->wait_for("typing_on"));
  orchestrator().shutdown();
  ASSERT_TRUE(room_->wait_for("typing_off"));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(room_->of("reply").empty());
  EXPECT_EQ(provider_->cancel_calls(), 1);
  EXPECT_EQ(orchestrator().stats().active, 0u);
  dm_chat("after shutdown");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(provider_->requests().size(), 1u);
}

}  // namespace
}  // namespace switchboard::ai
