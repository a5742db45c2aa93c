#include "switchboard/app/app.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "switchboard/ai/ai_factory.hpp"
#include "switchboard/ai/redis_quota_store.hpp"
#include "switchboard/analytics/event_recorder_factory.hpp"
#include "switchboard/analytics/events.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/api/api_service.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/room_registry.hpp"
#include "switchboard/net/server.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/presence/redis_presence_bus.hpp"
#include "switchboard/redis/redis_client.hpp"
#include "switchboard/security/turnstile_verifier.hpp"
#include "switchboard/session/memory_session_store.hpp"
#include "switchboard/session/redis_session_store.hpp"
#include "switchboard/session/session_service.hpp"
#include "switchboard/store/history_store_factory.hpp"
#include "switchboard/store/redis_room_log.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/cpus.hpp"
#include "switchboard/util/handler_guard.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::app {

struct App::Impl {
  explicit Impl(config::Config c)
      : config(std::move(c)),
        directory(auth::UserDirectory::load(config.data.users_file, config.data.personas_file)),
        threads(config.server.threads > 0 ? config.server.threads : static_cast<int>(util::usable_cpus())),
        ioc(threads),
        signals(ioc, SIGINT, SIGTERM),
        sweep_timer(ioc),
        drain_timer(ioc) {}

  void build();
  void start();
  void schedule_sweep();
  void begin_shutdown(int signal_number);
  void wait_for_drain(std::chrono::steady_clock::time_point deadline);
  void flush_then_stop(std::chrono::steady_clock::time_point deadline);
  void stop_io();
  std::string session_snapshot_path() const {
    return (std::filesystem::path(config.data.dir) / "sessions.json").string();
  }
  void restore_signed_in_users();
  void build_session_store();
  void adopt_session(const session::Identity& id);
  bool ready() const { return !draining.load() && (!redis || redis->is_connected()); }

  config::Config config;
  auth::UserDirectory directory;
  int threads;
  boost::asio::io_context ioc;
  boost::asio::signal_set signals;
  boost::asio::steady_timer sweep_timer;
  boost::asio::steady_timer drain_timer;
  std::atomic<bool> draining{false};

  // Outgoing HTTP (AI providers, Turnstile) and the bots; destroyed before the io_context they run on.
  std::unique_ptr<http_client::HttpClient> http;
  std::shared_ptr<ai::BotOrchestrator> bots;
  // Set when redis.url is configured: sessions, quotas and (history.backend redis) rooms shared by instances.
  std::shared_ptr<redis::RedisClient> redis;
  std::shared_ptr<session::RedisSessionStore> redis_sessions;
  std::shared_ptr<store::RedisRoomLog> room_log;  // shared history and fan-out (history.backend redis)
  // Names this process in Redis announcements, so it can tell its own from other instances'.
  std::string instance_id = util::random_token(9);
  // Prometheus metrics and analytics events; the recorder (null for analytics.sink "none") is declared after
  // the HTTP and Redis clients its sinks use, so it is destroyed first.
  std::shared_ptr<analytics::Metrics> metrics = std::make_shared<analytics::Metrics>();
  std::shared_ptr<analytics::EventRecorder> events;
  std::shared_ptr<store::HistoryStore> history;
  std::shared_ptr<presence::UserProfiles> profiles;
  std::shared_ptr<session::MemorySessionStore> memory_sessions;
  std::shared_ptr<session::SessionService> sessions;
  std::shared_ptr<presence::PresenceRoom> presence;
  std::shared_ptr<presence::RedisPresenceBus> presence_bus;  // global presence (redis.url set)
  std::shared_ptr<chat::RoomRegistry> rooms;
  std::shared_ptr<const net::StaticFiles> static_files;
  std::unique_ptr<api::ApiService> api;
  std::unique_ptr<net::Server> server;
};

