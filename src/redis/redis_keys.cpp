#include "switchboard/redis/redis_keys.hpp"

namespace switchboard::redis::keys {
namespace {

std::string join(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a).append(b);
  return out;
}

}  // namespace

std::string session(std::string_view token_hash) {
  return join("session:", token_hash);
}

std::string user_session(std::string_view user_id) {
  return join("user_session:", user_id);
}

std::string quota_user(std::string_view user_id, std::string_view utc_day) {
  return join(join("quota:user:", user_id), join(":", utc_day));
}

std::string quota_global(std::string_view utc_day) {
  return join("quota:global:", utc_day);
}

}  // namespace switchboard::redis::keys
