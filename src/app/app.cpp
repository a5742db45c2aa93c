#include "switchboard/app/app.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "switchboard/ai/ai_factory.hpp"
#include "switchboard/api/api_service.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/room_registry.hpp"
#include "switchboard/net/server.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/session/memory_session_store.hpp"
#include "switchboard/session/session_service.hpp"
#include "switchboard/store/history_store_factory.hpp"

namespace switchboard::app {

struct App::Impl {
  explicit Impl(config::Config c)
      : config(std::move(c)),
        directory(auth::UserDirectory::load(config.data.users_file, config.data.personas_file)),
        threads(config.server.threads > 0 ? config.server.threads
                                          : std::max(1u, std::thread::hardware_concurrency())),
        ioc(threads),
        signals(ioc, SIGINT, SIGTERM),
        sweep_timer(ioc),
        drain_timer(ioc) {}

  void build();
  void start();
  void schedule_sweep();
  void begin_shutdown(int signal_number);
  void wait_for_drain(std::chrono::steady_clock::time_point deadline);
  std::string session_snapshot_path() const {
    return (std::filesystem::path(config.data.dir) / "sessions.json").string();
  }
  void restore_signed_in_users();

  config::Config config;
  auth::UserDirectory directory;
  int threads;
  boost::asio::io_context ioc;
  boost::asio::signal_set signals;
  boost::asio::steady_timer sweep_timer;
  boost::asio::steady_timer drain_timer;
  std::atomic<bool> draining{false};

  // Outgoing HTTP (AI providers, later Turnstile) and the bots; destroyed before the io_context they run on.
  std::unique_ptr<http_client::HttpClient> http;
  std::shared_ptr<ai::BotOrchestrator> bots;
  std::shared_ptr<store::HistoryStore> history;
  std::shared_ptr<presence::UserProfiles> profiles;
  std::shared_ptr<session::MemorySessionStore> memory_sessions;
  std::shared_ptr<session::SessionService> sessions;
  std::shared_ptr<presence::PresenceRoom> presence;
  std::shared_ptr<chat::RoomRegistry> rooms;
  std::shared_ptr<const net::StaticFiles> static_files;
  std::unique_ptr<api::ApiService> api;
  std::unique_ptr<net::Server> server;
};

void App::Impl::build() {
  http = std::make_unique<http_client::HttpClient>(ioc, ai::http_client_options(config));
  bots = ai::make_bot_gateway(config, directory, *http, /*quotas=*/nullptr, ioc);
  const bool bots_available = bots->bots_available();
  const std::string bots_note = !config.ai.enabled ? "AI replies are switched off (ai.enabled=false)."
                                                   : "Offline: no AI provider configured (set ai.provider).";
  profiles = std::make_shared<presence::UserProfiles>(directory, config.chat.max_display_name_code_points,
                                                      bots_available, bots_note);
  history = store::make_history_store(config);
  memory_sessions = std::make_shared<session::MemorySessionStore>();
  if (std::string error; !memory_sessions->load(session_snapshot_path(), error))
    spdlog::get("session")->warn("sessions not restored: {}", error);
  sessions = std::make_shared<session::SessionService>(
      memory_sessions,
      session::SessionService::Options{std::chrono::seconds(config.session.ttl_seconds),
                                       std::chrono::seconds(config.session.touch_interval_seconds)});
  presence = std::make_shared<presence::PresenceRoom>(
      ioc.get_executor(), profiles, std::chrono::seconds(config.presence.away_after_seconds));

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
      ioc.get_executor(), chat::ChatRoom::Dependencies{config, limits, history, profiles, bots, hooks});
  std::weak_ptr<chat::RoomRegistry> weak_rooms = rooms;
  presence->set_profile_listener([weak_rooms](const std::string& user_id) {
    if (auto r = weak_rooms.lock())
      r->for_each([&](const auto& room) { room->refresh_participant(user_id); });
  });
  sessions->set_ended_hook([weak_presence](const session::Identity& id, bool logged_out) {
    spdlog::get("auth")->info("session of {} ended ({})", id.user_id(), logged_out ? "logout" : "expired");
    if (auto p = weak_presence.lock()) p->session_ended(id.user_id(), id.record.is_guest);
  });

