// The presence channel's payloads: round trips, the heartbeat script's sync answer (Lua cjson's shapes), and
// malformed input refused rather than half-read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "switchboard/presence/presence_bus.hpp"

namespace switchboard::presence {
namespace {

using nlohmann::json;

PresenceSnapshot sample() {
  PresenceSnapshot s;
  s.instance = "inst-A";
  s.seq = 42;
  s.user_id = "guest_zoe";
  s.event = PresenceSnapshot::Event::kJoin;
  s.connected = true;
  s.has_sockets = true;
  s.auto_away = true;
  s.display_name = "Zoë \"Z\"";
  s.status = Status::kBusy;
  s.personal_message = "back at 5 ☕";
  s.fields_at = 1'738'281'600'123;
  s.fields_by = "inst-A";
  s.is_guest = true;
  s.email = "zoe@guest.invalid";
  s.avatar_id = "cat";
  return s;
}

void expect_same(const PresenceSnapshot& a, const PresenceSnapshot& b) {
  EXPECT_EQ(a.instance, b.instance);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.event, b.event);
  EXPECT_EQ(a.connected, b.connected);
  EXPECT_EQ(a.has_sockets, b.has_sockets);
  EXPECT_EQ(a.auto_away, b.auto_away);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.personal_message, b.personal_message);
  EXPECT_EQ(a.fields_at, b.fields_at);
  EXPECT_EQ(a.fields_by, b.fields_by);
  EXPECT_EQ(a.is_guest, b.is_guest);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.avatar_id, b.avatar_id);
}

TEST(PresenceCodec, UserPublicationRoundTrips) {
  const auto s = sample();
  const auto p = decode_publication(encode_user(s));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, PresencePublication::Kind::kUser);
  EXPECT_EQ(p->instance, "inst-A");
  expect_same(p->user, s);
  // The hash stores the same text; read back as a snapshot.
  const auto back = decode_snapshot(encode_user(s));
  ASSERT_TRUE(back);
  expect_same(*back, s);
}

TEST(PresenceCodec, EveryEventRoundTrips) {
  for (const auto e :
       {PresenceSnapshot::Event::kState, PresenceSnapshot::Event::kJoin, PresenceSnapshot::Event::kLeave,
        PresenceSnapshot::Event::kUpdate, PresenceSnapshot::Event::kSignIn}) {
    auto s = sample();
    s.event = e;
    const auto back = decode_snapshot(encode_snapshot(s));
    ASSERT_TRUE(back) << to_string(e);
    EXPECT_EQ(back->event, e);
  }
}

TEST(PresenceCodec, SeededUsersCarryNoGuestFields) {
  auto s = sample();
  s.is_guest = false;
  s.email.clear();
  s.avatar_id.clear();
  const auto j = json::parse(encode_snapshot(s));
  EXPECT_FALSE(j.contains("guest"));
  EXPECT_FALSE(j.contains("email"));
  const auto back = decode_snapshot(j.dump());
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->is_guest);
}

TEST(PresenceCodec, AllAndByeRoundTrip) {
  auto a = sample();
  auto b = sample();
  b.user_id = "user_2";
  b.is_guest = false;
  const auto all = decode_publication(encode_all("inst-A", 77, {a, b}));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->kind, PresencePublication::Kind::kAll);
  EXPECT_EQ(all->state.version, 77u);
  ASSERT_EQ(all->state.users.size(), 2u);
  EXPECT_EQ(all->state.users[1].user_id, "user_2");

  const auto bye = decode_publication(encode_bye("inst-A"));
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->kind, PresencePublication::Kind::kBye);
  EXPECT_EQ(bye->instance, "inst-A");
}

TEST(PresenceCodec, SyncAnswersAsLuaCjsonWritesThem) {
  // No other instance: cjson writes the empty list as {}.
  auto p = decode_publication(R"({"type":"sync","live":{}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, PresencePublication::Kind::kSync);
  EXPECT_TRUE(p->live.empty());
  EXPECT_FALSE(p->full);

  p = decode_publication(R"({"type":"sync","live":{},"full":{},"request":"7"})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->full);
  EXPECT_EQ(p->request, 7u);  // the resync request it answers
  EXPECT_TRUE(p->states.empty());

  // Two live instances with their hashes (entries are the stored JSON texts); one never published (no v,
  // users {}), and an unreadable entry is skipped without hiding the others.
  const auto entry = encode_user(sample());
  const json answer = {
      {"type", "sync"},
      {"live", {"inst-A", "inst-B"}},
      {"full",
       {{"inst-A", {{"v", "42"}, {"users", {entry, "not json"}}}}, {"inst-B", {{"users", json::object()}}}}}};
  p = decode_publication(answer.dump());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->live, (std::vector<std::string>{"inst-A", "inst-B"}));
  ASSERT_EQ(p->states.size(), 2u);
  const auto& a = p->states[0].instance == "inst-A" ? p->states[0] : p->states[1];
  const auto& b = p->states[0].instance == "inst-A" ? p->states[1] : p->states[0];
  EXPECT_EQ(a.version, 42u);
  ASSERT_EQ(a.users.size(), 1u);
  expect_same(a.users[0], sample());
  EXPECT_EQ(b.version, 0u);
  EXPECT_TRUE(b.users.empty());
}

TEST(PresenceCodec, MalformedPayloadsAreRefused) {
  const auto good = json::parse(encode_user(sample()));
  ASSERT_TRUE(decode_publication(good.dump()));
  for (const char* bad :
       {"", "not json", "[]", "42", R"({"type":"nope"})", R"({"type":"bye"})",
        R"({"type":"bye","instance":""})", R"({"type":"all","instance":"A"})",
        R"({"type":"all","instance":"A","version":-1,"users":[]})", R"({"type":"sync"})",
        R"({"type":"sync","live":[1]})", R"({"type":"sync","live":[],"full":{"A":{"v":"x","users":[]}}})",
        R"({"type":"sync","live":[],"full":{},"request":"soon"})"})
    EXPECT_FALSE(decode_publication(bad)) << bad;

  // Each required field missing or mistyped, and values out of their enums.
  for (const char* field : {"instance", "seq", "userId", "event", "connected", "sockets", "autoAway",
                            "displayName", "status", "personalMessage", "fieldsAt", "fieldsBy"}) {
    auto j = good;
    j.erase(field);
    EXPECT_FALSE(decode_publication(j.dump())) << "without " << field;
    j[field] = json::array();
    EXPECT_FALSE(decode_publication(j.dump())) << "mistyped " << field;
  }
  auto j = good;
  j["status"] = "invisible";
  EXPECT_FALSE(decode_publication(j.dump()));
  j = good;
  j["event"] = "explode";
  EXPECT_FALSE(decode_publication(j.dump()));
  j = good;
  j["userId"] = "";
  EXPECT_FALSE(decode_publication(j.dump()));
  j = good;
  j.erase("avatarId");  // a guest without its profile fields
  EXPECT_FALSE(decode_publication(j.dump()));
  // An "all" whose entries claim another instance is refused whole.
  auto other = sample();
  other.instance = "inst-B";
  EXPECT_FALSE(decode_publication(encode_all("inst-A", 3, {other})));
}

}  // namespace
}  // namespace switchboard::presence
