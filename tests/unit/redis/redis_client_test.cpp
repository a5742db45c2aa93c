// RedisClient against a real redis-server (started per test on a free port; skipped when redis-server is
// missing).
#include "switchboard/redis/redis_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "redis_test_support.hpp"

namespace switchboard::redis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run;
using test::test_options;

// Messages and state changes seen by handlers, shared with them by shared_ptr so that handlers running after
// a test's locals are gone touch nothing dangling.
struct Recorder : std::enable_shared_from_this<Recorder> {
  std::mutex mutex;
  std::vector<PubSubMessage> messages;
  std::vector<std::pair<RedisClient::Link, bool>> states;
  std::vector<std::error_code> acks;

  RedisClient::MessageHandler on_message() {
    return [self = shared_from_this()](const PubSubMessage& m) {
      std::lock_guard lock(self->mutex);
      self->messages.push_back(m);
    };
  }
  RedisClient::AckHandler on_ack() {
    return [self = shared_from_this()](std::error_code ec) {
      std::lock_guard lock(self->mutex);
      self->acks.push_back(ec);
    };
  }
  std::size_t message_count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  std::size_t ack_count() {
    std::lock_guard lock(mutex);
    return acks.size();
  }
  bool saw_payload(const std::string& payload) {
    std::lock_guard lock(mutex);
    for (const auto& m : messages)
      if (m.payload == payload) return true;
    return false;
  }
};

class RedisClientTest : public test::RealRedisTest {};

TEST_F(RedisClientTest, RunsCommandsAndDecodesReplies) {
  auto client = connect();
  const std::string binary("va\0lue\r\n", 8);

  auto r = run(*client, {"SET", "k", binary});
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.reply, RedisReply::make_status("OK"));

  r = run(*client, {"GET", "k"});
  EXPECT_EQ(r.reply, RedisReply::make_string(binary));
  EXPECT_EQ(server_->cmd({"STRLEN", "k"}).integer, 8);

  EXPECT_EQ(run(*client, {"GET", "missing"}).reply, RedisReply::nil());
  EXPECT_EQ(run(*client, {"INCRBY", "n", "5"}).reply, RedisReply::make_integer(5));

  run(*client, {"RPUSH", "list", "a", "b"});
  r = run(*client, {"LRANGE", "list", "0", "-1"});
  EXPECT_EQ(r.reply, RedisReply::make_array({RedisReply::make_string("a"), RedisReply::make_string("b")}));

  r = run(*client, {"INCR", "k"});
  EXPECT_EQ(r.ec, RedisErrc::kServerError);
  EXPECT_TRUE(r.reply.is_error());
  EXPECT_NE(r.reply.str.find("not an integer"), std::string::npos);

  EXPECT_EQ(run(*client, {"LPUSH", "k", "x"}).ec, RedisErrc::kWrongType);
  EXPECT_EQ(run(*client, {}).ec, RedisErrc::kBadArgument);
}

TEST_F(RedisClientTest, ManyConcurrentCommandsAllComplete) {
  auto client = connect();
  auto done = std::make_shared<std::atomic<int>>(0);
  auto failures = std::make_shared<std::atomic<int>>(0);
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&client, done, failures] {
      for (int i = 0; i < 250; ++i)
        client->command({"INCR", "counter"}, [done, failures](std::error_code ec, RedisReply) {
          if (ec) ++*failures;
          ++*done;
        });
    });
  for (auto& c : callers) c.join();
  ASSERT_TRUE(eventually([&] { return done->load() == 1000; }));
  EXPECT_EQ(failures->load(), 0);
  EXPECT_EQ(server_->integer({"GET", "counter"}), 1000);
}

TEST_F(RedisClientTest, HostNamesAreResolved) {
  auto client = connect(test_options("redis://localhost:" + std::to_string(server_->port()) + "/0"));
  EXPECT_EQ(run(*client, {"PING"}).reply, RedisReply::make_status("PONG"));
}

TEST_F(RedisClientTest, SelectsTheDatabaseOfTheUrl) {
  auto client = connect(test_options(server_->url("/3")));
  ASSERT_FALSE(run(*client, {"SET", "in_db3", "yes"}).ec);
  server_->cmd({"SELECT", "3"});
  EXPECT_EQ(server_->cmd({"GET", "in_db3"}), RedisReply::make_string("yes"));
}

TEST_F(RedisClientTest, CommandsFailFastWhileDisconnected) {
  // Nothing listens on this port: every attempt fails, and commands are refused at once, never queued.
  auto client = std::make_shared<RedisClient>(
      io_.ioc(), test_options("redis://127.0.0.1:" + std::to_string(test::free_port())));
  client->start();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(client->is_connected());
  const auto started = std::chrono::steady_clock::now();
  const auto r = run(*client, {"PING"});
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.ec, RedisErrc::kNotConnected);
  EXPECT_TRUE(is_unavailable(r.ec));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);
}

