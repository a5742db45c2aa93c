#include "switchboard/api/http_policy.hpp"

#include "switchboard/api/envelope.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::api {

const char* HttpPolicy::content_security_policy() {
  // The UI and Cloudflare's Turnstile widget, nothing else; no framing (clickjacking).
  return "default-src 'self'; script-src 'self' https://challenges.cloudflare.com; "
         "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
         "frame-src https://challenges.cloudflare.com; frame-ancestors 'none'; base-uri 'none'; form-action "
         "'self'";
}

bool HttpPolicy::origin_allowed(const HttpRequest& req) const {
  const auto origin = req.header("origin");
  if (!origin) return true;
  const auto host = req.header("host");
  if (host && util::iequals(*origin, std::string(req.tls ? "https://" : "http://") + *host)) return true;
  for (const auto& allowed : allowed_origins_)
    if (util::iequals(*origin, allowed)) return true;
  return false;
}

void HttpPolicy::apply(const HttpRequest& req, HttpResponse& res) const {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
  res.set_header("Content-Security-Policy", content_security_policy());
  res.set_header("X-Frame-Options", "DENY");
  if (req.tls) res.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  if (!req.request_id.empty()) res.set_header("X-Request-Id", req.request_id);
  if (const auto origin = req.header("origin"); origin && origin_allowed(req)) {
    res.set_header("Access-Control-Allow-Origin", *origin);
    res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    res.set_header("Vary", "Origin");
  }
}

HttpResponse HttpPolicy::preflight(const HttpRequest& req) const {
  if (!origin_allowed(req)) return failure(req, ErrorCode::kForbidden, "This origin is not allowed.");
  HttpResponse res;
  res.status = 204;
  res.content_type.clear();
  res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
  res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
  res.set_header("Access-Control-Max-Age", "600");
  return res;
}

}  // namespace switchboard::api
