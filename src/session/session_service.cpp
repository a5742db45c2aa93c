#include "switchboard/session/session_service.hpp"

#include "switchboard/util/clock.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::session {

SessionService::SessionService(std::shared_ptr<SessionStore> store, Options options)
    : store_(std::move(store)), options_(options) {}

std::string SessionService::hash_token(const std::string& session_id) {
  return util::sha256_hex(session_id);
}

bool SessionService::remember(const std::string& token_hash, const SessionRecord& record) {
  std::lock_guard lock(mutex_);
  auto& t = tracked_[token_hash];
  const bool first_seen = t.record.user_id.empty();
  t.record = record;
  return first_seen;
}

void SessionService::login(SessionRecord record, LoginDone done) {
  // 24 bytes = 192 bits from OpenSSL's CSPRNG, base64url: never a UUID, never guessable.
  std::string session_id = util::random_token(24);
  std::string token_hash = hash_token(session_id);
  record.created_at = util::now_ms();
  record.expires_at = record.created_at + options_.ttl.count() * 1000;
  store_->create(token_hash, record, options_.ttl,
                 [this, session_id, token_hash, record, done = std::move(done)](std::error_code ec) {
                   if (ec) return done(ec, {}, {});
                   {
                     std::lock_guard lock(mutex_);
                     auto& t = tracked_[token_hash];
                     t.record = record;
                     t.last_touch = std::chrono::steady_clock::now();
                   }
                   done({}, session_id, Identity{token_hash, record});
                 });
}

bool SessionService::touch_due(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  auto& t = tracked_[token_hash];
  // The entry remembers the last store write; callers drop it again when the session turns out not to exist.
  if (now - t.last_touch < options_.touch_interval) return false;
  t.last_touch = now;
  return true;
}

void SessionService::authenticate(const std::string& session_id, IdentityDone done) {
  if (session_id.empty() || session_id.size() > 256) return done({}, std::nullopt);
  const std::string token_hash = hash_token(session_id);
  auto finish = [this, token_hash, done = std::move(done)](std::error_code ec,
                                                           std::optional<SessionRecord> rec) {
    if (ec) return done(ec, std::nullopt);
    if (!rec) {
      {
        std::lock_guard lock(mutex_);
        const auto it = tracked_.find(token_hash);
        // Keep entries that still own sockets: the sweep closes those and reports the end once.
        if (it != tracked_.end() && it->second.sockets.empty() && it->second.guest_name.empty())
          tracked_.erase(it);
      }
      return done({}, std::nullopt);
    }
    Identity identity{token_hash, *rec};
    if (remember(token_hash, *rec) && adopt_hook_) adopt_hook_(identity);
    done({}, std::move(identity));
  };
  if (touch_due(token_hash)) {
    store_->touch(token_hash, options_.ttl, std::move(finish));
  } else {
    store_->lookup(token_hash, std::move(finish));
  }
}

void SessionService::refresh(const std::string& session_id, IdentityDone done) {
  const std::string token_hash = hash_token(session_id);
  store_->touch(
      token_hash, options_.ttl,
      [this, token_hash, done = std::move(done)](std::error_code ec, std::optional<SessionRecord> rec) {
        if (ec || !rec) return done(ec, std::nullopt);
        Identity identity{token_hash, *rec};
        const bool first_seen = remember(token_hash, *rec);
        {
          std::lock_guard lock(mutex_);
          tracked_[token_hash].last_touch = std::chrono::steady_clock::now();
        }
        if (first_seen && adopt_hook_) adopt_hook_(identity);
        done({}, std::move(identity));
      });
}

void SessionService::logout(const std::string& session_id, SessionStore::Done done) {
  const std::string token_hash = hash_token(session_id);
  store_->remove(token_hash, [this, token_hash, done = std::move(done)](std::error_code ec) {
    if (!ec) end_session(token_hash, /*logged_out=*/true);
    done(ec);
  });
}

void SessionService::note_activity(const std::string& token_hash) {
  if (!touch_due(token_hash)) return;
  store_->touch(token_hash, options_.ttl,
                [this, token_hash](std::error_code ec, std::optional<SessionRecord> rec) {
                  if (!ec && !rec) end_session(token_hash, /*logged_out=*/false);
                });
}

