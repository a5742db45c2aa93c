#include "switchboard/chat/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace switchboard::chat {
namespace {

TEST(SlidingWindowLimiter, AllowsUpToMaxThenSlides) {
  SlidingWindowLimiter limiter(3, 10'000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.allows(1000 + i));
    limiter.record(1000 + i);
  }
  EXPECT_FALSE(limiter.allows(5000));
  EXPECT_EQ(limiter.retry_after_ms(5000), 6000);  // the first event leaves the window at 11000
  EXPECT_FALSE(limiter.allows(10'999));
  EXPECT_TRUE(limiter.allows(11'001));
}

TEST(SlidingWindowLimiter, RejectedEventsDoNotCount) {
  SlidingWindowLimiter limiter(1, 1000);
  limiter.record(0);
  for (int t = 1; t < 1000; t += 100) EXPECT_FALSE(limiter.allows(t));
  EXPECT_TRUE(limiter.allows(1000));
}

}  // namespace
}  // namespace switchboard::chat