void App::Impl::build() {
  http = std::make_unique<http_client::HttpClient>(ioc, ai::http_client_options(config));
  if (!config.redis.url.empty()) {
    redis = std::make_shared<redis::RedisClient>(
        ioc, redis::RedisClient::Options(redis::RedisClient::options_from(config.redis)));
    metrics->set_redis_configured(true);
    redis->set_state_handler([this, m = metrics](redis::RedisClient::Link link, bool up) {
      m->set_redis_connected(link == redis::RedisClient::Link::kCommands
                                 ? analytics::Metrics::RedisLink::kCommands
                                 : analytics::Metrics::RedisLink::kSubscriber,
                             up);
      const auto logger = util::logger("redis");
      if (up)
        logger->info("{} link to Redis is up", redis::to_string(link));
      else
        logger->warn("{} link to Redis is down; retrying", redis::to_string(link));
      // Publications made while the subscriber was away are caught up from the shared log.
      if (up && link == redis::RedisClient::Link::kSubscriber && room_log)
        room_log->subscriber_link_restored();
      // Presence republishes this instance's users or resyncs the others' as needed.
      if (up && presence_bus) presence_bus->link_up(link);
    });
  }
  events = analytics::make_event_recorder(config, ioc, *http, redis.get());
  if (events) events->export_metrics(*metrics);
  // Without Redis the quota store is in memory (make_bot_gateway's default).
  bots = ai::make_bot_gateway(config, directory, *http,
                              redis ? std::make_shared<ai::RedisQuotaStore>(redis) : nullptr, ioc);
  bots->set_observers(metrics, events);
  const bool bots_available = bots->bots_available();
  const std::string bots_note = !config.ai.enabled ? "AI replies are switched off (ai.enabled=false)."
                                                   : "Offline: no AI provider configured (set ai.provider).";
  profiles = std::make_shared<presence::UserProfiles>(directory, config.chat.max_display_name_code_points,
                                                      bots_available, bots_note);
  if (store::effective_history_backend(config) == "redis") {
    room_log = std::make_shared<store::RedisRoomLog>(redis, instance_id);
    history = room_log;
  } else {
    history = store::make_history_store(config);
  }
  build_session_store();
  presence = std::make_shared<presence::PresenceRoom>(
      ioc.get_executor(), profiles, std::chrono::seconds(config.presence.away_after_seconds));
  if (redis) {
    presence_bus = std::make_shared<presence::RedisPresenceBus>(
        ioc.get_executor(), redis, instance_id, std::chrono::seconds(config.presence.heartbeat_seconds));
    presence->set_bus(presence_bus);
  }

  chat::FrameLimits limits{config.chat.max_content_code_points, config.chat.max_display_name_code_points,
                           config.chat.max_personal_message_code_points, config.chat.winks};
  chat::RoomHooks hooks;
  std::weak_ptr<presence::PresenceRoom> weak_presence = presence;
  hooks.dm_notification = [weak_presence](const std::vector<std::string>& users, const chat::Message& m) {
    if (auto p = weak_presence.lock()) p->notify(users, m);
  };
  hooks.user_activity = [weak_presence](const std::string& user_id) {
    if (auto p = weak_presence.lock()) p->activity(user_id);
  };
  hooks.profile_changed = [weak_presence](const std::string& user_id) {
    if (auto p = weak_presence.lock()) p->publish(user_id);
  };
  rooms = std::make_shared<chat::RoomRegistry>(
      ioc.get_executor(), chat::ChatRoom::Dependencies{config, limits, history, profiles, bots, hooks,
                                                       metrics, events, room_log});
  std::weak_ptr<chat::RoomRegistry> weak_rooms = rooms;
  if (room_log) {
    // A deletion made on another instance: blank that user's messages in the rooms held here too.
    room_log->on_sender_deleted([weak_rooms](const std::string& user_id) {
      if (auto r = weak_rooms.lock()) r->for_each([&](const auto& room) { room->forget_sender(user_id); });
    });
  }
  presence->set_profile_listener([weak_rooms](const std::string& user_id) {
    if (auto r = weak_rooms.lock())
      r->for_each([&](const auto& room) { room->refresh_participant(user_id); });
  });
  sessions->set_adopt_hook([this](const session::Identity& id) { adopt_session(id); });
  restore_signed_in_users();
  if (redis_sessions) {
    // A logout on any instance closes this session's sockets here too (PROTOCOL §4).
    std::weak_ptr<session::SessionService> weak_sessions = sessions;
    redis_sessions->subscribe_ended([weak_sessions](const session::SessionEnded& ended) {
      if (ended.from_this_instance) return;  // already ended by the logout itself
      if (auto s = weak_sessions.lock()) s->end_announced(ended.token_hash);
    });
  }
  sessions->set_ended_hook([weak_presence, events = events](const session::Identity& id, bool logged_out) {
    util::logger("auth")->info("session of {} ended ({})", id.user_id(), logged_out ? "logout" : "expired");
    if (auto p = weak_presence.lock()) p->session_ended(id.user_id(), id.record.is_guest);
    if (events) {
      const double age_s = id.record.created_at > 0 ? (util::now_ms() - id.record.created_at) / 1000.0 : 0;
      events->record(logged_out
                         ? analytics::events::logout(id.user_id(), id.record.is_guest, age_s)
                         : analytics::events::session_expired(id.user_id(), id.record.is_guest, age_s));
    }
  });
  // All live sessions with the memory store; with Redis, the sessions this instance has seen lately.
  metrics->add_gauge("switchboard_sessions", "Signed-in sessions known to this instance.", [this] {
    return static_cast<double>(memory_sessions ? memory_sessions->size() : sessions->tracked_sessions());
  });

  static_files = std::make_shared<const net::StaticFiles>(
      config.server.web_root.empty() ? net::StaticFiles::embedded()
                                     : net::StaticFiles::from_directory(config.server.web_root));
  api = std::make_unique<api::ApiService>(api::ApiService::Dependencies{
      config, directory, profiles, sessions, rooms, presence, static_files, [this] { return ready(); },
      limits, security::TurnstileVerifier::from_config(config, *http), metrics, events});
  server = std::make_unique<net::Server>(ioc, config, *api);
}

