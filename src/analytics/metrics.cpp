#include "switchboard/analytics/metrics.hpp"

#include "switchboard/util/handler_guard.hpp"

namespace switchboard::analytics {
namespace {

// Seconds: from a cache hit on a static file to a slow history page.
const std::vector<double> kHttpBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
// Seconds: a small model answers in about a second; the provider timeout is 20 s by default.
const std::vector<double> kAiBuckets = {0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Metrics::RouteStats::RouteStats(std::string n) : name(std::move(n)), latency(kHttpBuckets) {}

Metrics::Metrics()
    : started_wall_(std::chrono::system_clock::now()),
      started_steady_(std::chrono::steady_clock::now()),
      ai_ok_latency_(kAiBuckets),
      ai_error_latency_(kAiBuckets) {
  register_routes({std::string(kRouteStatic), std::string(kRouteUnmatched), std::string(kRoutePreflight),
                   std::string(kRouteInvalid), "other"});
  other_route_ = route_index_.at("other");
}

void Metrics::register_routes(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (route_index_.count(p)) continue;
    routes_.push_back(std::make_unique<RouteStats>(p));
    route_index_.emplace(routes_.back()->name, routes_.back().get());
  }
}

Metrics::RouteStats& Metrics::route_stats(std::string_view route) {
  const auto it = route_index_.find(route);
  return it == route_index_.end() ? *other_route_ : *it->second;
}

void Metrics::observe_http(std::string_view route, int status, double seconds) {
  auto& r = route_stats(route);
  if (status < 100 || status > 599) status = 500;
  r.by_status[static_cast<std::size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed);
  r.latency.observe(seconds);
}

void Metrics::observe_ai(AiOutcome outcome, double seconds) {
  ai_outcomes_[static_cast<std::size_t>(outcome)].inc();
  if (outcome == AiOutcome::kOk) ai_ok_latency_.observe(seconds);
  if (outcome == AiOutcome::kError) ai_error_latency_.observe(seconds);
}

void Metrics::add_collector(std::function<void(PrometheusWriter&)> collect) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collect));
}

void Metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
  add_collector(
      [name = std::move(name), help = std::move(help), read = std::move(read)](PrometheusWriter& w) {
        w.family(name, help, "gauge");
        w.sample(name, {}, read());
      });
}

const char* Metrics::to_string(Connection kind) {
  switch (kind) {
    case Connection::kHttp:
      return "http";
    case Connection::kRoomWs:
      return "room_ws";
    case Connection::kPresenceWs:
      return "presence_ws";
  }
  return "unknown";
}

const char* Metrics::to_string(MessageKind kind) {
  switch (kind) {
    case MessageKind::kChat:
      return "chat";
    case MessageKind::kNudge:
      return "nudge";
    case MessageKind::kWink:
      return "wink";
    case MessageKind::kSystem:
      return "system";
    case MessageKind::kBotReply:
      return "bot_reply";
  }
  return "unknown";
}

