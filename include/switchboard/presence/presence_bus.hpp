#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/presence/user_profiles.hpp"

namespace switchboard::presence {

// What one instance knows of one of its users: everything another instance needs to merge that user's global
// presence (issue 3: a user is online while connected to any instance) and to show the same name, status and
// personal message. Each snapshot is complete, so the latest one from an instance replaces the previous one.
struct PresenceSnapshot {
  // Why it was published; receivers mirror the local frames: a join shows as presence_join, a sign-in
  // announces nothing (as locally), a leave may end a sign-in without sockets elsewhere (the user's last
  // presence socket there closed).
  enum class Event : std::uint8_t { kState, kJoin, kLeave, kUpdate, kSignIn };

  std::string instance;   // the instance it describes (the publisher)
  std::uint64_t seq = 0;  // the publisher's counter: a higher seq supersedes a lower one
  std::string user_id;
  Event event = Event::kState;
  bool connected = false;    // signed in or holding presence sockets on that instance
  bool has_sockets = false;  // holding presence sockets there (only those count for auto-away)
  bool auto_away = false;    // that instance's idle timer says away
  std::string display_name;
  Status status = Status::kOnline;  // chosen status
  std::string personal_message;
  // Wall clock (ms) of the latest name/status/message change the publisher knows of, and the instance that
  // made it: the newest change wins everywhere. 0: never changed since start.
  std::int64_t fields_at = 0;
  std::string fields_by;
  // Guests exist only where they signed in: another instance creates their profile from these.
  bool is_guest = false;
  std::string email;
  std::string avatar_id;
};

const char* to_string(PresenceSnapshot::Event e);

// One publication on the presence channel (redis::keys::kPresenceChannel) or an instance's own sync channel.
struct PresencePublication {
  enum class Kind : std::uint8_t {
    kUser,  // one user's snapshot
    kAll,   // an instance's whole state (it republished: started, or Redis lost its state)
    kBye,   // an instance shut down cleanly
    kSync,  // the answer to a heartbeat: the live instances, and with `full` their whole state
  };
  struct InstanceState {
    std::string instance;
    std::uint64_t version = 0;  // the instance's seq when this state was read
    std::vector<PresenceSnapshot> users;
  };
  Kind kind = Kind::kUser;
  PresenceSnapshot user;              // kUser
  InstanceState state;                // kAll
  std::string instance;               // kBye (and the publisher of kUser / kAll)
  std::vector<std::string> live;      // kSync: other instances with a live heartbeat
  bool full = false;                  // kSync: `states` holds every live instance's state
  std::uint64_t request = 0;          // kSync with full: the resync request it answers
  std::vector<InstanceState> states;  // kSync with full
};

// The JSON of one snapshot (also what the Redis hash presence:instance:<id> stores per user).
std::string encode_snapshot(const PresenceSnapshot& s);
std::optional<PresenceSnapshot> decode_snapshot(std::string_view json);
std::string encode_user(const PresenceSnapshot& s);
std::string encode_all(const std::string& instance, std::uint64_t version,
                       const std::vector<PresenceSnapshot>& users);
std::string encode_bye(const std::string& instance);
// Any of the above, or the sync answer built by the heartbeat script. nullopt for anything malformed (wrong
// JSON, missing or mistyped fields, unknown status or event).
std::optional<PresencePublication> decode_publication(std::string_view payload);

// Presence shared by the instances behind one load balancer (DESIGN §1): each instance publishes its users'
// snapshots and hears the others'. Present only when instances share Redis; without it presence is local.
//
// Thread-safety: every method may be called from any thread. Handlers run on the bus's threads, in the
// order the publications were made; receivers post them to their own strand and keep them short.
class PresenceBus {
 public:
  struct Handlers {
    std::function<void(PresenceSnapshot)> on_user;  // one user's change on another instance
    // Everything `instance` holds now (users it does not list are not connected there), as of `version`.
    std::function<void(std::string instance, std::uint64_t version, std::vector<PresenceSnapshot> users)>
        on_instance;
    // The other instances alive now: forget every other one (crashed, or shut down).
    std::function<void(std::vector<std::string> live)> on_live;
    // Another instance shut down cleanly.
    std::function<void(std::string instance)> on_gone;
    // The shared state lost this instance's users (Redis restarted, or we were unreachable past the TTL):
    // call publish_all() with every user connected here.
    std::function<void()> on_republish;
    // Redis has been unreachable past the TTL: what other instances said can no longer be trusted; fall back
    // to local presence until their state comes again (on_instance / on_user).
    std::function<void()> on_lost;
  };

  virtual ~PresenceBus() = default;

  virtual void start(Handlers handlers) = 0;
  // Tells the others this instance is gone and stops publishing. Idempotent.
  virtual void stop() = 0;
  // Publishes one user's state on this instance (`instance` and `seq` are filled in). A snapshot that is not
  // `connected` removes the user from this instance's shared state.
  virtual void publish(PresenceSnapshot snapshot) = 0;
  // Replaces this instance's whole shared state with `users` (the connected ones).
  virtual void publish_all(std::vector<PresenceSnapshot> users) = 0;
  virtual const std::string& instance_id() const = 0;
};

}  // namespace switchboard::presence
