#include "switchboard/redis/redis_error.hpp"

#include <string>

namespace switchboard::redis {
namespace {

class RedisCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int value) const override {
    switch (static_cast<RedisErrc>(value)) {
      case RedisErrc::kNotConnected:
        return "Redis is not connected";
      case RedisErrc::kTimeout:
        return "Redis did not answer in time";
      case RedisErrc::kConnectionLost:
        return "the connection to Redis was lost before the reply";
      case RedisErrc::kShuttingDown:
        return "the Redis client is shutting down";
      case RedisErrc::kOverloaded:
        return "too many Redis commands in flight";
      case RedisErrc::kConnectFailed:
        return "could not connect to Redis";
      case RedisErrc::kAuthFailed:
        return "Redis refused the credentials";
      case RedisErrc::kProtocolError:
        return "Redis sent a reply that could not be parsed";
      case RedisErrc::kServerError:
        return "Redis answered with an error";
      case RedisErrc::kNoScript:
        return "Redis does not have the script";
      case RedisErrc::kLoading:
        return "Redis is loading its dataset";
      case RedisErrc::kBusy:
        return "Redis is busy running a script";
      case RedisErrc::kReadOnly:
        return "Redis is a read-only replica";
      case RedisErrc::kWrongType:
        return "a Redis key holds the wrong kind of value";
      case RedisErrc::kOutOfMemory:
        return "Redis is out of memory";
      case RedisErrc::kUnexpectedReply:
        return "Redis answered with an unexpected reply type";
      case RedisErrc::kBadArgument:
        return "invalid Redis command";
    }
    return "unknown Redis error";
  }
};

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.size() >= word.size() && text.substr(0, word.size()) == word &&
         (text.size() == word.size() || text[word.size()] == ' ');
}

}  // namespace

const std::error_category& redis_category() noexcept {
  static const RedisCategory category;
  return category;
}

RedisErrc classify_error_reply(std::string_view text) noexcept {
  struct Prefix {
    std::string_view word;
    RedisErrc code;
  };
  static constexpr Prefix kPrefixes[] = {
      {"NOSCRIPT", RedisErrc::kNoScript},   {"LOADING", RedisErrc::kLoading},
      {"BUSY", RedisErrc::kBusy},           {"READONLY", RedisErrc::kReadOnly},
      {"WRONGTYPE", RedisErrc::kWrongType}, {"OOM", RedisErrc::kOutOfMemory},
      {"NOAUTH", RedisErrc::kAuthFailed},   {"WRONGPASS", RedisErrc::kAuthFailed},
      {"NOPERM", RedisErrc::kAuthFailed},
  };
  for (const auto& p : kPrefixes)
    if (starts_with_word(text, p.word)) return p.code;
  return RedisErrc::kServerError;
}

bool is_unavailable(const std::error_code& ec) noexcept {
  if (ec.category() != redis_category()) return false;
  switch (static_cast<RedisErrc>(ec.value())) {
    case RedisErrc::kBadArgument:
    case RedisErrc::kWrongType:
    case RedisErrc::kUnexpectedReply:
      return false;
    default:
      return true;
  }
}

}  // namespace switchboard::redis
