#include "switchboard/ai/quota_store.hpp"

#include <cstdio>

namespace switchboard::ai {

const char* to_string(QuotaDecision d) {
  switch (d) {
    case QuotaDecision::kAllowed:
      return "allowed";
    case QuotaDecision::kUserLimit:
      return "user_limit";
    case QuotaDecision::kGlobalLimit:
      return "global_limit";
    case QuotaDecision::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

std::int64_t utc_day(std::int64_t unix_ms) {
  constexpr std::int64_t kDayMs = 86'400'000;
  return unix_ms >= 0 ? unix_ms / kDayMs : (unix_ms - kDayMs + 1) / kDayMs;
}

std::string utc_day_key(std::int64_t day) {
  // Civil date from days since the epoch (Howard Hinnant's algorithm), to avoid gmtime's global state.
  std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d));
  return buf;
}

}  // namespace switchboard::ai
