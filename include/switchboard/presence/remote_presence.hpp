#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchboard/presence/presence_bus.hpp"

namespace switchboard::presence {

// Other instances' presence as this instance last heard it: per instance, the users connected there. Pure
// data (no I/O, no locking): the PresenceRoom keeps one on its strand. Only connected users are held, so it
// is bounded by the users online elsewhere (plus one small record per live instance).
class RemotePresence {
 public:
  // A user's presence on the other instances.
  struct View {
    bool connected = false;    // connected to at least one other instance
    int socket_instances = 0;  // other instances holding presence sockets of the user
    bool all_away = false;     // each of those says auto-away (false when there are none)
  };

  // One user's snapshot from its instance. False (ignored) when that instance already published something
  // newer (a higher seq). A snapshot that is not `connected` removes the user from that instance.
  bool apply(const PresenceSnapshot& s);
  // Replaces everything known of `instance` by `users` as of `version` (a republication or a sync read):
  // users it no longer lists are dropped. Ignored (returns nothing) when newer publications of that instance
  // were applied already. Returns the users whose entry changed.
  std::vector<std::string> replace(const std::string& instance, std::uint64_t version,
                                   const std::vector<PresenceSnapshot>& users);
  // Forgets an instance (dead or gone); returns the users it held.
  std::vector<std::string> drop(const std::string& instance);
  // Forgets every instance not in `live`; returns the users they held.
  std::vector<std::string> keep_only(const std::vector<std::string>& live);
  // Forgets everything (Redis unreachable too long); returns the users held.
  std::vector<std::string> drop_all();

  View view(const std::string& user_id) const;
  // The snapshot `instance` holds of `user_id`, or null.
  const PresenceSnapshot* find(const std::string& instance, const std::string& user_id) const;
  std::size_t instance_count() const { return instances_.size(); }
  std::size_t entry_count() const;

 private:
  struct Instance {
    std::uint64_t seq = 0;  // the highest seq (or version) applied from it
    std::unordered_map<std::string, PresenceSnapshot> users;
  };
  void index(const std::string& user_id, const std::string& instance, bool present);

  std::unordered_map<std::string, Instance> instances_;
  std::unordered_map<std::string, std::unordered_set<std::string>> by_user_;  // user -> instances holding it
};

// This instance's own part of a user's presence.
struct LocalPresence {
  bool connected = false;    // signed in or holding presence sockets here
  bool has_sockets = false;  // holding presence sockets here
  bool away = false;         // this instance's idle timer says away
};

// What every instance shows: reachable when connected anywhere; auto-away only when every instance that
// holds presence sockets of the user says so (activity on any of them counts).
struct MergedPresence {
  bool connected_elsewhere = false;
  bool auto_away = false;
};
MergedPresence merge(const LocalPresence& local, const RemotePresence::View& remote);

}  // namespace switchboard::presence
