#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "switchboard/api/http_types.hpp"

namespace switchboard::api {

// The protocol's error codes (PROTOCOL §1), each with its HTTP status.
enum class ErrorCode {
  kBadRequest,
  kValidationFailed,
  kUnauthorized,
  kSessionExpired,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kConflict,
  kPayloadTooLarge,
  kUpgradeRequired,
  kRateLimited,
  kTurnstileFailed,
  kUnavailable,
  kInternal,
};

const char* to_string(ErrorCode code);
int http_status(ErrorCode code);

// {"success": true, "data": ..., "meta": {...}} with `status` (2xx).
HttpResponse success(const HttpRequest& req, nlohmann::json data, int status = 200);
// {"success": false, "error": {code, message}, "meta": {...}}.
HttpResponse failure(const HttpRequest& req, ErrorCode code, std::string message);

}  // namespace switchboard::api
