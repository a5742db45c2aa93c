// Deletion at the sender's request (DELETE /api/users/me/messages): the placeholder's wire shape, the pure
// blanking of a room's cache, and the registry's flow from the store to the live rooms and their sockets.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>

#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/message.hpp"
#include "switchboard/chat/room_registry.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/store/memory_history_store.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

Message make(const std::string& id, const std::string& sender, const std::string& content) {
  Message m;
  m.id = id;
  m.room_id = "general";
  m.sender_id = sender;
  m.content = content;
  m.timestamp = 1'700'000'000'000;
  return m;
}

TEST(MessageDeletion, PlaceholderKeepsEverythingButTheText) {
  auto m = make("a1", "alice", "secret");
  m.is_wink = true;
  m.wink_id = "smile";
  m.deleted = true;  // content deliberately left: to_json must not leak it even then
  const json j = to_json(m);
  EXPECT_EQ(j["content"], "");
  EXPECT_EQ(j["deleted"], true);
  EXPECT_EQ(j["id"], "a1");
  EXPECT_EQ(j["senderId"], "alice");
  EXPECT_EQ(j["timestamp"], 1'700'000'000'000);
  EXPECT_EQ(j["isWink"], true);
  EXPECT_FALSE(to_json(make("a2", "alice", "x")).contains("deleted"));
}

TEST(MessageDeletion, BlankSenderTouchesOnlyThatSenderAndReportsNewPlaceholdersOnly) {
  std::deque<Message> cache = {make("1", "alice", "a"), make("2", "bob", "b"), make("3", "alice", "c"),
                               make("4", "alice", "")};
  cache[3].deleted = true;  // already a placeholder: not reported again
  EXPECT_EQ(blank_sender(cache, "alice"), (std::vector<std::string>{"1", "3"}));
  EXPECT_TRUE(cache[0].deleted);
  EXPECT_EQ(cache[0].content, "");
  EXPECT_FALSE(cache[1].deleted);
  EXPECT_EQ(cache[1].content, "b");
  EXPECT_TRUE(cache[2].deleted);
  EXPECT_TRUE(blank_sender(cache, "alice").empty());
  EXPECT_TRUE(blank_sender(cache, "nobody").empty());
}

TEST(MessageDeletion, FrameShape) {
  EXPECT_EQ(
      messages_deleted_frame("general", "alice", {"1", "3"}),
      json::parse(R"({"type":"messages_deleted","roomId":"general","senderId":"alice","ids":["1","3"]})"));
  EXPECT_EQ(messages_deleted_frame("general", "alice", {})["ids"], json::array());
}

// A socket that records what the room sends it.
class RecordingConnection final : public net::ClientConnection {
 public:
  explicit RecordingConnection(std::uint64_t id) : id_(id) {}
  void send(net::SharedFrame frame) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(json::parse(*frame));
  }
  void close(std::uint16_t, std::string) override {}
  std::uint64_t connection_id() const override { return id_; }
  std::vector<json> frames_of(const std::string& type) const {
    std::lock_guard lock(mutex_);
    std::vector<json> out;
    for (const auto& f : frames_)
      if (f.value("type", "") == type) out.push_back(f);
    return out;
  }

 private:
  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<json> frames_;
};

class RegistryDeletion : public ::testing::Test {
 protected:
  RegistryDeletion()
      : directory_({{"alice", "a@x", "Alice", "duck", "", false}, {"bob", "b@x", "Bob", "dog", "", false}},
                   {}),
        profiles_(std::make_shared<presence::UserProfiles>(directory_, 50, false, "")),
        store_(std::make_shared<store::MemoryHistoryStore>(1000)) {
    config_.chat.min_chat_interval_ms = 0;
    registry_ = std::make_shared<RoomRegistry>(
        ioc_.get_executor(), ChatRoom::Dependencies{config_, FrameLimits{}, store_, profiles_, nullptr, {}});
  }

