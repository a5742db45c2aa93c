// How a ChatRoom keeps its promise of "exactly once" against the history store's timing (issue 8): a failed
// load never lets the room start empty, an id reused after it left the room's cache resolves to the stored
// message, and a `since=` resume racing a pending broadcast does not deliver a message twice.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "../store/history_test_util.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/chat_room.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/sqlite_history_store.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;
using store::testing::TempDir;

// A socket that records frames; thread-safe because SQLite completions reach the room from the store's
// threads (the room still sends from its strand, which the test's io_context runs).
class RecordingSocket final : public net::ClientConnection {
 public:
  explicit RecordingSocket(std::uint64_t id) : id_(id) {}
  void send(net::SharedFrame frame) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(json::parse(*frame));
  }
  void close(std::uint16_t code, std::string) override { closed_with = code; }
  std::uint64_t connection_id() const override { return id_; }

  std::vector<json> of_type(const std::string& type) const {
    std::lock_guard lock(mutex_);
    std::vector<json> out;
    for (const auto& f : frames_)
      if (f["type"] == type) out.push_back(f);
    return out;
  }
  // How often message `id` reached this socket: live, or inside a history frame.
  int copies_of(const std::string& id) const {
    int n = 0;
    for (const auto& f : of_type("chat")) n += f["id"] == id;
    for (const auto& h : of_type("history"))
      for (const auto& m : h["messages"]) n += m["id"] == id;
    return n;
  }

  std::atomic<int> closed_with{0};

 private:
  std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<json> frames_;
};

// Wraps a real store. Loads fail while `fail_loads` is set; after hold_completions(), append completions are
// kept back once the inner store committed (the window between commit and broadcast) until release().
class ScriptedStore final : public store::HistoryStore {
 public:
  explicit ScriptedStore(std::shared_ptr<store::HistoryStore> inner) : inner_(std::move(inner)) {}

  void append(const Message& message, Done done) override {
    inner_->append(message, [this, done = std::move(done)](std::error_code ec) {
      {
        std::lock_guard lock(mutex_);
        if (hold_) return held_.push_back([done, ec] { done(ec); });
      }
      done(ec);
    });
  }
  void hold_completions() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void release() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mutex_);
      hold_ = false;
      held.swap(held_);
    }
    for (auto& f : held) f();
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

  void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) override {
    ++load_attempts;
    if (fail_loads) return done(store::StoreErrc::kIoError, {});
    inner_->load_room(room_id, limit, std::move(done));
  }
  void update_status(const std::string& room_id, const std::string& message_id,
                     DeliveryStatus status) override {
    inner_->update_status(room_id, message_id, status);
  }
  void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
             PageDone done) override {
    inner_->after(room_id, since_id, limit, std::move(done));
  }
  void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
              PageDone done) override {
    inner_->before(room_id, before_id, limit, std::move(done));
  }
  void find(const std::string& room_id, const std::string& id, MessageDone done) override {
    inner_->find(room_id, id, std::move(done));
  }
  void close() override { inner_->close(); }

  std::atomic<bool> fail_loads{false};
  std::atomic<int> load_attempts{0};

 private:
  std::shared_ptr<store::HistoryStore> inner_;
  std::mutex mutex_;
  bool hold_ = false;  // guarded by mutex_
  std::vector<std::function<void()>> held_;
};

Message stored(std::uint64_t seq, const std::string& sender) {
  Message m;
  m.room_id = "general";
  m.seq = seq;
  m.id = "p" + std::to_string(seq);
  m.sender_id = sender;
  m.display_name = sender;
  m.content = "earlier " + std::to_string(seq);
  m.timestamp = 1'700'000'000'000 + static_cast<std::int64_t>(seq);
  return m;
}

class RoomHistory : public ::testing::TestWithParam<std::string> {
 protected:
  RoomHistory()
      : directory_({{"alice", "a@x", "Alice", "duck", ""}, {"bob", "b@x", "Bob", "dog", ""}}, {}),
        profiles_(std::make_shared<presence::UserProfiles>(directory_, 50, false, "")) {
    config_.chat.min_chat_interval_ms = 0;
    // A small cache, so that ids leave it after a few messages and resumes reach the store.
    config_.chat.room_cache_messages = 3;
    config_.chat.history_on_join = 2;
  }
  void SetUp() override {
    std::shared_ptr<store::HistoryStore> inner;
    if (GetParam() == "sqlite") {
      store::SqliteHistoryStore::Options options;
      options.file = dir_.path() / "history.db";
      inner = store::SqliteHistoryStore::open(std::move(options));
    } else {
      inner = std::make_shared<store::MemoryHistoryStore>(1000);
    }
    store_ = std::make_shared<ScriptedStore>(inner);
  }
  void TearDown() override {
    room_.reset();
    store_->close();
  }

