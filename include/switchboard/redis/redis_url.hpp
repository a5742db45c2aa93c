#pragma once
#include <string>
#include <string_view>

namespace switchboard::redis {

// Where Redis is and how to log in, parsed from `redis.url`:
//   redis://[[username]:password@]host[:port][/db]     host may be a name, an IPv4 address or [IPv6]
//   unix://[[username]:password@]/absolute/path[?db=N]
// Port defaults to 6379, db to 0. Username and password may be percent-encoded. TLS (rediss://) is not
// supported by the hiredis we build against, so it is rejected rather than silently sent in clear.
struct RedisUrl {
  std::string host;         // empty for unix sockets
  int port = 6379;          // TCP only
  std::string socket_path;  // unix sockets only
  std::string username;     // empty: `AUTH <password>` (the default user)
  std::string password;     // empty: no AUTH
  int db = 0;

  bool is_unix() const { return !socket_path.empty(); }

  // Throws std::invalid_argument with a message that says what is wrong (never echoing the password).
  static RedisUrl parse(std::string_view url);

  // "redis://host:port/db" or "unix:///path?db=N", with any password shown as "***": safe to log.
  std::string redacted() const;
};

}  // namespace switchboard::redis
