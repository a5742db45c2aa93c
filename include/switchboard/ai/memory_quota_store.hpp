#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "switchboard/ai/quota_store.hpp"

namespace switchboard::ai {

// In-process quotas for a single instance. Answers synchronously (`done` runs inside try_consume()).
// Thread-safe: a mutex guards the counters.
class MemoryQuotaStore final : public QuotaStore {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix milliseconds

  // `now_ms` is injectable so tests can cross midnight UTC.
  explicit MemoryQuotaStore(Clock now_ms = nullptr);

  void try_consume(const std::string& user_id, const QuotaLimits& limits,
                   std::function<void(QuotaDecision)> done) override;

  // The counts for the current UTC day (for tests and metrics).
  std::int64_t used_by(const std::string& user_id) const;
  std::int64_t used_globally() const;

 private:
  void roll_over(std::int64_t day) const;  // requires mutex_

  Clock now_ms_;
  mutable std::mutex mutex_;
  mutable std::int64_t day_ = -1;
  mutable std::int64_t global_ = 0;
  mutable std::unordered_map<std::string, std::int64_t> per_user_;
};

}  // namespace switchboard::ai
