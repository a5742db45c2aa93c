#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "switchboard/analytics/event.hpp"

namespace switchboard::analytics::events {

// The event catalog: one function per event, so each event's blob and double layout is written down once
// (the README's operators' section shows the same table). blobs[0] is the event name. The index is the user
// the event is about, or kAnonymous before anyone is signed in. Room ids appear for group rooms only (a
// direct room's id names both participants). No function takes message text, session ids or tokens.
inline constexpr std::string_view kAnonymous = "anonymous";

// kind: "account" or "guest".
Event login_success(const std::string& user_id, bool guest);
// reason: "invalid_request", "unknown_account", "name_taken", "turnstile", "unavailable" (session store or
// siteverify), "error". A login refused by the per-address limit is a rate_limited event instead.
Event login_failed(std::string_view reason);
// Session age in seconds at the end.
Event logout(const std::string& user_id, bool guest, double session_seconds);
Event session_expired(const std::string& user_id, bool guest, double session_seconds);

// socket: "room" or "presence"; room_type: "group", "direct" or "" (presence).
Event ws_open(const std::string& user_id, std::string_view socket, std::string_view room_type,
              std::string_view group_room_id);
Event ws_close(const std::string& user_id, std::string_view socket, std::string_view room_type,
               std::string_view group_room_id, std::uint16_t code, double duration_seconds);

// via: "ws" or "rest". Length in code points and in bytes; never the text.
Event message_sent(const std::string& user_id, std::string_view room_type, std::string_view group_room_id,
                   std::string_view via, std::size_t code_points, std::size_t bytes);
Event nudge(const std::string& user_id, std::string_view room_type, std::string_view group_room_id);
Event wink(const std::string& user_id, std::string_view room_type, std::string_view group_room_id,
           std::string_view wink_id);

// scope: "chat_interval", "messages", "nudges" (per room) or "login" (per client address).
Event rate_limited(std::string_view user_id, std::string_view scope, std::string_view room_type,
                   std::int64_t retry_after_ms);
// outcome: "rejected" (403) or "unavailable" (siteverify could not say; 503); reason: the verifier's short
// reason (a siteverify error code, "timeout", ...).
Event turnstile_failed(std::string_view outcome, std::string_view reason);

// outcome: ok, error, busy, no_provider, quota_user, quota_global, shutdown; error_kind: an LlmErrorKind name
// or "". tokens: completion tokens the provider reported, -1 when it did not say.
Event ai_invocation(const std::string& user_id, std::string_view bot_id, std::string_view provider,
                    std::string_view outcome, std::string_view error_kind, double latency_ms, double tokens,
                    std::size_t reply_bytes);
// scope: "user" or "global".
Event ai_quota_exceeded(const std::string& user_id, std::string_view bot_id, std::string_view scope);

}  // namespace switchboard::analytics::events
