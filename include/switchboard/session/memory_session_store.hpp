#pragma once
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "switchboard/session/session_store.hpp"

namespace switchboard::session {

// In-process session store with the same TTL semantics as Redis' `SET ... EX`. Handlers run inline.
// Thread-safety: all methods are safe from any thread (one mutex; every operation is O(1) except the
// amortised purge).
class MemorySessionStore final : public SessionStore {
 public:
  using Clock = std::chrono::steady_clock;

  void create(const std::string& token_hash, const SessionRecord& record, std::chrono::seconds ttl,
              Done done) override;
  void lookup(const std::string& token_hash, LookupDone done) override;
  void touch(const std::string& token_hash, std::chrono::seconds ttl, LookupDone done) override;
  void remove(const std::string& token_hash, Done done) override;

  std::size_t size() const;

  // A clean restart keeps people signed in: the live sessions (token hashes, never tokens) are written to
  // `path` at shutdown and read back at start-up, expired ones dropped. Both block: call them outside the I/O
  // threads. Errors are reported, never thrown: losing the snapshot only signs people out.
  bool save(const std::string& path, std::string& error) const;
  bool load(const std::string& path, std::string& error);
  // Every stored session as (token hash, record): guests restored from a snapshot need their profiles back.
  std::vector<std::pair<std::string, SessionRecord>> entries() const;

 private:
  struct Entry {
    SessionRecord record;
    Clock::time_point deadline;
  };
  void purge_expired_locked(Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> sessions_;
  std::unordered_map<std::string, std::string> user_session_;  // user id -> latest token hash
  std::size_t creates_since_purge_ = 0;
};

}  // namespace switchboard::session
