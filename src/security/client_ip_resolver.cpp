#include "switchboard/security/client_ip_resolver.hpp"

#include <algorithm>
#include <stdexcept>

namespace switchboard::security {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One X-Forwarded-For entry; some proxies add a port ("1.2.3.4:567", "[2001:db8::1]:443").
std::optional<IpAddress> parse_hop(std::string_view entry) {
  entry = trim(entry);
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return IpAddress::parse(entry.substr(1, close - 1));
  }
  if (std::count(entry.begin(), entry.end(), ':') == 1) entry = entry.substr(0, entry.find(':'));
  return IpAddress::parse(entry);
}

}  // namespace

ClientIpResolver::ClientIpResolver(const std::vector<std::string>& trusted_proxies) {
  for (const auto& entry : trusted_proxies) {
    std::string why;
    auto network = IpNetwork::parse(trim(entry), &why);
    if (!network) throw std::invalid_argument(why);
    trusted_.push_back(*network);
  }
}

bool ClientIpResolver::trusts(const IpAddress& address) const {
  return std::any_of(trusted_.begin(), trusted_.end(),
                     [&](const IpNetwork& n) { return n.contains(address); });
}

std::string ClientIpResolver::resolve(std::string_view peer,
                                      const std::vector<std::string_view>& forwarded_for,
                                      std::optional<std::string_view> cf_connecting_ip) const {
  const auto peer_address = IpAddress::parse(peer);
  if (!peer_address) return std::string(peer);
  if (!trusts(*peer_address)) return peer_address->to_string();

  std::vector<std::string_view> hops;
  for (const auto header : forwarded_for) {
    std::size_t start = 0;
    for (;;) {
      const auto comma = header.find(',', start);
      hops.push_back(header.substr(start, comma == std::string_view::npos ? comma : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  IpAddress nearest = *peer_address;  // the closest hop known to be a trusted proxy
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    const auto hop = parse_hop(*it);
    // Garbage in the chain: nothing to its left can be believed, so the last trusted hop is all we know.
    if (!hop) return nearest.to_string();
    if (!trusts(*hop)) return hop->to_string();
    nearest = *hop;
  }
  if (cf_connecting_ip)
    if (const auto cf = IpAddress::parse(trim(*cf_connecting_ip))) return cf->to_string();
  return nearest.to_string();
}

std::string check_trusted_proxies(const std::vector<std::string>& trusted_proxies) {
  try {
    ClientIpResolver resolver(trusted_proxies);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

}  // namespace switchboard::security
