#include "switchboard/ai/memory_quota_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace switchboard::ai {
namespace {

constexpr std::int64_t kDay = 86'400'000;

QuotaDecision consume(QuotaStore& store, const std::string& user, QuotaLimits limits) {
  QuotaDecision out = QuotaDecision::kUnavailable;
  store.try_consume(user, limits, [&out](QuotaDecision d) { out = d; });
  return out;
}

TEST(QuotaStore, PerUserLimitThenGlobalLimit) {
  std::int64_t now = 20000 * kDay + 5;
  MemoryQuotaStore store([&now] { return now; });
  const QuotaLimits limits{2, 3};
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);
  EXPECT_EQ(consume(store, "bob", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "carol", limits), QuotaDecision::kGlobalLimit);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);  // the user limit is reported first
  EXPECT_EQ(store.used_by("alice"), 2);
  EXPECT_EQ(store.used_by("carol"), 0);  // refusals do not count
  EXPECT_EQ(store.used_globally(), 3);
}

TEST(QuotaStore, CountsResetAtMidnightUtc) {
  std::int64_t now = 20000 * kDay + kDay - 1;  // 23:59:59.999 UTC
  MemoryQuotaStore store([&now] { return now; });
  const QuotaLimits limits{1, 100};
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);
  now += 1;  // 00:00:00.000 the next day
  EXPECT_EQ(store.used_by("alice"), 0);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(store.used_globally(), 1);
}

TEST(QuotaStore, CheckAndIncrementIsAtomicAcrossThreads) {
  MemoryQuotaStore store;
  const QuotaLimits limits{1000, 500};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        store.try_consume("user" + std::to_string(t), limits, [&](QuotaDecision d) {
          if (d == QuotaDecision::kAllowed) ++allowed;
        });
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 500);
  EXPECT_EQ(store.used_globally(), 500);
}

TEST(QuotaStore, UtcDayHelpers) {
  EXPECT_EQ(utc_day(0), 0);
  EXPECT_EQ(utc_day(kDay - 1), 0);
  EXPECT_EQ(utc_day(kDay), 1);
  EXPECT_EQ(utc_day(-1), -1);
  EXPECT_EQ(utc_day_key(0), "1970-01-01");
  EXPECT_EQ(utc_day_key(utc_day(1709164800000)), "2024-02-29");  // leap day
  EXPECT_EQ(utc_day_key(utc_day(1735689599999)), "2024-12-31");
  EXPECT_EQ(utc_day_key(utc_day(1735689600000)), "2025-01-01");
}

}  // namespace
}  // namespace switchboard::ai
