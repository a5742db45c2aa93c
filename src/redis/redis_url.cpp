#include "switchboard/redis/redis_url.hpp"

#include <charconv>
#include <stdexcept>

namespace switchboard::redis {
namespace {

[[noreturn]] void bad(const std::string& why) {
  throw std::invalid_argument("invalid Redis URL: " + why);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
      bad(std::string("bad percent-encoding in the ") + what);
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

int parse_number(std::string_view s, int min, int max, const char* what) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max)
    bad(std::string(what) + " must be a number from " + std::to_string(min) + " to " + std::to_string(max) +
        ", got '" + std::string(s) + "'");
  return v;
}

// Splits "[user]:password@rest" into the credentials and the rest.
std::string_view take_credentials(std::string_view rest, RedisUrl& out) {
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return rest;
  const std::string_view userinfo = rest.substr(0, at);
  const auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    // "redis://secret@host" is a common mistake; Redis URLs put the password after a colon.
    bad("credentials must be written [username]:password@ (the password follows a colon)");
  }
  out.username = percent_decode(userinfo.substr(0, colon), "username");
  out.password = percent_decode(userinfo.substr(colon + 1), "password");
  return rest.substr(at + 1);
}

}  // namespace

RedisUrl RedisUrl::parse(std::string_view url) {
  RedisUrl out;
  constexpr std::string_view kTcp = "redis://";
  constexpr std::string_view kUnix = "unix://";
  if (url.starts_with("rediss://"))
    bad("rediss:// (TLS) is not supported; use redis:// on a trusted network or a TLS tunnel");
  if (url.starts_with(kUnix)) {
    std::string_view rest = take_credentials(url.substr(kUnix.size()), out);
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest.front() != '/')
      bad("unix:// needs an absolute socket path, as in unix:///run/redis.sock");
    out.socket_path = percent_decode(rest, "socket path");
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (item.starts_with("db=")) {
        out.db = parse_number(item.substr(3), 0, 1'000'000, "db");
      } else if (item.starts_with("password=")) {
        out.password = percent_decode(item.substr(9), "password");
      } else if (!item.empty()) {
        bad("unknown unix:// parameter '" + std::string(item.substr(0, item.find('='))) +
            "' (db and password are known)");
      }
    }
    return out;
  }
  if (!url.starts_with(kTcp)) bad("expected redis://[:password@]host:port/db or unix:///path");

  std::string_view rest = take_credentials(url.substr(kTcp.size()), out);
  if (rest.find('?') != std::string_view::npos) bad("query parameters are not supported in redis:// URLs");
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) bad("unclosed '[' in an IPv6 host");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad("expected :port after ]");
      port = after.substr(1);
      if (port.empty()) bad("empty port");
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) bad("empty port");
  }
  if (host.empty()) bad("missing host");
  const bool bracketed = rest.starts_with('[');
  for (const char c : host) {
    const bool ok = bracketed ? (hex_value(c) >= 0 || c == ':' || c == '.')
                              : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                 c == '.' || c == '-' || c == '_');
    if (!ok) bad("invalid character in host '" + std::string(host) + "'");
  }
  out.host = std::string(host);
  if (!port.empty()) out.port = parse_number(port, 1, 65535, "port");
  if (!path.empty()) out.db = parse_number(path, 0, 1'000'000, "db");
  return out;
}

std::string RedisUrl::redacted() const {
  std::string creds;
  if (!username.empty() || !password.empty()) creds = username + ":***@";
  if (is_unix()) return "unix://" + creds + socket_path + (db != 0 ? "?db=" + std::to_string(db) : "");
  const bool v6 = host.find(':') != std::string::npos;
  return "redis://" + creds + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" +
         std::to_string(db);
}

}  // namespace switchboard::redis
