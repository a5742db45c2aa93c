// A REST send retried with the same client id while the original is still being stored gets the original's
// outcome, never a second copy of the message (exactly once, issue 8).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <variant>

#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/chat_room.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::chat {
namespace {

// A MemoryHistoryStore whose appends wait until the test releases them, failing them on request.
class GatedStore final : public store::HistoryStore {
 public:
  void append(const Message& message, Done done) override { held_.emplace_back(message, std::move(done)); }
  void release(bool fail = false) {
    auto held = std::move(held_);
    held_.clear();
    for (auto& [m, done] : held) {
      if (fail) {
        done(store::StoreErrc::kDiskFull);
      } else {
        inner_.append(m, std::move(done));
      }
    }
  }
  std::size_t held() const { return held_.size(); }

  void update_status(const std::string& room_id, const std::string& message_id,
                     DeliveryStatus status) override {
    inner_.update_status(room_id, message_id, status);
  }
  void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) override {
    inner_.load_room(room_id, limit, std::move(done));
  }
  void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
             PageDone done) override {
    inner_.after(room_id, since_id, limit, std::move(done));
  }
  void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
              PageDone done) override {
    inner_.before(room_id, before_id, limit, std::move(done));
  }

 private:
  store::MemoryHistoryStore inner_{100};
  std::vector<std::pair<Message, Done>> held_;
};

class RestRetry : public ::testing::Test {
 protected:
  RestRetry()
      : directory_({{"alice", "a@x", "Alice", "duck", "", false}}, {}),
        profiles_(std::make_shared<presence::UserProfiles>(directory_, 50, false, "")),
        store_(std::make_shared<GatedStore>()) {
    config_.chat.min_chat_interval_ms = 0;
    room_ = std::make_shared<ChatRoom>(
        ioc_.get_executor(), RoomInfo{"general", false, {}},
        ChatRoom::Dependencies{config_, FrameLimits{}, store_, profiles_, nullptr, {}});
  }

  using Result = std::variant<Message, SendError>;
  std::shared_ptr<std::vector<Result>> send(const std::string& id, const std::string& text) {
    auto results = std::make_shared<std::vector<Result>>();
    room_->post_message("alice", text, id, [results](Result r) { results->push_back(std::move(r)); });
    return results;
  }
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  std::size_t stored() {
    std::size_t n = 0;
    store_->before("general", "", 100,
                   [&](std::error_code, store::HistoryStore::Page p) { n = p.messages.size(); });
    return n;
  }

  boost::asio::io_context ioc_;
  config::Config config_;
  auth::UserDirectory directory_;
  std::shared_ptr<presence::UserProfiles> profiles_;
  std::shared_ptr<GatedStore> store_;
  std::shared_ptr<ChatRoom> room_;
};

TEST_F(RestRetry, WhileInFlightGetsTheOriginal) {
  auto first = send("m1", "hello");
  run();
  ASSERT_EQ(store_->held(), 1u);
  auto retry = send("m1", "hello");
  run();
  EXPECT_TRUE(retry->empty()) << "the retry waits for the original";
  EXPECT_EQ(store_->held(), 1u) << "no second append";
  store_->release();
  run();
  ASSERT_EQ(first->size(), 1u);
  ASSERT_EQ(retry->size(), 1u);
  EXPECT_EQ(std::get<Message>((*first)[0]).id, "m1");
  EXPECT_EQ(std::get<Message>((*retry)[0]).id, "m1");
  EXPECT_EQ(std::get<Message>((*retry)[0]).seq, std::get<Message>((*first)[0]).seq);
  EXPECT_EQ(stored(), 1u);

  // Once stored, a retry is answered from memory at once.
  auto late = send("m1", "hello");
  run();
  ASSERT_EQ(late->size(), 1u);
  EXPECT_EQ(std::get<Message>((*late)[0]).id, "m1");
  EXPECT_EQ(store_->held(), 0u);
}

TEST_F(RestRetry, WhileInFlightSharesTheFailureAndMayThenBeStored) {
  auto first = send("m2", "hello");
  run();
  auto retry = send("m2", "hello");
  run();
  store_->release(/*fail=*/true);
  run();
  ASSERT_EQ(first->size(), 1u);
  ASSERT_EQ(retry->size(), 1u);
  EXPECT_EQ(std::get<SendError>((*first)[0]).kind, SendError::Kind::kUnavailable);
  EXPECT_EQ(std::get<SendError>((*retry)[0]).kind, SendError::Kind::kUnavailable);
  EXPECT_EQ(stored(), 0u);

  // The failed id is free again: the next retry stores the message.
  auto again = send("m2", "hello");
  run();
  store_->release();
  run();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(std::get<Message>((*again)[0]).id, "m2");
  EXPECT_EQ(stored(), 1u);
}

}  // namespace
}  // namespace switchboard::chat
