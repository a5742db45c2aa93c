#pragma once
#include <string>
#include <string_view>

namespace switchboard::util {

// All of these draw from OpenSSL's CSPRNG and are safe to call from any thread.

// A random RFC 4122 version-4 UUID, lower-case.
std::string uuid_v4();

// `bytes` random bytes as unpadded base64url: URL-safe, suitable for session tokens.
std::string random_token(std::size_t bytes = 24);

// A random integer in [0, bound).
std::uint64_t random_below(std::uint64_t bound);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Compares in time independent of where the inputs differ (for secrets).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace switchboard::util
