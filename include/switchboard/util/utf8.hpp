#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace switchboard::util {

// Number of Unicode code points in `text`, or nullopt when it is not valid UTF-8.
std::optional<std::size_t> utf8_code_points(std::string_view text);

// True when `text` holds nothing but Unicode white space (ASCII space/control, NBSP, U+2000..U+200B, ...).
bool is_blank(std::string_view text);

// Case-insensitive ASCII comparison (ids and names are compared this way by the protocol).
bool iequals(std::string_view a, std::string_view b);
std::string ascii_lower(std::string_view s);

}  // namespace switchboard::util