// In memory by default, with a snapshot that survives a clean restart; in Redis (shared by every instance,
// and surviving any restart) when redis.url is set.
void App::Impl::build_session_store() {
  const session::SessionService::Options options{std::chrono::seconds(config.session.ttl_seconds),
                                                 std::chrono::seconds(config.session.touch_interval_seconds)};
  if (redis) {
    redis_sessions = std::make_shared<session::RedisSessionStore>(redis, instance_id);
    sessions = std::make_shared<session::SessionService>(redis_sessions, options);
    return;
  }
  memory_sessions = std::make_shared<session::MemorySessionStore>();
  if (std::string error; !memory_sessions->load(session_snapshot_path(), error))
    util::logger("session")->warn("sessions not restored: {}", error);
  sessions = std::make_shared<session::SessionService>(memory_sessions, options);
}

// A session this process did not create (another instance's, or one restored from the snapshot): its user is
// signed in, and a guest needs their profile and reserved name here too.
void App::Impl::adopt_session(const session::Identity& id) {
  const auto& record = id.record;
  if (record.is_guest) {
    const std::string lower = record.user_id.substr(std::string("guest_").size());
    // The profile may exist already, made from another instance's presence: the session holds it now.
    if (!profiles->get(record.user_id))
      profiles->add_guest(record.user_id, record.guest_display_name, lower + "@guest.invalid",
                          record.guest_avatar_id);
    sessions->bind_guest_name(lower, id.token_hash, &record);
  }
  profiles->set_connected(record.user_id, true);
  presence->signed_in(record.user_id);
}

void App::Impl::restore_signed_in_users() {
  if (!memory_sessions) return;
  std::size_t restored = 0;
  for (const auto& [hash, record] : memory_sessions->entries()) {
    adopt_session(session::Identity{hash, record});
    ++restored;
  }
  if (restored) util::logger("session")->info("restored {} sessions from the last clean shutdown", restored);
}