const char* Metrics::to_string(AiOutcome outcome) {
  switch (outcome) {
    case AiOutcome::kOk:
      return "ok";
    case AiOutcome::kError:
      return "error";
    case AiOutcome::kBusy:
      return "busy";
    case AiOutcome::kQuotaUser:
      return "quota_user";
    case AiOutcome::kQuotaGlobal:
      return "quota_global";
    case AiOutcome::kNoProvider:
      return "no_provider";
    case AiOutcome::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

std::string Metrics::render() const {
  PrometheusWriter w;
  w.family("switchboard_build_info", "Always 1; the version label names the running build.", "gauge");
  w.sample("switchboard_build_info", {{"version", SWITCHBOARD_VERSION}}, 1);
  w.family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
           "gauge");
  w.sample("process_start_time_seconds", {}, seconds_since_epoch(started_wall_));
  w.family("switchboard_uptime_seconds", "Seconds since the server started.", "gauge");
  w.sample("switchboard_uptime_seconds", {},
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady_).count());

  w.family("switchboard_connections",
           "Open client connections by kind (HTTP, room WebSocket, presence WebSocket).", "gauge");
  for (const auto kind : {Connection::kHttp, Connection::kRoomWs, Connection::kPresenceWs})
    w.sample("switchboard_connections", {{"kind", to_string(kind)}},
             static_cast<double>(connections_[static_cast<std::size_t>(kind)].value()));

  w.family("switchboard_messages_total", "Messages stored and broadcast, by type.", "counter");
  for (const auto kind : {MessageKind::kChat, MessageKind::kNudge, MessageKind::kWink, MessageKind::kSystem,
                          MessageKind::kBotReply})
    w.sample("switchboard_messages_total", {{"type", to_string(kind)}},
             static_cast<double>(messages_[static_cast<std::size_t>(kind)].value()));
  w.family("switchboard_broadcast_deliveries_total", "Room frames handed to members' send queues.",
           "counter");
  w.sample("switchboard_broadcast_deliveries_total", {}, static_cast<double>(broadcast_deliveries.value()));
  w.family("switchboard_ws_queue_drops_total",
           "Frames dropped from the send queues of WebSocket clients that fell behind.", "counter");
  w.sample("switchboard_ws_queue_drops_total", {}, static_cast<double>(ws_queue_drops.value()));
  w.family("switchboard_ws_slow_consumer_closes_total",
           "WebSockets closed (1008) because their send queue went over its cap.", "counter");
  w.sample("switchboard_ws_slow_consumer_closes_total", {},
           static_cast<double>(slow_consumer_closes.value()));

  w.family("switchboard_handler_exceptions_total",
           "Exceptions stopped at a handler boundary, by site (each cost one connection, request or task, "
           "never the process).",
           "counter");
  for (const auto site : util::kHandlerSites)
    w.sample("switchboard_handler_exceptions_total", {{"site", util::to_string(site)}},
             static_cast<double>(util::handler_exception_count(site)));

  w.family("switchboard_http_requests_total", "HTTP requests answered, by route pattern and status.",
           "counter");
  for (const auto& r : routes_) {
    for (std::size_t i = 0; i < r->by_status.size(); ++i) {
      const auto n = r->by_status[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = std::to_string(i + 100);
      w.sample("switchboard_http_requests_total", {{"route", r->name}, {"status", status}},
               static_cast<double>(n));
    }
  }
  w.family("switchboard_http_request_duration_seconds",
           "Time from a complete request to its response being handed to the socket, by route pattern.",
           "histogram");
  for (const auto& r : routes_) {
    const auto s = r->latency.snapshot();
    if (s.count > 0) w.histogram("switchboard_http_request_duration_seconds", {{"route", r->name}}, s);
  }

  w.family("switchboard_ai_invocations_total", "Bot invocations by outcome.", "counter");
  for (std::size_t i = 0; i < ai_outcomes_.size(); ++i)
    w.sample("switchboard_ai_invocations_total", {{"outcome", to_string(static_cast<AiOutcome>(i))}},
             static_cast<double>(ai_outcomes_[i].value()));
  w.family("switchboard_ai_invocation_duration_seconds",
           "Time from a bot being addressed to its reply or apology, for invocations that asked the model.",
           "histogram");
  w.histogram("switchboard_ai_invocation_duration_seconds", {{"outcome", "ok"}}, ai_ok_latency_.snapshot());
  w.histogram("switchboard_ai_invocation_duration_seconds", {{"outcome", "error"}},
              ai_error_latency_.snapshot());

  if (redis_configured_) {
    w.family("switchboard_redis_connected", "1 while the Redis link is up (commands, subscriber), else 0.",
             "gauge");
    w.sample("switchboard_redis_connected", {{"link", "commands"}},
             static_cast<double>(redis_up_[static_cast<std::size_t>(RedisLink::kCommands)].value()));
    w.sample("switchboard_redis_connected", {{"link", "subscriber"}},
             static_cast<double>(redis_up_[static_cast<std::size_t>(RedisLink::kSubscriber)].value()));
  }

  std::lock_guard lock(collectors_mutex_);
  for (const auto& collect : collectors_) collect(w);
  return w.take();
}

}  // namespace switchboard::analytics
