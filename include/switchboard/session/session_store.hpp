#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

namespace switchboard::session {

// What a session stores. Guests live only as long as their session, so their profile travels with it.
struct SessionRecord {
  std::string user_id;
  std::int64_t created_at = 0;  // ms since epoch
  std::int64_t expires_at = 0;  // ms since epoch
  bool is_guest = false;
  std::string guest_display_name;  // guests only
  std::string guest_avatar_id;     // guests only
};

// Where sessions live: in process by default, Redis when configured. Keys are the hex SHA-256 of the session
// id
// (`token_hash`), never the id itself, so a dump of the store hands out no live token.
//
// Thread-safety: all methods may be called from any thread; handlers may run on any thread, possibly inline.
// Errors: a store that cannot answer (Redis down) reports an error code; a missing or expired session is not
// an error but an empty optional.
class SessionStore {
 public:
  using Done = std::function<void(std::error_code)>;
  using LookupDone = std::function<void(std::error_code, std::optional<SessionRecord>)>;

  virtual ~SessionStore() = default;

  // Stores `record` under `token_hash` for `ttl`, and records it as the user's latest session.
  virtual void create(const std::string& token_hash, const SessionRecord& record, std::chrono::seconds ttl,
                      Done done) = 0;
  // Returns the live record, or nullopt when it is missing or expired.
  virtual void lookup(const std::string& token_hash, LookupDone done) = 0;
  // Extends a live session to `ttl` from now and returns the updated record (nullopt when it is gone).
  virtual void touch(const std::string& token_hash, std::chrono::seconds ttl, LookupDone done) = 0;
  // Deletes the session (and the user's pointer to it). Deleting a missing session succeeds.
  virtual void remove(const std::string& token_hash, Done done) = 0;
};

}  // namespace switchboard::session
