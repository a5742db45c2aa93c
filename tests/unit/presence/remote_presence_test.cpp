// The merge of other instances' presence (no Redis): which snapshots count, how an instance's whole state
// replaces what was known of it, dead instances dropping out, and the visible connected / auto-away
// decisions.
#include "switchboard/presence/remote_presence.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace switchboard::presence {
namespace {

PresenceSnapshot snap(const std::string& instance, std::uint64_t seq, const std::string& user, bool connected,
                      bool sockets = true, bool away = false) {
  PresenceSnapshot s;
  s.instance = instance;
  s.seq = seq;
  s.user_id = user;
  s.connected = connected;
  s.has_sockets = sockets;
  s.auto_away = away;
  s.display_name = user;
  return s;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(PresenceRemote, AUserIsConnectedWhileAnyInstanceHoldsThem) {
  RemotePresence r;
  EXPECT_FALSE(r.view("alice").connected);
  EXPECT_TRUE(r.apply(snap("A", 1, "alice", true)));
  EXPECT_TRUE(r.apply(snap("B", 1, "alice", true)));
  EXPECT_TRUE(r.view("alice").connected);
  EXPECT_EQ(r.view("alice").socket_instances, 2);

  EXPECT_TRUE(r.apply(snap("A", 2, "alice", false)));
  EXPECT_TRUE(r.view("alice").connected);  // still on B
  EXPECT_TRUE(r.apply(snap("B", 2, "alice", false)));
  EXPECT_FALSE(r.view("alice").connected);
  EXPECT_EQ(r.entry_count(), 0u);  // disconnected users are not kept
}

TEST(PresenceRemote, OlderPublicationsOfAnInstanceAreIgnored) {
  RemotePresence r;
  ASSERT_TRUE(r.apply(snap("A", 5, "alice", false)));
  EXPECT_FALSE(r.apply(snap("A", 4, "alice", true)));  // reordered or replayed: stays disconnected
  EXPECT_FALSE(r.apply(snap("A", 5, "alice", true)));
  EXPECT_FALSE(r.view("alice").connected);
  // Another instance's counter is its own.
  EXPECT_TRUE(r.apply(snap("B", 1, "alice", true)));
  EXPECT_TRUE(r.view("alice").connected);
}

TEST(PresenceRemote, ReplaceTakesAnInstancesWholeStateAndReportsWhatChanged) {
  RemotePresence r;
  r.apply(snap("A", 1, "alice", true));
  r.apply(snap("A", 2, "bob", true));
  r.apply(snap("B", 1, "carol", true));

  // A's state as of version 7: bob is gone, dave came, alice unchanged (same seq).
  auto alice = snap("A", 1, "alice", true);
  const auto changed = r.replace("A", 7, {alice, snap("A", 6, "dave", true)});
  EXPECT_EQ(sorted(changed), (std::vector<std::string>{"bob", "dave"}));
  EXPECT_TRUE(r.view("alice").connected);
  EXPECT_FALSE(r.view("bob").connected);
  EXPECT_TRUE(r.view("dave").connected);
  EXPECT_TRUE(r.view("carol").connected);  // B untouched

  // A state older than what was applied is ignored; later single publications must be newer than it.
  EXPECT_TRUE(r.replace("A", 3, {}).empty());
  EXPECT_TRUE(r.view("dave").connected);
  EXPECT_FALSE(r.apply(snap("A", 7, "bob", true)));
  EXPECT_TRUE(r.apply(snap("A", 8, "bob", true)));
}

TEST(PresenceRemote, ReplaceSkipsDisconnectedAndForeignEntries) {
  RemotePresence r;
  const auto changed = r.replace("A", 3, {snap("A", 1, "alice", false), snap("B", 2, "bob", true)});
  EXPECT_TRUE(changed.empty());
  EXPECT_EQ(r.entry_count(), 0u);
  EXPECT_EQ(r.instance_count(), 1u);  // A is known (its version), holding nobody
}

TEST(PresenceRemote, DeadInstancesDropOutWithTheirUsers) {
  RemotePresence r;
  r.apply(snap("A", 1, "alice", true));
  r.apply(snap("B", 1, "alice", true));
  r.apply(snap("B", 2, "bob", true));
  r.apply(snap("C", 1, "carol", true));

  // Only A is still alive.
  EXPECT_EQ(sorted(r.keep_only({"A"})), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_TRUE(r.view("alice").connected);  // through A
  EXPECT_FALSE(r.view("bob").connected);
  EXPECT_FALSE(r.view("carol").connected);
  EXPECT_EQ(r.instance_count(), 1u);

  EXPECT_EQ(r.drop("A"), std::vector<std::string>{"alice"});
  EXPECT_TRUE(r.drop("A").empty());  // unknown now
  EXPECT_EQ(r.instance_count(), 0u);
  // A dropped instance starts afresh if it speaks again (it republishes with higher seqs anyway).
  EXPECT_TRUE(r.apply(snap("A", 1, "alice", true)));
}

TEST(PresenceRemote, DropAllForgetsEverything) {
  RemotePresence r;
  r.apply(snap("A", 1, "alice", true));
  r.apply(snap("B", 1, "bob", true));
  EXPECT_EQ(sorted(r.drop_all()), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_FALSE(r.view("alice").connected);
  EXPECT_EQ(r.instance_count(), 0u);
}

TEST(PresenceRemote, AwayOnlyWhenEveryInstanceWithSocketsSaysSo) {
  RemotePresence r;
  r.apply(snap("A", 1, "alice", true, /*sockets=*/true, /*away=*/true));
  EXPECT_TRUE(r.view("alice").all_away);
  r.apply(snap("B", 1, "alice", true, /*sockets=*/true, /*away=*/false));
  EXPECT_FALSE(r.view("alice").all_away);
  // A sign-in without sockets does not count either way.
  r.apply(snap("B", 2, "alice", true, /*sockets=*/false, /*away=*/false));
  EXPECT_TRUE(r.view("alice").all_away);
  EXPECT_EQ(r.view("alice").socket_instances, 1);
  r.apply(snap("A", 2, "alice", true, /*sockets=*/false, /*away=*/false));
  EXPECT_FALSE(r.view("alice").all_away);  // nobody holds sockets: not away
  EXPECT_TRUE(r.view("alice").connected);
}

TEST(PresenceMerge, ConnectedElsewhereComesFromTheOtherInstances) {
  RemotePresence::View none;
  RemotePresence::View elsewhere{true, 1, false};
  EXPECT_FALSE(merge({false, false, false}, none).connected_elsewhere);
  EXPECT_TRUE(merge({false, false, false}, elsewhere).connected_elsewhere);
  EXPECT_TRUE(merge({true, true, false}, elsewhere).connected_elsewhere);
}

TEST(PresenceMerge, AutoAwayNeedsEveryPlaceWithSocketsIdle) {
  const RemotePresence::View none;
  const RemotePresence::View remote_away{true, 1, true};
  const RemotePresence::View remote_active{true, 1, false};
  const RemotePresence::View remote_no_sockets{true, 0, false};
  // Local only (a single instance): away is the local idle timer's verdict, and only with sockets.
  EXPECT_TRUE(merge({true, true, true}, none).auto_away);
  EXPECT_FALSE(merge({true, true, false}, none).auto_away);
  EXPECT_FALSE(merge({true, false, true}, none).auto_away);
  // Sockets here and elsewhere: activity on either keeps the user present.
  EXPECT_TRUE(merge({true, true, true}, remote_away).auto_away);
  EXPECT_FALSE(merge({true, true, false}, remote_away).auto_away);
  EXPECT_FALSE(merge({true, true, true}, remote_active).auto_away);
  // Sockets only elsewhere: their verdict.
  EXPECT_TRUE(merge({true, false, false}, remote_away).auto_away);
  EXPECT_FALSE(merge({false, false, false}, remote_active).auto_away);
  // Sign-ins without sockets anywhere are never away.
  EXPECT_FALSE(merge({true, false, false}, remote_no_sockets).auto_away);
}

}  // namespace
}  // namespace switchboard::presence
