#pragma once
#include <string>
#include <string_view>

// Every Redis key and channel name Switchboard uses, in one place so that operators and tests can rely on
// them. The session keys are fixed by PROTOCOL §4 (an operator runs `redis-cli TTL session:<hash>`).
namespace switchboard::redis::keys {

// `session:<token_hash>`: the JSON of a SessionRecord, with the session's TTL.
std::string session(std::string_view token_hash);
// `user_session:<userId>`: the token hash of the user's latest session, with the same TTL.
std::string user_session(std::string_view user_id);
// `quota:user:<userId>:<YYYY-MM-DD>` and `quota:global:<YYYY-MM-DD>`: daily bot-reply counters (UTC days).
std::string quota_user(std::string_view user_id, std::string_view utc_day);
std::string quota_global(std::string_view utc_day);

// A room's shared log (when several instances share Redis; see store::RedisRoomLog):
//   room:<id>:seq       the last seq given out (INCR)
//   room:<id>:messages  hash seq -> the message's wire JSON
//   room:<id>:ids       hash message id -> seq (retried sends are answered with the stored message)
//   room:<id>:status    hash seq -> delivery status (0 sent, 1 delivered, 2 read; only rises)
//   room:<id>           the pub/sub channel of the room's messages and transient frames
//   sender:<userId>:messages  set of "<roomId> <seq>" a user sent, for deletion
std::string room_seq(std::string_view room_id);
std::string room_messages(std::string_view room_id);
std::string room_ids(std::string_view room_id);
std::string room_status(std::string_view room_id);
std::string room_channel(std::string_view room_id);
std::string sender_messages(std::string_view user_id);

// Pub/sub channel announcing that a user's messages were deleted, so every instance blanks its rooms' caches.
inline constexpr std::string_view kSenderDeletedChannel = "switchboard:sender_deleted";

// Pub/sub channel announcing sessions that were logged out, so every instance closes their sockets (4401).
inline constexpr std::string_view kSessionEndedChannel = "switchboard:session_ended";

// Global presence across instances (see presence::RedisPresenceBus):
//   presence:instance:<instanceId>  hash userId -> JSON snapshot of a user connected on that instance
//   presence:alive:<instanceId>     the instance's heartbeat, with a TTL: gone means the instance is dead
//   presence:instances              set of instance ids that have published presence
//   switchboard:presence            the pub/sub channel of every instance's presence changes
//   switchboard:presence:<instanceId>  the instance's own channel: its heartbeat script's answers (live
//                                   instances, and their state on a resync), ordered with the changes above
std::string presence_instance(std::string_view instance_id);
std::string presence_alive(std::string_view instance_id);
std::string presence_sync_channel(std::string_view instance_id);
inline constexpr std::string_view kPresenceInstances = "presence:instances";
inline constexpr std::string_view kPresenceChannel = "switchboard:presence";

}  // namespace switchboard::redis::keys
