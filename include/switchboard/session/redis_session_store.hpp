#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/redis/redis_client.hpp"
#include "switchboard/session/session_store.hpp"

namespace switchboard::session {

// A session logged out on some instance, as announced on redis::keys::kSessionEndedChannel.
struct SessionEnded {
  std::string token_hash;
  std::string user_id;
  std::string origin;  // instance id of the publisher
  bool from_this_instance = false;
};

// Sessions in Redis, shared by every instance (PROTOCOL §4):
//   session:<token_hash>      JSON of the SessionRecord, `SET ... EX <ttl>`, slid with `GETEX ... EX <ttl>`
//   user_session:<userId>     the user's latest token hash, same TTL, slid with it while it names this
//   session
// create() writes both keys atomically (one Lua script); remove() deletes the session and the user's pointer
// only while it still names this session, and announces the logout on `switchboard:session_ended`, all in one
// script, so every instance can close that session's sockets with 4401. lookup() derives expires_at from the
// key's PTTL, so it stays right however often the session was slid.
//
// Errors: when Redis cannot answer, handlers get a redis::RedisErrc code (redis::is_unavailable() is true:
// the API answers 503 UNAVAILABLE). A missing, expired or unreadable record is not an error but nullopt.
// Thread-safety: all methods may be called from any thread; handlers run on an io_context thread, never
// inline.
class RedisSessionStore final : public SessionStore {
 public:
  using EndedHandler = std::function<void(const SessionEnded&)>;

  // `instance_id` names this process in announcements (default: random), so it can tell its own from others'.
  explicit RedisSessionStore(std::shared_ptr<redis::RedisClient> client, std::string instance_id = {});

  void create(const std::string& token_hash, const SessionRecord& record, std::chrono::seconds ttl,
              Done done) override;
  void lookup(const std::string& token_hash, LookupDone done) override;
  void touch(const std::string& token_hash, std::chrono::seconds ttl, LookupDone done) override;
  void remove(const std::string& token_hash, Done done) override;

  // Calls `handler` for every logout announced by any instance (this one included: check from_this_instance).
  // The subscription survives Redis reconnects; announcements made while this instance was disconnected are
  // lost, so keep the periodic SessionService::sweep() as the safety net. `handler` runs on the Redis
  // client's strand: keep it short (post to your own). Returns an id for unsubscribe_ended().
  redis::RedisClient::SubscriptionId subscribe_ended(EndedHandler handler,
                                                     redis::RedisClient::AckHandler on_ack = {});
  void unsubscribe_ended(redis::RedisClient::SubscriptionId id);

  const std::string& instance_id() const { return instance_id_; }
  const std::shared_ptr<redis::RedisClient>& client() const { return client_; }

  // The stored JSON: {"userId","createdAt","expiresAt","isGuest"[,"guestDisplayName","guestAvatarId"]}.
  static std::string encode_record(const SessionRecord& record);
  static std::optional<SessionRecord> decode_record(std::string_view json);
  static std::string encode_ended(const SessionEnded& ended);
  static std::optional<SessionEnded> decode_ended(std::string_view json);

 private:
  std::shared_ptr<redis::RedisClient> client_;
  std::string instance_id_;
};

}  // namespace switchboard::session
