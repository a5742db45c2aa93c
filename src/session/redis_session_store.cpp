#include "switchboard/session/redis_session_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "switchboard/redis/redis_keys.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::session {
namespace {

using nlohmann::json;
using redis::RedisErrc;
using redis::RedisReply;

// KEYS: session:<hash>, user_session:<userId>. ARGV: record JSON, hash, ttl seconds.
const redis::RedisScript& create_script() {
  static const redis::RedisScript script(R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
)lua");
  return script;
}

// KEYS: session:<hash>. Returns nil, or {record JSON, PTTL in ms}.
const redis::RedisScript& lookup_script() {
  static const redis::RedisScript script(R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
)lua");
  return script;
}

// KEYS: user_session:<userId>. ARGV: hash, ttl seconds. Slides the pointer only while it names this session.
const redis::RedisScript& slide_pointer_script() {
  static const redis::RedisScript script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return script;
}

// KEYS: session:<hash>, user_session:<userId>. ARGV: hash, channel, announcement. Returns 1 when the session
// existed (and was announced), 0 otherwise.
const redis::RedisScript& remove_script() {
  static const redis::RedisScript script(R"lua(
local removed = redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if removed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return removed
)lua");
  return script;
}

constexpr util::AreaLogger log{"session"};

std::string ttl_arg(std::chrono::seconds ttl) {
  return std::to_string(std::max<std::int64_t>(1, ttl.count()));
}

std::int64_t ttl_ms(std::chrono::seconds ttl) {
  return std::max<std::int64_t>(1, ttl.count()) * 1000;
}

}  // namespace

RedisSessionStore::RedisSessionStore(std::shared_ptr<redis::RedisClient> client, std::string instance_id)
    : client_(std::move(client)),
      instance_id_(instance_id.empty() ? util::random_token(9) : std::move(instance_id)) {}

std::string RedisSessionStore::encode_record(const SessionRecord& r) {
  json j = {{"userId", r.user_id},
            {"createdAt", r.created_at},
            {"expiresAt", r.expires_at},
            {"isGuest", r.is_guest}};
  if (r.is_guest) {
    j["guestDisplayName"] = r.guest_display_name;
    j["guestAvatarId"] = r.guest_avatar_id;
  }
  return util::json_text(j);
}

