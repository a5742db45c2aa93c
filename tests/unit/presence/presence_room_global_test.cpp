// PresenceRoom with a fake PresenceBus (no Redis): other instances' snapshots are fed to the actor and the
// frames its local sockets get, the profiles it keeps and what it publishes are checked.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "../net/fake_connection.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/util/handler_guard.hpp"

namespace switchboard::presence {
namespace {

using nlohmann::json;
using Event = PresenceSnapshot::Event;

using test::FakeConnection;

class FakeBus final : public PresenceBus {
 public:
  void start(Handlers h) override { handlers = std::move(h); }
  void stop() override { stopped = true; }
  void publish(PresenceSnapshot s) override {
    s.instance = id_;
    s.seq = ++seq_;
    published.push_back(std::move(s));
  }
  void publish_all(std::vector<PresenceSnapshot> users) override { republished.push_back(std::move(users)); }
  const std::string& instance_id() const override { return id_; }

  const PresenceSnapshot* last_of(const std::string& user) const {
    for (auto it = published.rbegin(); it != published.rend(); ++it)
      if (it->user_id == user) return &*it;
    return nullptr;
  }

  Handlers handlers;
  std::vector<PresenceSnapshot> published;
  std::vector<std::vector<PresenceSnapshot>> republished;
  bool stopped = false;

 private:
  std::string id_ = "here";
  std::uint64_t seq_ = 0;
};

class PresenceRoomGlobalTest : public ::testing::Test {
 protected:
  PresenceRoomGlobalTest()
      : directory_({{"alice", "a@x", "Alice", "duck", ""}, {"bob", "b@x", "Bob", "dog", ""}}, {}),
        profiles_(std::make_shared<UserProfiles>(directory_, 50, false, "")),
        bus_(std::make_shared<FakeBus>()),
        room_(
            std::make_shared<PresenceRoom>(ioc_.get_executor(), profiles_, std::chrono::milliseconds(200))) {
    room_->set_bus(bus_);
    room_->start();
    bob_ = std::make_shared<FakeConnection>(2);
    room_->join(bob_, "bob");
    drain();
    bob_->frames.clear();
  }
  ~PresenceRoomGlobalTest() override {
    room_->stop();
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
  PresenceSnapshot remote(const std::string& instance, std::uint64_t seq, const std::string& user,
                          Event event, bool connected, bool sockets = true) {
    PresenceSnapshot s;
    s.instance = instance;
    s.seq = seq;
    s.user_id = user;
    s.event = event;
    s.connected = connected;
    s.has_sockets = sockets && connected;
    const auto p = profiles_->get(user);
    s.display_name = p ? p->display_name : user;
    s.status = p ? p->chosen_status : Status::kOnline;
    return s;
  }
  void feed(PresenceSnapshot s) {
    bus_->handlers.on_user(std::move(s));
    drain();
  }
  std::string status_of(const std::string& user) {
    const auto p = profiles_->get(user);
    return p ? to_string(p->visible_status()) : "gone";
  }
  json full_sync_for(const std::string& user) {
    auto conn = std::make_shared<FakeConnection>(next_id_++);
    room_->join(conn, user);
    drain();
    const auto syncs = conn->of_type("presence_full_sync");
    room_->leave(conn->connection_id());
    drain();
    return syncs.empty() ? json() : syncs[0];
  }

  boost::asio::io_context ioc_;
  auth::UserDirectory directory_;
  std::shared_ptr<UserProfiles> profiles_;
  std::shared_ptr<FakeBus> bus_;
  std::shared_ptr<PresenceRoom> room_;
  std::shared_ptr<FakeConnection> bob_;
  std::uint64_t next_id_ = 10;
};

TEST_F(PresenceRoomGlobalTest, LocalJoinAndLeaveArePublished) {
  const auto* join = bus_->last_of("bob");
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(join->event, Event::kJoin);
  EXPECT_TRUE(join->connected);
  EXPECT_TRUE(join->has_sockets);
  room_->leave(bob_->connection_id());
  drain();
  const auto* leave = bus_->last_of("bob");
  EXPECT_EQ(leave->event, Event::kLeave);
  EXPECT_FALSE(leave->connected);
  EXPECT_FALSE(leave->has_sockets);
}

TEST_F(PresenceRoomGlobalTest, AUserConnectedElsewhereIsInFullSyncsAndJoinsLocalSockets) {
  feed(remote("A", 1, "alice", Event::kJoin, true));
  const auto joins = bob_->of_type("presence_join");
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0]["userId"], "alice");
  EXPECT_TRUE(bob_->of_type("presence_update").empty());  // online: the join says it all
  EXPECT_EQ(status_of("alice"), "online");

