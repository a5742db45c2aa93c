#include "switchboard/presence/user_profiles.hpp"

#include <algorithm>

#include "switchboard/util/utf8.hpp"

namespace switchboard::presence {

const char* to_string(Status s) {
  switch (s) {
    case Status::kOnline:
      return "online";
    case Status::kBusy:
      return "busy";
    case Status::kAway:
      return "away";
    case Status::kOffline:
      return "offline";
  }
  return "offline";
}

std::optional<Status> parse_status(std::string_view s) {
  if (s == "online") return Status::kOnline;
  if (s == "busy") return Status::kBusy;
  if (s == "away") return Status::kAway;
  if (s == "offline") return Status::kOffline;
  return std::nullopt;
}

Status Profile::visible_status() const {
  if (!reachable()) return Status::kOffline;
  if (auto_away && (chosen_status == Status::kOnline || chosen_status == Status::kBusy)) return Status::kAway;
  return chosen_status;
}

UserProfiles::UserProfiles(const auth::UserDirectory& directory, std::size_t max_display_name,
                           bool bots_online, std::string bots_offline_note)
    : directory_(directory), max_display_name_(max_display_name) {
  for (const auto& a : directory.humans()) {
    Profile p{a.id, a.email, a.display_name, a.avatar_id, a.personal_message};
    p.connected = false;
    profiles_.emplace(a.id, std::move(p));
    order_.push_back(a.id);
  }
  for (const auto& b : directory.bots()) {
    Profile p{b.account.id, b.account.email, b.account.display_name, b.account.avatar_id,
              bots_online ? b.account.personal_message : bots_offline_note};
    p.is_bot = true;
    p.connected = bots_online;
    p.chosen_status = bots_online ? Status::kOnline : Status::kOffline;
    profiles_.emplace(b.account.id, std::move(p));
    bot_order_.push_back(b.account.id);
  }
}

std::optional<Profile> UserProfiles::get(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  return it->second;
}

bool UserProfiles::exists(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  return profiles_.count(user_id) > 0;
}

void UserProfiles::add_guest(const std::string& user_id, const std::string& display_name,
                             const std::string& email, const std::string& avatar_id) {
  std::lock_guard lock(mutex_);
  Profile p{user_id, email, display_name, avatar_id, ""};
  p.is_guest = true;
  auto [it, inserted] = profiles_.insert_or_assign(user_id, std::move(p));
  if (inserted) order_.push_back(user_id);
}

void UserProfiles::remove_guest(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end() || !it->second.is_guest) return;
  profiles_.erase(it);
  std::erase(order_, user_id);
}

bool UserProfiles::add_remote_guest(const std::string& user_id, const std::string& display_name,
                                    const std::string& email, const std::string& avatar_id) {
  std::lock_guard lock(mutex_);
  if (profiles_.count(user_id)) return false;
  Profile p{user_id, email, display_name, avatar_id, ""};
  p.is_guest = true;
  p.remote_only = true;
  profiles_.emplace(user_id, std::move(p));
  order_.push_back(user_id);
  return true;
}

bool UserProfiles::remove_remote_guest(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end() || !it->second.is_guest || !it->second.remote_only || it->second.connected)
    return false;
  profiles_.erase(it);
  std::erase(order_, user_id);
  return true;
}

bool UserProfiles::name_taken_locked(const std::string& user_id, const std::string& name) const {
  for (const auto& [id, p] : profiles_) {
    if (id == user_id) continue;
    if (util::iequals(id, name) || util::iequals(p.display_name, name)) return true;
  }
  // Original names of seeded accounts and bot persona ids stay reserved even after their owners rename.
  if (const auto* self = directory_.find_account(user_id); self && util::iequals(self->display_name, name))
    return false;
  for (const auto& a : directory_.humans())
    if (a.id != user_id && util::iequals(a.display_name, name)) return true;
  for (const auto& b : directory_.bots())
    if (util::iequals(b.persona_id, name) || util::iequals(b.account.display_name, name)) return true;
  return false;
}

UserProfiles::NameCheck UserProfiles::check_display_name(const std::string& user_id,
                                                         const std::string& name) const {
  const auto len = util::utf8_code_points(name);
  if (!len || *len == 0 || *len > max_display_name_ || util::is_blank(name)) return NameCheck::kInvalid;
  std::lock_guard lock(mutex_);
  return name_taken_locked(user_id, name) ? NameCheck::kTaken : NameCheck::kOk;
}

bool UserProfiles::guest_name_taken(const std::string& name) const {
  if (directory_.name_is_reserved(name)) return true;
  std::lock_guard lock(mutex_);
  return name_taken_locked("", name);
}

std::optional<Profile> UserProfiles::set_display_name(const std::string& user_id, const std::string& name) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end() || name_taken_locked(user_id, name)) return std::nullopt;
  it->second.display_name = name;
  return it->second;
}

std::optional<Profile> UserProfiles::set_status(const std::string& user_id, Status status) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  it->second.chosen_status = status;
  it->second.auto_away = false;
  return it->second;
}

std::optional<Profile> UserProfiles::set_personal_message(const std::string& user_id,
                                                          const std::string& message) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  it->second.personal_message = message;
  return it->second;
}

std::optional<Profile> UserProfiles::set_connected(const std::string& user_id, bool connected) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  it->second.connected = connected;
  if (connected) it->second.remote_only = false;
  if (!connected) it->second.auto_away = false;
  return it->second;
}

std::optional<Profile> UserProfiles::set_merged(const std::string& user_id, bool connected_elsewhere,
                                                bool auto_away) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  it->second.connected_elsewhere = connected_elsewhere;
  it->second.auto_away = auto_away;
  return it->second;
}

std::optional<Profile> UserProfiles::set_auto_away(const std::string& user_id, bool away) {
  std::lock_guard lock(mutex_);
  const auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  it->second.auto_away = away;
  return it->second;
}

std::vector<Profile> UserProfiles::humans() const {
  std::lock_guard lock(mutex_);
  std::vector<Profile> out;
  out.reserve(order_.size());
  for (const auto& id : order_) out.push_back(profiles_.at(id));
  return out;
}

std::vector<Profile> UserProfiles::bots(bool include_unlisted) const {
  std::lock_guard lock(mutex_);
  std::vector<Profile> out;
  for (const auto& id : bot_order_) {
    const auto* persona = directory_.find_bot(id);
    if (include_unlisted || (persona && persona->listed)) out.push_back(profiles_.at(id));
  }
  return out;
}

}  // namespace switchboard::presence
