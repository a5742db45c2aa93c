#include "switchboard/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "switchboard/redis/redis_error.hpp"

namespace switchboard::redis {

RedisReply RedisReply::make_integer(std::int64_t v) {
  RedisReply r;
  r.type = Type::kInteger;
  r.integer = v;
  return r;
}

RedisReply RedisReply::make_string(std::string s) {
  RedisReply r;
  r.type = Type::kString;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::make_status(std::string s) {
  RedisReply r;
  r.type = Type::kStatus;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::make_error(std::string s) {
  RedisReply r;
  r.type = Type::kError;
  r.str = std::move(s);
  return r;
}

RedisReply RedisReply::make_array(std::vector<RedisReply> items) {
  RedisReply r;
  r.type = Type::kArray;
  r.elements = std::move(items);
  return r;
}

RedisReply RedisReply::from_hiredis(const redisReply* reply) {
  if (reply == nullptr) return nil();
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      return make_integer(reply->integer);
    case REDIS_REPLY_STRING:
      return make_string(std::string(reply->str, reply->len));
    case REDIS_REPLY_STATUS:
      return make_status(std::string(reply->str, reply->len));
    case REDIS_REPLY_ERROR:
      return make_error(std::string(reply->str, reply->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> items;
      items.reserve(reply->elements);
      // hiredis caps nesting (7 levels), so the recursion is bounded.
      for (std::size_t i = 0; i < reply->elements; ++i) items.push_back(from_hiredis(reply->element[i]));
      return make_array(std::move(items));
    }
    case REDIS_REPLY_NIL:
    default:
      return nil();
  }
}

std::optional<std::string_view> RedisReply::text() const {
  if (!is_text()) return std::nullopt;
  return std::string_view(str);
}

std::optional<std::int64_t> RedisReply::as_integer() const {
  if (type == Type::kInteger) return integer;
  if (type != Type::kString || str.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto* end = str.data() + str.size();
  const auto [ptr, ec] = std::from_chars(str.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::error_code RedisReply::error_code() const {
  if (type != Type::kError) return {};
  return make_error_code(classify_error_reply(str));
}

std::string RedisReply::debug_string() const {
  constexpr std::size_t kMaxText = 64;
  const auto clip = [](const std::string& s) {
    return s.size() <= kMaxText ? s : s.substr(0, kMaxText) + "...(" + std::to_string(s.size()) + " bytes)";
  };
  switch (type) {
    case Type::kNil:
      return "(nil)";
    case Type::kInteger:
      return "(integer) " + std::to_string(integer);
    case Type::kString:
      return "\"" + clip(str) + "\"";
    case Type::kStatus:
      return clip(str);
    case Type::kError:
      return "(error) " + clip(str);
    case Type::kArray: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) out += ", ";
        if (i == 8) {
          out += "... " + std::to_string(elements.size()) + " elements";
          break;
        }
        out += elements[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

const char* to_string(RedisReply::Type t) {
  switch (t) {
    case RedisReply::Type::kNil:
      return "nil";
    case RedisReply::Type::kInteger:
      return "integer";
    case RedisReply::Type::kString:
      return "string";
    case RedisReply::Type::kStatus:
      return "status";
    case RedisReply::Type::kArray:
      return "array";
    case RedisReply::Type::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace switchboard::redis
