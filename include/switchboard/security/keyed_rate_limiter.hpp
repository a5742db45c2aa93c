#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "switchboard/chat/rate_limiter.hpp"

namespace switchboard::security {

// Sliding-window limits per key (a client IP for logins). Memory stays bounded: keys whose window is empty
// are dropped once the table holds more than `max_keys`. Thread-safety: all methods are safe from any thread.
class KeyedRateLimiter final {
 public:
  KeyedRateLimiter(std::size_t max_events, std::int64_t window_ms, std::size_t max_keys = 100'000)
      : max_events_(max_events), window_ms_(window_ms), max_keys_(max_keys) {}

  // Counts one attempt for `key` at `now_ms`. Returns 0 when allowed, else the milliseconds until it would
  // be.
  std::int64_t acquire(const std::string& key, std::int64_t now_ms);

 private:
  void prune(std::int64_t now_ms);

  std::size_t max_events_;
  std::int64_t window_ms_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, chat::SlidingWindowLimiter> limiters_;
};

}  // namespace switchboard::security
