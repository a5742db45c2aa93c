// RedisRoomLog against a real redis-server: seqs given out by the log, idempotent appends, ranges for load,
// resume and pages, status that only rises, deletion that blanks the stored text, and the channel envelopes.
#include "switchboard/store/redis_room_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>

#include "../redis/redis_test_support.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::store {
namespace {

using namespace std::chrono_literals;
using test::eventually;

chat::Message message(const std::string& room, const std::string& id, const std::string& sender,
                      const std::string& content) {
  chat::Message m;
  m.id = id;
  m.room_id = room;
  m.sender_id = sender;
  m.display_name = sender + " name";
  m.content = content;
  m.timestamp = util::now_ms();
  return m;
}

template <typename T>
T wait(std::future<T> f) {
  if (f.wait_for(5s) != std::future_status::ready) {
    ADD_FAILURE() << "handler never ran";
    return T{};
  }
  return f.get();
}

class RedisRoomLogTest : public test::RealRedisTest {
 protected:
  void SetUp() override {
    test::RealRedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    client_ = connect();
    log_ = std::make_shared<RedisRoomLog>(client_, "inst-a");
  }

  std::pair<std::error_code, chat::RoomBus::Appended> publish(const chat::Message& m) {
    std::promise<std::pair<std::error_code, chat::RoomBus::Appended>> p;
    log_->publish_message(m, [&p](std::error_code ec, chat::RoomBus::Appended a) { p.set_value({ec, a}); });
    return wait(p.get_future());
  }
  HistoryStore::Page page(bool after, const std::string& room, const std::string& anchor, std::size_t limit) {
    std::promise<HistoryStore::Page> p;
    auto done = [&p](std::error_code ec, HistoryStore::Page page) {
      EXPECT_FALSE(ec) << ec.message();
      p.set_value(std::move(page));
    };
    if (after)
      log_->after(room, anchor, limit, done);
    else
      log_->before(room, anchor, limit, done);
    return wait(p.get_future());
  }
  HistoryStore::RoomState load(const std::string& room, std::size_t limit) {
    std::promise<HistoryStore::RoomState> p;
    log_->load_room(room, limit, [&p](std::error_code ec, HistoryStore::RoomState s) {
      EXPECT_FALSE(ec) << ec.message();
      p.set_value(std::move(s));
    });
    return wait(p.get_future());
  }
  static std::vector<std::string> ids(const std::vector<chat::Message>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(m.id);
    return out;
  }

