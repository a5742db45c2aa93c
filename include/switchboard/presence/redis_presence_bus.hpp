#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "switchboard/presence/presence_bus.hpp"
#include "switchboard/redis/redis_client.hpp"

namespace switchboard::presence {

// Global presence through Redis (issue 3). Keys: see redis::keys (presence:instance:<id>,
// presence:alive:<id>, presence:instances, the channels switchboard:presence and switchboard:presence:<id>).
//
// - Each instance keeps a hash of its connected users' snapshots and publishes every change on the shared
//   channel, both in one Lua script, so the hash and the channel agree.
// - Every heartbeat period a script refreshes this instance's heartbeat key (TTL three periods), removes
//   instances whose key expired (crashed: their hash goes too), and publishes the list of live instances,
//   plus their whole state when a resync is due, on this instance's own channel. Because that answer travels
//   on the subscriber connection after everything published before it, a resync never overwrites a newer
//   change with an older one, and an instance is declared dead only after its last words.
// - A heartbeat that finds this instance's key missing (Redis restarted or flushed, or we were unreachable
//   past the TTL), or publications that failed, ask the owner to republish its whole state. A resubscribed
//   channel (Redis came back) asks for a resync of the others'. Without a sync answer for a whole TTL, the
//   others' state is dropped (local presence only) until Redis answers again.
//
// Thread-safety: every method may be called from any thread; timers and flags live on the bus's strand.
class RedisPresenceBus final : public PresenceBus, public std::enable_shared_from_this<RedisPresenceBus> {
 public:
  RedisPresenceBus(boost::asio::any_io_executor executor, std::shared_ptr<redis::RedisClient> client,
                   std::string instance_id, std::chrono::milliseconds heartbeat);

  void start(Handlers handlers) override;
  void stop() override;
  void publish(PresenceSnapshot snapshot) override;
  void publish_all(std::vector<PresenceSnapshot> users) override;
  const std::string& instance_id() const override { return instance_id_; }

  // Call from the Redis client's state handler when a link came up: the command link means publications may
  // have been lost (republish); the subscriber link means others' may have been missed (resync).
  void link_up(redis::RedisClient::Link link);

  std::chrono::milliseconds ttl() const { return heartbeat_ * 3; }

 private:
  void on_channel(const redis::PubSubMessage& m);
  void schedule(std::chrono::milliseconds after);
  void heartbeat();
  void heartbeat_done(std::error_code ec, std::int64_t was_alive);
  void kick();
  void publication_failed(std::error_code ec);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::shared_ptr<redis::RedisClient> client_;
  std::string instance_id_;
  std::chrono::milliseconds heartbeat_;
  boost::asio::steady_timer timer_;
  Handlers handlers_;
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<bool> stopped_{false};
  redis::RedisClient::SubscriptionId shared_sub_ = 0, own_sub_ = 0;

  // On the strand.
  bool started_ = false;
  bool in_flight_ = false;
  bool again_ = false;  // a heartbeat was asked for while one was in flight
  // Resyncs of the others' state: asked for, and answered (the answer echoes the request it serves). One is
  // due while answered < wanted, so a request made while an older answer is on its way is not lost.
  std::uint64_t full_wanted_ = 1;
  std::uint64_t full_answered_ = 0;
  bool dirty_ = false;  // this instance's shared state may be stale: republish it
  bool lost_ = false;   // others' state was dropped: no sync answer for a whole TTL
  int acks_ = 0;        // channel subscriptions confirmed at start
  std::chrono::steady_clock::time_point last_sync_{};
};

}  // namespace switchboard::presence
