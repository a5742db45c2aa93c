#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::util {

// Number of Unicode code points in `text`, or nullopt when it is not valid UTF-8.
std::optional<std::size_t> utf8_code_points(std::string_view text);

// The first `max_code_points` code points of `text`, never cut inside a UTF-8 sequence. The result is always
// valid UTF-8: each byte of `text` that is not part of a well-formed sequence becomes U+FFFD and counts as
// one code point. Use it wherever text from outside is shortened (quoted in an error, a log line, a preview).
std::string utf8_truncate(std::string_view text, std::size_t max_code_points);

// As utf8_truncate, but bounded in bytes: the longest such prefix whose UTF-8 is at most `max_bytes` long.
std::string utf8_truncate_bytes(std::string_view text, std::size_t max_bytes);

// `text` to quote back to its sender (an error, a log line): utf8_truncate, plus "…" when something was cut.
std::string utf8_excerpt(std::string_view text, std::size_t max_code_points);

// True when `text` holds nothing but Unicode white space (ASCII space/control, NBSP, U+2000..U+200B, ...).
bool is_blank(std::string_view text);

// Case-insensitive ASCII comparison (ids and names are compared this way by the protocol).
bool iequals(std::string_view a, std::string_view b);
std::string ascii_lower(std::string_view s);

}  // namespace switchboard::util
