#include "switchboard/store/redis_room_log.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "switchboard/redis/redis_keys.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::store {
namespace {

namespace keys = redis::keys;

constexpr util::AreaLogger log{"redis"};

// KEYS: seq, messages, ids, sender index. ARGV: message id, frame JSON, channel, origin, room id.
// A known id answers {0, seq, stored frame} (a retried send); otherwise the message gets the next seq, is
// stored, indexed and published in one step: {1, seq}.
const redis::RedisScript& append_script() {
  static const redis::RedisScript script(R"lua(
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then return {0, tonumber(existing), redis.call('HGET', KEYS[2], existing)} end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], seq, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], seq)
redis.call('SADD', KEYS[4], ARGV[5] .. ' ' .. seq)
redis.call('PUBLISH', ARGV[3], 'm ' .. ARGV[4] .. ' ' .. seq .. '\n' .. ARGV[2])
return {1, seq}
)lua");
  return script;
}

// KEYS: seq, messages, status, ids. ARGV: mode (tail | after_seq | after_id | before_id), anchor, limit.
// Returns {last seq, anchor found (0/1), first seq of the range, frames[], statuses[]}; missing entries are
// nil.
const redis::RedisScript& range_script() {
  static const redis::RedisScript script(R"lua(
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local mode, anchor, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local from, to
if mode == 'tail' then
  to = last; from = last - limit + 1
elseif mode == 'after_seq' then
  from = tonumber(anchor) + 1; to = math.min(last, from + limit - 1)
else
  local s = redis.call('HGET', KEYS[4], anchor)
  if not s then return {last, 0, 0, {}, {}} end
  s = tonumber(s)
  if mode == 'after_id' then from = s + 1; to = math.min(last, s + limit) else to = s - 1; from = s - limit end
end
if from < 1 then from = 1 end
if to < from then return {last, 1, from, {}, {}} end
local fields = {}
for i = from, to do fields[#fields + 1] = i end
return {last, 1, from, redis.call('HMGET', KEYS[2], unpack(fields)), redis.call('HMGET', KEYS[3], unpack(fields))}
)lua");
  return script;
}

// KEYS: ids, status. ARGV: message id, status. Raises, never lowers.
const redis::RedisScript& status_script() {
  static const redis::RedisScript script(R"lua(
local seq = redis.call('HGET', KEYS[1], ARGV[1])
if not seq then return 0 end
local current = tonumber(redis.call('HGET', KEYS[2], seq) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[2], seq, ARGV[2]) return 1 end
return 0
)lua");
  return script;
}

// KEYS: sender index. ARGV: user id, channel, origin. Blanks every message the user sent (content "", deleted
// true) in place, so the text is gone from Redis, then announces it. Returns how many were blanked.
const redis::RedisScript& delete_script() {
  static const redis::RedisScript script(R"lua(
local n = 0
for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local space = string.find(entry, ' ', 1, true)
  local room, seq = string.sub(entry, 1, space - 1), string.sub(entry, space + 1)
  local key = 'room:' .. room .. ':messages'
  local raw = redis.call('HGET', key, seq)
  if raw then
    local m = cjson.decode(raw)
    if not m.deleted then
      m.content = ''
      m.deleted = true
      redis.call('HSET', key, seq, cjson.encode(m))
      n = n + 1
    end
  end
end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. ARGV[1])
return n
)lua");
  return script;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

struct RedisRoomLog::Range {
  std::uint64_t last_seq = 0;
  bool anchor_found = true;
  std::vector<chat::Message> messages;  // oldest first, with seq and status
  std::vector<Published> frames;        // the same, as stored frames
};

RedisRoomLog::RedisRoomLog(std::shared_ptr<redis::RedisClient> client, std::string instance_id)
    : client_(std::move(client)), instance_id_(std::move(instance_id)) {}

std::string RedisRoomLog::encode_event(const std::string& origin, const std::string& frame) {
  std::string out;
  out.reserve(origin.size() + frame.size() + 3);
  out.append("e ").append(origin).append("\n").append(frame);
  return out;
}

std::optional<RedisRoomLog::Envelope> RedisRoomLog::decode(const std::string& payload) {
  const auto newline = payload.find('\n');
  if (newline == std::string::npos || payload.size() < 3 || payload[1] != ' ') return std::nullopt;
  Envelope e;
  e.kind = payload[0];
  const std::string_view head(payload.data() + 2, newline - 2);
  if (e.kind == 'e') {
    e.origin = std::string(head);
  } else if (e.kind == 'm') {
    const auto space = head.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    e.origin = std::string(head.substr(0, space));
    const auto seq = parse_u64(head.substr(space + 1));
    if (!seq || *seq == 0) return std::nullopt;
    e.seq = *seq;
  } else {
    return std::nullopt;
  }
  if (e.origin.empty()) return std::nullopt;
  e.frame = payload.substr(newline + 1);
  return e;
}

// ---- writes

void RedisRoomLog::publish_message(const chat::Message& message, AppendDone done) {
  client_->eval(
      append_script(),
      {keys::room_seq(message.room_id), keys::room_messages(message.room_id), keys::room_ids(message.room_id),
       keys::sender_messages(message.sender_id)},
      {message.id, util::json_text(chat::to_json(message)), keys::room_channel(message.room_id), instance_id_,
       message.room_id},
      [done = std::move(done), room = message.room_id](std::error_code ec, redis::RedisReply reply) {
        if (ec) return done(ec, {});
        if (!reply.is_array() || reply.elements.size() < 2)
          return done(make_error_code(redis::RedisErrc::kUnexpectedReply), {});
        Appended out;
        out.seq = static_cast<std::uint64_t>(reply.elements[1].as_integer().value_or(0));
        if (reply.elements[0].as_integer().value_or(1) == 0) {
          const auto frame = reply.elements.size() > 2 ? reply.elements[2].text() : std::nullopt;
          if (frame) out.existing = chat::message_from_frame(std::string(*frame), out.seq);
          if (!out.existing) return done(make_error_code(redis::RedisErrc::kUnexpectedReply), {});
        }
        done({}, std::move(out));
      });
}

void RedisRoomLog::append(const chat::Message& message, Done done) {
  publish_message(message, [done = std::move(done)](std::error_code ec, Appended) { done(ec); });
}

void RedisRoomLog::publish_event(const std::string& room_id, std::string frame) {
  client_->publish(keys::room_channel(room_id), encode_event(instance_id_, frame),
                   [room_id](std::error_code ec, redis::RedisReply) {
                     // Transient frames (typing, deltas) are best effort: other instances miss this one.
                     if (ec) log()->debug("room {}: relaying a frame failed: {}", room_id, ec.message());
                   });
}

void RedisRoomLog::update_status(const std::string& room_id, const std::string& message_id,
                                 chat::DeliveryStatus status) {
  client_->eval(status_script(), {keys::room_ids(room_id), keys::room_status(room_id)},
                {message_id, std::to_string(static_cast<int>(status))},
                [room_id](std::error_code ec, redis::RedisReply) {
                  if (ec) log()->warn("room {}: storing a delivery status failed: {}", room_id, ec.message());
                });
}

void RedisRoomLog::delete_by_sender(const std::string& user_id, Done done) {
  client_->eval(delete_script(), {keys::sender_messages(user_id)},
                {user_id, std::string(keys::kSenderDeletedChannel), instance_id_},
                [done = std::move(done)](std::error_code ec, redis::RedisReply) { done(ec); });
}

void RedisRoomLog::on_sender_deleted(std::function<void(const std::string& user_id)> handler) {
  client_->subscribe(std::string(keys::kSenderDeletedChannel),
                     [this, handler = std::move(handler)](const redis::PubSubMessage& m) {
                       const auto space = m.payload.find(' ');
                       if (space == std::string::npos) return;
                       if (m.payload.compare(0, space, instance_id_) == 0) return;  // ours: rooms were told
                       handler(m.payload.substr(space + 1));
                     });
}

// ---- reads

void RedisRoomLog::read_range(const std::string& room_id, const char* mode, const std::string& anchor,
                              std::size_t limit, std::function<void(std::error_code, Range)> done) {
  client_->eval(range_script(),
                {keys::room_seq(room_id), keys::room_messages(room_id), keys::room_status(room_id),
                 keys::room_ids(room_id)},
                {mode, anchor, std::to_string(limit)},
                [done = std::move(done), room_id](std::error_code ec, redis::RedisReply reply) {
                  if (ec) return done(ec, {});
                  if (!reply.is_array() || reply.elements.size() != 5 || !reply.elements[3].is_array() ||
                      !reply.elements[4].is_array())
                    return done(make_error_code(redis::RedisErrc::kUnexpectedReply), {});
                  Range out;
                  out.last_seq = static_cast<std::uint64_t>(reply.elements[0].as_integer().value_or(0));
                  out.anchor_found = reply.elements[1].as_integer().value_or(0) == 1;
                  const auto first = static_cast<std::uint64_t>(reply.elements[2].as_integer().value_or(1));
                  const auto& frames = reply.elements[3].elements;
                  const auto& statuses = reply.elements[4].elements;
                  for (std::size_t i = 0; i < frames.size(); ++i) {
                    const auto text = frames[i].text();
                    if (!text) continue;  // never written (a gap) or removed
                    const std::uint64_t seq = first + i;
                    auto m = chat::message_from_frame(std::string(*text), seq);
                    if (!m) {
                      log()->warn("room {}: unreadable message at seq {} skipped", room_id, seq);
                      continue;
                    }
                    const auto status = i < statuses.size() ? statuses[i].as_integer() : std::nullopt;
                    if (status && *status > static_cast<int>(m->status) && *status <= 2)
                      m->status = static_cast<chat::DeliveryStatus>(*status);
                    out.frames.push_back(
                        Published{seq, status ? util::json_text(chat::to_json(*m)) : std::string(*text)});
                    out.messages.push_back(std::move(*m));
                  }
                  done({}, std::move(out));
                });
}

void RedisRoomLog::load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) {
  read_range(room_id, "tail", "", limit, [done = std::move(done)](std::error_code ec, Range r) {
    RoomState state;
    state.last_seq = r.last_seq;
    state.recent = std::move(r.messages);
    done(ec, std::move(state));
  });
}

