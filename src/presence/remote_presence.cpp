#include "switchboard/presence/remote_presence.hpp"

#include <algorithm>

namespace switchboard::presence {

void RemotePresence::index(const std::string& user_id, const std::string& instance, bool present) {
  if (present) {
    by_user_[user_id].insert(instance);
    return;
  }
  const auto it = by_user_.find(user_id);
  if (it == by_user_.end()) return;
  it->second.erase(instance);
  if (it->second.empty()) by_user_.erase(it);
}

bool RemotePresence::apply(const PresenceSnapshot& s) {
  auto& inst = instances_[s.instance];
  if (s.seq <= inst.seq) return false;
  inst.seq = s.seq;
  if (s.connected) {
    inst.users[s.user_id] = s;
    index(s.user_id, s.instance, true);
  } else if (inst.users.erase(s.user_id)) {
    index(s.user_id, s.instance, false);
  }
  return true;
}

std::vector<std::string> RemotePresence::replace(const std::string& instance, std::uint64_t version,
                                                 const std::vector<PresenceSnapshot>& users) {
  auto& inst = instances_[instance];
  if (version < inst.seq) return {};
  inst.seq = version;
  std::unordered_map<std::string, PresenceSnapshot> next;
  for (const auto& s : users)
    if (s.connected && s.instance == instance) next[s.user_id] = s;
  std::vector<std::string> changed;
  for (const auto& [user_id, old] : inst.users) {
    const auto it = next.find(user_id);
    if (it == next.end()) {
      index(user_id, instance, false);
      changed.push_back(user_id);
    } else if (it->second.seq != old.seq) {
      changed.push_back(user_id);
    }
  }
  for (const auto& [user_id, s] : next) {
    if (!inst.users.count(user_id)) {
      index(user_id, instance, true);
      changed.push_back(user_id);
    }
  }
  inst.users = std::move(next);
  return changed;
}

std::vector<std::string> RemotePresence::drop(const std::string& instance) {
  const auto it = instances_.find(instance);
  if (it == instances_.end()) return {};
  std::vector<std::string> users;
  for (const auto& [user_id, s] : it->second.users) {
    index(user_id, instance, false);
    users.push_back(user_id);
  }
  instances_.erase(it);
  return users;
}

std::vector<std::string> RemotePresence::keep_only(const std::vector<std::string>& live) {
  std::vector<std::string> dead;
  for (const auto& [id, inst] : instances_)
    if (std::find(live.begin(), live.end(), id) == live.end()) dead.push_back(id);
  std::vector<std::string> users;
  for (const auto& id : dead) {
    auto dropped = drop(id);
    users.insert(users.end(), dropped.begin(), dropped.end());
  }
  return users;
}

std::vector<std::string> RemotePresence::drop_all() {
  std::vector<std::string> users;
  users.reserve(by_user_.size());
  for (const auto& [user_id, where] : by_user_) users.push_back(user_id);
  instances_.clear();
  by_user_.clear();
  return users;
}

RemotePresence::View RemotePresence::view(const std::string& user_id) const {
  View v;
  const auto it = by_user_.find(user_id);
  if (it == by_user_.end()) return v;
  v.connected = true;
  bool all_away = true;
  for (const auto& instance : it->second) {
    const auto* s = find(instance, user_id);
    if (!s || !s->has_sockets) continue;
    ++v.socket_instances;
    all_away = all_away && s->auto_away;
  }
  v.all_away = v.socket_instances > 0 && all_away;
  return v;
}

const PresenceSnapshot* RemotePresence::find(const std::string& instance, const std::string& user_id) const {
  const auto inst = instances_.find(instance);
  if (inst == instances_.end()) return nullptr;
  const auto it = inst->second.users.find(user_id);
  return it == inst->second.users.end() ? nullptr : &it->second;
}

std::size_t RemotePresence::entry_count() const {
  std::size_t n = 0;
  for (const auto& [id, inst] : instances_) n += inst.users.size();
  return n;
}

MergedPresence merge(const LocalPresence& local, const RemotePresence::View& remote) {
  MergedPresence m;
  m.connected_elsewhere = remote.connected;
  const int socket_places = (local.has_sockets ? 1 : 0) + remote.socket_instances;
  m.auto_away = socket_places > 0 && (!local.has_sockets || local.away) &&
                (remote.socket_instances == 0 || remote.all_away);
  return m;
}

}  // namespace switchboard::presence
