#include "switchboard/security/keyed_rate_limiter.hpp"

namespace switchboard::security {

std::int64_t KeyedRateLimiter::acquire(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (limiters_.size() >= max_keys_) prune(now_ms);
  auto it = limiters_.try_emplace(key, max_events_, window_ms_).first;
  if (!it->second.allows(now_ms)) return it->second.retry_after_ms(now_ms);
  it->second.record(now_ms);
  return 0;
}

void KeyedRateLimiter::prune(std::int64_t now_ms) {
  for (auto it = limiters_.begin(); it != limiters_.end();) {
    if (it->second.idle(now_ms)) {
      it = limiters_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace switchboard::security
