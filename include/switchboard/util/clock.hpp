#pragma once
#include <chrono>
#include <cstdint>

namespace switchboard::util {

// Wall-clock milliseconds since the Unix epoch: the protocol's timestamp unit.
inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic milliseconds, for rate limits and timeouts that must not jump with the wall clock.
inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace switchboard::util
