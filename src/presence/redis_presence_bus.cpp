#include "switchboard/presence/redis_presence_bus.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "switchboard/redis/redis_keys.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::presence {
namespace {

namespace keys = redis::keys;

constexpr util::AreaLogger log{"presence"};

// The hash field holding the seq of the instance's latest publication; user ids never start with '#'.
constexpr const char* kVersionField = "#version";

// KEYS[1]: this instance's hash. ARGV: user id, publication, connected (1/0), seq, channel.
// A publication older than what the hash holds (reordered by a script reload) is dropped: returns 0.
const redis::RedisScript& user_script() {
  static const redis::RedisScript script(R"lua(
local current = tonumber(redis.call('HGET', KEYS[1], '#version') or '0')
if tonumber(ARGV[4]) <= current then return 0 end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) else redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('HSET', KEYS[1], '#version', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
)lua");
  return script;
}

// KEYS[1]: this instance's hash. ARGV: version, channel, publication, then user id / snapshot pairs.
// Replaces the whole hash; returns 0 (nothing done) when a newer publication is there already.
const redis::RedisScript& all_script() {
  static const redis::RedisScript script(R"lua(
local current = tonumber(redis.call('HGET', KEYS[1], '#version') or '0')
if tonumber(ARGV[1]) < current then return 0 end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], '#version', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
)lua");
  return script;
}

// The heartbeat. ARGV: own id, TTL (ms), full (1/0), instances set, heartbeat key prefix, hash prefix, own
// channel, resync request number. Refreshes this instance's heartbeat, removes instances whose heartbeat
// expired (and their hash), and publishes {type:"sync", live:[ids], full?:{id:{v, users:[snapshot JSON]}},
// request?} on the own channel, so the answer is ordered with the presence channel's publications. Returns
// whether the heartbeat key existed.
// (It names keys it builds from the prefixes: fine on a standalone Redis, as the room log's delete script.)
const redis::RedisScript& sync_script() {
  static const redis::RedisScript script(R"lua(
local me, set, alive, hashes = ARGV[1], ARGV[4], ARGV[5], ARGV[6]
local was = redis.call('EXISTS', alive .. me)
redis.call('SET', alive .. me, '1', 'PX', tonumber(ARGV[2]))
redis.call('SADD', set, me)
local live, full = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', set)) do
  if id ~= me then
    if redis.call('EXISTS', alive .. id) == 1 then
      live[#live + 1] = id
      if ARGV[3] == '1' then
        local flat = redis.call('HGETALL', hashes .. id)
        local state = {users = {}}
        for i = 1, #flat, 2 do
          if flat[i] == '#version' then state.v = flat[i + 1] else state.users[#state.users + 1] = flat[i + 1] end
        end
        full[id] = state
      end
    else
      redis.call('SREM', set, id)
      redis.call('DEL', hashes .. id)
    end
  end
end
local answer = {type = 'sync', live = live}
if ARGV[3] == '1' then answer.full = full; answer.request = ARGV[8] end
redis.call('PUBLISH', ARGV[7], cjson.encode(answer))
return was
)lua");
  return script;
}

// KEYS: this instance's hash and heartbeat key. ARGV: instances set, own id, channel, publication.
const redis::RedisScript& bye_script() {
  static const redis::RedisScript script(R"lua(
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua");
  return script;
}

}  // namespace

RedisPresenceBus::RedisPresenceBus(boost::asio::any_io_executor executor,
                                   std::shared_ptr<redis::RedisClient> client, std::string instance_id,
                                   std::chrono::milliseconds heartbeat)
    : strand_(boost::asio::make_strand(std::move(executor))),
      client_(std::move(client)),
      instance_id_(std::move(instance_id)),
      heartbeat_(std::max(heartbeat, std::chrono::milliseconds(100))),
      timer_(strand_) {}

void RedisPresenceBus::start(Handlers handlers) {
  boost::asio::post(strand_, [self = shared_from_this(), handlers = std::move(handlers)]() mutable {
    if (self->started_ || self->stopped_) return;
    self->started_ = true;
    self->handlers_ = std::move(handlers);
    self->last_sync_ = std::chrono::steady_clock::now();
    const std::weak_ptr<RedisPresenceBus> weak = self;
    const auto on_message = [weak](const redis::PubSubMessage& m) {
      if (auto s = weak.lock()) s->on_channel(m);
    };
    // Each confirmed subscription asks for a heartbeat, whose resync answer then reaches us.
    const auto on_ack = [weak](std::error_code ec) {
      if (auto s = weak.lock(); s && !ec) s->kick();
    };
    self->shared_sub_ = self->client_->subscribe(std::string(keys::kPresenceChannel), on_message, on_ack);
    self->own_sub_ =
        self->client_->subscribe(keys::presence_sync_channel(self->instance_id_), on_message, on_ack);
    self->schedule(std::chrono::milliseconds(0));
  });
}

void RedisPresenceBus::stop() {
  if (stopped_.exchange(true)) return;
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->timer_.cancel();
    if (!self->started_) return;
    self->client_->unsubscribe(self->shared_sub_);
    self->client_->unsubscribe(self->own_sub_);
    // Best effort: without it the others notice through the expired heartbeat instead.
    self->client_->eval(
        bye_script(), {keys::presence_instance(self->instance_id_), keys::presence_alive(self->instance_id_)},
        {std::string(keys::kPresenceInstances), self->instance_id_, std::string(keys::kPresenceChannel),
         encode_bye(self->instance_id_)},
        [](std::error_code ec, redis::RedisReply) {
          if (ec) log()->info("presence: leaving the shared presence failed: {}", ec.message());
        });
  });
}

