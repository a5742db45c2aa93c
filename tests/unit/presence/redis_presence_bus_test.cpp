// RedisPresenceBus against a real redis-server: publications cross instances and land in the per-instance
// hash, a starting instance reads the others' state, heartbeats remove crashed instances, malformed
// publications are ignored, and a Redis restart leads to a republish and a resync.
#include "switchboard/presence/redis_presence_bus.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "../redis/redis_test_support.hpp"
#include "switchboard/redis/redis_keys.hpp"

namespace switchboard::presence {
namespace {

using namespace std::chrono_literals;
using test::eventually;
namespace keys = redis::keys;

// What one bus's handlers saw (they run on the bus's threads).
struct Seen {
  std::mutex mutex;
  std::vector<PresenceSnapshot> users;
  std::vector<std::pair<std::string, std::vector<PresenceSnapshot>>> instances;
  std::vector<std::vector<std::string>> lives;
  std::vector<std::string> gone;
  int republish = 0;
  int lost = 0;

  template <typename F>
  auto with(F f) {
    std::lock_guard lock(mutex);
    return f();
  }
  bool heard_user(const std::string& user, bool connected) {
    return with([&] {
      for (const auto& u : users)
        if (u.user_id == user && u.connected == connected) return true;
      return false;
    });
  }
  bool saw_instance_with(const std::string& instance, const std::string& user) {
    return with([&] {
      for (const auto& [id, list] : instances)
        if (id == instance)
          for (const auto& u : list)
            if (u.user_id == user) return true;
      return false;
    });
  }
  std::optional<std::vector<std::string>> last_live() {
    return with([&]() -> std::optional<std::vector<std::string>> {
      if (lives.empty()) return std::nullopt;
      return lives.back();
    });
  }
};

class RedisPresenceBusTest : public test::RealRedisTest {
 protected:
  struct Node {
    std::shared_ptr<redis::RedisClient> client;
    std::shared_ptr<RedisPresenceBus> bus;
    std::shared_ptr<Seen> seen = std::make_shared<Seen>();
    std::shared_ptr<std::vector<PresenceSnapshot>> local = std::make_shared<std::vector<PresenceSnapshot>>();
    // The bus's heartbeat keeps it (and its client) alive until stopped.
    ~Node() {
      if (bus) bus->stop();
      if (client) client->stop();
    }
  };

  std::unique_ptr<Node> node(const std::string& id, std::chrono::milliseconds heartbeat = 200ms) {
    auto n = std::make_unique<Node>();
    n->client = connect();
    n->bus = std::make_shared<RedisPresenceBus>(io_.ioc().get_executor(), n->client, id, heartbeat);
    // Tell the bus when links come back, as the app's state handler does.
    n->client->set_state_handler([weak = std::weak_ptr<RedisPresenceBus>(n->bus)](auto link, bool up) {
      if (auto b = weak.lock(); b && up) b->link_up(link);
    });
    PresenceBus::Handlers h;
    auto seen = n->seen;
    h.on_user = [seen](PresenceSnapshot s) { seen->with([&] { seen->users.push_back(std::move(s)); }); };
    h.on_instance = [seen](std::string id, std::uint64_t, std::vector<PresenceSnapshot> users) {
      seen->with([&] { seen->instances.emplace_back(std::move(id), std::move(users)); });
    };
    h.on_live = [seen](std::vector<std::string> live) { seen->with([&] { seen->lives.push_back(live); }); };
    h.on_gone = [seen](std::string id) { seen->with([&] { seen->gone.push_back(id); }); };
    h.on_lost = [seen] { seen->with([&] { ++seen->lost; }); };
    // As the PresenceRoom does: publish everything connected here.
    h.on_republish = [seen, local = n->local, weak = std::weak_ptr<RedisPresenceBus>(n->bus)] {
      seen->with([&] { ++seen->republish; });
      if (auto b = weak.lock()) b->publish_all(*local);
    };
    n->bus->start(std::move(h));
    return n;
  }