  // A later socket here: its full sync lists alice, though she has no socket on this instance.
  const auto sync = full_sync_for("bob");
  bool listed = false;
  for (const auto& p : sync["participants"])
    if (p["id"] == "alice") listed = p["status"] == "online";
  EXPECT_TRUE(listed) << sync.dump();

  // Her last socket there closes: offline here too.
  bob_->frames.clear();
  feed(remote("A", 2, "alice", Event::kLeave, false));
  const auto updates = bob_->of_type("presence_update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["userId"], "alice");
  EXPECT_EQ(updates[0]["status"], "offline");
  EXPECT_EQ(status_of("alice"), "offline");
}

TEST_F(PresenceRoomGlobalTest, ABusyJoinElsewhereShowsItsStatusAndStaleSnapshotsAreIgnored) {
  auto s = remote("A", 5, "alice", Event::kJoin, true);
  s.status = Status::kBusy;
  s.fields_at = 1000;
  s.fields_by = "A";
  feed(s);
  ASSERT_EQ(bob_->of_type("presence_update").size(), 1u);
  EXPECT_EQ(bob_->of_type("presence_update")[0]["status"], "busy");
  EXPECT_EQ(status_of("alice"), "busy");
  // An older publication of A (seq 4) changes nothing.
  bob_->frames.clear();
  feed(remote("A", 4, "alice", Event::kLeave, false));
  EXPECT_TRUE(bob_->frames.empty());
  EXPECT_EQ(status_of("alice"), "busy");
}

TEST_F(PresenceRoomGlobalTest, AUserOnTwoInstancesGoesOfflineWithTheLastSocketAnywhere) {
  auto alice = std::make_shared<FakeConnection>(3);
  room_->join(alice, "alice");
  feed(remote("A", 1, "alice", Event::kJoin, true));
  bob_->frames.clear();

  room_->leave(alice->connection_id());  // her socket here closes; A still holds one
  drain();
  EXPECT_TRUE(bob_->of_type("presence_update").empty());
  EXPECT_EQ(status_of("alice"), "online");
  const auto* left = bus_->last_of("alice");
  EXPECT_EQ(left->event, Event::kLeave);
  EXPECT_FALSE(left->connected);

  feed(remote("A", 2, "alice", Event::kLeave, false));
  ASSERT_EQ(bob_->of_type("presence_update").size(), 1u);
  EXPECT_EQ(bob_->of_type("presence_update")[0]["status"], "offline");
}

TEST_F(PresenceRoomGlobalTest, ASignInElsewhereShowsInProfilesButAnnouncesNothing) {
  feed(remote("A", 1, "alice", Event::kSignIn, true, /*sockets=*/false));
  EXPECT_EQ(status_of("alice"), "online");  // /api/users and full syncs
  EXPECT_TRUE(bob_->frames.empty());        // as a sign-in here: no frame
  room_->signed_in("bob");
  drain();
  EXPECT_EQ(bus_->last_of("bob")->event, Event::kSignIn);
}

TEST_F(PresenceRoomGlobalTest, ALeaveElsewhereEndsASignInWithoutSocketsHere) {
  profiles_->set_connected("alice", true);  // signed in here over REST, no presence socket
  room_->signed_in("alice");
  drain();
  ASSERT_TRUE(bus_->last_of("alice")->connected);
  feed(remote("A", 1, "alice", Event::kJoin, true));
  feed(remote("A", 2, "alice", Event::kLeave, false));
  EXPECT_EQ(status_of("alice"), "offline");
  const auto* state = bus_->last_of("alice");
  EXPECT_EQ(state->event, Event::kState);
  EXPECT_FALSE(state->connected);  // and the other instances learn it
}

TEST_F(PresenceRoomGlobalTest, ANewerNameStatusAndMessageFromElsewhereWin) {
  feed(remote("A", 1, "alice", Event::kJoin, true));
  bob_->frames.clear();
  auto s = remote("A", 2, "alice", Event::kUpdate, true);
  s.display_name = "Alice W.";
  s.status = Status::kAway;
  s.personal_message = "lunch";
  s.fields_at = 2000;
  s.fields_by = "A";
  feed(s);
  auto p = profiles_->get("alice");
  EXPECT_EQ(p->display_name, "Alice W.");
  EXPECT_EQ(p->chosen_status, Status::kAway);
  EXPECT_EQ(p->personal_message, "lunch");
  auto updates = bob_->of_type("presence_update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["displayName"], "Alice W.");
  EXPECT_EQ(updates[0]["status"], "away");
  EXPECT_EQ(updates[0]["personalMessage"], "lunch");

  // Another instance's snapshot with older fields (but its own newer seq) does not undo the change.
  bob_->frames.clear();
  auto stale = remote("B", 9, "alice", Event::kUpdate, true);
  stale.display_name = "Old Alice";
  stale.status = Status::kOnline;
  stale.fields_at = 1500;
  stale.fields_by = "B";
  feed(stale);
  EXPECT_EQ(profiles_->get("alice")->display_name, "Alice W.");
  EXPECT_TRUE(bob_->of_type("presence_update").empty());

  // A local change is stamped later than anything known, and published with it.
  auto alice = std::make_shared<FakeConnection>(3);
  room_->join(alice, "alice");
  drain();
  room_->deliver(alice->connection_id(),
                 chat::PresenceUpdateFrame{Status::kBusy, std::nullopt, "here now", {}});
  drain();
  const auto* mine = bus_->last_of("alice");
  EXPECT_EQ(mine->event, Event::kUpdate);
  EXPECT_EQ(mine->status, Status::kBusy);
  EXPECT_EQ(mine->personal_message, "here now");
  EXPECT_GT(mine->fields_at, 2000);
  EXPECT_EQ(mine->fields_by, "here");
}

TEST_F(PresenceRoomGlobalTest, AwayOnlyWhenIdleOnEveryInstanceWithSockets) {
  auto s = remote("A", 1, "alice", Event::kJoin, true);
  s.auto_away = true;
  feed(s);
  EXPECT_EQ(status_of("alice"), "away");  // her only sockets, on A, are idle

  auto alice = std::make_shared<FakeConnection>(3);
  room_->join(alice, "alice");  // an active tab here
  drain();
  EXPECT_EQ(status_of("alice"), "online");

  // Idle here too (away_after 200 ms): away again, and A learns this instance's verdict.
  run_for(std::chrono::milliseconds(600));
  EXPECT_EQ(status_of("alice"), "away");
  EXPECT_TRUE(bus_->last_of("alice")->auto_away);
  // Activity here lifts it, whatever A says.
  room_->activity("alice");
  drain();
  EXPECT_EQ(status_of("alice"), "online");
  EXPECT_FALSE(bus_->last_of("alice")->auto_away);
}

TEST_F(PresenceRoomGlobalTest, AGuestFromElsewhereGetsAProfileWhileConnected) {
  auto s = remote("A", 1, "guest_zoe", Event::kJoin, true);
  s.display_name = "Zoe";
  s.is_guest = true;
  s.email = "zoe@guest.invalid";
  s.avatar_id = "cat";
  feed(s);
  const auto p = profiles_->get("guest_zoe");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->is_guest);
  EXPECT_TRUE(p->remote_only);
  EXPECT_EQ(p->display_name, "Zoe");
  EXPECT_EQ(p->avatar_id, "cat");
  EXPECT_EQ(bob_->of_type("presence_join").at(0)["userId"], "guest_zoe");
  EXPECT_TRUE(profiles_->guest_name_taken("zoe"));  // nobody else takes her name here meanwhile

  feed(remote("A", 2, "guest_zoe", Event::kLeave, false));
  EXPECT_FALSE(profiles_->get("guest_zoe"));
  EXPECT_EQ(bob_->of_type("presence_update").back()["status"], "offline");

  // A snapshot of a user unknown here that is no guest (another users file) is ignored.
  feed(remote("A", 3, "mallory", Event::kJoin, true));
  EXPECT_FALSE(profiles_->get("mallory"));
}

TEST_F(PresenceRoomGlobalTest, DeadInstancesTakeTheirUsersOffline) {
  feed(remote("A", 1, "alice", Event::kJoin, true));
  bob_->frames.clear();
  bus_->handlers.on_live({"B"});  // A's heartbeat expired
  drain();
  EXPECT_EQ(status_of("alice"), "offline");
  ASSERT_EQ(bob_->of_type("presence_update").size(), 1u);

  // A whole-state publication brings her back; a clean shutdown (bye) takes her away again.
  bus_->handlers.on_instance("A", 10, {remote("A", 10, "alice", Event::kState, true)});
  drain();
  EXPECT_EQ(status_of("alice"), "online");
  bus_->handlers.on_gone("A");
  drain();
  EXPECT_EQ(status_of("alice"), "offline");
}

TEST_F(PresenceRoomGlobalTest, LostRedisFallsBackToLocalAndRepublishSendsLocalUsers) {
  feed(remote("A", 1, "alice", Event::kJoin, true));
  bus_->handlers.on_lost();
  drain();
  EXPECT_EQ(status_of("alice"), "offline");
  EXPECT_EQ(status_of("bob"), "online");  // local presence goes on

  bus_->handlers.on_republish();
  drain();
  ASSERT_EQ(bus_->republished.size(), 1u);
  ASSERT_EQ(bus_->republished[0].size(), 1u);
  EXPECT_EQ(bus_->republished[0][0].user_id, "bob");
  EXPECT_TRUE(bus_->republished[0][0].has_sockets);
}

TEST_F(PresenceRoomGlobalTest, StopStopsTheBus) {
  room_->stop();
  drain();
  EXPECT_TRUE(bus_->stopped);
}

TEST_F(PresenceRoomGlobalTest, AConnectionThatThrowsIsClosedAndTheOthersStillHearOfChanges) {
  auto broken = std::make_shared<FakeConnection>(3);
  room_->join(broken, "bob");  // a second tab of bob's
  drain();
  broken->throw_on_send = true;
  const auto before = util::handler_exception_count(util::HandlerSite::kActor);
  auto alice = std::make_shared<FakeConnection>(1);
  room_->join(alice, "alice");  // announced to both of bob's tabs; one of them throws
  drain();
  EXPECT_EQ(broken->closed_with, 1011);
  EXPECT_EQ(util::handler_exception_count(util::HandlerSite::kActor), before + 1);
  const auto heard = [&](const char* type, const char* key, const char* value) {
    for (const auto& f : bob_->frames)
      if (f["type"] == type && f.value(key, "") == value) return true;
    return false;
  };
  EXPECT_TRUE(heard("presence_join", "userId", "alice")) << "the healthy tab still gets the join";
  // And the actor goes on: alice's next change reaches bob too.
  room_->deliver(alice->connection_id(), chat::PresenceFrame{chat::PresenceUpdateFrame{Status::kBusy}});
  drain();
  EXPECT_TRUE(heard("presence_update", "status", "busy"));
}

}  // namespace
}  // namespace switchboard::presence