void RedisPresenceBus::on_channel(const redis::PubSubMessage& m) {
  if (stopped_) return;
  auto p = decode_publication(m.payload);
  if (!p) {
    log()->warn("presence: unreadable publication on {} ignored: {}", m.channel,
                util::utf8_excerpt(m.payload, 200));
    return;
  }
  const bool own_channel = m.channel != keys::kPresenceChannel;
  if (p->kind == PresencePublication::Kind::kSync) {
    if (!own_channel) {
      log()->warn("presence: a sync answer on the shared channel ignored");
      return;
    }
    boost::asio::post(strand_, [self = shared_from_this(), full = p->full, request = p->request] {
      self->last_sync_ = std::chrono::steady_clock::now();
      if (full) {
        self->full_answered_ = std::max(self->full_answered_, request);
        self->lost_ = false;
      }
    });
    if (handlers_.on_live) handlers_.on_live(p->live);
    if (handlers_.on_instance)
      for (auto& s : p->states) handlers_.on_instance(s.instance, s.version, std::move(s.users));
    return;
  }
  if (own_channel || p->instance == instance_id_) return;  // our own publications: applied locally already
  switch (p->kind) {
    case PresencePublication::Kind::kUser:
      if (handlers_.on_user) handlers_.on_user(std::move(p->user));
      break;
    case PresencePublication::Kind::kAll:
      if (handlers_.on_instance)
        handlers_.on_instance(p->instance, p->state.version, std::move(p->state.users));
      break;
    case PresencePublication::Kind::kBye:
      if (handlers_.on_gone) handlers_.on_gone(p->instance);
      break;
    case PresencePublication::Kind::kSync:
      break;
  }
}

void RedisPresenceBus::schedule(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->heartbeat();
  });
}

void RedisPresenceBus::kick() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_ || !self->started_) return;
    if (self->in_flight_)
      self->again_ = true;
    else
      self->schedule(std::chrono::milliseconds(0));
  });
}

void RedisPresenceBus::link_up(redis::RedisClient::Link link) {
  boost::asio::post(strand_, [self = shared_from_this(), link] {
    if (link == redis::RedisClient::Link::kCommands)
      self->dirty_ = true;  // publications may have failed while it was down
    else
      ++self->full_wanted_;  // others' publications may have been missed
    self->kick();
  });
}