void App::Impl::start() {
  const auto port = server->start();
  const auto colon = config.server.listen.rfind(':');
  const auto host = config.server.listen.substr(0, colon);
  util::logger("app")->info("switchboard {} listening on {}://{}:{} ({} threads, history: {}, sessions: {})",
                            SWITCHBOARD_VERSION, config.server.tls_cert_file.empty() ? "http" : "https", host,
                            port, threads, store::effective_history_backend(config),
                            redis ? "redis" : "memory");
  if (!config.server.port_file.empty()) {
    // Write then rename, so a reader never sees a half-written port.
    const std::string tmp = config.server.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), config.server.port_file.c_str());
  }
  if (!config.ai.enabled) {
    util::logger("ai")->info("AI bots are switched off (ai.enabled=false)");
  } else if (config.ai.provider.empty()) {
    util::logger("ai")->warn(
        "no AI provider configured: bots show as offline; set ai.provider to enable replies");
  }
  if (config.turnstile.secret_key.empty())
    util::logger("security")->warn("turnstile.secret_key is not set: logins are not protected by Turnstile");
  else if (config.turnstile.site_key.empty())
    util::logger("security")
        ->warn(
            "turnstile.secret_key is set but turnstile.site_key is not: the web UI shows no widget, so its "
            "logins will be refused");
  if (redis) redis->start();
  if (events) {
    events->start();
    util::logger("analytics")
        ->info("analytics events go to the {} sink (dataset {})", events->sink_name(),
               config.analytics.dataset);
  }
  presence->start();
  schedule_sweep();
  signals.async_wait([this](boost::system::error_code ec, int signal_number) {
    if (!ec) begin_shutdown(signal_number);
  });
}

void App::Impl::schedule_sweep() {
  sweep_timer.expires_after(std::chrono::seconds(config.session.sweep_interval_seconds));
  sweep_timer.async_wait([this](boost::system::error_code ec) {
    if (ec || draining) return;
    sessions->sweep();
    schedule_sweep();
  });
}

void App::Impl::begin_shutdown(int signal_number) {
  util::logger("app")->info("signal {} received: draining", signal_number);
  draining = true;  // /readyz answers 503 from now on
  sweep_timer.cancel();
  server->stop_accepting();
  presence->stop();
  bots->shutdown();
  server->close_websockets(1001, "Server shutting down");
  // Leave a margin for flushing the stores inside the configured bound.
  const auto budget = std::chrono::seconds(std::max(1, config.server.shutdown_timeout_seconds - 2));
  wait_for_drain(std::chrono::steady_clock::now() + budget);
}

void App::Impl::wait_for_drain(std::chrono::steady_clock::time_point deadline) {
  if (server->websocket_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
    util::logger("app")->info("drained ({} websockets left); stopping", server->websocket_count());
    // The flush gets what is left of the budget plus a second, and at most 5 s (a stalled collector).
    return flush_then_stop(std::min(deadline + std::chrono::seconds(1),
                                    std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  }
  drain_timer.expires_after(std::chrono::milliseconds(50));
  drain_timer.async_wait([this, deadline](boost::system::error_code ec) {
    if (!ec) wait_for_drain(deadline);
  });
}

// The analytics sinks may need the HTTP and Redis clients (and this io_context) to write what the drain just
// recorded (ws_close, logouts), so those stop only once the recorder has flushed, or at `deadline`.
void App::Impl::flush_then_stop(std::chrono::steady_clock::time_point deadline) {
  if (!events) return stop_io();
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto stop = [this, once] {
    if (!once->exchange(true)) boost::asio::post(ioc, [this] { stop_io(); });
  };
  events->flush(stop);
  drain_timer.expires_at(deadline);
  drain_timer.async_wait([stop](boost::system::error_code ec) {
    if (!ec) stop();
  });
}

void App::Impl::stop_io() {
  http->shutdown();
  if (redis) redis->stop();
  ioc.stop();
}

App::App(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->build();
}

App::~App() = default;

int App::run() {
  impl_->start();
  // The last line of defence: a completion handler that throws loses its own work, and the thread goes back
  // to running the others (Asio leaves the io_context usable after an exception escapes run()).
  const auto run_io = [this] {
    while (!util::run_guarded(util::HandlerSite::kIoLoop, "the I/O loop", [this] { impl_->ioc.run(); })) {
    }
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < impl_->threads; ++i) workers.emplace_back(run_io);
  run_io();
  for (auto& t : workers) t.join();
  // No I/O thread is left, so blocking here is fine: commit what the history store still holds.
  impl_->history->close();
  // Nothing should be left after the flush; a file or stdout sink writes stragglers here.
  if (impl_->events) impl_->events->stop(std::chrono::milliseconds(1000));
  if (std::string error;
      impl_->memory_sessions && !impl_->memory_sessions->save(impl_->session_snapshot_path(), error))
    util::logger("session")->warn("sessions not saved: {}", error);
  util::logger("app")->info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace switchboard::app
