#include "switchboard/util/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace switchboard::util {
namespace {

// Decodes one code point at `i`, advancing it; returns -1 on malformed input (overlongs and surrogates
// included).
std::int32_t decode(std::string_view s, std::size_t& i) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  if (c0 < 0x80) {
    ++i;
    return c0;
  }
  int len = 0;
  std::int32_t cp = 0;
  std::int32_t min = 0;
  if ((c0 & 0xe0) == 0xc0) {
    len = 2, cp = c0 & 0x1f, min = 0x80;
  } else if ((c0 & 0xf0) == 0xe0) {
    len = 3, cp = c0 & 0x0f, min = 0x800;
  } else if ((c0 & 0xf8) == 0xf0) {
    len = 4, cp = c0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  i += len;
  return cp;
}

bool is_space(std::int32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
         cp == 0x3000 || cp == 0xfeff;
}

// Copies whole code points of `text` while both limits allow; malformed bytes become U+FFFD, one at a time.
// `consumed`, when given, is how many bytes of `text` the copy covers.
std::string truncate(std::string_view text, std::size_t max_code_points, std::size_t max_bytes,
                     std::size_t* consumed = nullptr) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size() && count < max_code_points) {
    std::size_t next = i;
    const bool ok = decode(text, next) >= 0;
    if (!ok) next = i + 1;
    const std::string_view piece = ok ? text.substr(i, next - i) : kReplacement;
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    ++count;
    i = next;
  }
  if (consumed) *consumed = i;
  return out;
}

}  // namespace

std::string utf8_truncate(std::string_view text, std::size_t max_code_points) {
  return truncate(text, max_code_points, std::string::npos);
}

std::string utf8_truncate_bytes(std::string_view text, std::size_t max_bytes) {
  return truncate(text, std::string::npos, max_bytes);
}

std::string utf8_excerpt(std::string_view text, std::size_t max_code_points) {
  std::size_t consumed = 0;
  std::string out = truncate(text, max_code_points, std::string::npos, &consumed);
  // Cut is judged on the input: a replaced byte grows to three, so output sizes say nothing about it.
  if (consumed < text.size()) out += "\xE2\x80\xA6";  // …
  return out;
}

std::optional<std::size_t> utf8_code_points(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (decode(text, i) < 0) return std::nullopt;
    ++count;
  }
  return count;
}

bool is_blank(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = decode(text, i);
    if (cp < 0 || !is_space(cp)) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

}  // namespace switchboard::util