  static PresenceSnapshot user(const std::string& id, bool connected) {
    PresenceSnapshot s;
    s.user_id = id;
    s.event = connected ? PresenceSnapshot::Event::kJoin : PresenceSnapshot::Event::kLeave;
    s.connected = connected;
    s.has_sockets = connected;
    s.display_name = id;
    return s;
  }
  bool in_hash(const std::string& instance, const std::string& user_id) {
    return server_->integer({"HEXISTS", keys::presence_instance(instance), user_id}) == 1;
  }
};

TEST_F(RedisPresenceBusTest, PublicationsReachOtherInstancesAndTheHash) {
  auto a = node("inst-a");
  auto b = node("inst-b");
  // Both have heartbeated: each lists the other as live.
  ASSERT_TRUE(eventually([&] {
    const auto live = b->seen->last_live();
    return live && *live == std::vector<std::string>{"inst-a"};
  }));

  a->bus->publish(user("alice", true));
  ASSERT_TRUE(eventually([&] { return b->seen->heard_user("alice", true); }));
  EXPECT_TRUE(in_hash("inst-a", "alice"));
  EXPECT_FALSE(a->seen->heard_user("alice", true));  // its own publication is not handed back

  a->bus->publish(user("alice", false));
  ASSERT_TRUE(eventually([&] { return b->seen->heard_user("alice", false); }));
  EXPECT_FALSE(in_hash("inst-a", "alice"));  // only connected users are kept
  EXPECT_EQ(server_->integer({"SISMEMBER", std::string(keys::kPresenceInstances), "inst-a"}), 1);
  const auto ttl = server_->integer({"PTTL", keys::presence_alive("inst-a")});
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 600);  // three heartbeat periods
}

TEST_F(RedisPresenceBusTest, AStartingInstanceReadsTheOthersState) {
  auto a = node("inst-a");
  *a->local = {user("alice", true)};
  a->bus->publish(user("alice", true));
  ASSERT_TRUE(eventually([&] { return in_hash("inst-a", "alice"); }));

  auto b = node("inst-b");
  EXPECT_TRUE(eventually([&] { return b->seen->saw_instance_with("inst-a", "alice"); }));
}

TEST_F(RedisPresenceBusTest, ACrashedInstanceIsRemovedWhenItsHeartbeatExpires) {
  auto a = node("inst-a");
  // A crashed instance: listed, with a user in its hash, and a heartbeat about to expire.
  // (In the order its own heartbeat script writes them, so a's heartbeat never sees it half made.)
  server_->cmd({"SET", keys::presence_alive("ghost"), "1", "PX", "600"});
  server_->cmd({"HSET", keys::presence_instance("ghost"), "bob", encode_user([] {
                  auto s = user("bob", true);
                  s.instance = "ghost";
                  s.seq = 1;
                  return s;
                }())});
  server_->cmd({"SADD", std::string(keys::kPresenceInstances), "ghost"});
  // A resync now reads the ghost's state too (as when a instance starts).
  a->bus->link_up(redis::RedisClient::Link::kSubscriber);
  ASSERT_TRUE(eventually([&] {
    const auto live = a->seen->last_live();
    return live && *live == std::vector<std::string>{"ghost"};
  }));
  EXPECT_TRUE(eventually([&] { return a->seen->saw_instance_with("ghost", "bob"); }));

  ASSERT_TRUE(eventually([&] {
    const auto live = a->seen->last_live();
    return live && live->empty();
  }));
  EXPECT_EQ(server_->integer({"SISMEMBER", std::string(keys::kPresenceInstances), "ghost"}), 0);
  EXPECT_EQ(server_->integer({"EXISTS", keys::presence_instance("ghost")}), 0);
}

TEST_F(RedisPresenceBusTest, MalformedPublicationsAreIgnored) {
  auto a = node("inst-a");
  auto b = node("inst-b");
  ASSERT_TRUE(eventually([&] { return b->seen->last_live().has_value(); }));
  const std::string channel(keys::kPresenceChannel);
  server_->cmd({"PUBLISH", channel, "not json"});
  server_->cmd({"PUBLISH", channel, R"({"type":"user","userId":"eve"})"});
  server_->cmd({"PUBLISH", channel, R"({"type":"sync","live":[]})"});  // a sync on the shared channel
  a->bus->publish(user("alice", true));
  ASSERT_TRUE(eventually([&] { return b->seen->heard_user("alice", true); }));
  EXPECT_TRUE(b->seen->with([&] { return b->seen->users.size(); }) == 1u);
  EXPECT_FALSE(b->seen->heard_user("eve", true));
}

TEST_F(RedisPresenceBusTest, ACleanStopSaysGoodbye) {
  auto a = node("inst-a");
  auto b = node("inst-b");
  ASSERT_TRUE(eventually([&] { return b->seen->last_live().has_value(); }));  // b has subscribed
  a->bus->publish(user("alice", true));
  ASSERT_TRUE(eventually([&] { return b->seen->heard_user("alice", true); }));
  a->bus->stop();
  ASSERT_TRUE(eventually([&] { return b->seen->with([&] { return b->seen->gone.size(); }) == 1u; }));
  EXPECT_EQ(b->seen->with([&] { return b->seen->gone[0]; }), "inst-a");
  EXPECT_EQ(server_->integer({"EXISTS", keys::presence_instance("inst-a")}), 0);
  EXPECT_EQ(server_->integer({"EXISTS", keys::presence_alive("inst-a")}), 0);
  a->bus->publish(user("bob", true));  // after stop: nothing
  EXPECT_FALSE(eventually([&] { return b->seen->heard_user("bob", true); }, 500ms));
}

TEST_F(RedisPresenceBusTest, AfterARedisRestartEachInstanceRepublishesAndResyncs) {
  auto a = node("inst-a");
  auto b = node("inst-b");
  ASSERT_TRUE(eventually([&] { return b->seen->last_live().has_value(); }));  // b has subscribed
  *a->local = {user("alice", true)};
  a->bus->publish(user("alice", true));
  ASSERT_TRUE(eventually([&] { return b->seen->heard_user("alice", true); }));
  const int republished_before = a->seen->with([&] { return a->seen->republish; });

  server_->kill();
  ASSERT_TRUE(server_->start());  // same port, empty
  // A notices its state is gone and publishes it whole; B's resync (or A's publication) brings alice back.
  ASSERT_TRUE(eventually([&] { return in_hash("inst-a", "alice"); }, 10s));
  EXPECT_GT(a->seen->with([&] { return a->seen->republish; }), republished_before);
  EXPECT_TRUE(eventually([&] { return b->seen->saw_instance_with("inst-a", "alice"); }, 10s));
}

TEST_F(RedisPresenceBusTest, WithoutRedisForAWholeTtlTheOthersStateIsDropped) {
  auto a = node("inst-a", 100ms);
  ASSERT_TRUE(eventually([&] { return a->seen->last_live().has_value(); }));
  server_->kill();
  EXPECT_TRUE(eventually([&] { return a->seen->with([&] { return a->seen->lost; }) >= 1; }, 5s));
  ASSERT_TRUE(server_->start());
  // Back: a full resync arrives again.
  const auto syncs = a->seen->with([&] { return a->seen->lives.size(); });
  EXPECT_TRUE(eventually([&] { return a->seen->with([&] { return a->seen->lives.size(); }) > syncs; }, 10s));
}

}  // namespace
}  // namespace switchboard::presence
