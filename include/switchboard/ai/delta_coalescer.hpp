#pragma once
#include <cstdint>

namespace switchboard::ai {

// Paces chat_delta frames: at most one flush per `interval_ms` (100 ms: ten a second) per reply, the first
// one at once. The caller keeps the pending text; this only decides when it may go out. Times are monotonic
// milliseconds. Not thread-safe: one per reply, used on the reply's strand.
class DeltaCoalescer final {
 public:
  explicit DeltaCoalescer(std::int64_t interval_ms = 100) : interval_ms_(interval_ms) {}

  // True when a flush at `now_ms` keeps to the pace.
  bool may_flush(std::int64_t now_ms) const { return !flushed_ || now_ms - last_flush_ms_ >= interval_ms_; }

  // When the next flush may happen (now or later).
  std::int64_t next_flush_at(std::int64_t now_ms) const {
    return may_flush(now_ms) ? now_ms : last_flush_ms_ + interval_ms_;
  }

  void flushed(std::int64_t now_ms) {
    flushed_ = true;
    last_flush_ms_ = now_ms;
  }

 private:
  std::int64_t interval_ms_;
  std::int64_t last_flush_ms_ = 0;
  bool flushed_ = false;
};

}  // namespace switchboard::ai
