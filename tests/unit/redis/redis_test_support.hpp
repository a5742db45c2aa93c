#pragma once
// Test support for everything that talks to Redis: a real redis-server on a free loopback port (no
// persistence, its own temporary directory), started and stopped by the test, plus a synchronous hiredis
// connection for assertions (on the test thread: never an I/O thread), and an io_context running on
// background threads.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/redis/redis_client.hpp"

extern char** environ;

namespace switchboard::test {

using namespace std::chrono_literals;

// Polls `pred` until it is true or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A loopback port that nothing listens on right now.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A real redis-server child process. start() may be called again after kill() (same port, empty dataset).
class RedisServer {
 public:
  // The redis-server binary on PATH, or empty.
  static std::string binary() {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const auto end = dirs.find(':', start);
      const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
      const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return {};
  }

  explicit RedisServer(std::vector<std::string> extra_args = {}, std::string password = {})
      : extra_args_(std::move(extra_args)), password_(std::move(password)) {
    char tmpl[] = "/tmp/switchboard-redis-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~RedisServer() {
    disconnect_sync();
    kill();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits until it answers PING. Picks a free port on the first start.
  bool start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0 || (attempt > 0 && !started_once_)) port_ = free_port();
      if (spawn() && wait_ready()) {
        started_once_ = true;
        return true;
      }
      kill();
    }
    return false;
  }

  // SIGKILL: a crash, as far as clients can tell.
  void kill() {
    disconnect_sync();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url(const std::string& db_path = "/0") const {
    const std::string creds = password_.empty() ? "" : ":" + password_ + "@";
    return "redis://" + creds + "127.0.0.1:" + std::to_string(port_) + db_path;
  }
  std::string socket_path() const { return dir_ + "/redis.sock"; }
  const std::string& dir() const { return dir_; }

  // One command on a synchronous connection (opened on demand). Returns the decoded reply; a transport error
  // gives an error reply whose text starts with "TRANSPORT".
  redis::RedisReply cmd(const std::vector<std::string>& argv) {
    if (sync_ == nullptr && !connect_sync()) return redis::RedisReply::make_error("TRANSPORT cannot connect");
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(sync_, static_cast<int>(args.size()), args.data(), lens.data()));
    if (reply == nullptr) {
      disconnect_sync();
      return redis::RedisReply::make_error("TRANSPORT lost");
    }
    auto out = redis::RedisReply::from_hiredis(reply);
    freeReplyObject(reply);
    return out;
  }
  std::int64_t integer(const std::vector<std::string>& argv) { return cmd(argv).as_integer().value_or(-999); }

 private:
  bool spawn() {
    std::vector<std::string> args = {
        "redis-server", "--port",    std::to_string(port_), "--bind",      "127.0.0.1",
        "--save",       "",          "--appendonly",        "no",          "--dir",
        dir_,           "--logfile", dir_ + "/redis.log",   "--daemonize", "no"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    if (!password_.empty()) {
      args.push_back("--requirepass");
      args.push_back(password_);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string bin = binary();
    return ::posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv.data(), environ) == 0;
  }

  bool wait_ready() {
    for (int i = 0; i < 250; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: e.g. the port was taken meanwhile
        pid_ = -1;
        return false;
      }
      if (connect_sync()) {
        const auto pong = cmd({"PING"});
        if (pong.is_text() && pong.str == "PONG") return true;
        disconnect_sync();
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  bool connect_sync() {
    disconnect_sync();
    const timeval tv{1, 0};
    sync_ = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (sync_ == nullptr || sync_->err != 0) {
      disconnect_sync();
      return false;
    }
    redisSetTimeout(sync_, timeval{5, 0});
    if (!password_.empty()) {
      auto* r = static_cast<redisReply*>(redisCommand(sync_, "AUTH %s", password_.c_str()));
      if (r != nullptr) freeReplyObject(r);
    }
    return true;
  }

  void disconnect_sync() {
    if (sync_ != nullptr) redisFree(sync_);
    sync_ = nullptr;
  }

  std::vector<std::string> extra_args_;
  std::string password_;
  std::string dir_;
  int port_ = 0;
  bool started_once_ = false;
  pid_t pid_ = -1;
  redisContext* sync_ = nullptr;
};

// An io_context with two threads, like the server's (handlers may run concurrently).
class IoThreads {
 public:
  IoThreads() : guard_(ioc_.get_executor()) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~IoThreads() { join(); }
  // Lets queued work finish, then stops: clients must be destroyed (or stopped) before this.
  void join() {
    guard_.reset();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  boost::asio::io_context& ioc() { return ioc_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

struct CommandResult {
  std::error_code ec;
  redis::RedisReply reply;
  bool completed = false;
};

// Runs one command and waits (at most `wait`) for its handler.
inline CommandResult run(redis::RedisClient& client, std::vector<std::string> argv,
                         std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                         std::chrono::milliseconds wait = 5000ms) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  auto future = promise->get_future();
  auto handler = [promise](std::error_code ec, redis::RedisReply reply) {
    promise->set_value({ec, std::move(reply), true});
  };
  if (timeout) {
    client.command(std::move(argv), *timeout, handler);
  } else {
    client.command(std::move(argv), handler);
  }
  if (future.wait_for(wait) != std::future_status::ready) return {};
  return future.get();
}

// Fast timings for tests: quick reconnects, short timeouts.
inline redis::RedisClient::Options test_options(const std::string& url) {
  redis::RedisClient::Options o;
  o.url = redis::RedisUrl::parse(url);
  o.connect_timeout = 1000ms;
  o.command_timeout = 1000ms;
  o.reconnect_initial_backoff = 20ms;
  o.reconnect_max_backoff = 300ms;
  o.health_check_interval = 0ms;
  return o;
}

// Base fixture: skips when redis-server is missing, otherwise starts one.
class RealRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServer::binary().empty())
      GTEST_SKIP()
          << "redis-server is not on PATH: install it (apt-get install redis-server; .ci/run does) to run "
             "the tests against a real Redis";
    server_ = std::make_unique<RedisServer>(server_args(), server_password());
    ASSERT_TRUE(server_->start()) << "redis-server did not start; see " << server_->dir() << "/redis.log";
  }
  virtual std::vector<std::string> server_args() { return {}; }
  virtual std::string server_password() { return {}; }

  // A started client on the fixture's io_context; waits until both links are up.
  std::shared_ptr<redis::RedisClient> connect(redis::RedisClient::Options options) {
    auto client = std::make_shared<redis::RedisClient>(io_.ioc(), std::move(options));
    client->start();
    EXPECT_TRUE(eventually([&] { return client->is_connected() && client->is_subscriber_connected(); }))
        << "client did not connect to " << server_->url();
    return client;
  }
  std::shared_ptr<redis::RedisClient> connect() { return connect(test_options(server_->url())); }

  // Declared first so it is destroyed last: clients (members of derived fixtures or locals) go before it.
  IoThreads io_;
  std::unique_ptr<RedisServer> server_;
};

}  // namespace switchboard::test
