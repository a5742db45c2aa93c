#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::api {

// A decoded HTTP request, free of any socket or Beast type so handlers and the router are plain, testable
// code.
struct HttpRequest {
  std::string method;  // upper-case
  std::string target;  // as sent, with query
  std::string path;    // percent-decoded path
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string client_ip;  // the peer, or the client a trusted proxy names (security.trusted_proxies)
  std::string peer_ip;    // the socket's peer address
  std::string request_id;
  bool is_websocket_upgrade = false;
  bool tls = false;
  std::map<std::string, std::string> params;  // filled by the router from ":name" segments
  std::string route;  // the matched pattern ("/api/rooms/:id/messages"), for metrics; set by the router

  std::optional<std::string> header(std::string_view lower_name) const;
  // The Bearer token of the Authorization header, if any.
  std::optional<std::string> bearer_token() const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";

  void set_header(std::string name, std::string value);
};

// Handlers answer exactly once through Respond; it may be called from any thread.
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&, Respond)>;

// Splits "a=1&b=x%20y" into a map (percent- and plus-decoded).
std::map<std::string, std::string> parse_query(std::string_view query);
// Percent-decodes; returns nullopt on malformed escapes.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

}  // namespace switchboard::api
