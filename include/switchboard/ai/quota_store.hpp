#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace switchboard::ai {

enum class QuotaDecision : std::uint8_t {
  kAllowed = 0,
  kUserLimit,    // this user's replies for the UTC day are used up
  kGlobalLimit,  // all replies for the UTC day are used up
  kUnavailable,  // the store could not answer (e.g. Redis down); callers fail closed
};

const char* to_string(QuotaDecision d);

struct QuotaLimits {
  std::int64_t per_user = 50;  // replies per user per UTC day
  std::int64_t global = 4000;  // replies in all per UTC day
};

// Daily bot-reply quotas. try_consume() is an atomic check-and-increment: when both the user's and the global
// count for the current UTC day are below their limits, both are incremented and the answer is kAllowed;
// otherwise nothing changes. The user limit is checked first. Counts reset at 00:00 UTC. Implementations:
// MemoryQuotaStore (one process) and a Redis one (shared by instances; keys per day, see utc_day_key, so that
// INCR and EXPIRE suffice). Thread-safety: try_consume() may be called from any thread. `done` runs exactly
// once, either before try_consume() returns or later on another thread, so callers post to their own strand.
class QuotaStore {
 public:
  virtual ~QuotaStore() = default;
  virtual void try_consume(const std::string& user_id, const QuotaLimits& limits,
                           std::function<void(QuotaDecision)> done) = 0;
};

// The UTC day number of a Unix time in milliseconds (days since 1970-01-01).
std::int64_t utc_day(std::int64_t unix_ms);

// "YYYY-MM-DD" of a UTC day number, for store keys such as "quota:user:<id>:2025-01-31".
std::string utc_day_key(std::int64_t day);

}  // namespace switchboard::ai
