#include "switchboard/redis/reconnect_backoff.hpp"

#include <algorithm>

namespace switchboard::redis {

ReconnectBackoff::ReconnectBackoff(Ms initial, Ms max, std::uint64_t seed)
    : initial_(std::max(initial, Ms(1))), max_(std::max(max, std::max(initial, Ms(1)))), rng_(seed) {}

ReconnectBackoff::Ms ReconnectBackoff::ceiling(Ms initial, Ms max, unsigned attempt) {
  initial = std::max(initial, Ms(1));
  max = std::max(max, initial);
  // Doubling stops as soon as the cap is reached, so large attempt counts cannot overflow.
  Ms c = initial;
  for (unsigned i = 0; i < attempt && c < max; ++i) c *= 2;
  return std::min(c, max);
}

ReconnectBackoff::Ms ReconnectBackoff::next() {
  const Ms top = ceiling(initial_, max_, attempts_);
  if (attempts_ < 64) ++attempts_;
  const auto low = top.count() / 2;
  std::uniform_int_distribution<std::int64_t> pick(low, top.count());
  return Ms(pick(rng_));
}

}  // namespace switchboard::redis