std::optional<SessionRecord> RedisSessionStore::decode_record(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto user = j.find("userId");
  if (user == j.end() || !user->is_string() || user->get_ref<const std::string&>().empty())
    return std::nullopt;
  SessionRecord r;
  r.user_id = user->get<std::string>();
  const auto number = [&j](const char* key) -> std::int64_t {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  const auto text_of = [&j](const char* key) -> std::string {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.created_at = number("createdAt");
  r.expires_at = number("expiresAt");
  const auto guest = j.find("isGuest");
  r.is_guest = guest != j.end() && guest->is_boolean() && guest->get<bool>();
  r.guest_display_name = text_of("guestDisplayName");
  r.guest_avatar_id = text_of("guestAvatarId");
  return r;
}

std::string RedisSessionStore::encode_ended(const SessionEnded& e) {
  return util::json_text(json{{"tokenHash", e.token_hash}, {"userId", e.user_id}, {"origin", e.origin}});
}

std::optional<SessionEnded> RedisSessionStore::decode_ended(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto hash = j.find("tokenHash");
  if (hash == j.end() || !hash->is_string() || hash->get_ref<const std::string&>().empty())
    return std::nullopt;
  SessionEnded e;
  e.token_hash = hash->get<std::string>();
  if (const auto u = j.find("userId"); u != j.end() && u->is_string()) e.user_id = u->get<std::string>();
  if (const auto o = j.find("origin"); o != j.end() && o->is_string()) e.origin = o->get<std::string>();
  return e;
}

void RedisSessionStore::create(const std::string& token_hash, const SessionRecord& record,
                               std::chrono::seconds ttl, Done done) {
  client_->eval(create_script(),
                {redis::keys::session(token_hash), redis::keys::user_session(record.user_id)},
                {encode_record(record), token_hash, ttl_arg(ttl)},
                [done = std::move(done)](std::error_code ec, RedisReply) { done(ec); });
}

void RedisSessionStore::lookup(const std::string& token_hash, LookupDone done) {
  client_->eval(lookup_script(), {redis::keys::session(token_hash)}, {},
                [done = std::move(done)](std::error_code ec, RedisReply reply) {
                  if (ec) return done(ec, std::nullopt);
                  if (reply.is_nil()) return done({}, std::nullopt);
                  if (!reply.is_array() || reply.elements.size() != 2 || !reply.elements[0].is_text())
                    return done(RedisErrc::kUnexpectedReply, std::nullopt);
                  auto record = decode_record(reply.elements[0].str);
                  if (!record) {
                    log()->warn("unreadable session record in Redis; treating it as expired");
                    return done({}, std::nullopt);
                  }
                  // PTTL: -2 gone (expired between the two calls cannot happen in a script), -1 no TTL.
                  const auto pttl = reply.elements[1].as_integer().value_or(-1);
                  if (pttl > 0) record->expires_at = util::now_ms() + pttl;
                  done({}, std::move(record));
                });
}

void RedisSessionStore::touch(const std::string& token_hash, std::chrono::seconds ttl, LookupDone done) {
  // GETEX (Redis >= 6.2) reads and slides in one step; the user's pointer follows without delaying the
  // answer.
  client_->command(
      {"GETEX", redis::keys::session(token_hash), "EX", ttl_arg(ttl)},
      [client = client_, token_hash, ttl, done = std::move(done)](std::error_code ec, RedisReply reply) {
        if (ec) return done(ec, std::nullopt);
        if (reply.is_nil()) return done({}, std::nullopt);
        if (!reply.is_text()) return done(RedisErrc::kUnexpectedReply, std::nullopt);
        auto record = decode_record(reply.str);
        if (!record) {
          log()->warn("unreadable session record in Redis; treating it as expired");
          return done({}, std::nullopt);
        }
        record->expires_at = util::now_ms() + ttl_ms(ttl);
        client->eval(slide_pointer_script(), {redis::keys::user_session(record->user_id)},
                     {token_hash, ttl_arg(ttl)}, [](std::error_code pointer_ec, RedisReply) {
                       if (pointer_ec) log()->debug("sliding user_session failed: {}", pointer_ec.message());
                     });
        done({}, std::move(record));
      });
}

void RedisSessionStore::remove(const std::string& token_hash, Done done) {
  // The user id (for user_session:<userId>) is inside the record, so read it first; the deletion itself is
  // one script, so the pointer is never removed when a newer session has replaced it meanwhile.
  client_->command({"GET", redis::keys::session(token_hash)}, [client = client_, origin = instance_id_,
                                                               token_hash, done = std::move(done)](
                                                                  std::error_code ec, RedisReply reply) {
    if (ec) return done(ec);
    if (reply.is_nil()) return done({});  // already gone: removing is idempotent
    const auto record = reply.is_text() ? decode_record(reply.str) : std::nullopt;
    const std::string user_id = record ? record->user_id : std::string();
    const std::string announcement = encode_ended(SessionEnded{token_hash, user_id, origin, false});
    // An unreadable record has no user to point at; the pointer key then names no user and never matches.
    client->eval(remove_script(), {redis::keys::session(token_hash), redis::keys::user_session(user_id)},
                 {token_hash, std::string(redis::keys::kSessionEndedChannel), announcement},
                 [done](std::error_code remove_ec, RedisReply) { done(remove_ec); });
  });
}

redis::RedisClient::SubscriptionId RedisSessionStore::subscribe_ended(EndedHandler handler,
                                                                      redis::RedisClient::AckHandler on_ack) {
  return client_->subscribe(
      std::string(redis::keys::kSessionEndedChannel),
      [handler = std::move(handler), self_id = instance_id_](const redis::PubSubMessage& message) {
        auto ended = decode_ended(message.payload);
        if (!ended) {
          log()->warn("ignoring a malformed announcement on {}", message.channel);
          return;
        }
        ended->from_this_instance = ended->origin == self_id;
        handler(*ended);
      },
      std::move(on_ack));
}

void RedisSessionStore::unsubscribe_ended(redis::RedisClient::SubscriptionId id) {
  client_->unsubscribe(id);
}

}  // namespace switchboard::session
