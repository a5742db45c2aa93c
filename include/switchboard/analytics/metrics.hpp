#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchboard/analytics/metric_types.hpp"
#include "switchboard/analytics/prometheus_writer.hpp"

namespace switchboard::analytics {

// The server's Prometheus metrics (GET /metrics). The composition root makes one and hands it to whoever
// records; every label set is fixed or bounded (HTTP routes are the router's patterns, never raw paths), so
// the series count cannot grow with traffic.
//
// Recording is lock-free: the members below are atomics, and observe_http() reads a map that is frozen before
// serving starts. Thread-safety: recording methods and render() may be called from any thread;
// register_routes(), set_redis_configured() and add_collector() are for start-up, before serving.
class Metrics final {
 public:
  enum class Connection : std::uint8_t { kHttp, kRoomWs, kPresenceWs };
  enum class MessageKind : std::uint8_t { kChat, kNudge, kWink, kSystem, kBotReply };
  enum class AiOutcome : std::uint8_t {
    kOk,
    kError,
    kBusy,
    kQuotaUser,
    kQuotaGlobal,
    kNoProvider,
    kShutdown
  };
  enum class RedisLink : std::uint8_t { kCommands, kSubscriber };

  // Route names for requests that matched no registered pattern.
  static constexpr std::string_view kRouteStatic = "static";        // the web UI's files (router fallback)
  static constexpr std::string_view kRouteUnmatched = "unmatched";  // unknown /api paths (404)
  static constexpr std::string_view kRoutePreflight = "preflight";  // CORS OPTIONS
  static constexpr std::string_view kRouteInvalid = "invalid";      // not valid HTTP, or over a size limit

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  Gauge& connections(Connection kind) { return connections_[static_cast<std::size_t>(kind)]; }
  Counter& messages(MessageKind kind) { return messages_[static_cast<std::size_t>(kind)]; }

  Counter broadcast_deliveries;  // frames handed to a room member's send queue
  Counter ws_queue_drops;        // frames dropped from send queues of clients that fell behind
  Counter slow_consumer_closes;  // sockets closed because their send queue went over its cap

  // Registers the router's patterns (start-up only). Requests for other names count under "other".
  void register_routes(const std::vector<std::string>& patterns);
  // One answered HTTP request: `route` is a registered pattern or one of the kRoute* names.
  void observe_http(std::string_view route, int status, double seconds);

  // One bot invocation, whatever its end. Latency is kept for the outcomes that asked the model (ok, error).
  void observe_ai(AiOutcome outcome, double seconds);

  // Redis: the gauges appear only once a Redis URL is configured (start-up), and read 0 until the client
  // reports a link up. The Redis client's state handler calls set_redis_connected().
  void set_redis_configured(bool configured) { redis_configured_ = configured; }
  void set_redis_connected(RedisLink link, bool up) {
    redis_up_[static_cast<std::size_t>(link)].set(up ? 1 : 0);
  }

  // Adds families computed at scrape time (queue lengths, store sizes). The function runs on the scraping
  // thread and must be cheap and thread-safe.
  void add_collector(std::function<void(PrometheusWriter&)> collect);
  // A single unlabelled gauge read at scrape time.
  void add_gauge(std::string name, std::string help, std::function<double()> read);

  // The whole exposition text.
  std::string render() const;

  static const char* to_string(Connection kind);
  static const char* to_string(MessageKind kind);
  static const char* to_string(AiOutcome outcome);

 private:
  struct RouteStats {
    explicit RouteStats(std::string n);
    std::string name;
    std::array<std::atomic<std::uint64_t>, 500> by_status{};  // index: status - 100
    Histogram latency;
  };
  RouteStats& route_stats(std::string_view route);

  const std::chrono::system_clock::time_point started_wall_;
  const std::chrono::steady_clock::time_point started_steady_;

  std::array<Gauge, 3> connections_;
  std::array<Counter, 5> messages_;
  std::array<Counter, 7> ai_outcomes_;
  Histogram ai_ok_latency_;
  Histogram ai_error_latency_;
  bool redis_configured_ = false;
  std::array<Gauge, 2> redis_up_;

  std::vector<std::unique_ptr<RouteStats>> routes_;
  std::unordered_map<std::string_view, RouteStats*> route_index_;  // keys point into routes_[i]->name
  RouteStats* other_route_ = nullptr;

  mutable std::mutex collectors_mutex_;
  std::vector<std::function<void(PrometheusWriter&)>> collectors_;
};

}  // namespace switchboard::analytics
