#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "switchboard/config/config.hpp"
#include "switchboard/redis/redis_error.hpp"
#include "switchboard/redis/redis_reply.hpp"
#include "switchboard/redis/redis_script.hpp"
#include "switchboard/redis/redis_url.hpp"

namespace boost::asio {
class io_context;
}

namespace switchboard::redis {

// One message received on a subscribed channel (or a channel matching a subscribed pattern).
struct PubSubMessage {
  std::string pattern;  // the PSUBSCRIBE pattern that matched; empty for SUBSCRIBE
  std::string channel;
  std::string payload;  // binary-safe
};

// An asynchronous Redis client on hiredis' async API, driven by the server's io_context (an Asio adapter
// watches hiredis' socket with stream_descriptor::async_wait; no hiredis call ever blocks an I/O thread). It
// keeps two connections: one for commands, pipelined, and one for SUBSCRIBE/PSUBSCRIBE. Each reconnects by
// itself with capped, jittered exponential backoff after a failure, logs in again (AUTH, SELECT) and, for the
// subscriber, subscribes again to everything subscribed. A PING every health_check_interval drops a
// connection whose server has stopped answering, so a silent network failure is noticed too.
//
// Commands are never queued while the command connection is down: they fail at once with kNotConnected. While
// it is up, at most max_pending_commands may await replies; beyond that they fail with kOverloaded.
//
// Thread-safety: every public method may be called from any thread. All hiredis state lives on one strand.
// Handlers:
//   - command/eval handlers run exactly once, on an io_context thread (never inline in the call, never on the
//     client's strand, possibly concurrently with each other), so they may block briefly or call the client
//     again;
//   - message, subscription-ack and state handlers run on the client's strand, in order: keep them short and
//   post
//     real work to your own strand. They must not throw (an exception is caught and logged).
// Lifetime: the client must be destroyed (or stop()ped) before its io_context. Destroying it stops it.
class RedisClient final {
 public:
  struct Options {
    RedisUrl url;
    std::chrono::milliseconds connect_timeout{2000};  // TCP connect plus AUTH/SELECT/PING handshake
    std::chrono::milliseconds command_timeout{1000};  // default per-command timeout
    std::chrono::milliseconds reconnect_initial_backoff{100};
    std::chrono::milliseconds reconnect_max_backoff{2000};
    std::chrono::milliseconds health_check_interval{3000};  // 0: no PINGs
    std::size_t max_pending_commands = 10000;
    std::string client_name = "switchboard";  // CLIENT SETNAME prefix, visible in CLIENT LIST
  };

  enum class Link : std::uint8_t { kCommands, kSubscriber };
  using SubscriptionId = std::uint64_t;
  using ReplyHandler = std::function<void(std::error_code, RedisReply)>;
  using MessageHandler = std::function<void(const PubSubMessage&)>;
  using AckHandler = std::function<void(std::error_code)>;
  using StateHandler = std::function<void(Link, bool up)>;

  // Options from the `redis.*` config keys. Throws std::invalid_argument for a bad redis.url.
  static Options options_from(const config::Config::Redis& redis);

  RedisClient(boost::asio::io_context& ioc, Options options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Called when a connection comes up (handshake done) or goes down; for /readyz and metrics. Set it before
  // start(). Never called after stop().
  void set_state_handler(StateHandler handler);

  // Starts connecting both links. Returns at once; watch is_connected() or the state handler.
  void start();
  // Closes both connections. Commands awaiting replies fail with kShuttingDown; later calls fail the same
  // way. Idempotent; returns at once.
  void stop();

  // The command connection is up (connected, logged in, answered PING). Cheap; any thread.
  bool is_connected() const;
  // The subscriber connection is up and has re-sent every subscription.
  bool is_subscriber_connected() const;

  // Sends one command; argv holds binary-safe arguments, the command name first, e.g. {"SET", key, value}.
  // The handler gets an error code and the decoded reply. An error reply gives both: the code classifies it
  // (classify_error_reply) and the reply carries the server's text. The timeout overload replaces the default
  // command_timeout (0: no timeout). After a timeout the command may still run on the server; its late reply
  // is dropped.
  void command(std::vector<std::string> argv, ReplyHandler done);
  void command(std::vector<std::string> argv, std::chrono::milliseconds timeout, ReplyHandler done);

  // EVAL on a script's first use on a connection (which loads it), EVALSHA after that, falling back to EVAL
  // when the server has lost it (SCRIPT FLUSH). Scripts sent back to back run in the order sent.
  void eval(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
            ReplyHandler done);

  // PUBLISH on the command connection; the reply is the number of receivers.
  void publish(std::string channel, std::string payload, ReplyHandler done);

  // Registers `on_message` for `channel` (SUBSCRIBE) or `pattern` (PSUBSCRIBE) until unsubscribe(). The
  // subscription survives reconnects. Several handlers may share a channel; the server sees one subscription.
  // `on_ack` (optional) runs once: with no error when the server has confirmed the subscription, or with
  // kNotConnected when the subscriber link is down right now (the subscription stays registered and is made
  // on reconnect), or kShuttingDown.
  SubscriptionId subscribe(std::string channel, MessageHandler on_message, AckHandler on_ack = {});
  SubscriptionId psubscribe(std::string pattern, MessageHandler on_message, AckHandler on_ack = {});
  // Removes one handler; the last handler of a channel unsubscribes it on the server. Unknown ids are
  // ignored. A message already on its way may still be delivered right after this call.
  void unsubscribe(SubscriptionId id);

  const Options& options() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

const char* to_string(RedisClient::Link link);

}  // namespace switchboard::redis
