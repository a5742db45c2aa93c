// RedisSessionStore against a real redis-server: the SessionStore contract, the PROTOCOL §4 keys and TTLs as
// an operator sees them with redis-cli, logout announcements, and errors while Redis is down.
#include "switchboard/session/redis_session_store.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "../redis/redis_test_support.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::session {
namespace {

using namespace std::chrono_literals;
using redis::RedisErrc;
using test::eventually;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

SessionRecord record_for(const std::string& user) {
  SessionRecord r;
  r.user_id = user;
  r.created_at = util::now_ms();
  r.expires_at = r.created_at + 1'200'000;
  return r;
}

class RedisSessionStoreTest : public test::RealRedisTest {
 protected:
  void SetUp() override {
    test::RealRedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    client_ = connect();
    store_ = std::make_shared<RedisSessionStore>(client_, "instance-a");
  }

  std::error_code create(const std::string& hash, const SessionRecord& r, std::chrono::seconds ttl) {
    std::promise<std::error_code> p;
    store_->create(hash, r, ttl, [&p](std::error_code ec) { p.set_value(ec); });
    return wait(p);
  }
  std::pair<std::error_code, std::optional<SessionRecord>> lookup(const std::string& hash) {
    std::promise<std::pair<std::error_code, std::optional<SessionRecord>>> p;
    store_->lookup(hash, [&p](std::error_code ec, std::optional<SessionRecord> r) { p.set_value({ec, r}); });
    return wait(p);
  }
  std::pair<std::error_code, std::optional<SessionRecord>> touch(const std::string& hash,
                                                                 std::chrono::seconds ttl) {
    std::promise<std::pair<std::error_code, std::optional<SessionRecord>>> p;
    store_->touch(hash, ttl, [&p](std::error_code ec, std::optional<SessionRecord> r) {
      p.set_value({ec, r});
    });
    return wait(p);
  }
  std::error_code remove(const std::string& hash) {
    std::promise<std::error_code> p;
    store_->remove(hash, [&p](std::error_code ec) { p.set_value(ec); });
    return wait(p);
  }
  template <typename T>
  static T wait(std::promise<T>& p) {
    auto f = p.get_future();
    if (f.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "handler never ran";
      return T{};
    }
    return f.get();
  }