void RedisRoomLog::after(const std::string& room_id, const std::string& since_id, std::size_t limit,
                         PageDone done) {
  read_range(room_id, "after_id", since_id, limit, [done = std::move(done)](std::error_code ec, Range r) {
    done(ec, Page{std::move(r.messages), r.anchor_found});
  });
}

void RedisRoomLog::before(const std::string& room_id, const std::string& before_id, std::size_t limit,
                          PageDone done) {
  read_range(room_id, before_id.empty() ? "tail" : "before_id", before_id, limit,
             [done = std::move(done)](std::error_code ec, Range r) {
               done(ec, Page{std::move(r.messages), r.anchor_found});
             });
}

void RedisRoomLog::fetch(const std::string& room_id, std::uint64_t after_seq, std::size_t limit,
                         FetchDone done) {
  read_range(room_id, "after_seq", std::to_string(after_seq), limit,
             [done = std::move(done)](std::error_code ec, Range r) { done(ec, std::move(r.frames)); });
}

// ---- subscriptions

chat::RoomBus::SubscriptionId RedisRoomLog::subscribe(const std::string& room_id, Handlers handlers) {
  auto shared = std::make_shared<Handlers>(std::move(handlers));
  const auto on_message = [shared, self = std::weak_ptr<RedisRoomLog>(weak_from_this()),
                           origin = instance_id_](const redis::PubSubMessage& m) {
    auto envelope = decode(m.payload);
    if (!envelope) {
      log()->warn("channel {}: unreadable publication skipped", m.channel);
      return;
    }
    if (envelope->kind == 'm') {
      if (shared->on_message) shared->on_message(Published{envelope->seq, std::move(envelope->frame)});
    } else if (envelope->origin != origin && shared->on_event) {
      shared->on_event(std::move(envelope->frame));
    }
  };
  const auto on_ack = [shared](std::error_code ec) {
    // Not connected now: the subscription is made on reconnect, and subscriber_link_restored() catches up.
    if (!ec && shared->on_live) shared->on_live();
  };
  const auto redis_id = client_->subscribe(keys::room_channel(room_id), on_message, on_ack);
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  subscriptions_[id] = Subscription{redis_id, std::move(shared)};
  return id;
}

