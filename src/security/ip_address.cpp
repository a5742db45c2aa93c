#include "switchboard/security/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace switchboard::security {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) != 1) return std::nullopt;
    a.v4_ = true;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) != 1) return std::nullopt;
  a.v4_ = false;
  static constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes_.begin())) {
    std::copy(a.bytes_.begin() + 12, a.bytes_.end(), a.bytes_.begin());
    std::fill(a.bytes_.begin() + 4, a.bytes_.end(), 0);
    a.v4_ = true;
  }
  return a;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text, std::string* why) {
  const auto reject = [why](std::string reason) -> std::optional<IpNetwork> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return reject("'" + std::string(text) + "' is not an IP address or CIDR block");
  int prefix = address->bit_length();
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0)
      return reject("'" + std::string(text) + "' has a bad prefix length");
    // "::ffff:10.0.0.0/104" names IPv4 space; parse() already turned the address into IPv4.
    if (address->is_v4() && text.substr(0, slash).find(':') != std::string_view::npos) prefix -= 96;
    if (prefix < 0 || prefix > address->bit_length())
      return reject("'" + std::string(text) + "' has a prefix length outside 0-" +
                    std::to_string(address->bit_length()));
  }
  for (int i = prefix; i < address->bit_length(); ++i)
    if (address->bit(i))
      return reject("'" + std::string(text) + "' has bits set after the /" + std::to_string(prefix) +
                    " prefix; write the network address");
  return IpNetwork(*address, prefix);
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.is_v4() != base_.is_v4()) return false;
  for (int i = 0; i < prefix_; ++i)
    if (address.bit(i) != base_.bit(i)) return false;
  return true;
}

std::string IpNetwork::to_string() const {
  return base_.to_string() + "/" + std::to_string(prefix_);
}

}  // namespace switchboard::security
