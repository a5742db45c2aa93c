#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

struct redisReply;  // hiredis; kept out of this header

namespace switchboard::redis {

// A decoded RESP2 reply, owned and independent of hiredis' buffers: safe to keep, copy and move to any
// thread. A small tagged value rather than std::variant so that arrays can nest and callers read it without
// visitors.
struct RedisReply {
  enum class Type : std::uint8_t { kNil, kInteger, kString, kStatus, kArray, kError };

  Type type = Type::kNil;
  std::int64_t integer = 0;  // kInteger
  std::string str;           // kString (binary-safe bulk string), kStatus ("OK"), kError (the message)
  std::vector<RedisReply> elements;  // kArray

  static RedisReply nil() { return {}; }
  static RedisReply make_integer(std::int64_t v);
  static RedisReply make_string(std::string s);
  static RedisReply make_status(std::string s);
  static RedisReply make_error(std::string s);
  static RedisReply make_array(std::vector<RedisReply> items);

  // Deep-copies a hiredis reply. A null pointer decodes to kNil.
  static RedisReply from_hiredis(const redisReply* reply);

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const { return type == Type::kArray; }
  bool is_integer() const { return type == Type::kInteger; }
  // A bulk string or a status line.
  bool is_text() const { return type == Type::kString || type == Type::kStatus; }
  // The text of a bulk string or status, nullopt otherwise.
  std::optional<std::string_view> text() const;
  // The integer of an integer reply, or a bulk string holding a base-10 integer (as INCR-ed keys read back).
  std::optional<std::int64_t> as_integer() const;

  // For error replies: the error's class (see classify_error_reply); an empty code otherwise.
  std::error_code error_code() const;

  // A short, log-safe rendering (strings truncated; for test failures and debug logs).
  std::string debug_string() const;

  friend bool operator==(const RedisReply&, const RedisReply&) = default;
};

const char* to_string(RedisReply::Type t);

}  // namespace switchboard::redis
