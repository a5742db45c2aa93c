// RedisEventSink against a real redis-server (skipped when redis-server is not installed).
#include "switchboard/analytics/redis_event_sink.hpp"

#include <gtest/gtest.h>

#include <map>

#include "../redis/redis_test_support.hpp"
#include "switchboard/analytics/events.hpp"

namespace switchboard::analytics {
namespace {

using namespace std::chrono_literals;
using test::eventually;

class RedisEventSinkTest : public test::RealRedisTest {
 protected:
  bool write(RedisEventSink& sink, std::vector<Event> batch) {
    std::promise<bool> done;
    sink.write(std::move(batch), [&](bool ok) { done.set_value(ok); });
    auto f = done.get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }
  static Event event(int n) {
    Event e =
        events::ai_invocation("user_" + std::to_string(n), "bot_clippy", "openai", "ok", "", 812.5, 17, 120);
    e.dataset = "ds";
    e.timestamp = 1'700'000'000'000 + n;
    return e;
  }
};

TEST_F(RedisEventSinkTest, AppendsEachEventToTheStreamWithAnalyticsEngineFieldNames) {
  auto client = connect();
  RedisEventSink sink(*client, "test:events", 1000);
  ASSERT_TRUE(write(sink, {event(1), event(2)}));
  EXPECT_EQ(server_->integer({"XLEN", "test:events"}), 2);
  const auto range = server_->cmd({"XRANGE", "test:events", "-", "+"});
  ASSERT_TRUE(range.is_array()) << range.debug_string();
  ASSERT_EQ(range.elements.size(), 2u);
  const auto& fields = range.elements[1].elements[1].elements;  // [id, [field, value, ...]]
  std::map<std::string, std::string> got;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) got[fields[i].str] = fields[i + 1].str;
  EXPECT_EQ(got["dataset"], "ds");
  EXPECT_EQ(got["index"], "user_2");
  EXPECT_EQ(got["timestamp"], "1700000000002");
  EXPECT_EQ(got["blob1"], "ai_invocation");
  EXPECT_EQ(got["blob2"], "bot_clippy");
  EXPECT_EQ(got["double1"], "812.5");
  EXPECT_EQ(got["double2"], "17");
}

TEST_F(RedisEventSinkTest, TrimsTheStreamToAboutMaxlen) {
  auto client = connect();
  RedisEventSink sink(*client, "test:capped", 10);
  for (int round = 0; round < 20; ++round) {
    std::vector<Event> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(event(round * 50 + i));
    ASSERT_TRUE(write(sink, std::move(batch)));
  }
  // MAXLEN ~ trims whole macro nodes (100 entries by default), so "about" means well under the 1000 written.
  EXPECT_LE(server_->integer({"XLEN", "test:capped"}), 200);
}

TEST_F(RedisEventSinkTest, ReportsFailureWhileRedisIsDown) {
  auto client = connect();
  RedisEventSink sink(*client, "test:events", 1000);
  server_->kill();
  ASSERT_TRUE(eventually([&] { return !client->is_connected(); }));
  EXPECT_FALSE(write(sink, {event(1)}));
  client->stop();
}

}  // namespace
}  // namespace switchboard::analytics