  std::shared_ptr<redis::RedisClient> client_;
  std::shared_ptr<RedisSessionStore> store_;
};

TEST_F(RedisSessionStoreTest, CreateWritesProtocolKeysWithTheTtl) {
  SessionRecord r = record_for("u_alice");
  ASSERT_FALSE(create(kHashA, r, 1200s));
  // What an operator sees: `redis-cli TTL session:<hash>` about 1200.
  const auto ttl = server_->integer({"TTL", "session:" + kHashA});
  EXPECT_GE(ttl, 1198);
  EXPECT_LE(ttl, 1200);
  EXPECT_GE(server_->integer({"TTL", "user_session:u_alice"}), 1198);
  EXPECT_EQ(server_->cmd({"GET", "user_session:u_alice"}), redis::RedisReply::make_string(kHashA));
  const auto stored = nlohmann::json::parse(server_->cmd({"GET", "session:" + kHashA}).str);
  EXPECT_EQ(stored["userId"], "u_alice");
  EXPECT_EQ(stored["isGuest"], false);
}

TEST_F(RedisSessionStoreTest, LookupReturnsTheRecordWithItsRealExpiry) {
  SessionRecord r = record_for("guest_7");
  r.is_guest = true;
  r.guest_display_name = "Zoë";
  r.guest_avatar_id = "duck";
  ASSERT_FALSE(create(kHashA, r, 600s));
  const auto [ec, found] = lookup(kHashA);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, "guest_7");
  EXPECT_TRUE(found->is_guest);
  EXPECT_EQ(found->guest_display_name, "Zoë");
  EXPECT_EQ(found->guest_avatar_id, "duck");
  EXPECT_EQ(found->created_at, r.created_at);
  // expires_at comes from the key's PTTL, not from the JSON written at creation.
  EXPECT_NEAR(static_cast<double>(found->expires_at), static_cast<double>(util::now_ms() + 600'000), 3000.0);

  const auto [missing_ec, missing] = lookup(kHashB);
  EXPECT_FALSE(missing_ec);
  EXPECT_FALSE(missing);
}

TEST_F(RedisSessionStoreTest, TouchSlidesBothKeys) {
  ASSERT_FALSE(create(kHashA, record_for("u_bob"), 100s));
  const auto [ec, touched] = touch(kHashA, 1200s);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(touched);
  EXPECT_EQ(touched->user_id, "u_bob");
  EXPECT_NEAR(static_cast<double>(touched->expires_at), static_cast<double>(util::now_ms() + 1'200'000),
              3000.0);
  EXPECT_GE(server_->integer({"TTL", "session:" + kHashA}), 1198);
  // The pointer slides right after the answer.
  EXPECT_TRUE(eventually([&] { return server_->integer({"TTL", "user_session:u_bob"}) >= 1198; }));

  const auto [gone_ec, gone] = touch(kHashB, 1200s);
  EXPECT_FALSE(gone_ec);
  EXPECT_FALSE(gone);
  EXPECT_EQ(server_->integer({"EXISTS", "session:" + kHashB}), 0) << "touch never creates a session";
}

TEST_F(RedisSessionStoreTest, TouchLeavesAPointerToANewerSessionAlone) {
  ASSERT_FALSE(create(kHashA, record_for("u_carol"), 100s));
  ASSERT_FALSE(create(kHashB, record_for("u_carol"), 50s));  // newer session: the pointer names B
  ASSERT_TRUE(touch(kHashA, 1000s).second);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server_->cmd({"GET", "user_session:u_carol"}), redis::RedisReply::make_string(kHashB));
  EXPECT_LE(server_->integer({"TTL", "user_session:u_carol"}), 50);
}

TEST_F(RedisSessionStoreTest, SessionsExpire) {
  ASSERT_FALSE(create(kHashA, record_for("u_dave"), 1s));
  EXPECT_TRUE(lookup(kHashA).second);
  EXPECT_TRUE(eventually([&] { return !lookup(kHashA).second; }, 3000ms));
  EXPECT_FALSE(touch(kHashA, 100s).second) << "an expired session cannot be revived";
}

TEST_F(RedisSessionStoreTest, RemoveDeletesBothKeysAndAnnouncesTheLogout) {
  struct Seen {
    std::mutex mutex;
    std::vector<SessionEnded> events;
  };
  auto mine = std::make_shared<Seen>();
  auto other = std::make_shared<Seen>();
  auto acks = std::make_shared<std::atomic<int>>(0);
  const auto record = [](const std::shared_ptr<Seen>& seen) {
    return [seen](const SessionEnded& e) {
      std::lock_guard lock(seen->mutex);
      seen->events.push_back(e);
    };
  };
  store_->subscribe_ended(record(mine), [acks](std::error_code ec) { acks->fetch_add(ec ? 100 : 1); });
  // Another instance: its own client and store, same Redis.
  auto other_client = connect();
  auto other_store = std::make_shared<RedisSessionStore>(other_client, "instance-b");
  other_store->subscribe_ended(record(other), [acks](std::error_code ec) { acks->fetch_add(ec ? 100 : 1); });
  ASSERT_TRUE(eventually([&] { return acks->load() == 2; }));

  ASSERT_FALSE(create(kHashA, record_for("u_erin"), 1200s));
  ASSERT_FALSE(remove(kHashA));
  EXPECT_EQ(server_->integer({"EXISTS", "session:" + kHashA, "user_session:u_erin"}), 0);
  EXPECT_FALSE(lookup(kHashA).second);

  ASSERT_TRUE(eventually([&] {
    std::scoped_lock lock(mine->mutex, other->mutex);
    return mine->events.size() == 1 && other->events.size() == 1;
  }));
  {
    std::scoped_lock lock(mine->mutex, other->mutex);
    EXPECT_EQ(mine->events[0].token_hash, kHashA);
    EXPECT_EQ(mine->events[0].user_id, "u_erin");
    EXPECT_EQ(mine->events[0].origin, "instance-a");
    EXPECT_TRUE(mine->events[0].from_this_instance);
    EXPECT_EQ(other->events[0].token_hash, kHashA);
    EXPECT_FALSE(other->events[0].from_this_instance);
  }

  // Removing again succeeds and announces nothing.
  EXPECT_FALSE(remove(kHashA));
  std::this_thread::sleep_for(200ms);
  std::lock_guard lock(mine->mutex);
  EXPECT_EQ(mine->events.size(), 1u);
}

TEST_F(RedisSessionStoreTest, RemoveKeepsThePointerOfANewerSession) {
  ASSERT_FALSE(create(kHashA, record_for("u_frank"), 1200s));
  ASSERT_FALSE(create(kHashB, record_for("u_frank"), 1200s));
  ASSERT_FALSE(remove(kHashA));
  EXPECT_EQ(server_->cmd({"GET", "user_session:u_frank"}), redis::RedisReply::make_string(kHashB));
  EXPECT_TRUE(lookup(kHashB).second);
}

TEST_F(RedisSessionStoreTest, ASessionMadeOnOneInstanceIsValidOnAnother) {
  auto other = std::make_shared<RedisSessionStore>(connect(), "instance-b");
  ASSERT_FALSE(create(kHashA, record_for("u_gina"), 1200s));
  std::promise<std::optional<SessionRecord>> p;
  other->lookup(kHashA, [&p](std::error_code, std::optional<SessionRecord> r) { p.set_value(r); });
  const auto found = wait(p);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, "u_gina");
}

