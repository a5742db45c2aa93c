#pragma once
#include <string>
#include <vector>

#include "switchboard/api/http_types.hpp"

namespace switchboard::api {

// Cross-origin and security-header policy (PROTOCOL §1). Pure and immutable: safe from any thread.
class HttpPolicy final {
 public:
  explicit HttpPolicy(std::vector<std::string> allowed_origins)
      : allowed_origins_(std::move(allowed_origins)) {}

  // True when the request has no Origin (not a cross-site request), or its Origin is the request's own origin
  // (scheme + Host) or one of the configured origins.
  bool origin_allowed(const HttpRequest& req) const;

  // Adds the security headers, CORS headers for allowed origins, and X-Request-Id.
  void apply(const HttpRequest& req, HttpResponse& res) const;

  // The answer to an OPTIONS preflight.
  HttpResponse preflight(const HttpRequest& req) const;

  static const char* content_security_policy();

 private:
  std::vector<std::string> allowed_origins_;
};

}  // namespace switchboard::api