TEST_F(RedisClientTest, CommandTimeoutWhileTheServerIsPaused) {
  auto client = connect();
  ASSERT_TRUE(server_->cmd({"CLIENT", "PAUSE", "1200", "ALL"}).is_text());
  const auto started = std::chrono::steady_clock::now();
  const auto r = run(*client, {"GET", "k"}, 200ms);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, RedisErrc::kTimeout);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 800ms);
  // The connection survives a timeout; once the pause ends commands answer again.
  EXPECT_TRUE(client->is_connected());
  EXPECT_TRUE(
      eventually([&] { return run(*client, {"PING"}).reply == RedisReply::make_status("PONG"); }, 5000ms));
}

TEST_F(RedisClientTest, TooManyPendingCommandsAreRefused) {
  auto options = test_options(server_->url());
  options.max_pending_commands = 3;
  auto client = connect(options);
  ASSERT_TRUE(server_->cmd({"CLIENT", "PAUSE", "500", "ALL"}).is_text());
  auto overloaded = std::make_shared<std::atomic<int>>(0);
  auto answered = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 8; ++i)
    client->command({"PING"}, 3000ms, [overloaded, answered](std::error_code ec, RedisReply) {
      if (ec == RedisErrc::kOverloaded) ++*overloaded;
      if (!ec) ++*answered;
    });
  ASSERT_TRUE(eventually([&] { return overloaded->load() + answered->load() == 8; }));
  EXPECT_EQ(overloaded->load(), 5);
  EXPECT_EQ(answered->load(), 3);
}

TEST_F(RedisClientTest, ConnectTimeoutAgainstASilentServer) {
  // A listening socket that never answers: TCP connects (the kernel completes the handshake), PING never
  // returns.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto options = test_options("redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  options.connect_timeout = 150ms;
  {
    auto client = std::make_shared<RedisClient>(io_.ioc(), options);
    client->start();
    std::this_thread::sleep_for(600ms);  // several attempts time out
    EXPECT_FALSE(client->is_connected());
    EXPECT_EQ(run(*client, {"PING"}).ec, RedisErrc::kNotConnected);
  }
  ::close(fd);
}

TEST_F(RedisClientTest, HealthCheckReconnectsWhenTheServerStopsAnswering) {
  auto options = test_options(server_->url());
  options.health_check_interval = 200ms;
  auto recorder = std::make_shared<Recorder>();
  auto client = std::make_shared<RedisClient>(io_.ioc(), options);
  client->set_state_handler([recorder](RedisClient::Link link, bool up) {
    std::lock_guard lock(recorder->mutex);
    recorder->states.emplace_back(link, up);
  });
  client->start();
  ASSERT_TRUE(eventually([&] { return client->is_connected() && client->is_subscriber_connected(); }));
  // A frozen server keeps the socket open; only the unanswered PING reveals it.
  ASSERT_TRUE(server_->cmd({"CLIENT", "PAUSE", "1000", "ALL"}).is_text());
  EXPECT_TRUE(eventually([&] { return !client->is_connected(); }, 2000ms));
  // After the pause the client reconnects by itself.
  EXPECT_TRUE(
      eventually([&] { return client->is_connected() && client->is_subscriber_connected(); }, 5000ms));
  std::lock_guard lock(recorder->mutex);
  const auto down = std::find(recorder->states.begin(), recorder->states.end(),
                              std::make_pair(RedisClient::Link::kCommands, false));
  EXPECT_NE(down, recorder->states.end()) << "the state handler reports the outage";
}

TEST_F(RedisClientTest, PublishSubscribeAndPatterns) {
  auto client = connect();
  auto channel = std::make_shared<Recorder>();
  auto pattern = std::make_shared<Recorder>();
  client->subscribe("room:1", channel->on_message(), channel->on_ack());
  client->psubscribe("room:*", pattern->on_message(), pattern->on_ack());
  ASSERT_TRUE(eventually([&] { return channel->ack_count() == 1 && pattern->ack_count() == 1; }));
  EXPECT_FALSE(channel->acks[0]);
  EXPECT_FALSE(pattern->acks[0]);

  const std::string binary("hi\0there", 8);
  EXPECT_EQ(run(*client, {"PUBLISH", "room:1", binary}).reply, RedisReply::make_integer(2));
  ASSERT_TRUE(eventually([&] { return channel->message_count() == 1 && pattern->message_count() == 1; }));
  EXPECT_EQ(channel->messages[0].channel, "room:1");
  EXPECT_EQ(channel->messages[0].payload, binary);
  EXPECT_TRUE(channel->messages[0].pattern.empty());
  EXPECT_EQ(pattern->messages[0].pattern, "room:*");
  EXPECT_EQ(pattern->messages[0].channel, "room:1");
}

