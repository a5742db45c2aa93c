#include "switchboard/analytics/prometheus_writer.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <stdexcept>
#include <string>

#include "switchboard/analytics/metrics.hpp"

namespace switchboard::analytics {
namespace {

TEST(PrometheusWriter, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(PrometheusWriter::escape_label_value(R"(a\b"c)"
                                                 "\n"
                                                 "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(PrometheusWriter::escape_label_value("plain /api/rooms/:id"), "plain /api/rooms/:id");
  // HELP keeps quotes as they are but escapes backslash and line feed.
  EXPECT_EQ(PrometheusWriter::escape_help("say \"hi\"\\\nnext"), "say \"hi\"\\\\\\nnext");

  PrometheusWriter w;
  w.family("t_total", "Line one\nline two", "counter");
  w.sample("t_total", {{"path", "a\"b"}, {"x", "1"}}, 3);
  EXPECT_EQ(w.text(),
            "# HELP t_total Line one\\nline two\n"
            "# TYPE t_total counter\n"
            "t_total{path=\"a\\\"b\",x=\"1\"} 3\n");
}

TEST(PrometheusWriter, FormatsValuesAsTheFormatSpellsThem) {
  EXPECT_EQ(PrometheusWriter::format_value(0), "0");
  EXPECT_EQ(PrometheusWriter::format_value(42), "42");
  EXPECT_EQ(PrometheusWriter::format_value(0.005), "0.005");
  EXPECT_EQ(PrometheusWriter::format_value(-1.5), "-1.5");
  EXPECT_EQ(PrometheusWriter::format_value(1e21), "1e+21");
  EXPECT_EQ(PrometheusWriter::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusWriter::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusWriter::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusWriter, HistogramHasCumulativeBucketsInfSumAndCount) {
  Histogram h({0.1, 0.5, 1});
  for (const double v : {0.05, 0.1, 0.3, 0.7, 5.0}) h.observe(v);
  const auto s = h.snapshot();
  ASSERT_EQ(s.cumulative.size(), 4u);
  EXPECT_EQ(s.cumulative[0], 2u);  // 0.05 and 0.1 (a bound is inclusive)
  EXPECT_EQ(s.cumulative[1], 3u);
  EXPECT_EQ(s.cumulative[2], 4u);
  EXPECT_EQ(s.cumulative[3], 5u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 6.15);

  PrometheusWriter w;
  w.histogram("lat_seconds", {{"route", "/x"}}, s);
  EXPECT_EQ(w.text(),
            "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"1\"} 4\n"
            "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{route=\"/x\"} 6.15\n"
            "lat_seconds_count{route=\"/x\"} 5\n");
}

TEST(PrometheusWriter, HistogramRejectsBadBounds) {
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
}

TEST(Metrics, RendersRoutePatternsNotRawPaths) {
  Metrics m;
  m.register_routes({"/api/rooms/:id/messages", "/healthz"});
  m.observe_http("/api/rooms/:id/messages", 201, 0.003);
  m.observe_http("/api/rooms/:id/messages", 201, 0.02);
  m.observe_http("/api/rooms/:id/messages", 429, 0.001);
  m.observe_http("/api/rooms/general/messages", 200, 0.001);  // not a pattern: counted as "other"
  const std::string text = m.render();
  EXPECT_NE(
      text.find("switchboard_http_requests_total{route=\"/api/rooms/:id/messages\",status=\"201\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("switchboard_http_requests_total{route=\"/api/rooms/:id/messages\",status=\"429\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("switchboard_http_requests_total{route=\"other\",status=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("general"), std::string::npos);
  EXPECT_NE(text.find("switchboard_http_request_duration_seconds_bucket{route=\"/api/rooms/:id/messages\","
                      "le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("switchboard_http_request_duration_seconds_count{route=\"/api/rooms/:id/messages\"} 3\n"),
      std::string::npos);
  // A route that saw nothing has no series.
  EXPECT_EQ(text.find("route=\"/healthz\""), std::string::npos);
}

TEST(Metrics, CountersGaugesAndCollectorsAppear) {
  Metrics m;
  m.connections(Metrics::Connection::kRoomWs).inc();
  m.connections(Metrics::Connection::kRoomWs).inc();
  m.connections(Metrics::Connection::kRoomWs).dec();
  m.messages(Metrics::MessageKind::kNudge).inc(3);
  m.broadcast_deliveries.inc(7);
  m.observe_ai(Metrics::AiOutcome::kOk, 1.5);
  m.observe_ai(Metrics::AiOutcome::kQuotaUser, 0.001);
  m.add_gauge("switchboard_sessions", "Sessions.", [] { return 12.0; });
  const std::string text = m.render();
  EXPECT_NE(text.find("switchboard_connections{kind=\"room_ws\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("switchboard_connections{kind=\"http\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("switchboard_messages_total{type=\"nudge\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("switchboard_broadcast_deliveries_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("switchboard_ai_invocations_total{outcome=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("switchboard_ai_invocations_total{outcome=\"quota_user\"} 1\n"), std::string::npos);
  // Only outcomes that asked the model have a latency.
  EXPECT_NE(text.find("switchboard_ai_invocation_duration_seconds_count{outcome=\"ok\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchboard_ai_invocation_duration_seconds_count{outcome=\"error\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE switchboard_sessions gauge\nswitchboard_sessions 12\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_start_time_seconds gauge\n"), std::string::npos);
  EXPECT_NE(text.find("switchboard_uptime_seconds "), std::string::npos);
}

TEST(Metrics, RedisGaugesOnlyWhenConfigured) {
  Metrics m;
  EXPECT_EQ(m.render().find("switchboard_redis_connected"), std::string::npos);
  m.set_redis_configured(true);
  EXPECT_NE(m.render().find("switchboard_redis_connected{link=\"commands\"} 0\n"), std::string::npos);
  m.set_redis_connected(Metrics::RedisLink::kCommands, true);
  EXPECT_NE(m.render().find("switchboard_redis_connected{link=\"commands\"} 1\n"), std::string::npos);
  EXPECT_NE(m.render().find("switchboard_redis_connected{link=\"subscriber\"} 0\n"), std::string::npos);
}

// Every family has exactly one HELP and one TYPE line, and they come before its samples.
TEST(Metrics, EachFamilyIsDeclaredOnceBeforeItsSamples) {
  Metrics m;
  m.register_routes({"/a", "/b"});
  m.observe_http("/a", 200, 0.01);
  m.observe_http("/b", 404, 0.01);
  const std::string text = m.render();
  std::map<std::string, int> types;
  std::string current;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      ++types[current];
      continue;
    }
    if (line.rfind("#", 0) == 0) continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(current, 0), 0u) << name << " outside its family " << current;
  }
  for (const auto& [name, n] : types) EXPECT_EQ(n, 1) << name;
}

}  // namespace
}  // namespace switchboard::analytics
