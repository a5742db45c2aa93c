#pragma once
#include <functional>
#include <memory>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/api/http_policy.hpp"
#include "switchboard/api/metrics_endpoint.hpp"
#include "switchboard/api/router.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/room_registry.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/net/static_files.hpp"
#include "switchboard/net/ws_handler.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/security/keyed_rate_limiter.hpp"
#include "switchboard/security/turnstile_verifier.hpp"
#include "switchboard/session/session_service.hpp"

namespace switchboard::api {

// The HTTP API and the WebSocket upgrade policy (PROTOCOL §3): decodes requests, calls the domain objects and
// encodes their answers. Holds no per-request state.
// Thread-safety: all methods are safe from any thread; responses may be delivered from any thread.
class ApiService final {
 public:
  struct Dependencies {
    const config::Config& config;
    const auth::UserDirectory& directory;
    std::shared_ptr<presence::UserProfiles> profiles;
    std::shared_ptr<session::SessionService> sessions;
    std::shared_ptr<chat::RoomRegistry> rooms;
    std::shared_ptr<presence::PresenceRoom> presence;
    std::shared_ptr<const net::StaticFiles> static_files;
    std::function<bool()> ready;  // false while draining
    chat::FrameLimits limits;
    // Checks the login's Turnstile token before any session is created; null when no secret is configured.
    std::shared_ptr<security::TurnstileVerifier> turnstile = nullptr;
    // GET /metrics renders this; null: a registry of its own, so /metrics still answers.
    std::shared_ptr<analytics::Metrics> metrics = nullptr;
    std::shared_ptr<analytics::EventRecorder> events = nullptr;  // null: no analytics events
  };
  // Either a refusal (status >= 400) or a handler to attach to the accepted socket.
  using UpgradeDone = std::function<void(HttpResponse refusal, std::shared_ptr<net::WsHandler> handler)>;

  explicit ApiService(Dependencies deps);

  const Router& router() const { return router_; }
  const HttpPolicy& policy() const { return policy_; }
  // The registry /metrics renders (never null), for the network layer's connection and request metrics.
  const std::shared_ptr<analytics::Metrics>& metrics() const { return deps_.metrics; }

  // Decides a WebSocket upgrade on /api/ws/*: origin, session, room access.
  void authorize_upgrade(HttpRequest& req, UpgradeDone done);

  // The guest user-name rule of PROTOCOL §3 (exposed for unit tests).
  static bool valid_guest_name(const std::string& name);

 private:
  using Authed = std::function<void(const session::Identity&)>;
  // Resolves the Bearer session or answers 401/503 itself.
  void with_session(HttpRequest& req, const Respond& respond, Authed next);
  void register_routes();

  void get_config(HttpRequest& req, Respond respond);
  void get_users(HttpRequest& req, Respond respond);
  void login(HttpRequest& req, Respond respond);
  void logout(HttpRequest& req, Respond respond);
  void me(HttpRequest& req, Respond respond);
  void refresh(HttpRequest& req, Respond respond);
  void get_rooms(HttpRequest& req, Respond respond);
  void set_presence(HttpRequest& req, Respond respond);
  void get_messages(HttpRequest& req, Respond respond);
  void post_message(HttpRequest& req, Respond respond);
  void delete_my_messages(HttpRequest& req, Respond respond);

  nlohmann::json user_json(const presence::Profile& p) const;
  nlohmann::json auth_session_json(const std::string& session_id, const session::Identity& id) const;
  void finish_login(HttpRequest& req, Respond respond, session::SessionRecord record, std::string guest_name);
  // Runs `next` once the Turnstile token passed (at once when Turnstile is off); otherwise answers 403/503.
  void check_turnstile(const HttpRequest& req, const Respond& respond, std::string token,
                       std::function<void()> next);

  Dependencies deps_;
  MetricsEndpoint metrics_endpoint_;
  HttpPolicy policy_;
  security::KeyedRateLimiter login_limiter_;
  Router router_;
};

}  // namespace switchboard::api