void RedisRoomLog::unsubscribe(SubscriptionId id) {
  redis::RedisClient::SubscriptionId redis_id = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    redis_id = it->second.redis_id;
    subscriptions_.erase(it);
  }
  client_->unsubscribe(redis_id);
}

void RedisRoomLog::subscriber_link_restored() {
  std::vector<std::shared_ptr<Handlers>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, s] : subscriptions_) live.push_back(s.handlers);
  }
  for (const auto& h : live)
    if (h->on_live) h->on_live();
}

}  // namespace switchboard::store

namespace switchboard::chat {

std::optional<Message> message_from_frame(const std::string& frame, std::uint64_t seq) {
  const auto j = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto str = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto flag = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
  };
  Message m;
  m.id = str("id");
  m.room_id = str("roomId");
  m.sender_id = str("senderId");
  if (m.id.empty() || m.room_id.empty() || m.sender_id.empty()) return std::nullopt;
  m.display_name = str("displayName");
  m.content = str("content");
  if (const auto it = j.find("timestamp"); it != j.end() && it->is_number())
    m.timestamp = it->get<std::int64_t>();
  m.is_nudge = flag("isNudge");
  m.is_wink = flag("isWink");
  m.wink_id = str("winkId");
  m.type = str("type");
  if (m.type.empty()) m.type = "chat";
  parse_delivery_status(str("status"), m.status);
  m.deleted = flag("deleted");
  m.seq = seq;
  return m;
}

}  // namespace switchboard::chat