  void make_room() {
    room_ = std::make_shared<ChatRoom>(
        ioc_.get_executor(), RoomInfo{"general", false, {}},
        ChatRoom::Dependencies{
            config_, FrameLimits{2048, 50, 128, {"kiss"}}, store_, profiles_, nullptr, {}});
  }
  // Messages p1..pn from bob, stored before the room exists (an earlier run of the server).
  void prefill(std::uint64_t n) {
    for (std::uint64_t i = 1; i <= n; ++i)
      ASSERT_FALSE(store::testing::append_sync(*store_, stored(i, "bob")));
  }
  // Runs the room's handlers until `done` holds (store completions may arrive from other threads).
  bool run_until(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      ioc_.restart();
      ioc_.poll();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::shared_ptr<RecordingSocket> join(std::uint64_t id, const std::string& user,
                                        std::optional<std::string> since = std::nullopt) {
    auto socket = std::make_shared<RecordingSocket>(id);
    room_->join(socket, {user, std::move(since)});
    return socket;
  }

  using Result = std::variant<Message, SendError>;
  Result post(const std::string& user, const std::string& text, const std::string& id) {
    auto out = std::make_shared<std::optional<Result>>();
    room_->post_message(user, text, id, [out](Result r) { *out = std::move(r); });
    EXPECT_TRUE(run_until([&] { return out->has_value(); })) << "no answer to the send of " << id;
    return out->value_or(SendError{SendError::Kind::kInvalid, "no answer"});
  }
  std::vector<Message> all_stored() {
    return store::testing::before_sync(*store_, "general", "", 1000).messages;
  }

  TempDir dir_;
  boost::asio::io_context ioc_;
  config::Config config_;
  auth::UserDirectory directory_;
  std::shared_ptr<presence::UserProfiles> profiles_;
  std::shared_ptr<ScriptedStore> store_;
  std::shared_ptr<ChatRoom> room_;
};

INSTANTIATE_TEST_SUITE_P(Backends, RoomHistory, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

TEST_P(RoomHistory, AFailedLoadRefusesWorkUntilARetryLoadsTheRoom) {
  prefill(3);
  store_->fail_loads = true;
  make_room();

  auto alice = join(1, "alice");
  ASSERT_TRUE(run_until([&] { return alice->closed_with != 0; }))
      << "the join was neither refused nor closed";
  EXPECT_EQ(alice->closed_with, 1013);  // Try Again Later
  const auto errors = alice->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "UNAVAILABLE");
  EXPECT_TRUE(alice->of_type("history").empty());
  EXPECT_TRUE(alice->of_type("system").empty()) << "never a member";

  // A send is refused too, and nothing reaches the store (its seq would have restarted at 1).
  const auto refused = post("alice", "into the void", "a1");
  ASSERT_TRUE(std::holds_alternative<SendError>(refused));
  EXPECT_EQ(std::get<SendError>(refused).kind, SendError::Kind::kUnavailable);
  EXPECT_EQ(all_stored().size(), 3u);

  // The store recovers: a retry (with backoff, no new request needed) loads the room.
  const int attempts = store_->load_attempts;
  store_->fail_loads = false;
  ASSERT_TRUE(run_until([&] { return store_->load_attempts > attempts; })) << "no retry";
  auto bob = join(2, "bob");
  ASSERT_TRUE(run_until([&] { return !bob->of_type("history").empty(); }));
  EXPECT_EQ(bob->closed_with, 0);
  const auto history = bob->of_type("history")[0]["messages"];
  ASSERT_EQ(history.size(), 2u);  // history_on_join
  EXPECT_EQ(history[1]["id"], "p3");

  const auto sent = post("alice", "now it works", "a1");
  ASSERT_TRUE(std::holds_alternative<Message>(sent)) << std::get<SendError>(sent).message;
  EXPECT_EQ(std::get<Message>(sent).seq, 4u) << "seqs continue after the stored ones";
  EXPECT_EQ(all_stored().size(), 4u);
}

TEST_P(RoomHistory, ARestRetryOfAnIdThatLeftTheCacheGetsTheStoredMessage) {
  make_room();
  auto bob = join(2, "bob");
  const auto first = post("alice", "first", "r1");
  ASSERT_TRUE(std::holds_alternative<Message>(first));
  for (int i = 0; i < 4; ++i)  // push r1 out of the 3-message cache
    ASSERT_TRUE(std::holds_alternative<Message>(post("alice", "more", "x" + std::to_string(i))));

  const auto retry = post("alice", "first", "r1");
  ASSERT_TRUE(std::holds_alternative<Message>(retry)) << std::get<SendError>(retry).message;
  EXPECT_EQ(std::get<Message>(retry).id, "r1");
  EXPECT_EQ(std::get<Message>(retry).seq, std::get<Message>(first).seq);
  EXPECT_EQ(std::get<Message>(retry).content, "first");
  EXPECT_EQ(all_stored().size(), 5u) << "not stored twice";
  EXPECT_EQ(bob->copies_of("r1"), 1) << "not broadcast twice";
}

TEST_P(RoomHistory, AWebSocketRetransmissionOfAnIdThatLeftTheCacheIsDroppedSilently) {
  make_room();
  auto alice = join(1, "alice");
  auto bob = join(2, "bob");
  ASSERT_TRUE(run_until([&] { return !bob->of_type("participants").empty(); }));
  room_->deliver(1, ChatFrame{"hello", "w1"});
  ASSERT_TRUE(run_until([&] { return bob->copies_of("w1") == 1; }));
  for (int i = 0; i < 4; ++i) room_->deliver(1, ChatFrame{"more", "x" + std::to_string(i)});
  ASSERT_TRUE(run_until([&] { return bob->copies_of("x3") == 1; }));

  room_->deliver(1, ChatFrame{"hello", "w1"});
  room_->deliver(1, ChatFrame{"after", "w2"});  // a marker: frames of one room are handled in order
  ASSERT_TRUE(run_until([&] { return bob->copies_of("w2") == 1 && alice->copies_of("w2") == 1; }));
  EXPECT_EQ(all_stored().size(), 6u);  // w1, x0..x3, w2
  EXPECT_TRUE(alice->of_type("error").empty()) << alice->of_type("error")[0].dump();
  EXPECT_EQ(bob->copies_of("w1"), 1);
  EXPECT_EQ(alice->copies_of("w1"), 1);
}

TEST_P(RoomHistory, AnotherSendersIdThatLeftTheCacheIsReplaced) {
  make_room();
  auto bob = join(2, "bob");
  ASSERT_TRUE(std::holds_alternative<Message>(post("alice", "mine", "shared-id")));
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(std::holds_alternative<Message>(post("alice", "more", "x" + std::to_string(i))));

  const auto theirs = post("bob", "also mine", "shared-id");
  ASSERT_TRUE(std::holds_alternative<Message>(theirs)) << std::get<SendError>(theirs).message;
  const auto& m = std::get<Message>(theirs);
  EXPECT_NE(m.id, "shared-id") << "the id belongs to alice's message";
  EXPECT_EQ(m.sender_id, "bob");
  EXPECT_EQ(m.content, "also mine");
  EXPECT_EQ(all_stored().size(), 6u);
  EXPECT_EQ(bob->copies_of(m.id), 1);
}

TEST_P(RoomHistory, AResumeRacingAPendingBroadcastDeliversTheMessageOnce) {
  prefill(5);
  make_room();
  auto alice = join(1, "alice");
  ASSERT_TRUE(run_until([&] { return !alice->of_type("history").empty(); }));

  // "live" gets committed, but its completion (and so its broadcast) is held back.
  store_->hold_completions();
  auto sent = std::make_shared<std::optional<Result>>();
  room_->post_message("alice", "live", "L1", [sent](Result r) { *sent = std::move(r); });
  ASSERT_TRUE(run_until([&] { return store_->held() == 1; }));

  // bob resumes after p1, which is not in the cache (p3..p5 are), so the store answers: its page already
  // holds L1, whose broadcast will reach bob as a member.
  auto bob = join(2, "bob", "p1");
  ASSERT_TRUE(run_until([&] { return !bob->of_type("history").empty(); }));
  store_->release();
  ASSERT_TRUE(run_until([&] { return sent->has_value(); }));
  ASSERT_TRUE(std::holds_alternative<Message>(**sent));

  const auto history = bob->of_type("history")[0];
  EXPECT_EQ(history["resumed"], true);
  std::vector<std::string> ids;
  for (const auto& m : history["messages"]) ids.push_back(m["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"p2", "p3", "p4", "p5"}));
  EXPECT_EQ(bob->copies_of("L1"), 1);
  EXPECT_EQ(alice->copies_of("L1"), 1);

  // The next resume, with everything broadcast, lists L1 as history.
  auto later = join(3, "bob", "p1");
  ASSERT_TRUE(run_until([&] { return !later->of_type("history").empty(); }));
  EXPECT_EQ(later->copies_of("L1"), 1);
}

}  // namespace
}  // namespace switchboard::chat