  std::shared_ptr<redis::RedisClient> client_;
  std::shared_ptr<RedisRoomLog> log_;
};

TEST_F(RedisRoomLogTest, GivesOutSeqsAndAnswersARetriedIdWithTheStoredMessage) {
  for (int i = 1; i <= 3; ++i) {
    const auto [ec, appended] = publish(message("general", "m" + std::to_string(i), "user_1", "hi"));
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(appended.seq, static_cast<std::uint64_t>(i));
    EXPECT_FALSE(appended.existing);
  }
  // The same id again (a retry, maybe through another instance): no new seq, the first copy comes back.
  const auto [ec, again] = publish(message("general", "m2", "user_1", "a different text"));
  ASSERT_FALSE(ec);
  EXPECT_EQ(again.seq, 2u);
  ASSERT_TRUE(again.existing);
  EXPECT_EQ(again.existing->content, "hi");
  EXPECT_EQ(server_->integer({"GET", "room:general:seq"}), 3);
  EXPECT_EQ(server_->integer({"HLEN", "room:general:messages"}), 3);
  EXPECT_EQ(server_->integer({"SCARD", "sender:user_1:messages"}), 3);
  // Rooms count separately.
  EXPECT_EQ(publish(message("music", "m1", "user_2", "x")).second.seq, 1u);
}

TEST_F(RedisRoomLogTest, LoadsResumesAndPagesBySeq) {
  for (int i = 1; i <= 10; ++i) ASSERT_FALSE(publish(message("r", "id" + std::to_string(i), "u", "t")).first);
  const auto state = load("r", 4);
  EXPECT_EQ(state.last_seq, 10u);
  EXPECT_EQ(ids(state.recent), (std::vector<std::string>{"id7", "id8", "id9", "id10"}));
  EXPECT_EQ(state.recent.back().seq, 10u);
  EXPECT_EQ(ids(page(true, "r", "id8", 100).messages), (std::vector<std::string>{"id9", "id10"}));
  EXPECT_EQ(ids(page(true, "r", "id8", 1).messages), (std::vector<std::string>{"id9"}));
  EXPECT_TRUE(page(true, "r", "id10", 5).messages.empty());
  EXPECT_FALSE(page(true, "r", "nope", 5).anchor_found);
  EXPECT_EQ(ids(page(false, "r", "id3", 5).messages), (std::vector<std::string>{"id1", "id2"}));
  EXPECT_EQ(ids(page(false, "r", "", 2).messages), (std::vector<std::string>{"id9", "id10"}));
  EXPECT_TRUE(page(false, "r", "id1", 5).messages.empty());
  EXPECT_FALSE(page(false, "r", "nope", 5).anchor_found);
  EXPECT_EQ(load("empty-room", 10).last_seq, 0u);

  std::promise<std::vector<chat::RoomBus::Published>> p;
  log_->fetch("r", 8, 10, [&p](std::error_code ec, std::vector<chat::RoomBus::Published> got) {
    EXPECT_FALSE(ec);
    p.set_value(std::move(got));
  });
  const auto fetched = wait(p.get_future());
  ASSERT_EQ(fetched.size(), 2u);
  EXPECT_EQ(fetched[0].seq, 9u);
  EXPECT_EQ(chat::message_from_frame(fetched[1].frame, fetched[1].seq)->id, "id10");
}

TEST_F(RedisRoomLogTest, StatusOnlyRisesAndDeletionBlanksTheStoredText) {
  ASSERT_FALSE(publish(message("r", "a", "alice", "secret words")).first);
  ASSERT_FALSE(publish(message("r", "b", "bob", "kept")).first);
  log_->update_status("r", "a", chat::DeliveryStatus::kRead);
  log_->update_status("r", "a", chat::DeliveryStatus::kDelivered);  // never lowers
  log_->update_status("r", "unknown", chat::DeliveryStatus::kRead);
  ASSERT_TRUE(eventually([&] { return server_->cmd({"HGET", "room:r:status", "1"}).str == "2"; }));
  EXPECT_EQ(load("r", 10).recent[0].status, chat::DeliveryStatus::kRead);

  std::promise<std::error_code> deleted;
  log_->delete_by_sender("alice", [&deleted](std::error_code ec) { deleted.set_value(ec); });
  ASSERT_FALSE(wait(deleted.get_future()));
  const auto recent = load("r", 10).recent;
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_TRUE(recent[0].deleted);
  EXPECT_EQ(recent[0].content, "");
  EXPECT_EQ(recent[0].id, "a");
  EXPECT_EQ(recent[0].timestamp, load("r", 10).recent[0].timestamp);
  EXPECT_FALSE(recent[1].deleted);
  EXPECT_EQ(recent[1].content, "kept");
  EXPECT_EQ(server_->cmd({"HGET", "room:r:messages", "1"}).str.find("secret"), std::string::npos);
}

TEST_F(RedisRoomLogTest, PublishesMessagesToSubscribersAndSkipsItsOwnEvents) {
  auto other = std::make_shared<RedisRoomLog>(client_, "inst-b");
  std::mutex mutex;
  std::vector<std::string> seen;
  bool live = false;
  chat::RoomBus::Handlers handlers;
  handlers.on_message = [&](chat::RoomBus::Published p) {
    std::lock_guard lock(mutex);
    seen.push_back("m" + std::to_string(p.seq) + ":" + chat::message_from_frame(p.frame, p.seq)->id);
  };
  handlers.on_event = [&](std::string frame) {
    std::lock_guard lock(mutex);
    seen.push_back("e:" + frame);
  };
  handlers.on_live = [&] {
    std::lock_guard lock(mutex);
    live = true;
  };
  const auto id = log_->subscribe("r", handlers);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return live;
  }));
  other->publish_message(message("r", "x1", "u", "t"), [](std::error_code, chat::RoomBus::Appended) {});
  other->publish_event("r", R"({"type":"typing"})");
  log_->publish_event("r", R"({"type":"own"})");  // this instance's own frame: not handed back
  ASSERT_FALSE(publish(message("r", "x2", "u", "t")).first);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return seen.size() >= 3;
  }));
  {
    std::lock_guard lock(mutex);
    // Messages keep the log's order; a transient frame is not ordered against them (a first EVALSHA may be
    // retried as EVAL, and a PUBLISH can overtake it). Its own frame never comes back to the publisher.
    std::vector<std::string> messages;
    std::copy_if(seen.begin(), seen.end(), std::back_inserter(messages),
                 [](const auto& s) { return s[0] == 'm'; });
    EXPECT_EQ(messages, (std::vector<std::string>{"m1:x1", "m2:x2"}));
    EXPECT_EQ(std::count(seen.begin(), seen.end(), R"(e:{"type":"typing"})"), 1);
    EXPECT_EQ(seen.size(), 3u);
  }
  log_->unsubscribe(id);
  ASSERT_TRUE(eventually([&] {
    return server_->cmd({"PUBSUB", "NUMSUB", "room:r"}).elements.at(1).integer == 0;
  }));
}

TEST(RedisRoomLogEnvelope, DecodesWhatItPublishesAndRefusesGarbage) {
  const auto e = RedisRoomLog::decode(RedisRoomLog::encode_event("inst", R"({"a":1})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, 'e');
  EXPECT_EQ(e->origin, "inst");
  EXPECT_EQ(e->frame, R"({"a":1})");
  const auto m = RedisRoomLog::decode("m inst 42\n{\"id\":\"x\"}");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->seq, 42u);
  EXPECT_EQ(m->frame, "{\"id\":\"x\"}");
  for (const char* bad :
       {"", "m", "m inst\n{}", "m inst 0\n{}", "m inst x\n{}", "x inst\n{}", "e \n{}", "e inst"})
    EXPECT_FALSE(RedisRoomLog::decode(bad)) << bad;
}

TEST(MessageFromFrame, ReadsBackTheWireShape) {
  chat::Message m;
  m.id = "w1";
  m.room_id = "general";
  m.sender_id = "user_1";
  m.display_name = "Ann";
  m.content = "sent a wink.";
  m.timestamp = 1'764'000'000'123;
  m.is_wink = true;
  m.wink_id = "kiss";
  m.status = chat::DeliveryStatus::kDelivered;
  const auto back = chat::message_from_frame(chat::to_json(m).dump(), 7);
  ASSERT_TRUE(back);
  EXPECT_EQ(chat::to_json(*back), chat::to_json(m));
  EXPECT_EQ(back->seq, 7u);
  EXPECT_FALSE(chat::message_from_frame("not json", 1));
  EXPECT_FALSE(chat::message_from_frame(R"({"id":"x"})", 1));
}

}  // namespace
}  // namespace switchboard::store
