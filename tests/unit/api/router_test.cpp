#include "switchboard/api/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "switchboard/api/envelope.hpp"

namespace switchboard::api {
namespace {

HttpResponse route(const Router& router, std::string method, std::string path, HttpRequest* seen = nullptr) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.request_id = "req-1";
  HttpResponse out;
  router.route(req, [&](HttpResponse r) { out = std::move(r); });
  if (seen) *seen = req;
  return out;
}

Router make_router() {
  Router r;
  r.add("GET", "/api/rooms/:id/messages", [](HttpRequest& req, Respond respond) {
    respond(success(req, {{"room", req.params.at("id")}}));
  });
  r.add("POST", "/api/rooms/:id/messages",
        [](HttpRequest& req, Respond respond) { respond(success(req, {}, 201)); });
  r.set_fallback([](HttpRequest&, Respond respond) {
    HttpResponse res;
    res.content_type = "text/html";
    res.body = "<html>";
    respond(res);
  });
  return r;
}

TEST(Router, MatchesParams) {
  const auto router = make_router();
  const auto res = route(router, "GET", "/api/rooms/general/messages");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(nlohmann::json::parse(res.body)["data"]["room"], "general");
  EXPECT_EQ(route(router, "POST", "/api/rooms/x/messages").status, 201);
}

TEST(Router, WrongMethodIs405WithAllow) {
  const auto res = route(make_router(), "DELETE", "/api/rooms/general/messages");
  EXPECT_EQ(res.status, 405);
  const auto allow =
      std::find_if(res.headers.begin(), res.headers.end(), [](auto& h) { return h.first == "Allow"; });
  ASSERT_NE(allow, res.headers.end());
  EXPECT_EQ(allow->second, "GET, POST");
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"]["code"], "METHOD_NOT_ALLOWED");
}

TEST(Router, UnknownApiPathIsJson404NotTheUi) {
  const auto res = route(make_router(), "GET", "/api/rooms/general");
  EXPECT_EQ(res.status, 404);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_FALSE(body["success"]);
  EXPECT_EQ(body["error"]["code"], "NOT_FOUND");
  EXPECT_EQ(body["meta"]["requestId"], "req-1");
}

TEST(Router, EverythingElseGoesToTheUi) {
  EXPECT_EQ(route(make_router(), "GET", "/contacts/list").body, "<html>");
  EXPECT_EQ(route(make_router(), "GET", "/").body, "<html>");
}

TEST(Router, HeadIsAnsweredLikeGet) {
  EXPECT_EQ(route(make_router(), "HEAD", "/api/rooms/a/messages").status, 200);
}

TEST(Envelope, ErrorCodesMapToStatuses) {
  HttpRequest req;
  EXPECT_EQ(failure(req, ErrorCode::kRateLimited, "x").status, 429);
  EXPECT_EQ(failure(req, ErrorCode::kConflict, "x").status, 409);
  EXPECT_EQ(failure(req, ErrorCode::kTurnstileFailed, "x").status, 403);
  EXPECT_EQ(failure(req, ErrorCode::kUnavailable, "x").status, 503);
  const auto upgrade = failure(req, ErrorCode::kUpgradeRequired, "x");
  EXPECT_EQ(upgrade.status, 426);
  EXPECT_TRUE(std::any_of(upgrade.headers.begin(), upgrade.headers.end(),
                          [](auto& h) { return h.first == "Upgrade" && h.second == "websocket"; }));
}

TEST(HttpTypes, QueryAndPercentDecoding) {
  const auto q = parse_query("a=1&b=x%20y+z&c&d=%zz");
  EXPECT_EQ(q.at("a"), "1");
  EXPECT_EQ(q.at("b"), "x y z");
  EXPECT_EQ(q.at("c"), "");
  EXPECT_FALSE(q.count("d"));  // malformed escape is dropped
  EXPECT_FALSE(percent_decode("%4", false).has_value());
}

TEST(HttpTypes, BearerToken) {
  HttpRequest req;
  req.headers = {{"authorization", "Bearer abc123"}};
  EXPECT_EQ(req.bearer_token(), "abc123");
  req.headers = {{"authorization", "Basic abc"}};
  EXPECT_FALSE(req.bearer_token());
  req.headers = {{"authorization", "Bearer   "}};
  EXPECT_FALSE(req.bearer_token());
}

// Metrics count requests by pattern, never by raw path, so the series stay bounded.
TEST(Router, NamesTheMatchedPatternForMetrics) {
  const auto router = make_router();
  HttpRequest seen;
  route(router, "GET", "/api/rooms/general/messages", &seen);
  EXPECT_EQ(seen.route, "/api/rooms/:id/messages");
  route(router, "DELETE", "/api/rooms/general/messages", &seen);  // 405: still the pattern
  EXPECT_EQ(seen.route, "/api/rooms/:id/messages");
  route(router, "GET", "/api/nothing/here", &seen);
  EXPECT_EQ(seen.route, Router::kUnmatchedRoute);
  route(router, "GET", "/index.html", &seen);
  EXPECT_EQ(seen.route, Router::kFallbackRoute);
  const auto names = router.route_names();
  EXPECT_EQ(names, (std::vector<std::string>{"/api/rooms/:id/messages", Router::kFallbackRoute,
                                             Router::kUnmatchedRoute}));
}

}  // namespace
}  // namespace switchboard::api
