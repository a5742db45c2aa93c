// Drives a ChatRoom actor directly with fake connections on a real io_context: no sockets, real timers.
#include "switchboard/chat/chat_room.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "../net/fake_connection.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/util/handler_guard.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

using test::FakeConnection;

class ChatRoomTest : public ::testing::Test {
 protected:
  ChatRoomTest()
      : directory_({{"alice", "a@x", "Alice", "duck", ""}, {"bob", "b@x", "Bob", "dog", ""}}, {}),
        profiles_(std::make_shared<presence::UserProfiles>(directory_, 50, false, "")) {
    config_.chat.typing_timeout_ms = 100;
    config_.chat.participants_interval_ms = 0;  // one list per change (coalescing: participants_test.cpp)
    store_ = std::make_shared<store::MemoryHistoryStore>(1000);
    room_ = std::make_shared<ChatRoom>(
        ioc_.get_executor(), RoomInfo{"general", false, {}},
        ChatRoom::Dependencies{
            config_, FrameLimits{2048, 50, 128, {"kiss"}}, store_, profiles_, nullptr, {}});
    alice_ = std::make_shared<FakeConnection>(1);
    bob_ = std::make_shared<FakeConnection>(2);
    room_->join(alice_, {"alice", std::nullopt});
    room_->join(bob_, {"bob", std::nullopt});
    drain();
  }

  void drain() {
    ioc_.restart();
    ioc_.poll();
  }
  void run_for(std::chrono::milliseconds d) {
    ioc_.restart();
    ioc_.run_for(d);
  }
  json chat_from(const std::shared_ptr<FakeConnection>& conn, std::string text) {
    room_->deliver(conn->connection_id(), ChatFrame{std::move(text), std::nullopt});
    drain();
    return conn->of_type("chat").back();
  }

  boost::asio::io_context ioc_;
  config::Config config_;
  auth::UserDirectory directory_;
  std::shared_ptr<presence::UserProfiles> profiles_;
  std::shared_ptr<store::HistoryStore> store_;
  std::shared_ptr<ChatRoom> room_;
  std::shared_ptr<FakeConnection> alice_, bob_;
};

TEST_F(ChatRoomTest, TypingIsClearedByTheServerAfterTheTimeout) {
  room_->deliver(alice_->connection_id(), TypingFrame{true});
  drain();
  ASSERT_EQ(bob_->of_type("typing").size(), 1u);
  EXPECT_TRUE(bob_->of_type("typing")[0]["isTyping"]);
  EXPECT_TRUE(alice_->of_type("typing").empty());  // not echoed to the typist
  run_for(std::chrono::milliseconds(300));
  ASSERT_EQ(bob_->of_type("typing").size(), 2u);
  EXPECT_FALSE(bob_->of_type("typing")[1]["isTyping"]);
  EXPECT_EQ(bob_->of_type("typing")[1]["senderId"], "alice");
}

TEST_F(ChatRoomTest, AConnectionThatThrowsIsClosedAndTheOthersGetTheBroadcast) {
  auto carol = std::make_shared<FakeConnection>(3);
  room_->join(carol, {"alice", std::nullopt});  // a second tab of alice's
  drain();
  carol->throw_on_send = true;
  const auto before = util::handler_exception_count(util::HandlerSite::kActor);
  const auto sent = chat_from(alice_, "while a socket is broken");  // an escaped exception would fail here
  EXPECT_EQ(sent["content"], "while a socket is broken");
  EXPECT_EQ(bob_->of_type("chat").back()["id"], sent["id"]);
  EXPECT_EQ(carol->closed_with, 1011);
  EXPECT_EQ(util::handler_exception_count(util::HandlerSite::kActor), before + 1);
}

TEST_F(ChatRoomTest, ATaskThatThrowsIsDroppedAndTheRoomGoesOnServing) {
  config_.chat.min_chat_interval_ms = 0;
  const auto before = util::handler_exception_count(util::HandlerSite::kActor);
  auto broken = std::make_shared<FakeConnection>(3);
  broken->throw_on_send = true;
  room_->join(broken, {"alice", std::nullopt});  // its welcome frame throws inside the join task
  drain();                                       // an escaped exception would leave the io_context here
  EXPECT_EQ(util::handler_exception_count(util::HandlerSite::kActor), before + 1);

  const auto first = chat_from(alice_, "after the fault");
  EXPECT_EQ(bob_->of_type("chat").back()["id"], first["id"]);
  const auto second = chat_from(bob_, "and again");
  EXPECT_EQ(alice_->of_type("chat").back()["id"], second["id"]);
  // Nothing stored is lost: a new member's history has both.
  auto dave = std::make_shared<FakeConnection>(4);
  room_->join(dave, {"bob", std::nullopt});
  drain();
  const auto history = dave->of_type("history");
  ASSERT_EQ(history.size(), 1u);
  std::vector<std::string> contents;
  for (const auto& m : history[0]["messages"]) contents.push_back(m["content"]);
  EXPECT_EQ(contents, (std::vector<std::string>{"after the fault", "and again"}));
}

