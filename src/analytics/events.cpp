#include "switchboard/analytics/events.hpp"

namespace switchboard::analytics::events {
namespace {

Event make(std::string_view name, std::string_view index, std::initializer_list<std::string_view> blobs,
           std::initializer_list<double> doubles = {}) {
  Event e;
  e.index = std::string(index.empty() ? kAnonymous : index);
  e.blobs.emplace_back(name);
  for (const auto b : blobs) e.blobs.emplace_back(b);
  e.doubles.assign(doubles.begin(), doubles.end());
  return e;
}

std::string_view kind(bool guest) {
  return guest ? "guest" : "account";
}

}  // namespace

Event login_success(const std::string& user_id, bool guest) {
  return make("login_success", user_id, {kind(guest)});
}

Event login_failed(std::string_view reason) {
  return make("login_failed", kAnonymous, {reason});
}

Event logout(const std::string& user_id, bool guest, double session_seconds) {
  return make("logout", user_id, {kind(guest)}, {session_seconds});
}

Event session_expired(const std::string& user_id, bool guest, double session_seconds) {
  return make("session_expired", user_id, {kind(guest)}, {session_seconds});
}

Event ws_open(const std::string& user_id, std::string_view socket, std::string_view room_type,
              std::string_view group_room_id) {
  return make("ws_open", user_id, {socket, room_type, group_room_id});
}

Event ws_close(const std::string& user_id, std::string_view socket, std::string_view room_type,
               std::string_view group_room_id, std::uint16_t code, double duration_seconds) {
  return make("ws_close", user_id, {socket, room_type, group_room_id},
              {static_cast<double>(code), duration_seconds});
}

Event message_sent(const std::string& user_id, std::string_view room_type, std::string_view group_room_id,
                   std::string_view via, std::size_t code_points, std::size_t bytes) {
  return make("message_sent", user_id, {room_type, group_room_id, via},
              {static_cast<double>(code_points), static_cast<double>(bytes)});
}

Event nudge(const std::string& user_id, std::string_view room_type, std::string_view group_room_id) {
  return make("nudge", user_id, {room_type, group_room_id});
}

Event wink(const std::string& user_id, std::string_view room_type, std::string_view group_room_id,
           std::string_view wink_id) {
  return make("wink", user_id, {room_type, group_room_id, wink_id});
}

Event rate_limited(std::string_view user_id, std::string_view scope, std::string_view room_type,
                   std::int64_t retry_after_ms) {
  return make("rate_limited", user_id, {scope, room_type}, {static_cast<double>(retry_after_ms)});
}

Event turnstile_failed(std::string_view outcome, std::string_view reason) {
  return make("turnstile_failed", kAnonymous, {outcome, reason});
}

Event ai_invocation(const std::string& user_id, std::string_view bot_id, std::string_view provider,
                    std::string_view outcome, std::string_view error_kind, double latency_ms, double tokens,
                    std::size_t reply_bytes) {
  return make("ai_invocation", user_id, {bot_id, provider, outcome, error_kind},
              {latency_ms, tokens, static_cast<double>(reply_bytes)});
}

Event ai_quota_exceeded(const std::string& user_id, std::string_view bot_id, std::string_view scope) {
  return make("ai_quota_exceeded", user_id, {bot_id, scope});
}

}  // namespace switchboard::analytics::events
