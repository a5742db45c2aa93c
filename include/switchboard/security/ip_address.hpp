#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::security {

// An IPv4 or IPv6 address as bytes. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
// reports for an IPv4 peer) is kept as IPv4, so one client has one spelling in rate limits and logs.
// Plain value type: safe to copy and share between threads.
class IpAddress final {
 public:
  // Parses a dotted IPv4 address or an IPv6 literal, optionally in brackets; a zone suffix ("%eth0") is
  // dropped. No host names, no ports. Returns nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const { return v4_; }
  // Bits in the address: 32 or 128.
  int bit_length() const { return v4_ ? 32 : 128; }
  // Bit `i` counted from the most significant one.
  bool bit(int i) const { return (bytes_[static_cast<std::size_t>(i / 8)] >> (7 - i % 8)) & 1; }
  // Canonical text (RFC 5952 for IPv6).
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  bool v4_ = true;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first 4
};

// A CIDR block: "10.0.0.0/8", "2001:db8::/32"; a bare address means just that address (/32 or /128).
class IpNetwork final {
 public:
  // Returns nullopt and fills `why` (when given) for text that is not a CIDR block, including one with host
  // bits set ("10.0.0.1/8"), which is more likely a typo than a meant range.
  static std::optional<IpNetwork> parse(std::string_view text, std::string* why = nullptr);

  bool contains(const IpAddress& address) const;
  std::string to_string() const;

 private:
  IpNetwork(IpAddress base, int prefix) : base_(base), prefix_(prefix) {}
  IpAddress base_;
  int prefix_ = 0;
};

}  // namespace switchboard::security
