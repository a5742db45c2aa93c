// RedisQuotaStore against a real redis-server: the QuotaStore contract (as for MemoryQuotaStore), UTC-day
// keys, atomicity across instances, and failing closed while Redis is down.
#include "switchboard/ai/redis_quota_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "../redis/redis_test_support.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::ai {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kDay = 86'400'000;

class RedisQuotaStoreTest : public test::RealRedisTest {
 protected:
  static QuotaDecision consume(QuotaStore& store, const std::string& user, QuotaLimits limits) {
    auto p = std::make_shared<std::promise<QuotaDecision>>();
    auto f = p->get_future();
    store.try_consume(user, limits, [p](QuotaDecision d) { p->set_value(d); });
    if (f.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "quota handler never ran";
      return QuotaDecision::kUnavailable;
    }
    return f.get();
  }
};

TEST_F(RedisQuotaStoreTest, PerUserLimitThenGlobalLimit) {
  auto now = std::make_shared<std::atomic<std::int64_t>>(20000 * kDay + 5);  // 2024-10-04
  RedisQuotaStore store(connect(), [now] { return now->load(); });
  const QuotaLimits limits{2, 3};
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);
  EXPECT_EQ(consume(store, "bob", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "carol", limits), QuotaDecision::kGlobalLimit);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);  // the user limit is reported first

  const std::string day = utc_day_key(20000);
  EXPECT_EQ(day, "2024-10-04");
  EXPECT_EQ(server_->integer({"GET", "quota:user:alice:" + day}), 2);
  EXPECT_EQ(server_->integer({"EXISTS", "quota:user:carol:" + day}), 0);  // refusals do not count
  EXPECT_EQ(server_->integer({"GET", "quota:global:" + day}), 3);
  const auto ttl = server_->integer({"TTL", "quota:global:" + day});
  EXPECT_GT(ttl, 86400);
  EXPECT_LE(ttl, 2 * 86400);
}

TEST_F(RedisQuotaStoreTest, CountsResetAtMidnightUtc) {
  auto now = std::make_shared<std::atomic<std::int64_t>>(20000 * kDay + kDay - 1);  // 23:59:59.999 UTC
  RedisQuotaStore store(connect(), [now] { return now->load(); });
  const QuotaLimits limits{1, 100};
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kUserLimit);
  *now += 1;  // 00:00:00.000 the next day: new keys
  EXPECT_EQ(consume(store, "alice", limits), QuotaDecision::kAllowed);
  EXPECT_EQ(server_->integer({"GET", "quota:global:" + utc_day_key(20001)}), 1);
}

TEST_F(RedisQuotaStoreTest, CheckAndIncrementIsAtomicAcrossInstances) {
  // Two instances (clients) racing from several threads never hand out more than the limits.
  auto a = std::make_shared<RedisQuotaStore>(connect());
  auto b = std::make_shared<RedisQuotaStore>(connect());
  const QuotaLimits limits{30, 70};
  auto allowed = std::make_shared<std::atomic<int>>(0);
  auto alice_allowed = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::atomic<int>>(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto& store = t % 2 == 0 ? *a : *b;
      for (int i = 0; i < 50; ++i) {
        const std::string user = i % 2 == 0 ? "alice" : "user" + std::to_string(t);
        store.try_consume(user, limits, [=](QuotaDecision d) {
          if (d == QuotaDecision::kAllowed) {
            ++*allowed;
            if (user == "alice") ++*alice_allowed;
          }
          ++*finished;
        });
      }
    });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(test::eventually([&] { return finished->load() == 200; }));
  EXPECT_EQ(allowed->load(), 70);
  EXPECT_LE(alice_allowed->load(), 30);
  const std::string day = utc_day_key(utc_day(util::now_ms()));
  EXPECT_EQ(server_->integer({"GET", "quota:global:" + day}), 70);
}

TEST_F(RedisQuotaStoreTest, RedisDownFailsClosed) {
  auto client = connect();
  RedisQuotaStore store(client);
  server_->kill();
  ASSERT_TRUE(test::eventually([&] { return !client->is_connected(); }));
  EXPECT_EQ(consume(store, "alice", QuotaLimits{}), QuotaDecision::kUnavailable);
}

}  // namespace
}  // namespace switchboard::ai