TEST_F(ChatRoomTest, AChatCancelsTheAutomaticTypingFalse) {
  room_->deliver(alice_->connection_id(), TypingFrame{true});
  drain();
  chat_from(alice_, "done typing");
  run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(bob_->of_type("typing").size(), 1u);  // only the true; the chat itself ends typing
}

TEST_F(ChatRoomTest, AcksOnlyRaiseStatusAndIgnoreOwnAndUnknown) {
  const auto msg = chat_from(alice_, "hello");
  const std::string id = msg["id"];
  EXPECT_EQ(msg["status"], "sent");

  room_->deliver(alice_->connection_id(), AckFrame{id, DeliveryStatus::kRead});    // own message: ignored
  room_->deliver(bob_->connection_id(), AckFrame{"nope", DeliveryStatus::kRead});  // unknown: ignored
  drain();
  EXPECT_TRUE(alice_->of_type("delivery_status").empty());

  room_->deliver(bob_->connection_id(), AckFrame{id, DeliveryStatus::kRead});
  room_->deliver(bob_->connection_id(), AckFrame{id, DeliveryStatus::kDelivered});  // would lower: ignored
  room_->deliver(bob_->connection_id(), AckFrame{id, DeliveryStatus::kRead});       // no change: ignored
  drain();
  const auto statuses = alice_->of_type("delivery_status");
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0]["status"], "read");
  EXPECT_EQ(statuses[0]["senderId"], "bob");
  EXPECT_EQ(statuses[0]["ackId"], id);
}

TEST_F(ChatRoomTest, ClientIdsAreKeptReplacedOrDeduplicated) {
  room_->deliver(alice_->connection_id(), ChatFrame{"one", "client-1"});
  drain();
  EXPECT_EQ(bob_->of_type("chat").back()["id"], "client-1");
  config_.chat.min_chat_interval_ms = 0;
  room_->deliver(alice_->connection_id(), ChatFrame{"one again", "client-1"});  // same sender: dropped
  drain();
  EXPECT_EQ(bob_->of_type("chat").size(), 1u);
  room_->deliver(bob_->connection_id(), ChatFrame{"mine", "client-1"});  // other sender: replaced
  room_->deliver(alice_->connection_id(), ChatFrame{"bad id", "has space"});
  drain();
  const auto chats = alice_->of_type("chat");
  ASSERT_EQ(chats.size(), 3u);
  EXPECT_NE(chats[1]["id"], "client-1");
  EXPECT_NE(chats[2]["id"], "has space");
}

TEST_F(ChatRoomTest, RateLimitsProduceErrorFramesForTheSenderOnly) {
  config_.chat.min_chat_interval_ms = 0;
  for (int i = 0; i < 15; ++i)
    room_->deliver(alice_->connection_id(), ChatFrame{"m" + std::to_string(i), std::nullopt});
  room_->deliver(alice_->connection_id(), ChatFrame{"one too many", "x1"});
  drain();
  EXPECT_EQ(bob_->of_type("chat").size(), 15u);
  const auto errors = alice_->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "RATE_LIMITED");
  EXPECT_EQ(errors[0]["ackId"], "x1");
  EXPECT_TRUE(bob_->of_type("error").empty());
}

TEST_F(ChatRoomTest, HistoryOnJoinAndResume) {
  config_.chat.min_chat_interval_ms = 0;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(chat_from(alice_, "m" + std::to_string(i))["id"]);
  auto late = std::make_shared<FakeConnection>(3);
  room_->join(late, {"bob", std::nullopt});
  drain();
  const auto history = late->of_type("history");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["messages"].size(), 5u);
  EXPECT_FALSE(history[0].contains("resumed"));

  auto resumed = std::make_shared<FakeConnection>(4);
  room_->join(resumed, {"bob", ids[2]});
  drain();
  const auto r = resumed->of_type("history").at(0);
  EXPECT_TRUE(r["resumed"]);
  ASSERT_EQ(r["messages"].size(), 2u);
  EXPECT_EQ(r["messages"][0]["id"], ids[3]);

  auto unknown = std::make_shared<FakeConnection>(5);
  room_->join(unknown, {"bob", "never-existed"});
  drain();
  const auto u = unknown->of_type("history").at(0);
  EXPECT_FALSE(u["resumed"]);
  EXPECT_EQ(u["messages"].size(), 5u);
}

TEST_F(ChatRoomTest, JoinAndLeaveLinesOncePerUser) {
  auto second_tab = std::make_shared<FakeConnection>(6);
  const auto before = bob_->of_type("system").size();
  room_->join(second_tab, {"alice", std::nullopt});
  drain();
  EXPECT_EQ(bob_->of_type("system").size(), before);  // no second "joined" for others
  ASSERT_FALSE(bob_->of_type("participants").empty());
  const auto participants = bob_->of_type("participants").back()["participants"];
  EXPECT_EQ(participants.size(), 2u);  // de-duplicated
  room_->leave(second_tab->connection_id());
  drain();
  EXPECT_EQ(bob_->of_type("system").size(), before);  // alice still has a socket here
  room_->leave(alice_->connection_id());
  drain();
  EXPECT_EQ(bob_->of_type("system").back()["content"], "Alice left the room.");
}

}  // namespace
}  // namespace switchboard::chat
