#pragma once
#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace switchboard::redis {

// Why a Redis call failed. Transport and client-side failures come first; the rest classify the server's
// error replies by their first word (`-NOSCRIPT ...`, `-LOADING ...`), so callers can branch on them without
// parsing text.
enum class RedisErrc : std::uint8_t {
  kNotConnected = 1,  // no usable connection right now (command not sent; fails fast, nothing is queued)
  kTimeout,           // no reply within the command's timeout (the command may still run on the server)
  kConnectionLost,    // the connection dropped before the reply arrived (the command may or may not have run)
  kShuttingDown,      // the client is stopping
  kOverloaded,        // too many commands in flight (redis.max_pending_commands)
  kConnectFailed,     // TCP/unix connect, name resolution or the connect timeout failed
  kAuthFailed,        // -NOAUTH, -WRONGPASS, -NOPERM
  kProtocolError,     // the reply could not be parsed
  kServerError,       // -ERR and any error reply without a more specific class
  kNoScript,          // -NOSCRIPT (EVALSHA of a script the server does not have)
  kLoading,           // -LOADING (the server is loading its dataset)
  kBusy,              // -BUSY (a script is running too long)
  kReadOnly,          // -READONLY (a replica)
  kWrongType,         // -WRONGTYPE
  kOutOfMemory,       // -OOM
  kUnexpectedReply,   // a reply of a type the caller did not expect (e.g. a string where an integer belongs)
  kBadArgument,       // the call was malformed before anything was sent (e.g. an empty argv)
};

const std::error_category& redis_category() noexcept;

inline std::error_code make_error_code(RedisErrc e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

// The class of an error reply's text ("NOSCRIPT No matching script..." -> kNoScript); kServerError by
// default.
RedisErrc classify_error_reply(std::string_view text) noexcept;

// True for errors that mean "Redis cannot answer right now" (the API maps them to 503 UNAVAILABLE): every
// error of this category except kBadArgument, kWrongType and kUnexpectedReply, which are bugs rather than
// outages.
bool is_unavailable(const std::error_code& ec) noexcept;

}  // namespace switchboard::redis

template <>
struct std::is_error_code_enum<switchboard::redis::RedisErrc> : std::true_type {};
