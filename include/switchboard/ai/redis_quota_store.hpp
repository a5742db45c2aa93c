#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "switchboard/ai/quota_store.hpp"

namespace switchboard::redis {
class RedisClient;
}

namespace switchboard::ai {

// Daily bot-reply quotas shared by every instance through Redis:
//   quota:user:<userId>:<YYYY-MM-DD>   this user's replies on that UTC day
//   quota:global:<YYYY-MM-DD>          all replies on that UTC day
// One Lua script checks both counters and, when both are below their limits, INCRs both (setting a 48 h
// EXPIRE on first use), so concurrent requests on any number of instances never overshoot. A new UTC day is a
// new key, which is the whole reset. When Redis cannot answer, the decision is kUnavailable (callers fail
// closed). Thread-safety: try_consume() may be called from any thread; `done` runs once, later, on an
// io_context thread.
class RedisQuotaStore final : public QuotaStore {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix milliseconds

  // `now_ms` is injectable so tests can cross midnight UTC.
  explicit RedisQuotaStore(std::shared_ptr<redis::RedisClient> client, Clock now_ms = nullptr);

  void try_consume(const std::string& user_id, const QuotaLimits& limits,
                   std::function<void(QuotaDecision)> done) override;

 private:
  std::shared_ptr<redis::RedisClient> client_;
  Clock now_ms_;
};

}  // namespace switchboard::ai
