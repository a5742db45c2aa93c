#include "switchboard/session/memory_session_store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchboard/util/clock.hpp"
#include "switchboard/util/json_text.hpp"

namespace switchboard::session {

void MemorySessionStore::create(const std::string& token_hash, const SessionRecord& record,
                                std::chrono::seconds ttl, Done done) {
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    // Expired entries are otherwise only dropped when looked up; purge now and then so memory stays bounded.
    if (++creates_since_purge_ >= 256) purge_expired_locked(now);
    sessions_[token_hash] = Entry{record, now + ttl};
    user_session_[record.user_id] = token_hash;
  }
  done({});
}

void MemorySessionStore::lookup(const std::string& token_hash, LookupDone done) {
  std::optional<SessionRecord> found;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(token_hash);
    if (it != sessions_.end()) {
      if (it->second.deadline > Clock::now()) {
        found = it->second.record;
      } else {
        sessions_.erase(it);
      }
    }
  }
  done({}, std::move(found));
}

void MemorySessionStore::touch(const std::string& token_hash, std::chrono::seconds ttl, LookupDone done) {
  std::optional<SessionRecord> found;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(token_hash);
    const auto now = Clock::now();
    if (it != sessions_.end()) {
      if (it->second.deadline > now) {
        it->second.deadline = now + ttl;
        it->second.record.expires_at =
            util::now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
        found = it->second.record;
      } else {
        sessions_.erase(it);
      }
    }
  }
  done({}, std::move(found));
}

void MemorySessionStore::remove(const std::string& token_hash, Done done) {
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(token_hash);
    if (it != sessions_.end()) {
      const auto user = user_session_.find(it->second.record.user_id);
      if (user != user_session_.end() && user->second == token_hash) user_session_.erase(user);
      sessions_.erase(it);
    }
  }
  done({});
}

std::size_t MemorySessionStore::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

bool MemorySessionStore::save(const std::string& path, std::string& error) const {
  nlohmann::json sessions = nlohmann::json::object();
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (const auto& [hash, e] : sessions_) {
      if (e.deadline <= now) continue;
      const auto& r = e.record;
      sessions[hash] = {{"userId", r.user_id},
                        {"createdAt", r.created_at},
                        {"expiresAt", r.expires_at},
                        {"isGuest", r.is_guest},
                        {"guestDisplayName", r.guest_display_name},
                        {"guestAvatarId", r.guest_avatar_id}};
    }
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << util::json_text(nlohmann::json{{"version", 1}, {"sessions", sessions}});
    if (!out) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

bool MemorySessionStore::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) return true;  // first start: nothing to restore
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
    const auto now_ms = util::now_ms();
    std::lock_guard lock(mutex_);
    for (const auto& [hash, j] : doc.at("sessions").items()) {
      SessionRecord r;
      r.user_id = j.at("userId").get<std::string>();
      r.created_at = j.at("createdAt").get<std::int64_t>();
      r.expires_at = j.at("expiresAt").get<std::int64_t>();
      r.is_guest = j.at("isGuest").get<bool>();
      r.guest_display_name = j.at("guestDisplayName").get<std::string>();
      r.guest_avatar_id = j.at("guestAvatarId").get<std::string>();
      if (r.expires_at <= now_ms) continue;
      const auto left = std::chrono::milliseconds(r.expires_at - now_ms);
      user_session_[r.user_id] = hash;
      sessions_[hash] = Entry{std::move(r), Clock::now() + left};
    }
  } catch (const std::exception& e) {
    error = path + " is not a valid session snapshot: " + e.what();
    return false;
  }
  std::filesystem::remove(
      path);  // a snapshot is used once; a crash later must not resurrect logged-out sessions
  return true;
}

std::vector<std::pair<std::string, SessionRecord>> MemorySessionStore::entries() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, SessionRecord>> out;
  for (const auto& [hash, e] : sessions_) out.emplace_back(hash, e.record);
  return out;
}

void MemorySessionStore::purge_expired_locked(Clock::time_point now) {
  creates_since_purge_ = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.deadline <= now) {
      const auto user = user_session_.find(it->second.record.user_id);
      if (user != user_session_.end() && user->second == it->first) user_session_.erase(user);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace switchboard::session
