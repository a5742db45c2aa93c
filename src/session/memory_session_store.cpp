#include "switchboard/session/memory_session_store.hpp"

#include "switchboard/util/clock.hpp"

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
