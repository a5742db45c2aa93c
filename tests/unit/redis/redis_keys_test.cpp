#include "switchboard/redis/redis_keys.hpp"

#include <gtest/gtest.h>

#include "switchboard/ai/quota_store.hpp"

namespace switchboard::redis {
namespace {

TEST(RedisKeys, SessionKeysFollowProtocolSection4) {
  const std::string hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  EXPECT_EQ(keys::session(hash), "session:" + hash);
  EXPECT_EQ(keys::user_session("u_alice"), "user_session:u_alice");
}

TEST(RedisKeys, QuotaKeysArePerUtcDay) {
  const std::string day = ai::utc_day_key(ai::utc_day(1'738'281'600'000));  // 2025-01-31T00:00:00Z
  EXPECT_EQ(day, "2025-01-31");
  EXPECT_EQ(keys::quota_user("u_alice", day), "quota:user:u_alice:2025-01-31");
  EXPECT_EQ(keys::quota_global(day), "quota:global:2025-01-31");
}

TEST(RedisKeys, SessionEndedChannel) {
  EXPECT_EQ(keys::kSessionEndedChannel, "switchboard:session_ended");
}

TEST(RedisKeys, RoomLogKeysAreNamedAfterTheRoom) {
  EXPECT_EQ(keys::room_seq("general"), "room:general:seq");
  EXPECT_EQ(keys::room_messages("dm_user_1__user_2"), "room:dm_user_1__user_2:messages");
  EXPECT_EQ(keys::room_ids("music"), "room:music:ids");
  EXPECT_EQ(keys::room_status("music"), "room:music:status");
  EXPECT_EQ(keys::room_channel("music"), "room:music");
  EXPECT_EQ(keys::sender_messages("user_7"), "sender:user_7:messages");
  EXPECT_EQ(keys::kSenderDeletedChannel, "switchboard:sender_deleted");
}

TEST(RedisKeys, PresenceKeysAreNamedAfterTheInstance) {
  EXPECT_EQ(keys::presence_instance("Ab3_x-9"), "presence:instance:Ab3_x-9");
  EXPECT_EQ(keys::presence_alive("Ab3_x-9"), "presence:alive:Ab3_x-9");
  // The Lua scripts build other instances' keys from these prefixes.
  EXPECT_EQ(keys::presence_instance(""), "presence:instance:");
  EXPECT_EQ(keys::presence_alive(""), "presence:alive:");
  EXPECT_EQ(keys::kPresenceInstances, "presence:instances");
  EXPECT_EQ(keys::kPresenceChannel, "switchboard:presence");
  EXPECT_EQ(keys::presence_sync_channel("Ab3_x-9"), "switchboard:presence:Ab3_x-9");
}

}  // namespace
}  // namespace switchboard::redis