  static_files = std::make_shared<const net::StaticFiles>(
      config.server.web_root.empty() ? net::StaticFiles::embedded()
                                     : net::StaticFiles::from_directory(config.server.web_root));
  api = std::make_unique<api::ApiService>(
      api::ApiService::Dependencies{config, directory, profiles, sessions, rooms, presence, static_files,
                                    [this] { return !draining.load(); }, limits});
  server = std::make_unique<net::Server>(ioc, config, *api);
}

// Sessions restored from the snapshot: their users are signed in, and guests need their profiles and names
// back.
void App::Impl::restore_signed_in_users() {
  std::size_t restored = 0;
  for (const auto& [hash, record] : memory_sessions->entries()) {
    if (record.is_guest) {
      const std::string lower = record.user_id.substr(std::string("guest_").size());
      profiles->add_guest(record.user_id, record.guest_display_name, lower + "@guest.invalid",
                          record.guest_avatar_id);
      sessions->bind_guest_name(lower, hash, &record);
    }
    profiles->set_connected(record.user_id, true);
    ++restored;
  }
  if (restored) spdlog::get("session")->info("restored {} sessions from the last clean shutdown", restored);
}

void App::Impl::start() {
  const auto port = server->start();
  const auto colon = config.server.listen.rfind(':');
  const auto host = config.server.listen.substr(0, colon);
  spdlog::get("app")->info(
      "switchboard {} listening on http://{}:{} ({} threads, history: {}, sessions: memory)",
      SWITCHBOARD_VERSION, host, port, threads, config.history.backend);
  if (!config.server.port_file.empty()) {
    // Write then rename, so a reader never sees a half-written port.
    const std::string tmp = config.server.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), config.server.port_file.c_str());
  }
  if (!config.ai.enabled) {
    spdlog::get("ai")->info("AI bots are switched off (ai.enabled=false)");
  } else if (config.ai.provider.empty()) {
    spdlog::get("ai")->warn(
        "no AI provider configured: bots show as offline; set ai.provider to enable replies");
  }
  if (config.turnstile.secret_key.empty())
    spdlog::get("security")->warn("turnstile.secret_key is not set: logins are not protected by Turnstile");
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
  spdlog::get("app")->info("signal {} received: draining", signal_number);
  draining = true;  // /readyz answers 503 from now on
  sweep_timer.cancel();
  server->stop_accepting();
  presence->stop();
  bots->shutdown();
  http->shutdown();
  server->close_websockets(1001, "Server shutting down");
  // Leave a margin for flushing the stores inside the configured bound.
  const auto budget = std::chrono::seconds(std::max(1, config.server.shutdown_timeout_seconds - 2));
  wait_for_drain(std::chrono::steady_clock::now() + budget);
}

void App::Impl::wait_for_drain(std::chrono::steady_clock::time_point deadline) {
  if (server->websocket_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
    spdlog::get("app")->info("drained ({} websockets left); stopping", server->websocket_count());
    ioc.stop();
    return;
  }
  drain_timer.expires_after(std::chrono::milliseconds(50));
  drain_timer.async_wait([this, deadline](boost::system::error_code ec) {
    if (!ec) wait_for_drain(deadline);
  });
}

App::App(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->build();
}

App::~App() = default;

int App::run() {
  impl_->start();
  std::vector<std::thread> workers;
  for (int i = 1; i < impl_->threads; ++i) workers.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : workers) t.join();
  // No I/O thread is left, so blocking here is fine: commit what the history store still holds.
  impl_->history->close();
  if (std::string error; !impl_->memory_sessions->save(impl_->session_snapshot_path(), error))
    spdlog::get("session")->warn("sessions not saved: {}", error);
  spdlog::get("app")->info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace switchboard::app
