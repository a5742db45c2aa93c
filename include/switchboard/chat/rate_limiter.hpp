#pragma once
#include <cstdint>
#include <vector>

namespace switchboard::chat {

// Sliding-window limiter: at most `max_events` in any `window_ms`. Not thread-safe; each instance belongs to
// one actor (a room's per-user state). Memory is one timestamp per allowed event.
class SlidingWindowLimiter final {
 public:
  SlidingWindowLimiter(std::size_t max_events, std::int64_t window_ms)
      : max_(max_events), window_ms_(window_ms) {}

  // True when one more event at `now_ms` stays within the limit.
  bool allows(std::int64_t now_ms);
  // Records an accepted event (call after allows()).
  void record(std::int64_t now_ms);
  // Milliseconds until one more event would be allowed (0 when allowed now).
  std::int64_t retry_after_ms(std::int64_t now_ms);
  // True when no event is left inside the window.
  bool idle(std::int64_t now_ms) {
    expire(now_ms);
    return events_.empty();
  }

 private:
  void expire(std::int64_t now_ms);

  std::size_t max_;
  std::int64_t window_ms_;
  std::vector<std::int64_t> events_;  // ascending timestamps within the window
};

}  // namespace switchboard::chat
