#include "switchboard/api/metrics_endpoint.hpp"

#include "switchboard/api/envelope.hpp"
#include "switchboard/security/ip_address.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::api {

MetricsEndpoint::MetricsEndpoint(std::shared_ptr<analytics::Metrics> metrics, std::string token)
    : metrics_(std::move(metrics)), token_(std::move(token)) {}

bool MetricsEndpoint::is_local(const HttpRequest& req) {
  for (const char* name : {"x-forwarded-for", "forwarded", "x-real-ip", "cf-connecting-ip"})
    if (req.header(name)) return false;
  const std::string& peer = req.peer_ip.empty() ? req.client_ip : req.peer_ip;
  const auto address = security::IpAddress::parse(peer);
  if (!address) return false;
  static const auto v4 = security::IpNetwork::parse("127.0.0.0/8");
  static const auto v6 = security::IpNetwork::parse("::1");
  return (v4 && v4->contains(*address)) || (v6 && v6->contains(*address));
}

MetricsEndpoint::Access MetricsEndpoint::decide(const HttpRequest& req, std::string_view token) {
  if (is_local(req)) return Access::kAllowed;
  if (token.empty()) return Access::kForbidden;
  const auto sent = req.bearer_token();
  return sent && util::constant_time_equal(*sent, token) ? Access::kAllowed : Access::kUnauthorized;
}

void MetricsEndpoint::handle(const HttpRequest& req, const Respond& respond) const {
  switch (decide(req, token_)) {
    case Access::kForbidden:
      return respond(failure(req, ErrorCode::kForbidden,
                             "Metrics are served to loopback clients only; set metrics.token to scrape from "
                             "elsewhere."));
    case Access::kUnauthorized: {
      auto res = failure(req, ErrorCode::kUnauthorized,
                         "Send Authorization: Bearer <metrics.token> to read metrics from another host.");
      res.set_header("WWW-Authenticate", "Bearer realm=\"metrics\"");
      return respond(std::move(res));
    }
    case Access::kAllowed:
      break;
  }
  HttpResponse res;
  res.content_type = analytics::PrometheusWriter::kContentType;
  res.body = metrics_->render();
  res.set_header("Cache-Control", "no-store");
  respond(std::move(res));
}

}  // namespace switchboard::api
