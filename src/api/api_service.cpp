#include "switchboard/api/api_service.hpp"

#include <spdlog/spdlog.h>

#include <regex>

#include "switchboard/analytics/events.hpp"
#include "switchboard/api/envelope.hpp"
#include "switchboard/api/presence_socket.hpp"
#include "switchboard/api/room_socket.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::api {
namespace {

using nlohmann::json;

// Stock pictures a guest may be given (the same set the seeded users use).
const std::vector<std::string> kGuestAvatars = {"duck",   "dog",   "cat",   "chess",  "soccer", "guitar",
                                                "flower", "skate", "beach", "rocket", "robot",  "butterfly"};

std::optional<json> parse_body(const HttpRequest& req) {
  try {
    auto j = json::parse(req.body);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

HttpResponse bad_json(const HttpRequest& req) {
  return failure(req, ErrorCode::kBadRequest, "The request body must be a JSON object.");
}

HttpResponse store_unavailable(const HttpRequest& req) {
  return failure(req, ErrorCode::kUnavailable,
                 "The session store is not reachable right now; try again in a few seconds.");
}

ErrorCode lookup_error(chat::RoomRegistry::Status s) {
  switch (s) {
    case chat::RoomRegistry::Status::kInvalid:
      return ErrorCode::kValidationFailed;
    case chat::RoomRegistry::Status::kNotFound:
      return ErrorCode::kNotFound;
    case chat::RoomRegistry::Status::kForbidden:
      return ErrorCode::kForbidden;
    case chat::RoomRegistry::Status::kOk:
      break;
  }
  return ErrorCode::kInternal;
}

}  // namespace

ApiService::ApiService(Dependencies deps)
    : deps_(std::move(deps)),
      metrics_endpoint_(
          deps_.metrics ? deps_.metrics : (deps_.metrics = std::make_shared<analytics::Metrics>()),
          deps_.config.metrics.token),
      policy_(deps_.config.security.allowed_origins),
      login_limiter_(static_cast<std::size_t>(deps_.config.security.login_per_10s), 10'000) {
  register_routes();
  deps_.metrics->register_routes(router_.route_names());
}

bool ApiService::valid_guest_name(const std::string& name) {
  static const std::regex rule("^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_)){1,18}[A-Za-z0-9]$");
  return std::regex_match(name, rule);
}

void ApiService::register_routes() {
  const auto bind = [this](void (ApiService::*fn)(HttpRequest&, Respond)) {
    return [this, fn](HttpRequest& req, Respond respond) { (this->*fn)(req, std::move(respond)); };
  };
  router_.add("GET", "/api/config", bind(&ApiService::get_config));
  router_.add("GET", "/api/users", bind(&ApiService::get_users));
  router_.add("GET", "/api/auth/accounts", bind(&ApiService::get_users));
  router_.add("POST", "/api/auth/login", bind(&ApiService::login));
  router_.add("POST", "/api/auth/logout", bind(&ApiService::logout));
  router_.add("GET", "/api/auth/me", bind(&ApiService::me));
  router_.add("POST", "/api/auth/refresh", bind(&ApiService::refresh));
  router_.add("GET", "/api/rooms", bind(&ApiService::get_rooms));
  router_.add("POST", "/api/presence", bind(&ApiService::set_presence));
  router_.add("GET", "/api/rooms/:id/messages", bind(&ApiService::get_messages));
  router_.add("POST", "/api/rooms/:id/messages", bind(&ApiService::post_message));
  router_.add("DELETE", "/api/users/me/messages", bind(&ApiService::delete_my_messages));
  const Handler upgrade_required = [](HttpRequest& req, Respond respond) {
    respond(failure(req, ErrorCode::kUpgradeRequired,
                    "This endpoint speaks WebSocket only: send an Upgrade: websocket request."));
  };
  router_.add("GET", "/api/ws/room/:id", upgrade_required);
  router_.add("GET", "/api/ws/presence", upgrade_required);
  router_.add("GET", "/healthz", [](HttpRequest& req, Respond respond) {
    respond(success(req, {{"status", "ok"}}));
  });
  router_.add("GET", "/metrics",
              [this](HttpRequest& req, Respond respond) { metrics_endpoint_.handle(req, respond); });
  router_.add("GET", "/readyz", [this](HttpRequest& req, Respond respond) {
    if (deps_.ready && !deps_.ready())
      return respond(failure(req, ErrorCode::kUnavailable,
                             "Not ready: the server is shutting down, or Redis is not reachable."));
    respond(success(req, {{"status", "ready"}}));
  });
  router_.set_fallback([this](HttpRequest& req, Respond respond) {
    if (req.method != "GET" && req.method != "HEAD") {
      auto res =
          failure(req, ErrorCode::kMethodNotAllowed, "Only GET and HEAD are allowed on the web UI's files.");
      res.set_header("Allow", "GET, HEAD");
      return respond(std::move(res));
    }
    respond(deps_.static_files->serve(req));
  });
}

json ApiService::user_json(const presence::Profile& p) const {
  json j = {{"id", p.user_id},
            {"email", p.email},
            {"displayName", p.display_name},
            {"avatarId", p.avatar_id},
            {"status", presence::to_string(p.visible_status())},
            {"isAiBot", p.is_bot}};
  if (p.is_bot)
    if (const auto* persona = deps_.directory.find_bot(p.user_id)) j["botPersona"] = persona->persona_id;
  if (!p.personal_message.empty()) j["personalMessage"] = p.personal_message;
  return j;
}

json ApiService::auth_session_json(const std::string& session_id, const session::Identity& id) const {
  json user;
  if (const auto p = deps_.profiles->get(id.user_id())) user = user_json(*p);
  return {{"sessionId", session_id}, {"user", user}, {"expiresAt", id.record.expires_at}};
}

void ApiService::with_session(HttpRequest& req, const Respond& respond, Authed next) {
  const auto token = req.bearer_token();
  if (!token)
    return respond(
        failure(req, ErrorCode::kUnauthorized,
                "Sign in first: send Authorization: Bearer <sessionId> from POST /api/auth/login."));
  deps_.sessions->authenticate(*token, [req, respond, next = std::move(next)](
                                           std::error_code ec, std::optional<session::Identity> id) {
    if (ec) return respond(store_unavailable(req));
    if (!id)
      return respond(failure(req, ErrorCode::kSessionExpired,
                             "This session has expired or was signed out; sign in again."));
    next(*id);
  });
}

void ApiService::get_config(HttpRequest& req, Respond respond) {
  json rooms = json::array();
  for (const auto& r : deps_.config.chat.rooms) rooms.push_back({{"id", r.id}, {"name", r.name}});
  respond(success(req, {{"TURNSTILE_SITE_KEY", deps_.config.turnstile.site_key},
                        {"winks", deps_.config.chat.winks},
                        {"rooms", rooms},
                        {"sessionTtlSeconds", deps_.config.session.ttl_seconds},
                        {"maxMessageLength", deps_.config.chat.max_content_code_points},
                        {"heartbeatIntervalSeconds", 30}}));
}

void ApiService::get_users(HttpRequest& req, Respond respond) {
  json users = json::array();
  for (const auto& p : deps_.profiles->humans()) users.push_back(user_json(p));
  for (const auto& p : deps_.profiles->bots(/*include_unlisted=*/false)) users.push_back(user_json(p));
  respond(success(req, users));
}

void ApiService::login(HttpRequest& req, Respond respond) {
  if (deps_.events) {
    // Every refusal below is also an analytics event, named after its status (the success is recorded where
    // the user is known).
    respond = [respond = std::move(respond), events = deps_.events](HttpResponse res) {
      if (res.status == 429) {
        events->record(analytics::events::rate_limited(analytics::events::kAnonymous, "login", "", 0));
      } else if (res.status >= 400) {
        const char* reason = res.status == 400   ? "invalid_request"
                             : res.status == 404 ? "unknown_account"
                             : res.status == 409 ? "name_taken"
                             : res.status == 403 ? "turnstile"
                             : res.status == 503 ? "unavailable"
                                                 : "error";
        events->record(analytics::events::login_failed(reason));
      }
      respond(std::move(res));
    };
  }
  // Counted before anything else, so bad requests cannot be used to probe without limit.
  if (const auto wait_ms = login_limiter_.acquire(req.client_ip, util::steady_ms())) {
    auto res = failure(req, ErrorCode::kRateLimited,
                       "Too many sign-in attempts from your address; wait a few seconds.");
    res.set_header("Retry-After", std::to_string((wait_ms + 999) / 1000));
    return respond(std::move(res));
  }
  const auto body = parse_body(req);
  if (!body) return respond(bad_json(req));
  if (body->contains("token") && !(*body)["token"].is_string() && !(*body)["token"].is_null())
    return respond(failure(req, ErrorCode::kValidationFailed, "\"token\" must be a string."));
  // The request is checked first, so a typo does not spend the single-use Turnstile token.
  std::string token = body->contains("token") && (*body)["token"].is_string()
                          ? (*body)["token"].get<std::string>()
                          : std::string();

  const bool has_user = body->contains("userId"), has_guest = body->contains("username");
  if (has_user == has_guest)
    return respond(failure(req, ErrorCode::kValidationFailed,
                           "Send either {\"userId\"} for a listed account or {\"username\"} for a guest."));
  if (has_user) {
    const auto& v = (*body)["userId"];
    if (!v.is_string())
      return respond(failure(req, ErrorCode::kValidationFailed, "\"userId\" must be a string."));
    const auto* account = deps_.directory.find_human(v.get<std::string>());
    if (!account)
      return respond(failure(req, ErrorCode::kNotFound,
                             "There is no account '" + util::utf8_excerpt(v.get<std::string>(), 64) +
                                 "'; GET /api/users lists them."));
    session::SessionRecord record;
    record.user_id = account->id;
    return check_turnstile(req, respond, std::move(token), [this, req, respond, record]() mutable {
      finish_login(req, std::move(respond), std::move(record), {});
    });
  }

  const auto& v = (*body)["username"];
  if (!v.is_string() || !valid_guest_name(v.get<std::string>()))
    return respond(
        failure(req, ErrorCode::kValidationFailed,
                "A guest name is 3 to 20 letters, digits, '-' or single '_', starting and ending with a "
                "letter or digit."));
  const std::string name = v.get<std::string>();
  const std::string lower = util::ascii_lower(name);
  if (deps_.profiles->guest_name_taken(name) || deps_.directory.find_account("guest_" + lower))
    return respond(failure(req, ErrorCode::kConflict, "The name '" + name + "' is taken; pick another one."));
  check_turnstile(req, respond, std::move(token), [this, req, respond, name, lower]() mutable {
    deps_.sessions->reserve_guest_name(
        lower, [this, req, respond, name, lower](std::error_code ec, bool reserved) mutable {
          if (ec) return respond(store_unavailable(req));
          if (!reserved)
            return respond(
                failure(req, ErrorCode::kConflict, "The name '" + name + "' is taken; pick another one."));
          session::SessionRecord record;
          record.user_id = "guest_" + lower;
          record.is_guest = true;
          record.guest_display_name = name;
          record.guest_avatar_id = kGuestAvatars[util::random_below(kGuestAvatars.size())];
          finish_login(req, std::move(respond), std::move(record), lower);
        });
  });
}

void ApiService::check_turnstile(const HttpRequest& req, const Respond& respond, std::string token,
                                 std::function<void()> next) {
  if (!deps_.turnstile) return next();
  deps_.turnstile->verify(
      std::move(token), req.client_ip,
      [req, respond, next = std::move(next), events = deps_.events](security::TurnstileResult result) {
        if (events && result.outcome != security::TurnstileOutcome::kPassed)
          events->record(analytics::events::turnstile_failed(
              result.outcome == security::TurnstileOutcome::kRejected ? "rejected" : "unavailable",
              result.reason));
        switch (result.outcome) {
          case security::TurnstileOutcome::kPassed:
            return next();
          case security::TurnstileOutcome::kRejected:
            return respond(failure(req, ErrorCode::kTurnstileFailed, result.message));
          case security::TurnstileOutcome::kUnavailable:
            break;
        }
        auto res = failure(req, ErrorCode::kUnavailable, result.message);
        res.set_header("Retry-After", "5");
        respond(std::move(res));
      });
}

void ApiService::finish_login(HttpRequest& req, Respond respond, session::SessionRecord record,
                              std::string guest_name) {
  if (record.is_guest)
    deps_.profiles->add_guest(record.user_id, record.guest_display_name, guest_name + "@guest.invalid",
                              record.guest_avatar_id);
  deps_.sessions->login(record, [this, req, respond, guest_name](std::error_code ec, std::string session_id,
                                                                 session::Identity id) {
    if (ec) {
      if (!guest_name.empty()) deps_.sessions->release_guest_name(guest_name);
      return respond(store_unavailable(req));
    }
    if (!guest_name.empty()) deps_.sessions->bind_guest_name(guest_name, id.token_hash);
    deps_.profiles->set_connected(id.user_id(), true);  // signed in: reachable until the session ends
    deps_.presence->signed_in(id.user_id());            // on every instance sharing Redis, too
    util::logger("auth")->info("request {} login user={} guest={}", req.request_id, id.user_id(),
                               id.record.is_guest);
    if (deps_.events)
      deps_.events->record(analytics::events::login_success(id.user_id(), id.record.is_guest));
    respond(success(req, auth_session_json(session_id, id)));
  });
}

void ApiService::logout(HttpRequest& req, Respond respond) {
  const auto token = req.bearer_token();
  if (!token)
    return respond(
        failure(req, ErrorCode::kUnauthorized, "Send Authorization: Bearer <sessionId> to sign out."));
  deps_.sessions->logout(*token, [req, respond](std::error_code ec) {
    if (ec) return respond(store_unavailable(req));
    respond(success(req, {{"success", true}}));
  });
}

void ApiService::me(HttpRequest& req, Respond respond) {
  with_session(req, respond, [this, req, respond](const session::Identity& id) {
    const auto p = deps_.profiles->get(id.user_id());
    if (!p)
      return respond(failure(req, ErrorCode::kSessionExpired, "This session's user is gone; sign in again."));
    respond(success(req, user_json(*p)));
  });
}

void ApiService::refresh(HttpRequest& req, Respond respond) {
  const auto token = req.bearer_token();
  if (!token)
    return respond(
        failure(req, ErrorCode::kUnauthorized, "Send Authorization: Bearer <sessionId> to refresh."));
  deps_.sessions->refresh(
      *token, [this, req, respond, token = *token](std::error_code ec, std::optional<session::Identity> id) {
        if (ec) return respond(store_unavailable(req));
        if (!id)
          return respond(failure(req, ErrorCode::kSessionExpired,
                                 "This session has expired or was signed out; sign in again."));
        respond(success(req, auth_session_json(token, *id)));
      });
}

void ApiService::get_rooms(HttpRequest& req, Respond respond) {
  json rooms = json::array();
  for (const auto& r : deps_.config.chat.rooms)
    rooms.push_back({{"id", r.id},
                     {"name", r.name},
                     {"type", "group"},
                     {"participantIds", json::array()},
                     {"unreadCount", 0}});
  respond(success(req, rooms));
}

void ApiService::set_presence(HttpRequest& req, Respond respond) {
  with_session(req, respond, [this, req, respond](const session::Identity& id) {
    const auto body = parse_body(req);
    if (!body) return respond(bad_json(req));
    const auto status_field = body->find("status");
    std::optional<presence::Status> status;
    if (status_field != body->end() && status_field->is_string())
      status = presence::parse_status(status_field->get<std::string>());
    if (!status)
      return respond(failure(req, ErrorCode::kValidationFailed,
                             "\"status\" must be one of online, busy, away, offline."));
    std::optional<std::string> name, message;
    if (const auto it = body->find("displayName"); it != body->end() && !it->is_null()) {
      if (!it->is_string())
        return respond(failure(req, ErrorCode::kValidationFailed, "\"displayName\" must be a string."));
      name = it->get<std::string>();
      switch (deps_.profiles->check_display_name(id.user_id(), *name)) {
        case presence::UserProfiles::NameCheck::kInvalid:
          return respond(failure(req, ErrorCode::kValidationFailed,
                                 "A display name is 1 to " +
                                     std::to_string(deps_.config.chat.max_display_name_code_points) +
                                     " characters and not only white space."));
        case presence::UserProfiles::NameCheck::kTaken:
          return respond(
              failure(req, ErrorCode::kConflict, "That display name belongs to another user or a bot."));
        case presence::UserProfiles::NameCheck::kOk:
          break;
      }
    }
    if (const auto it = body->find("personalMessage"); it != body->end() && !it->is_null()) {
      const auto len = it->is_string() ? util::utf8_code_points(it->get<std::string>()) : std::nullopt;
      if (!len || *len > deps_.config.chat.max_personal_message_code_points)
        return respond(failure(req, ErrorCode::kValidationFailed,
                               "\"personalMessage\" must be a string of at most " +
                                   std::to_string(deps_.config.chat.max_personal_message_code_points) +
                                   " characters."));
      message = it->get<std::string>();
    }
    if (name && !deps_.profiles->set_display_name(id.user_id(), *name))
      return respond(
          failure(req, ErrorCode::kConflict, "That display name belongs to another user or a bot."));
    if (message) deps_.profiles->set_personal_message(id.user_id(), *message);
    deps_.profiles->set_connected(id.user_id(), true);
    const auto profile = deps_.profiles->set_status(id.user_id(), *status);
    deps_.presence->publish(id.user_id());
    deps_.rooms->for_each([&](const auto& room) { room->refresh_participant(id.user_id()); });
    respond(success(req, {{"success", true},
                          {"status", presence::to_string(*status)},
                          {"displayName", profile ? profile->display_name : std::string()}}));
  });
}

void ApiService::get_messages(HttpRequest& req, Respond respond) {
  with_session(req, respond, [this, req, respond](const session::Identity& id) {
    auto lookup = deps_.rooms->open(req.params.at("id"), id.user_id());
    if (lookup.status != chat::RoomRegistry::Status::kOk)
      return respond(failure(req, lookup_error(lookup.status), lookup.message));
    std::size_t limit = 50;
    if (const auto it = req.query.find("limit"); it != req.query.end()) {
      int n = 0;
      try {
        std::size_t used = 0;
        n = std::stoi(it->second, &used);
        if (used != it->second.size()) n = 0;
      } catch (const std::exception&) {
        n = 0;
      }
      if (n < 1 || n > 100)
        return respond(
            failure(req, ErrorCode::kValidationFailed, "\"limit\" must be a whole number from 1 to 100."));
      limit = static_cast<std::size_t>(n);
    }
    std::string before;
    if (const auto it = req.query.find("before"); it != req.query.end()) {
      before = it->second;
      if (!chat::is_valid_client_id(before))
        return respond(failure(req, ErrorCode::kValidationFailed, "\"before\" must be a message id."));
    }
    lookup.room->history_page(
        before, limit, [req, respond, before](std::error_code ec, store::HistoryStore::Page page) {
          if (ec)
            return respond(
                failure(req, ErrorCode::kUnavailable, "History is not available right now; try again."));
          if (!before.empty() && !page.anchor_found)
            return respond(
                failure(req, ErrorCode::kNotFound, "There is no message '" + before + "' in this room."));
          json list = json::array();
          for (const auto& m : page.messages) list.push_back(chat::to_json(m));
          respond(success(req, list));
        });
  });
}

void ApiService::post_message(HttpRequest& req, Respond respond) {
  with_session(req, respond, [this, req, respond](const session::Identity& id) {
    auto lookup = deps_.rooms->open(req.params.at("id"), id.user_id());
    if (lookup.status != chat::RoomRegistry::Status::kOk)
      return respond(failure(req, lookup_error(lookup.status), lookup.message));
    const auto body = parse_body(req);
    if (!body) return respond(bad_json(req));
    json frame = *body;
    frame["type"] = "chat";
    auto decoded = chat::decode_room_frame(util::json_text(frame), deps_.limits);
    // Over-long content is a validation error (400); 413 is for a body over server.body_limit_bytes (PROTOCOL
    // §1).
    if (const auto* err = std::get_if<chat::FrameError>(&decoded))
      return respond(failure(req, ErrorCode::kValidationFailed, err->message));
    auto& chat_frame = std::get<chat::ChatFrame>(std::get<chat::RoomFrame>(decoded));
    if (body->contains("id") && !(*body)["id"].is_string() && !(*body)["id"].is_null())
      return respond(failure(req, ErrorCode::kValidationFailed, "\"id\" must be a string."));
    lookup.room->post_message(id.user_id(), std::move(chat_frame.content), chat_frame.id,
                              [req, respond](std::variant<chat::Message, chat::SendError> r) {
                                if (const auto* m = std::get_if<chat::Message>(&r))
                                  return respond(success(req, chat::to_json(*m), 201));
                                const auto& e = std::get<chat::SendError>(r);
                                switch (e.kind) {
                                  case chat::SendError::Kind::kRateLimited: {
                                    auto res = failure(req, ErrorCode::kRateLimited, e.message);
                                    res.set_header("Retry-After", std::to_string(std::max<std::int64_t>(
                                                                      1, (e.retry_after_ms + 999) / 1000)));
                                    return respond(std::move(res));
                                  }
                                  case chat::SendError::Kind::kForbidden:
                                    return respond(failure(req, ErrorCode::kForbidden, e.message));
                                  case chat::SendError::Kind::kUnavailable:
                                    return respond(failure(req, ErrorCode::kUnavailable, e.message));
                                  case chat::SendError::Kind::kInvalid:
                                  case chat::SendError::Kind::kTooLarge:
                                    break;
                                }
                                respond(failure(req, ErrorCode::kValidationFailed, e.message));
                              });
  });
}

// (ext) DELETE /api/users/me/messages: removes the text of every message the caller ever sent, in every room,
// from the store's files too; the messages stay as placeholders (`deleted: true`, content ""), and open rooms
// get a `messages_deleted` frame. 200 {deleted: true} once that is durable; 503 UNAVAILABLE when the store
// failed (a retry is harmless).
void ApiService::delete_my_messages(HttpRequest& req, Respond respond) {
  with_session(req, respond, [this, req, respond](const session::Identity& id) {
    const std::string user_id = id.user_id();
    deps_.rooms->delete_messages_of(user_id, [req, respond, user_id](std::error_code ec) {
      if (ec) {
        util::logger("api")->error("request {} deleting the messages of {} failed: {}", req.request_id,
                                   user_id, ec.message());
        return respond(failure(req, ErrorCode::kUnavailable,
                               "Your messages could not be deleted right now; try again in a few seconds."));
      }
      util::logger("api")->info("request {} deleted the messages of {}", req.request_id, user_id);
      respond(success(req, {{"deleted", true}}));
    });
  });
}

void ApiService::authorize_upgrade(HttpRequest& req, UpgradeDone done) {
  // Upgrades do not go through the router; name their route the same way for metrics.
  const std::string room_prefix = "/api/ws/room/";
  if (req.path == "/api/ws/presence") {
    req.route = req.path;
  } else if (req.path.rfind(room_prefix, 0) == 0 && req.path.size() > room_prefix.size() &&
             req.path.find('/', room_prefix.size()) == std::string::npos) {
    req.route = "/api/ws/room/:id";
  } else {
    req.route = Router::kUnmatchedRoute;
  }
  const auto refuse = [&](ErrorCode code, std::string message) {
    done(failure(req, code, std::move(message)), nullptr);
  };
  if (!policy_.origin_allowed(req))
    return refuse(ErrorCode::kForbidden, "WebSocket connections from this origin are not allowed.");
  std::optional<std::string> token;
  if (const auto it = req.query.find("sessionId"); it != req.query.end() && !it->second.empty())
    token = it->second;
  if (!token) token = req.bearer_token();
  if (!token) return refuse(ErrorCode::kUnauthorized, "Add ?sessionId=<id> from POST /api/auth/login.");

  deps_.sessions->authenticate(*token, [this, req, done = std::move(done)](
                                           std::error_code ec, std::optional<session::Identity> id) mutable {
    if (ec) return done(store_unavailable(req), nullptr);
    if (!id)
      return done(failure(req, ErrorCode::kUnauthorized,
                          "This session has expired or was signed out; sign in again."),
                  nullptr);
    if (req.path == "/api/ws/presence")
      return done({}, std::make_shared<PresenceSocket>(deps_.presence, *id, deps_.sessions, deps_.limits,
                                                       deps_.metrics, deps_.events));
    const std::string prefix = "/api/ws/room/";
    if (req.path.rfind(prefix, 0) != 0 || req.path.size() == prefix.size() ||
        req.path.find('/', prefix.size()) != std::string::npos)
      return done(failure(req, ErrorCode::kNotFound, "There is no WebSocket endpoint " + req.path + "."),
                  nullptr);
    auto lookup = deps_.rooms->open(req.path.substr(prefix.size()), id->user_id());
    if (lookup.status != chat::RoomRegistry::Status::kOk)
      return done(failure(req, lookup_error(lookup.status), lookup.message), nullptr);
    std::optional<std::string> since;
    if (const auto it = req.query.find("since"); it != req.query.end() && !it->second.empty())
      since = it->second;
    done({}, std::make_shared<RoomSocket>(lookup.room, *id, since, deps_.sessions, deps_.limits,
                                          deps_.metrics, deps_.events));
  });
}

}  // namespace switchboard::api
