// Participants lists: coalesced in a burst of joins, and merged across instances from rosters carried by the
// room bus (here an in-process bus joining two rooms that stand for the same room on two instances).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "../net/fake_connection.hpp"
#include "switchboard/chat/chat_room.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

using test::FakeConnection;

// The ids of the newest participants list `conn` got, in order.
std::vector<std::string> last_ids(const FakeConnection& conn) {
  std::vector<std::string> ids;
  const auto lists = conn.of_type("participants");
  if (!lists.empty())
    for (const auto& p : lists.back()["participants"]) ids.push_back(p["id"]);
  return ids;
}

// Relays transient frames between the buses of one hub, as Redis pub/sub does between instances (never back
// to the publisher). Stored messages are not needed here.
struct Hub;
class LoopbackBus final : public RoomBus {
 public:
  LoopbackBus(Hub& hub, std::string instance) : hub_(hub), instance_(std::move(instance)) {}
  void publish_message(const Message&, AppendDone done) override { done(store::StoreErrc::kClosed, {}); }
  void publish_event(const std::string& room_id, std::string frame) override;
  void fetch(const std::string&, std::uint64_t, std::size_t, FetchDone done) override { done({}, {}); }
  SubscriptionId subscribe(const std::string&, Handlers handlers) override {
    ++subscribed;
    handlers_ = std::move(handlers);
    if (handlers_.on_live) handlers_.on_live();
    return 1;
  }
  void unsubscribe(SubscriptionId) override {
    --subscribed;
    handlers_ = {};
  }
  const std::string& instance_id() const override { return instance_; }

  Handlers handlers_;
  int subscribed = 0;
  bool connected = true;  // false: neither publishes nor hears (an instance that died)

 private:
  Hub& hub_;
  std::string instance_;
};

struct Hub {
  boost::asio::io_context& ioc;
  std::vector<LoopbackBus*> buses;
};

void LoopbackBus::publish_event(const std::string&, std::string frame) {
  if (!connected) return;
  for (auto* other : hub_.buses) {
    if (other == this || !other->connected) continue;
    boost::asio::post(hub_.ioc, [other, frame] {
      if (other->handlers_.on_event) other->handlers_.on_event(frame);
    });
  }
}

class ParticipantsTest : public ::testing::Test {
 protected:
  ParticipantsTest()
      : directory_({{"u1", "1@x", "Ann", "duck", ""},
                    {"u2", "2@x", "Ben", "dog", ""},
                    {"u3", "3@x", "Cat", "cat", ""},
                    {"u4", "4@x", "Dan", "fox", ""},
                    {"u5", "5@x", "Eve", "owl", ""}},
                   {}),
        profiles_(std::make_shared<presence::UserProfiles>(directory_, 50, false, "")) {
    config_.chat.participants_interval_ms = 100;
    config_.chat.roster_refresh_seconds = 1;
  }

  std::shared_ptr<ChatRoom> make_room(std::shared_ptr<RoomBus> bus = nullptr) {
    return std::make_shared<ChatRoom>(ioc_.get_executor(), RoomInfo{"general", false, {}},
                                      ChatRoom::Dependencies{config_,
                                                             FrameLimits{2048, 50, 128, {"kiss"}},
                                                             std::make_shared<store::MemoryHistoryStore>(100),
                                                             profiles_,
                                                             nullptr,
                                                             {},
                                                             nullptr,
                                                             nullptr,
                                                             std::move(bus)});
  }
  std::shared_ptr<FakeConnection> join(ChatRoom& room, const std::string& user) {
    auto conn = std::make_shared<FakeConnection>(next_id_++);
    room.join(conn, {user, std::nullopt});
    return conn;
  }
  void run_for(std::chrono::milliseconds d) {
    ioc_.restart();
    ioc_.run_for(d);
  }
  void drain() {
    ioc_.restart();
    ioc_.poll();
  }

  boost::asio::io_context ioc_;
  config::Config config_;
  auth::UserDirectory directory_;
  std::shared_ptr<presence::UserProfiles> profiles_;
  std::uint64_t next_id_ = 1;
};