  void run() {
    ioc_.restart();
    ioc_.run();
  }

  void send(const std::shared_ptr<ChatRoom>& room, const std::string& user, const std::string& text) {
    room->post_message(user, text, std::nullopt,
                       [](auto result) { ASSERT_TRUE(std::holds_alternative<Message>(result)); });
  }

  std::vector<Message> stored(const std::string& room_id) {
    std::vector<Message> out;
    store_->before(room_id, "", 100, [&](std::error_code ec, store::HistoryStore::Page page) {
      EXPECT_FALSE(ec);
      out = std::move(page.messages);
    });
    return out;
  }

  boost::asio::io_context ioc_;
  config::Config config_;
  auth::UserDirectory directory_;
  std::shared_ptr<presence::UserProfiles> profiles_;
  std::shared_ptr<store::MemoryHistoryStore> store_;
  std::shared_ptr<RoomRegistry> registry_;
};

TEST_F(RegistryDeletion, BlanksStoreAndLiveRoomsAndTellsTheirSockets) {
  auto general = registry_->open("general", "alice").room;
  auto dm = registry_->open("dm_alice__bob", "bob").room;
  auto bob_socket = std::make_shared<RecordingConnection>(1);
  general->join(bob_socket, {"bob", std::nullopt});
  send(general, "alice", "alice secret 1");
  send(general, "bob", "bob keeps this");
  send(dm, "alice", "alice secret 2");
  run();
  ASSERT_EQ(bob_socket->frames_of("chat").size(), 2u);

  std::optional<std::error_code> result;
  registry_->delete_messages_of("alice", [&](std::error_code ec) { result = ec; });
  run();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);

  // The store holds placeholders; the other sender's message is untouched.
  const auto messages = stored("general");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].deleted);
  EXPECT_EQ(messages[0].content, "");
  EXPECT_FALSE(messages[1].deleted);
  EXPECT_EQ(messages[1].content, "bob keeps this");
  ASSERT_EQ(stored("dm_alice__bob").size(), 1u);
  EXPECT_TRUE(stored("dm_alice__bob")[0].deleted);

  // The room with a member told it which ids became placeholders; the DM had nobody to tell.
  const auto frames = bob_socket->frames_of("messages_deleted");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["roomId"], "general");
  EXPECT_EQ(frames[0]["senderId"], "alice");
  EXPECT_EQ(frames[0]["ids"], json::array({messages[0].id}));

  // The room's memory is blanked too: a new socket's history shows the placeholder.
  auto late = std::make_shared<RecordingConnection>(2);
  general->join(late, {"bob", std::nullopt});
  run();
  const auto history = late->frames_of("history");
  ASSERT_EQ(history.size(), 1u);
  ASSERT_EQ(history[0]["messages"].size(), 2u);
  EXPECT_EQ(history[0]["messages"][0]["content"], "");
  EXPECT_EQ(history[0]["messages"][0]["deleted"], true);
  EXPECT_EQ(history[0]["messages"][1]["content"], "bob keeps this");

  // Deleting again is harmless and reports no new ids.
  registry_->delete_messages_of("alice", [&](std::error_code ec) { result = ec; });
  run();
  EXPECT_FALSE(*result);
  EXPECT_EQ(bob_socket->frames_of("messages_deleted").back()["ids"], json::array());
}

TEST_F(RegistryDeletion, StoreFailureIsReportedAndRoomsAreLeftAlone) {
  auto general = registry_->open("general", "alice").room;
  auto bob_socket = std::make_shared<RecordingConnection>(1);
  general->join(bob_socket, {"bob", std::nullopt});
  send(general, "alice", "still here");
  run();
  store_->close();  // every later call fails
  std::optional<std::error_code> result;
  registry_->delete_messages_of("alice", [&](std::error_code ec) { result = ec; });
  run();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(bob_socket->frames_of("messages_deleted").empty());
}

}  // namespace
}  // namespace switchboard::chat
