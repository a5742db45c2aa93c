#include "switchboard/ai/memory_quota_store.hpp"

#include "switchboard/util/clock.hpp"

namespace switchboard::ai {

MemoryQuotaStore::MemoryQuotaStore(Clock now_ms)
    : now_ms_(now_ms ? std::move(now_ms) : Clock(&util::now_ms)) {}

void MemoryQuotaStore::roll_over(std::int64_t day) const {
  if (day == day_) return;
  day_ = day;
  global_ = 0;
  per_user_.clear();  // yesterday's counts are never needed again
}

void MemoryQuotaStore::try_consume(const std::string& user_id, const QuotaLimits& limits,
                                   std::function<void(QuotaDecision)> done) {
  QuotaDecision decision = QuotaDecision::kAllowed;
  {
    std::lock_guard lock(mutex_);
    roll_over(utc_day(now_ms_()));
    auto& mine = per_user_[user_id];
    if (mine >= limits.per_user) {
      decision = QuotaDecision::kUserLimit;
    } else if (global_ >= limits.global) {
      decision = QuotaDecision::kGlobalLimit;
    } else {
      ++mine;
      ++global_;
    }
  }
  done(decision);  // outside the lock: the callback may call back into the store
}

std::int64_t MemoryQuotaStore::used_by(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  roll_over(utc_day(now_ms_()));
  const auto it = per_user_.find(user_id);
  return it == per_user_.end() ? 0 : it->second;
}

std::int64_t MemoryQuotaStore::used_globally() const {
  std::lock_guard lock(mutex_);
  roll_over(utc_day(now_ms_()));
  return global_;
}

}  // namespace switchboard::ai
