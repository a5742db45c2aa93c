#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/security/ip_address.hpp"

namespace switchboard::security {

// Decides which address a request comes from (PROTOCOL §8 security.trusted_proxies). Forwarding headers are
// believed only when the socket's peer is a trusted proxy; anybody else could write them.
//
// Behind trusted proxies, X-Forwarded-For is read right to left: each proxy appends the address it received
// the request from, so the rightmost entry that is not itself a trusted proxy is the client. Entries further
// left were written by the client and prove nothing. CF-Connecting-IP is used only when X-Forwarded-For names
// no untrusted hop (absent, or every entry a trusted proxy): a client that bypasses Cloudflare can forge that
// header through a trusted proxy, but cannot forge the hop that proxy appends.
//
// Immutable after construction: safe from any thread.
class ClientIpResolver final {
 public:
  // Throws std::invalid_argument naming the first entry that is not a CIDR block (see IpNetwork::parse).
  explicit ClientIpResolver(const std::vector<std::string>& trusted_proxies);

  bool trusts(const IpAddress& address) const;

  // The client's address in canonical text. `peer` is the socket's peer address; `forwarded_for` every
  // X-Forwarded-For header value in arrival order (each may be a comma-separated list); `cf_connecting_ip`
  // the CF-Connecting-IP header, when present. When `peer` does not parse it is returned as given.
  std::string resolve(std::string_view peer, const std::vector<std::string_view>& forwarded_for,
                      std::optional<std::string_view> cf_connecting_ip) const;

 private:
  std::vector<IpNetwork> trusted_;
};

// Validates a trusted_proxies list; returns an empty string when every entry is a CIDR block, else why not.
std::string check_trusted_proxies(const std::vector<std::string>& trusted_proxies);

}  // namespace switchboard::security
