#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchboard/net/client_connection.hpp"
#include "switchboard/session/session_store.hpp"

namespace switchboard::session {

// The close code for sockets whose session ended (PROTOCOL §4).
inline constexpr std::uint16_t kSessionExpiredCloseCode = 4401;

// An authenticated caller: the session record plus the hash that names it in the store.
struct Identity {
  std::string token_hash;
  SessionRecord record;
  const std::string& user_id() const { return record.user_id; }
};

// Session life on top of a SessionStore: issuing tokens, authenticating them, sliding expiry, logout, and
// closing the sockets of sessions that ended (PROTOCOL §4).
//
// Thread-safety: every method may be called from any thread. Handlers run on whatever thread the store
// completes on (inline for the memory store); callers post them to their own strand.
class SessionService final {
 public:
  struct Options {
    std::chrono::seconds ttl{1200};
    std::chrono::seconds touch_interval{60};  // store writes for sliding expiry happen at most this often
  };
  using IdentityDone = std::function<void(std::error_code, std::optional<Identity>)>;
  using LoginDone = std::function<void(std::error_code, std::string session_id, Identity)>;
  // Called when a session is found to have ended (logout or expiry), once per session.
  using EndedHook = std::function<void(const Identity&, bool logged_out)>;
  // Called the first time this process sees a live session it did not create here (one made on another
  // instance sharing the store), so the caller can restore what lives beside it: a guest's profile and name.
  using AdoptHook = std::function<void(const Identity&)>;

  SessionService(std::shared_ptr<SessionStore> store, Options options);

  void set_ended_hook(EndedHook hook) { ended_hook_ = std::move(hook); }
  void set_adopt_hook(AdoptHook hook) { adopt_hook_ = std::move(hook); }
  const Options& options() const { return options_; }

  // Creates a session for `record` (created_at/expires_at are filled in) with a fresh CSPRNG session id.
  void login(SessionRecord record, LoginDone done);

  // Resolves a session id; extends it when a store write is due (sliding expiry).
  void authenticate(const std::string& session_id, IdentityDone done);

  // Extends the session now (POST /api/auth/refresh).
  void refresh(const std::string& session_id, IdentityDone done);

  // Deletes the session and closes its sockets with 4401. Succeeds for unknown sessions too.
  void logout(const std::string& session_id, SessionStore::Done done);

  // Another instance announced that this session was logged out: close its sockets here with 4401.
  void end_announced(const std::string& token_hash) { end_session(token_hash, /*logged_out=*/true); }

  // Socket activity (a WebSocket frame): slides the session, at most one store write per touch_interval.
  void note_activity(const std::string& token_hash);

  // Sockets opened under a session, so they can be closed when it ends.
  void attach_socket(const std::string& token_hash, const std::shared_ptr<net::ClientConnection>& conn);
  void detach_socket(const std::string& token_hash, std::uint64_t connection_id);

  // Guest names are unique among live sessions: reserve the lower-cased name for the session, or fail.
  // A reservation whose session has expired is taken over. Handler: true when reserved.
  void reserve_guest_name(const std::string& lower_name, std::function<void(std::error_code, bool)> done);
  // `record` is needed only for sessions this service did not create (restored at start-up).
  void bind_guest_name(const std::string& lower_name, const std::string& token_hash,
                       const SessionRecord* record = nullptr);
  void release_guest_name(const std::string& lower_name);

  // Checks every session that has sockets or a guest name and ends those the store no longer has. Run it
  // periodically (session.sweep_interval_seconds) so expired sessions' sockets close in time.
  void sweep();

  std::size_t tracked_sessions() const;

  static std::string hash_token(const std::string& session_id);

 private:
  struct Tracked {
    std::vector<std::weak_ptr<net::ClientConnection>> sockets;
    std::chrono::steady_clock::time_point last_touch{};
    std::string guest_name;  // lower-cased, when this is a guest session
    SessionRecord record;
  };
  void end_session(const std::string& token_hash, bool logged_out);
  bool touch_due(const std::string& token_hash);
  // Records the session's latest record; true when this process had not seen it before.
  bool remember(const std::string& token_hash, const SessionRecord& record);

  std::shared_ptr<SessionStore> store_;
  Options options_;
  EndedHook ended_hook_;
  AdoptHook adopt_hook_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Tracked> tracked_;  // token hash -> local state
  std::unordered_map<std::string, std::string>
      guest_names_;  // lower-cased guest name -> token hash ("" = pending)
};

}  // namespace switchboard::session
