#include "switchboard/chat/rate_limiter.hpp"

#include <algorithm>

namespace switchboard::chat {

void SlidingWindowLimiter::expire(std::int64_t now_ms) {
  const auto first_live =
      std::find_if(events_.begin(), events_.end(), [&](std::int64_t t) { return t > now_ms - window_ms_; });
  events_.erase(events_.begin(), first_live);
}

bool SlidingWindowLimiter::allows(std::int64_t now_ms) {
  expire(now_ms);
  return events_.size() < max_;
}

void SlidingWindowLimiter::record(std::int64_t now_ms) {
  events_.push_back(now_ms);
}

std::int64_t SlidingWindowLimiter::retry_after_ms(std::int64_t now_ms) {
  expire(now_ms);
  if (events_.size() < max_) return 0;
  return events_[events_.size() - max_] + window_ms_ - now_ms;
}

}  // namespace switchboard::chat
