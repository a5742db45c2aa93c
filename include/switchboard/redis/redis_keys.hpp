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

// Pub/sub channel announcing sessions that were logged out, so every instance closes their sockets (4401).
inline constexpr std::string_view kSessionEndedChannel = "switchboard:session_ended";

}  // namespace switchboard::redis::keys