TEST_F(RedisClientTest, MessagesArriveInPublishOrder) {
  auto client = connect();
  auto rec = std::make_shared<Recorder>();
  client->subscribe("ordered", rec->on_message(), rec->on_ack());
  ASSERT_TRUE(eventually([&] { return rec->ack_count() == 1; }));
  for (int i = 0; i < 200; ++i) server_->cmd({"PUBLISH", "ordered", std::to_string(i)});
  ASSERT_TRUE(eventually([&] { return rec->message_count() == 200; }));
  std::lock_guard lock(rec->mutex);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(rec->messages[i].payload, std::to_string(i));
}

TEST_F(RedisClientTest, SharedChannelUnsubscribesOnTheServerAfterTheLastHandler) {
  auto client = connect();
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  const auto id_a = client->subscribe("shared", a->on_message(), a->on_ack());
  const auto id_b = client->subscribe("shared", b->on_message(), b->on_ack());
  ASSERT_TRUE(eventually([&] { return a->ack_count() == 1 && b->ack_count() == 1; }));
  const auto numsub = [&] { return server_->cmd({"PUBSUB", "NUMSUB", "shared"}).elements.at(1).integer; };
  EXPECT_EQ(numsub(), 1) << "one server-side subscription per channel, however many handlers";

  client->unsubscribe(id_a);
  server_->cmd({"PUBLISH", "shared", "one"});
  ASSERT_TRUE(eventually([&] { return b->saw_payload("one"); }));
  EXPECT_FALSE(a->saw_payload("one"));
  EXPECT_EQ(numsub(), 1);

  client->unsubscribe(id_b);
  EXPECT_TRUE(eventually([&] { return numsub() == 0; }));
  client->unsubscribe(id_b);  // unknown ids are ignored
}

