#include "switchboard/security/keyed_rate_limiter.hpp"

#include <gtest/gtest.h>

namespace switchboard::security {
namespace {

TEST(KeyedRateLimiter, LimitsEachKeySeparately) {
  KeyedRateLimiter limiter(5, 10'000);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.acquire("10.0.0.1", i), 0);
  EXPECT_GT(limiter.acquire("10.0.0.1", 10), 0);
  EXPECT_EQ(limiter.acquire("10.0.0.2", 10), 0);
  EXPECT_EQ(limiter.acquire("10.0.0.1", 10'001), 0);  // the first attempt left the window
}

TEST(KeyedRateLimiter, RetryAfterIsWhenTheOldestAttemptLeaves) {
  KeyedRateLimiter limiter(2, 10'000);
  limiter.acquire("ip", 1'000);
  limiter.acquire("ip", 2'000);
  EXPECT_EQ(limiter.acquire("ip", 4'000), 7'000);
}

TEST(KeyedRateLimiter, ForgetsIdleKeysWhenFull) {
  KeyedRateLimiter limiter(1, 1'000, /*max_keys=*/3);
  for (int i = 0; i < 3; ++i) limiter.acquire("k" + std::to_string(i), 0);
  // All three are idle by t=5000, so the table is pruned and a returning key starts fresh.
  EXPECT_EQ(limiter.acquire("k3", 5'000), 0);
  EXPECT_EQ(limiter.acquire("k0", 5'001), 0);
}

}  // namespace
}  // namespace switchboard::security
