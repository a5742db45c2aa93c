#include "switchboard/ai/delta_coalescer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace switchboard::ai {
namespace {

TEST(AiDeltaCoalescer, FirstFlushIsImmediateThenAtMostTenASecond) {
  DeltaCoalescer c(100);
  std::vector<std::int64_t> flushes;
  // A token every 7 ms for two seconds, flushing whenever allowed.
  for (std::int64_t t = 1000; t < 3000; t += 7) {
    if (c.may_flush(t)) {
      flushes.push_back(t);
      c.flushed(t);
    }
  }
  ASSERT_FALSE(flushes.empty());
  EXPECT_EQ(flushes.front(), 1000);
  for (std::size_t i = 1; i < flushes.size(); ++i) EXPECT_GE(flushes[i] - flushes[i - 1], 100);
  EXPECT_LE(flushes.size(), 20u);
  EXPECT_GE(flushes.size(), 18u);
}

TEST(AiDeltaCoalescer, NextFlushAtSaysWhenToComeBack) {
  DeltaCoalescer c(100);
  EXPECT_EQ(c.next_flush_at(50), 50);
  c.flushed(50);
  EXPECT_FALSE(c.may_flush(120));
  EXPECT_EQ(c.next_flush_at(120), 150);
  EXPECT_TRUE(c.may_flush(150));
  EXPECT_EQ(c.next_flush_at(400), 400);
}

}  // namespace
}  // namespace switchboard::ai
