#include "switchboard/api/envelope.hpp"

#include "switchboard/util/clock.hpp"
#include "switchboard/util/json_text.hpp"

namespace switchboard::api {
namespace {

nlohmann::json meta(const HttpRequest& req) {
  return {{"timestamp", util::now_ms()}, {"requestId", req.request_id}};
}

}  // namespace

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "BAD_REQUEST";
    case ErrorCode::kValidationFailed:
      return "VALIDATION_FAILED";
    case ErrorCode::kUnauthorized:
      return "UNAUTHORIZED";
    case ErrorCode::kSessionExpired:
      return "SESSION_EXPIRED";
    case ErrorCode::kForbidden:
      return "FORBIDDEN";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kMethodNotAllowed:
      return "METHOD_NOT_ALLOWED";
    case ErrorCode::kConflict:
      return "CONFLICT";
    case ErrorCode::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case ErrorCode::kUpgradeRequired:
      return "UPGRADE_REQUIRED";
    case ErrorCode::kRateLimited:
      return "RATE_LIMITED";
    case ErrorCode::kTurnstileFailed:
      return "TURNSTILE_FAILED";
    case ErrorCode::kUnavailable:
      return "UNAVAILABLE";
    case ErrorCode::kInternal:
      return "INTERNAL";
  }
  return "INTERNAL";
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kValidationFailed:
      return 400;
    case ErrorCode::kUnauthorized:
    case ErrorCode::kSessionExpired:
      return 401;
    case ErrorCode::kForbidden:
    case ErrorCode::kTurnstileFailed:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUpgradeRequired:
      return 426;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse success(const HttpRequest& req, nlohmann::json data, int status) {
  HttpResponse res;
  res.status = status;
  res.body =
      util::json_text(nlohmann::json{{"success", true}, {"data", std::move(data)}, {"meta", meta(req)}});
  return res;
}

HttpResponse failure(const HttpRequest& req, ErrorCode code, std::string message) {
  HttpResponse res;
  res.status = http_status(code);
  res.body =
      util::json_text(nlohmann::json{{"success", false},
                                     {"error", {{"code", to_string(code)}, {"message", std::move(message)}}},
                                     {"meta", meta(req)}});
  if (code == ErrorCode::kUpgradeRequired) {
    res.set_header("Upgrade", "websocket");
    res.set_header("Connection", "Upgrade");
  }
  return res;
}

}  // namespace switchboard::api