TEST_F(ParticipantsTest, ABurstOfJoinsSendsAFewListsAndTheLastNamesEveryone) {
  auto room = make_room();
  std::vector<std::shared_ptr<FakeConnection>> conns;
  for (const char* u : {"u1", "u2", "u3", "u4", "u5"}) conns.push_back(join(*room, u));
  drain();
  // The first join went out at once; the other four wait for the end of the interval.
  EXPECT_EQ(conns[0]->of_type("participants").size(), 1u);
  EXPECT_TRUE(conns[4]->of_type("participants").empty());
  run_for(std::chrono::milliseconds(300));
  for (const auto& c : conns) {
    EXPECT_LE(c->of_type("participants").size(), 2u);
    EXPECT_EQ(last_ids(*c), (std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"}));
  }
}

TEST_F(ParticipantsTest, ZeroIntervalSendsOneListPerChange) {
  config_.chat.participants_interval_ms = 0;
  auto room = make_room();
  auto first = join(*room, "u1");
  join(*room, "u2");
  join(*room, "u3");
  drain();
  EXPECT_EQ(first->of_type("participants").size(), 3u);
  EXPECT_EQ(last_ids(*first), (std::vector<std::string>{"u1", "u2", "u3"}));
}

TEST_F(ParticipantsTest, ASecondTabGetsTheListWithoutAnnouncingAnything) {
  auto room = make_room();
  auto a = join(*room, "u1");
  auto b = join(*room, "u2");
  run_for(std::chrono::milliseconds(300));
  const auto before = a->of_type("participants").size();
  auto b2 = join(*room, "u2");
  run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(a->of_type("participants").size(), before);
  EXPECT_EQ(last_ids(*b2), (std::vector<std::string>{"u1", "u2"}));
}

class TwoInstancesTest : public ParticipantsTest {
 protected:
  TwoInstancesTest() {
    bus_a_ = std::make_shared<LoopbackBus>(hub_, "inst-a");
    bus_b_ = std::make_shared<LoopbackBus>(hub_, "inst-b");
    hub_.buses = {bus_a_.get(), bus_b_.get()};
    room_a_ = make_room(bus_a_);
    room_b_ = make_room(bus_b_);
  }

  Hub hub_{ioc_, {}};
  std::shared_ptr<LoopbackBus> bus_a_, bus_b_;
  std::shared_ptr<ChatRoom> room_a_, room_b_;
};

TEST_F(TwoInstancesTest, ListsNameMembersOnEveryInstanceInArrivalOrder) {
  auto on_a = join(*room_a_, "u1");
  run_for(std::chrono::milliseconds(20));
  auto on_b = join(*room_b_, "u2");
  run_for(std::chrono::milliseconds(20));
  auto also_on_a = join(*room_a_, "u3");
  run_for(std::chrono::milliseconds(400));
  const std::vector<std::string> everyone{"u1", "u2", "u3"};
  EXPECT_EQ(last_ids(*on_a), everyone);
  EXPECT_EQ(last_ids(*on_b), everyone);
  EXPECT_EQ(last_ids(*also_on_a), everyone);
  for (const auto& c : {on_a, on_b, also_on_a})
    EXPECT_TRUE(c->of_type("_roster").empty()) << "rosters stay inside";

  // u2 on A as well: still one entry, at its earliest arrival.
  auto u2_on_a = join(*room_a_, "u2");
  run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(last_ids(*on_a), everyone);
  // u2 leaving B keeps u2 listed through A (now ordered by its arrival on A).
  room_b_->leave(on_b->connection_id());
  run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(last_ids(*on_a), (std::vector<std::string>{"u1", "u3", "u2"}));
  // The last socket of u3 closes on A: gone on B's list too.
  room_a_->leave(also_on_a->connection_id());
  auto watcher_on_b = join(*room_b_, "u4");
  run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(last_ids(*watcher_on_b), (std::vector<std::string>{"u1", "u2", "u4"}));
}

TEST_F(TwoInstancesTest, AnInstanceThatFallsSilentDropsOutAfterThreeRefreshPeriods) {
  auto on_a = join(*room_a_, "u1");
  auto on_b = join(*room_b_, "u2");
  run_for(std::chrono::milliseconds(400));
  ASSERT_EQ(last_ids(*on_a), (std::vector<std::string>{"u1", "u2"}));
  bus_b_->connected = false;  // B crashed: no more rosters from it
  run_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(last_ids(*on_a), (std::vector<std::string>{"u1", "u2"})) << "not before three periods";
  run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(last_ids(*on_a), (std::vector<std::string>{"u1"}));
}

TEST_F(TwoInstancesTest, ARoomWithoutLocalMembersLetsGoOfItsSubscriptionAndComesBack) {
  auto on_a = join(*room_a_, "u1");
  auto on_b = join(*room_b_, "u2");
  run_for(std::chrono::milliseconds(300));
  ASSERT_EQ(bus_a_->subscribed, 1);
  room_a_->leave(on_a->connection_id());
  run_for(std::chrono::milliseconds(1500));  // one roster period (1 s here) later
  EXPECT_EQ(bus_a_->subscribed, 0) << "no local members: no subscription";
  EXPECT_EQ(bus_b_->subscribed, 1);
  EXPECT_EQ(last_ids(*on_b), (std::vector<std::string>{"u2"}));
  // Back on A: loaded and subscribed again, and the lists name B's member again.
  auto again = join(*room_a_, "u3");
  run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(bus_a_->subscribed, 1);
  EXPECT_EQ(last_ids(*again), (std::vector<std::string>{"u2", "u3"}));
  EXPECT_EQ(last_ids(*on_b), (std::vector<std::string>{"u2", "u3"}));
}

TEST_F(TwoInstancesTest, MalformedRostersAreIgnored) {
  auto on_a = join(*room_a_, "u1");
  run_for(std::chrono::milliseconds(200));
  for (const char* bad : {R"({"type":"_roster","instance":"x","members":"nope"})",
                          R"({"type":"_roster","instance":7,"members":[]})",
                          R"({"type":"_roster","instance":"x","members":[{"id":3}]})",
                          R"({"type":"_roster","members":[{"id":"u5"}]})", "not json at all"}) {
    bus_b_->publish_event("general", bad);
  }
  // A good one next to them is taken.
  bus_b_->publish_event("general",
                        R"({"type":"_roster","instance":"x","members":[{"id":"u5","joinedMs":1}]})");
  run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(last_ids(*on_a), (std::vector<std::string>{"u5", "u1"}));
  EXPECT_TRUE(on_a->of_type("_roster").empty());
}

}  // namespace
}  // namespace switchboard::chat
