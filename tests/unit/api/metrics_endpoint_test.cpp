#include "switchboard/api/metrics_endpoint.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace switchboard::api {
namespace {

using Access = MetricsEndpoint::Access;

HttpRequest from(std::string peer, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/metrics";
  req.peer_ip = peer;
  req.client_ip = peer;
  req.request_id = "req-1";
  req.headers = std::move(headers);
  return req;
}

TEST(MetricsEndpoint, LoopbackIsOpenEvenWithATokenConfigured) {
  EXPECT_EQ(MetricsEndpoint::decide(from("127.0.0.1"), ""), Access::kAllowed);
  EXPECT_EQ(MetricsEndpoint::decide(from("127.3.2.1"), ""), Access::kAllowed);
  EXPECT_EQ(MetricsEndpoint::decide(from("::1"), ""), Access::kAllowed);
  EXPECT_EQ(MetricsEndpoint::decide(from("::ffff:127.0.0.1"), ""), Access::kAllowed);
  EXPECT_EQ(MetricsEndpoint::decide(from("127.0.0.1"), "s3cret"), Access::kAllowed);
}

TEST(MetricsEndpoint, OthersNeedTheToken) {
  EXPECT_EQ(MetricsEndpoint::decide(from("192.0.2.7"), ""), Access::kForbidden);
  EXPECT_EQ(MetricsEndpoint::decide(from("192.0.2.7"), "s3cret"), Access::kUnauthorized);
  EXPECT_EQ(MetricsEndpoint::decide(from("192.0.2.7", {{"authorization", "Bearer wrong"}}), "s3cret"),
            Access::kUnauthorized);
  EXPECT_EQ(MetricsEndpoint::decide(from("192.0.2.7", {{"authorization", "Bearer s3cret"}}), "s3cret"),
            Access::kAllowed);
  EXPECT_EQ(MetricsEndpoint::decide(from("not an address"), ""), Access::kForbidden);
}

// A reverse proxy on the same host connects from loopback: what it forwards is not local.
TEST(MetricsEndpoint, ProxiedRequestsAreNotLocal) {
  EXPECT_EQ(MetricsEndpoint::decide(from("127.0.0.1", {{"x-forwarded-for", "203.0.113.9"}}), ""),
            Access::kForbidden);
  EXPECT_EQ(MetricsEndpoint::decide(from("127.0.0.1", {{"x-real-ip", "203.0.113.9"}}), "s3cret"),
            Access::kUnauthorized);
  EXPECT_EQ(MetricsEndpoint::decide(
                from("127.0.0.1", {{"forwarded", "for=203.0.113.9"}, {"authorization", "Bearer s3cret"}}),
                "s3cret"),
            Access::kAllowed);
}

TEST(MetricsEndpoint, AnswersTextOrAnEnvelope) {
  auto metrics = std::make_shared<analytics::Metrics>();
  metrics->messages(analytics::Metrics::MessageKind::kChat).inc();
  MetricsEndpoint endpoint(metrics, "");
  HttpResponse res;
  endpoint.handle(from("127.0.0.1"), [&](HttpResponse r) { res = std::move(r); });
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body.find("switchboard_messages_total{type=\"chat\"} 1\n"), std::string::npos);

  endpoint.handle(from("198.51.100.1"), [&](HttpResponse r) { res = std::move(r); });
  EXPECT_EQ(res.status, 403);
  const auto j = nlohmann::json::parse(res.body);
  EXPECT_EQ(j["success"], false);
  EXPECT_EQ(j["error"]["code"], "FORBIDDEN");
}

}  // namespace
}  // namespace switchboard::api
