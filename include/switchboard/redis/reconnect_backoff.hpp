#pragma once
#include <chrono>
#include <cstdint>
#include <random>

namespace switchboard::redis {

// Capped exponential backoff with "equal jitter": attempt n waits a uniformly random time in
// [ceiling(n) / 2, ceiling(n)], where ceiling(n) = min(max, initial * 2^n). The jitter spreads the reconnects
// of many instances after a Redis restart; the lower half-bound keeps retries from hammering a dead server.
// Not thread-safe: each connection owns one and uses it on its strand.
class ReconnectBackoff final {
 public:
  using Ms = std::chrono::milliseconds;

  // `initial` and `max` must be positive with initial <= max (config validation guarantees it; otherwise they
  // are clamped). `seed` makes the jitter reproducible in tests.
  ReconnectBackoff(Ms initial, Ms max, std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; each call counts one failed attempt.
  Ms next();
  // After a successful connect: the next failure starts again from `initial`.
  void reset() { attempts_ = 0; }
  unsigned attempts() const { return attempts_; }

  // The upper bound of the delay of attempt `attempt` (0-based).
  static Ms ceiling(Ms initial, Ms max, unsigned attempt);

 private:
  Ms initial_;
  Ms max_;
  unsigned attempts_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace switchboard::redis
