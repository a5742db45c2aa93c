#pragma once
#include <string>

namespace switchboard::redis {

// A Lua script and its SHA-1, for EVALSHA. RedisClient::eval() sends EVALSHA and falls back to EVAL (which
// also loads the script) when the server answers -NOSCRIPT, e.g. after a restart or SCRIPT FLUSH. Immutable
// after construction: share it freely between threads.
class RedisScript final {
 public:
  explicit RedisScript(std::string source);

  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // lower-case hex, as Redis prints it

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace switchboard::redis