void SessionService::attach_socket(const std::string& token_hash,
                                   const std::shared_ptr<net::ClientConnection>& conn) {
  std::lock_guard lock(mutex_);
  auto& sockets = tracked_[token_hash].sockets;
  std::erase_if(sockets, [](const auto& w) { return w.expired(); });
  sockets.push_back(conn);
}

void SessionService::detach_socket(const std::string& token_hash, std::uint64_t connection_id) {
  std::lock_guard lock(mutex_);
  const auto it = tracked_.find(token_hash);
  if (it == tracked_.end()) return;
  std::erase_if(it->second.sockets, [connection_id](const auto& w) {
    const auto c = w.lock();
    return !c || c->connection_id() == connection_id;
  });
}

void SessionService::reserve_guest_name(const std::string& lower_name,
                                        std::function<void(std::error_code, bool)> done) {
  std::string holder;
  bool reserved = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = guest_names_.find(lower_name);
    if (it == guest_names_.end()) {
      guest_names_[lower_name] = "";  // pending until bind_guest_name
      reserved = true;
    } else {
      holder = it->second;
    }
  }
  // Handlers run outside the lock: they call back into this service.
  if (reserved) return done({}, true);
  if (holder.empty()) return done({}, false);  // another login with this name is in flight
  // The holder's session may have expired without anyone noticing yet: ask the store.
  store_->lookup(holder, [this, lower_name, holder, done = std::move(done)](
                             std::error_code ec, std::optional<SessionRecord> rec) {
    if (ec) return done(ec, false);
    if (rec) return done({}, false);
    end_session(holder, /*logged_out=*/false);
    bool inserted = false;
    {
      std::lock_guard lock(mutex_);
      inserted = guest_names_.try_emplace(lower_name, "").second;
    }
    done({}, inserted);
  });
}

void SessionService::bind_guest_name(const std::string& lower_name, const std::string& token_hash,
                                     const SessionRecord* record) {
  std::lock_guard lock(mutex_);
  guest_names_[lower_name] = token_hash;
  auto& t = tracked_[token_hash];
  t.guest_name = lower_name;
  if (record) t.record = *record;
}

void SessionService::release_guest_name(const std::string& lower_name) {
  std::lock_guard lock(mutex_);
  guest_names_.erase(lower_name);
}

void SessionService::end_session(const std::string& token_hash, bool logged_out) {
  std::vector<std::weak_ptr<net::ClientConnection>> sockets;
  std::optional<Identity> ended;
  {
    std::lock_guard lock(mutex_);
    const auto it = tracked_.find(token_hash);
    if (it == tracked_.end()) return;
    sockets = std::move(it->second.sockets);
    if (!it->second.guest_name.empty()) guest_names_.erase(it->second.guest_name);
    if (!it->second.record.user_id.empty()) ended = Identity{token_hash, it->second.record};
    tracked_.erase(it);
  }
  for (const auto& w : sockets)
    if (const auto c = w.lock()) c->close(kSessionExpiredCloseCode, "Session expired");
  if (ended && ended_hook_) ended_hook_(*ended, logged_out);
}

void SessionService::sweep() {
  std::vector<std::string> to_check;
  {
    std::lock_guard lock(mutex_);
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      auto& t = it->second;
      std::erase_if(t.sockets, [](const auto& w) { return w.expired(); });
      if (!t.sockets.empty() || !t.guest_name.empty()) {
        to_check.push_back(it->first);
        ++it;
      } else if (std::chrono::steady_clock::now() - t.last_touch > options_.ttl) {
        it = tracked_.erase(it);  // nothing local depends on it; the store alone decides if it lives
      } else {
        ++it;
      }
    }
  }
  for (const auto& token_hash : to_check) {
    store_->lookup(token_hash, [this, token_hash](std::error_code ec, std::optional<SessionRecord> rec) {
      // A store error (Redis down) says nothing about the session: keep the sockets open.
      if (!ec && !rec) end_session(token_hash, /*logged_out=*/false);
    });
  }
}

std::size_t SessionService::tracked_sessions() const {
  std::lock_guard lock(mutex_);
  return tracked_.size();
}

}  // namespace switchboard::session
