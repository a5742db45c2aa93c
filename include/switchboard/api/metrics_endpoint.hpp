#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "switchboard/analytics/metrics.hpp"
#include "switchboard/api/http_types.hpp"

namespace switchboard::api {

// GET /metrics: the Prometheus exposition text. A client connected over loopback gets it without
// credentials (a Prometheus on the same host, or an operator's curl); anyone else must send
// "Authorization: Bearer <metrics.token>", and with no token configured is refused. A request that carries
// forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP, CF-Connecting-IP) came through a proxy, so a
// loopback peer does not make it local: a reverse proxy on the same host must not open metrics to the
// internet. Thread-safety: immutable after construction; handle() from any thread.
class MetricsEndpoint final {
 public:
  enum class Access : std::uint8_t {
    kAllowed,
    kUnauthorized,  // 401: a token is configured and the request did not carry it
    kForbidden,     // 403: not local, and no token is configured
  };

  MetricsEndpoint(std::shared_ptr<analytics::Metrics> metrics, std::string token);

  // Pure: who may read metrics. The token is compared in constant time.
  static Access decide(const HttpRequest& req, std::string_view token);
  // True when the socket's peer is a loopback address and no proxy forwarded the request.
  static bool is_local(const HttpRequest& req);

  void handle(const HttpRequest& req, const Respond& respond) const;

 private:
  std::shared_ptr<analytics::Metrics> metrics_;
  const std::string token_;
};

}  // namespace switchboard::api