TEST_F(RedisSessionStoreTest, UnreadableRecordsCountAsMissing) {
  server_->cmd({"SET", "session:" + kHashA, "not json", "EX", "100"});
  const auto [ec, found] = lookup(kHashA);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(found);
  EXPECT_FALSE(remove(kHashA));
  EXPECT_EQ(server_->integer({"EXISTS", "session:" + kHashA}), 0);
}

TEST_F(RedisSessionStoreTest, RedisDownIsAnErrorNotAMissingSession) {
  ASSERT_FALSE(create(kHashA, record_for("u_hal"), 1200s));
  server_->kill();
  ASSERT_TRUE(eventually([&] { return !client_->is_connected(); }));
  const auto create_ec = create(kHashB, record_for("u_hal"), 1200s);
  EXPECT_TRUE(redis::is_unavailable(create_ec)) << create_ec.message();
  const auto [lookup_ec, found] = lookup(kHashA);
  EXPECT_TRUE(redis::is_unavailable(lookup_ec));
  EXPECT_FALSE(found);
  EXPECT_TRUE(redis::is_unavailable(touch(kHashA, 100s).first));
  EXPECT_TRUE(redis::is_unavailable(remove(kHashA)));

  // Recovery needs no restart of ours.
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(eventually([&] { return client_->is_connected(); }));
  EXPECT_FALSE(create(kHashB, record_for("u_hal"), 1200s));
  EXPECT_TRUE(lookup(kHashB).second);
}

TEST(RedisSessionRecord, JsonRoundTrip) {
  SessionRecord r;
  r.user_id = "guest_1";
  r.created_at = 1'700'000'000'000;
  r.expires_at = 1'700'001'200'000;
  r.is_guest = true;
  r.guest_display_name = "Ann \"the\" Guest";
  r.guest_avatar_id = "cat";
  const auto back = RedisSessionStore::decode_record(RedisSessionStore::encode_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_id, r.user_id);
  EXPECT_EQ(back->created_at, r.created_at);
  EXPECT_EQ(back->expires_at, r.expires_at);
  EXPECT_TRUE(back->is_guest);
  EXPECT_EQ(back->guest_display_name, r.guest_display_name);
  EXPECT_EQ(back->guest_avatar_id, r.guest_avatar_id);

  EXPECT_FALSE(RedisSessionStore::decode_record("{}"));
  EXPECT_FALSE(RedisSessionStore::decode_record("[1]"));
  EXPECT_FALSE(RedisSessionStore::decode_record("{\"userId\": 5}"));
  EXPECT_FALSE(RedisSessionStore::decode_record("garbage"));

  const auto ended = RedisSessionStore::decode_ended(RedisSessionStore::encode_ended({"h", "u", "i", true}));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->token_hash, "h");
  EXPECT_EQ(ended->user_id, "u");
  EXPECT_EQ(ended->origin, "i");
  EXPECT_FALSE(RedisSessionStore::decode_ended("{\"userId\":\"u\"}"));
}

}  // namespace
}  // namespace switchboard::session
