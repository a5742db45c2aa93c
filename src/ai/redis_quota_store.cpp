#include "switchboard/ai/redis_quota_store.hpp"

#include <spdlog/spdlog.h>

#include "switchboard/redis/redis_client.hpp"
#include "switchboard/redis/redis_keys.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::ai {
namespace {

// KEYS: quota:user:<id>:<day>, quota:global:<day>. ARGV: per-user limit, global limit, key TTL in seconds.
// Returns 0 allowed (both counted), 1 user limit, 2 global limit. The user limit is checked first, as in
// MemoryQuotaStore. Counters expire two days after their first increment: long after their day is over, and
// robust to instances whose clocks disagree by a little.
const redis::RedisScript& consume_script() {
  static const redis::RedisScript script(R"lua(
local user = tonumber(redis.call('GET', KEYS[1]) or '0')
if user >= tonumber(ARGV[1]) then return 1 end
local global = tonumber(redis.call('GET', KEYS[2]) or '0')
if global >= tonumber(ARGV[2]) then return 2 end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 0
)lua");
  return script;
}

constexpr int kKeyTtlSeconds = 2 * 86400;

}  // namespace

RedisQuotaStore::RedisQuotaStore(std::shared_ptr<redis::RedisClient> client, Clock now_ms)
    : client_(std::move(client)), now_ms_(now_ms ? std::move(now_ms) : Clock(&util::now_ms)) {}

void RedisQuotaStore::try_consume(const std::string& user_id, const QuotaLimits& limits,
                                  std::function<void(QuotaDecision)> done) {
  const std::string day = utc_day_key(utc_day(now_ms_()));
  client_->eval(
      consume_script(), {redis::keys::quota_user(user_id, day), redis::keys::quota_global(day)},
      {std::to_string(limits.per_user), std::to_string(limits.global), std::to_string(kKeyTtlSeconds)},
      [done = std::move(done)](std::error_code ec, redis::RedisReply reply) {
        if (ec) {
          util::logger("ai")->warn("bot quota unavailable: {}", ec.message());
          return done(QuotaDecision::kUnavailable);
        }
        switch (reply.as_integer().value_or(-1)) {
          case 0:
            return done(QuotaDecision::kAllowed);
          case 1:
            return done(QuotaDecision::kUserLimit);
          case 2:
            return done(QuotaDecision::kGlobalLimit);
          default:
            return done(QuotaDecision::kUnavailable);
        }
      });
}

}  // namespace switchboard::ai
