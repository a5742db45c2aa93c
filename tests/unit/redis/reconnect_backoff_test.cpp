#include "switchboard/redis/reconnect_backoff.hpp"

#include <gtest/gtest.h>

#include <set>

namespace switchboard::redis {
namespace {

using Ms = std::chrono::milliseconds;

TEST(RedisBackoff, CeilingDoublesThenCaps) {
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(2000), 0), Ms(100));
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(2000), 1), Ms(200));
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(2000), 4), Ms(1600));
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(2000), 5), Ms(2000));
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(2000), 1000), Ms(2000));  // no overflow
  EXPECT_EQ(ReconnectBackoff::ceiling(Ms(100), Ms(50), 3), Ms(100));        // max below initial: initial
}

TEST(RedisBackoff, DelaysStayWithinTheJitterBoundsAndTheCap) {
  ReconnectBackoff backoff(Ms(100), Ms(2000), /*seed=*/42);
  for (unsigned attempt = 0; attempt < 40; ++attempt) {
    const Ms top = ReconnectBackoff::ceiling(Ms(100), Ms(2000), attempt);
    const Ms d = backoff.next();
    EXPECT_GE(d, top / 2) << "attempt " << attempt;
    EXPECT_LE(d, top) << "attempt " << attempt;
    EXPECT_LE(d, Ms(2000));
  }
  EXPECT_EQ(backoff.attempts(), 40u);
}

TEST(RedisBackoff, JitterActuallyVaries) {
  std::set<Ms::rep> seen;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    ReconnectBackoff backoff(Ms(100), Ms(2000), seed);
    for (int i = 0; i < 5; ++i) backoff.next();
    seen.insert(backoff.next().count());  // the 6th attempt: between 1000 and 2000 ms
  }
  EXPECT_GT(seen.size(), 10u) << "instances restarting together must not retry in lockstep";
}

TEST(RedisBackoff, ResetStartsOver) {
  ReconnectBackoff backoff(Ms(100), Ms(2000), 7);
  for (int i = 0; i < 10; ++i) backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0u);
  const Ms d = backoff.next();
  EXPECT_GE(d, Ms(50));
  EXPECT_LE(d, Ms(100));
}

}  // namespace
}  // namespace switchboard::redis