TEST_F(RedisClientTest, ReconnectsAfterRestartAndRestoresSubscriptions) {
  auto client = connect();
  auto channel = std::make_shared<Recorder>();
  auto pattern = std::make_shared<Recorder>();
  client->subscribe("events", channel->on_message(), channel->on_ack());
  client->psubscribe("ev*", pattern->on_message(), pattern->on_ack());
  ASSERT_TRUE(eventually([&] { return channel->ack_count() == 1 && pattern->ack_count() == 1; }));

  // A command in flight when Redis dies gets kConnectionLost, not silence.
  auto lost = std::make_shared<std::promise<std::error_code>>();
  auto lost_future = lost->get_future();
  client->command({"BLPOP", "never", "0"}, 0ms,
                  [lost](std::error_code ec, RedisReply) { lost->set_value(ec); });
  std::this_thread::sleep_for(100ms);

  server_->kill();
  ASSERT_EQ(lost_future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(lost_future.get(), RedisErrc::kConnectionLost);
  ASSERT_TRUE(eventually([&] { return !client->is_connected() && !client->is_subscriber_connected(); }));
  const auto r = run(*client, {"PING"});
  EXPECT_TRUE(r.ec == RedisErrc::kNotConnected) << r.ec.message();

  // A subscription made during the outage is made on reconnect too.
  auto late = std::make_shared<Recorder>();
  client->subscribe("late", late->on_message(), late->on_ack());
  ASSERT_TRUE(eventually([&] { return late->ack_count() == 1; }));
  EXPECT_EQ(late->acks[0], RedisErrc::kNotConnected);

  ASSERT_TRUE(server_->start());
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      eventually([&] { return client->is_connected() && client->is_subscriber_connected(); }, 5000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - restarted, 2s) << "reconnect within the capped backoff";
  ASSERT_TRUE(eventually([&] {
    const auto numsub = server_->cmd({"PUBSUB", "NUMSUB", "events", "late"});
    return numsub.is_array() && numsub.elements.size() == 4 && numsub.elements[1].integer == 1 &&
           numsub.elements[3].integer == 1 && server_->integer({"PUBSUB", "NUMPAT"}) == 1;
  }));
  server_->cmd({"PUBLISH", "events", "after-restart"});
  server_->cmd({"PUBLISH", "late", "hello"});
  EXPECT_TRUE(eventually([&] { return channel->saw_payload("after-restart"); }));
  EXPECT_TRUE(eventually([&] { return pattern->saw_payload("after-restart"); }));
  EXPECT_TRUE(eventually([&] { return late->saw_payload("hello"); }));
  EXPECT_FALSE(run(*client, {"SET", "k", "v"}).ec);
}

TEST_F(RedisClientTest, EvalLoadsUnknownScripts) {
  auto client = connect();
  const RedisScript script("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}");
  server_->cmd({"SCRIPT", "FLUSH"});
  for (int round = 0; round < 2; ++round) {  // first EVALSHA misses and falls back to EVAL; then it hits
    auto promise = std::make_shared<std::promise<test::CommandResult>>();
    client->eval(script, {"key"}, {"arg", "41"}, [promise](std::error_code ec, RedisReply reply) {
      promise->set_value({ec, std::move(reply), true});
    });
    auto future = promise->get_future();
    ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
    const auto r = future.get();
    EXPECT_FALSE(r.ec) << r.reply.debug_string();
    EXPECT_EQ(r.reply, RedisReply::make_array({RedisReply::make_string("key"), RedisReply::make_string("arg"),
                                               RedisReply::make_integer(42)}));
    EXPECT_EQ(server_->cmd({"SCRIPT", "EXISTS", script.sha1()}).elements.at(0).integer, 1);
  }
}

// Scripts sent back to back run in the order they were sent, also on their first use and after a restart
// (a new server without the script): a room's messages are appended by a script, and their order is the
// room's.
TEST_F(RedisClientTest, PipelinedScriptsKeepTheirOrder) {
  auto client = connect();
  const RedisScript append("return redis.call('RPUSH', KEYS[1], ARGV[1])");
  const auto pipeline = [&](const std::string& key) {
    constexpr int kCount = 200;
    auto left = std::make_shared<std::atomic<int>>(kCount);
    auto failures = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < kCount; ++i) {
      client->eval(append, {key}, {std::to_string(i)}, [left, failures](std::error_code ec, RedisReply) {
        if (ec) ++*failures;
        --*left;
      });
      // Another instance loads the script meanwhile, as happens when instances share a fresh Redis.
      if (i == kCount / 4) server_->cmd({"SCRIPT", "LOAD", append.source()});
    }
    EXPECT_TRUE(eventually([&] { return *left == 0; }));
    EXPECT_EQ(*failures, 0);
    const auto list = server_->cmd({"LRANGE", key, "0", "-1"});
    ASSERT_EQ(list.elements.size(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) ASSERT_EQ(list.elements[i].str, std::to_string(i)) << "position " << i;
  };
  server_->cmd({"SCRIPT", "FLUSH"});
  pipeline("first-use");
  pipeline("known");
  server_->kill();
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(eventually([&] { return client->is_connected(); }));
  pipeline("after-restart");
}

TEST_F(RedisClientTest, StopFailsPendingAndLaterCommands) {
  auto client = connect();
  auto stopped = std::make_shared<std::promise<std::error_code>>();
  auto future = stopped->get_future();
  client->command({"BLPOP", "never", "0"}, 0ms,
                  [stopped](std::error_code ec, RedisReply) { stopped->set_value(ec); });
  std::this_thread::sleep_for(100ms);
  client->stop();
  ASSERT_EQ(future.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(future.get(), RedisErrc::kShuttingDown);
  EXPECT_EQ(run(*client, {"PING"}).ec, RedisErrc::kShuttingDown);
  EXPECT_FALSE(client->is_connected());
  client->stop();  // idempotent
}

class RedisClientAuthTest : public test::RealRedisTest {
 protected:
  std::string server_password() override { return "s3cr:t"; }
};

TEST_F(RedisClientAuthTest, LogsInWithThePasswordOfTheUrl) {
  auto client =
      connect(test_options("redis://:s3cr%3At@127.0.0.1:" + std::to_string(server_->port()) + "/0"));
  EXPECT_EQ(run(*client, {"PING"}).reply, RedisReply::make_status("PONG"));
}

TEST_F(RedisClientAuthTest, WrongPasswordNeverConnects) {
  auto client = std::make_shared<RedisClient>(
      io_.ioc(), test_options("redis://:wrong@127.0.0.1:" + std::to_string(server_->port()) + "/0"));
  client->start();
  std::this_thread::sleep_for(400ms);
  EXPECT_FALSE(client->is_connected());
  EXPECT_EQ(run(*client, {"PING"}).ec, RedisErrc::kNotConnected);
}

class RedisClientUnixTest : public test::RealRedisTest {
 protected:
  std::vector<std::string> server_args() override {
    return {"--unixsocket", server_dir_ + "/redis.sock", "--unixsocketperm", "700"};
  }
  void SetUp() override {
    char tmpl[] = "/tmp/switchboard-redis-sock-XXXXXX";
    server_dir_ = ::mkdtemp(tmpl);
    test::RealRedisTest::SetUp();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(server_dir_, ignored);
  }
  std::string server_dir_;
};

TEST_F(RedisClientUnixTest, ConnectsOverAUnixSocket) {
  auto client = connect(test_options("unix://" + server_dir_ + "/redis.sock?db=2"));
  ASSERT_FALSE(run(*client, {"SET", "via", "unix"}).ec);
  server_->cmd({"SELECT", "2"});
  EXPECT_EQ(server_->cmd({"GET", "via"}), RedisReply::make_string("unix"));
}

}  // namespace
}  // namespace switchboard::redis
