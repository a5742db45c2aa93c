#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchboard/auth/user_directory.hpp"

namespace switchboard::presence {

enum class Status : std::uint8_t { kOnline, kBusy, kAway, kOffline };

const char* to_string(Status s);
std::optional<Status> parse_status(std::string_view s);

// The live, changeable face of a user: display name, chosen status, personal message, and whether anyone can
// currently reach them. Seeded humans and bots are registered at start; guests come and go with their
// sessions.
struct Profile {
  std::string user_id;
  std::string email;
  std::string display_name;
  std::string avatar_id;
  std::string personal_message;
  Status chosen_status = Status::kOnline;  // what the user picked; kOffline means "appear offline"
  bool auto_away = false;                  // away was set by the idle timer, not by the user
  bool is_guest = false;
  bool is_bot = false;
  bool connected = false;  // here: has a presence socket, or set a status over REST during a live session
  // Several instances sharing Redis (the PresenceRoom keeps these): connected to another instance, and a
  // guest known here only from another instance's presence (no session or socket here).
  bool connected_elsewhere = false;
  bool remote_only = false;

  // Connected to this instance or another one.
  bool reachable() const { return connected || connected_elsewhere; }
  // What other users see.
  Status visible_status() const;
};

// Thread-safe registry of profiles (one mutex; every operation is short). Shared by the presence actor, the
// chat rooms and the HTTP handlers, so they all agree on names and statuses.
class UserProfiles final {
 public:
  enum class NameCheck { kOk, kInvalid, kTaken };

  // `bots_online` decides how bots appear: online when AI replies are available, offline with
  // `bots_offline_note` as their personal message otherwise.
  UserProfiles(const auth::UserDirectory& directory, std::size_t max_display_name, bool bots_online,
               std::string bots_offline_note);

  std::optional<Profile> get(const std::string& user_id) const;
  bool exists(const std::string& user_id) const;

  void add_guest(const std::string& user_id, const std::string& display_name, const std::string& email,
                 const std::string& avatar_id);
  void remove_guest(const std::string& user_id);
  // A guest signed in on another instance: creates their profile (remote_only) unless one exists. True when
  // created.
  bool add_remote_guest(const std::string& user_id, const std::string& display_name, const std::string& email,
                        const std::string& avatar_id);
  // Removes a guest created by add_remote_guest that nothing here holds (not connected here). True when
  // removed.
  bool remove_remote_guest(const std::string& user_id);

  // Whether `user_id` may take `name` as display name (not blank, not too long, nobody else's id or name).
  NameCheck check_display_name(const std::string& user_id, const std::string& name) const;
  // True when a guest user name clashes with any user's id or display name (case-insensitive).
  bool guest_name_taken(const std::string& name) const;

  // Updates; each returns the profile after the change, or nullopt for an unknown user. `set_display_name`
  // re-checks the name under the lock and returns nullopt when it is taken.
  std::optional<Profile> set_display_name(const std::string& user_id, const std::string& name);
  std::optional<Profile> set_status(const std::string& user_id, Status status);
  std::optional<Profile> set_personal_message(const std::string& user_id, const std::string& message);
  // Connected here. Connecting also ends `remote_only`: a session or socket here holds the guest now.
  std::optional<Profile> set_connected(const std::string& user_id, bool connected);
  std::optional<Profile> set_auto_away(const std::string& user_id, bool away);
  // What the other instances add (see PresenceRoom): connected elsewhere, and the merged auto-away.
  std::optional<Profile> set_merged(const std::string& user_id, bool connected_elsewhere, bool auto_away);

  // Seeded humans then guests (in sign-in order), for /api/users and presence full syncs.
  std::vector<Profile> humans() const;
  // Bots in directory order, listed ones only unless `include_unlisted`.
  std::vector<Profile> bots(bool include_unlisted) const;

 private:
  bool name_taken_locked(const std::string& user_id, const std::string& name) const;

  const auth::UserDirectory& directory_;
  std::size_t max_display_name_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Profile> profiles_;
  std::vector<std::string> order_;  // humans: seeded first, then guests
  std::vector<std::string> bot_order_;
};

}  // namespace switchboard::presence