void RedisPresenceBus::heartbeat() {
  if (stopped_ || in_flight_) return;
  if (!lost_ && std::chrono::steady_clock::now() - last_sync_ > ttl()) {
    lost_ = true;
    ++full_wanted_;
    log()->warn("presence: no answer from Redis for {} ms; showing local presence only until it is back",
                ttl().count());
    if (handlers_.on_lost) handlers_.on_lost();
  }
  in_flight_ = true;
  const bool full = full_answered_ < full_wanted_;
  client_->eval(sync_script(), {},
                {instance_id_, std::to_string(ttl().count()), full ? "1" : "0",
                 std::string(keys::kPresenceInstances), keys::presence_alive(""), keys::presence_instance(""),
                 keys::presence_sync_channel(instance_id_), std::to_string(full_wanted_)},
                [self = shared_from_this()](std::error_code ec, redis::RedisReply reply) {
                  const auto was_alive = reply.as_integer().value_or(0);
                  boost::asio::post(self->strand_,
                                    [self, ec, was_alive] { self->heartbeat_done(ec, was_alive); });
                });
}

void RedisPresenceBus::heartbeat_done(std::error_code ec, std::int64_t was_alive) {
  in_flight_ = false;
  if (stopped_) return;
  if (ec) {
    log()->debug("presence: heartbeat failed: {}", ec.message());
  } else if (was_alive == 0 || dirty_) {
    // Redis does not hold our state (first heartbeat, Redis restarted or flushed, or we were declared dead),
    // or some publication failed: publish it whole.
    if (was_alive == 0) log()->info("presence: publishing this instance's users to the shared presence");
    dirty_ = false;
    if (handlers_.on_republish) handlers_.on_republish();
  }
  schedule(again_ ? std::chrono::milliseconds(0) : heartbeat_);
  again_ = false;
}

void RedisPresenceBus::publication_failed(std::error_code ec) {
  log()->debug("presence: publication failed ({}); republishing at the next heartbeat", ec.message());
  boost::asio::post(strand_, [self = shared_from_this()] { self->dirty_ = true; });
}

void RedisPresenceBus::publish(PresenceSnapshot snapshot) {
  if (stopped_) return;
  snapshot.instance = instance_id_;
  snapshot.seq = ++seq_;
  auto payload = encode_user(snapshot);
  client_->eval(user_script(), {keys::presence_instance(instance_id_)},
                {snapshot.user_id, std::move(payload), snapshot.connected ? "1" : "0",
                 std::to_string(snapshot.seq), std::string(keys::kPresenceChannel)},
                [self = shared_from_this()](std::error_code ec, redis::RedisReply) {
                  // A 0 reply (superseded by a newer publication) needs nothing: that one carries the state.
                  if (ec) self->publication_failed(ec);
                });
}

void RedisPresenceBus::publish_all(std::vector<PresenceSnapshot> users) {
  if (stopped_) return;
  const auto version = ++seq_;
  std::vector<std::string> args{std::to_string(version), std::string(keys::kPresenceChannel), ""};
  args.reserve(3 + users.size() * 2);
  for (auto& u : users) {
    u.instance = instance_id_;
    u.seq = version;
    if (!u.connected) continue;
    args.push_back(u.user_id);
    args.push_back(encode_user(u));
  }
  args[2] = encode_all(instance_id_, version, users);
  client_->eval(all_script(), {keys::presence_instance(instance_id_)}, std::move(args),
                [self = shared_from_this()](std::error_code ec, redis::RedisReply reply) {
                  if (ec)
                    self->publication_failed(ec);
                  else if (reply.as_integer().value_or(0) == 0)
                    self->publication_failed(make_error_code(redis::RedisErrc::kUnexpectedReply));
                });
}

}  // namespace switchboard::presence
