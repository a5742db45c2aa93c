#include "switchboard/security/turnstile_verifier.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "switchboard/http_client/http_client.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::security {
namespace {

using http_client::HttpError;
using nlohmann::json;

// Below this much time left a retry could not finish anyway.
constexpr std::chrono::milliseconds kMinRetryBudget{250};
// A siteverify answer is a few hundred bytes; anything large is not one.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

constexpr util::AreaLogger log{"security"};

TurnstileResult rejected(std::string reason, std::string message) {
  return {TurnstileOutcome::kRejected, std::move(message), std::move(reason), false};
}

TurnstileResult unavailable(std::string reason, bool retryable = false) {
  return {TurnstileOutcome::kUnavailable,
          "Sign-in could not be checked for bots right now; try again in a few seconds.", std::move(reason),
          retryable};
}

}  // namespace

TurnstileVerifier::TurnstileVerifier(http_client::HttpClient& http, TurnstileSettings settings)
    : http_(http), settings_(std::move(settings)) {}

std::shared_ptr<TurnstileVerifier> TurnstileVerifier::from_config(const config::Config& config,
                                                                  http_client::HttpClient& http) {
  const auto& t = config.turnstile;
  if (t.secret_key.empty()) return nullptr;
  return std::make_shared<TurnstileVerifier>(
      http, TurnstileSettings{t.secret_key, t.verify_url, t.expected_hostname, t.expected_action,
                              std::chrono::milliseconds(t.timeout_ms)});
}

TurnstileResult TurnstileVerifier::for_error_codes(const std::vector<std::string>& codes) {
  // The most telling code decides: the token's own problems first, then ours.
  const auto has = [&](const char* code) {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  };
  if (has("missing-input-response"))
    return rejected("missing-input-response", "Complete the human check before signing in.");
  if (has("timeout-or-duplicate"))
    return rejected("timeout-or-duplicate",
                    "The human check has expired or was already used; complete it again and sign in.");
  if (has("invalid-input-response"))
    return rejected("invalid-input-response",
                    "The human check was not accepted; complete it again and sign in.");
  if (has("missing-input-secret") || has("invalid-input-secret") || has("invalid-parsed-secret") ||
      has("invalid-widget-id")) {
    // Our configuration, not the visitor: refusing their token would blame them for it.
    auto r = unavailable(has("missing-input-secret") ? "missing-input-secret" : "invalid-input-secret");
    r.message = "Sign-in is unavailable: the server's bot check is misconfigured. Please try again later.";
    return r;
  }
  if (has("internal-error")) return unavailable("internal-error", /*retryable=*/true);
  if (has("bad-request"))
    return rejected("bad-request", "The human check could not be read; reload the page and try again.");
  return rejected(codes.empty() ? "no-error-code" : codes.front().substr(0, 64),
                  "The human check was not accepted; complete it again and sign in.");
}

TurnstileResult TurnstileVerifier::interpret(const http_client::Response& response,
                                             const TurnstileSettings& settings) {
  switch (response.error) {
    case HttpError::kNone:
      break;
    case HttpError::kConnect:
    case HttpError::kNetwork:
    case HttpError::kResolve:
      return unavailable(http_client::to_string(response.error), /*retryable=*/true);
    default:
      return unavailable(http_client::to_string(response.error));
  }
  json answer;
  try {
    answer = json::parse(response.body);
  } catch (const json::exception&) {
    return unavailable(
        response.status >= 500 ? "http-" + std::to_string(response.status) : "malformed-answer",
        response.status >= 500);
  }
  const auto success = answer.is_object() ? answer.find("success") : answer.end();
  if (!answer.is_object() || success == answer.end() || !success->is_boolean())
    return unavailable(
        response.status >= 500 ? "http-" + std::to_string(response.status) : "malformed-answer",
        response.status >= 500);
  if (!success->get<bool>()) {
    std::vector<std::string> codes;
    if (const auto it = answer.find("error-codes"); it != answer.end() && it->is_array())
      for (const auto& c : *it)
        if (c.is_string()) codes.push_back(c.get<std::string>());
    return for_error_codes(codes);
  }
  if (response.status < 200 || response.status >= 300)
    return unavailable("http-" + std::to_string(response.status));
  const auto field = [&](const char* name) {
    const auto it = answer.find(name);
    return it != answer.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!settings.expected_hostname.empty() && field("hostname") != settings.expected_hostname)
    return rejected("hostname-mismatch",
                    "The human check was completed for another site; reload this page and try again.");
  if (!settings.expected_action.empty() && field("action") != settings.expected_action)
    return rejected("action-mismatch",
                    "The human check was completed for another form; reload this page and try again.");
  return {TurnstileOutcome::kPassed, "", "passed", false};
}

void TurnstileVerifier::verify(std::string token, std::string remote_ip, Done done) {
  if (token.empty()) return done(for_error_codes({"missing-input-response"}));
  if (token.size() > kMaxTokenChars)
    return done(
        rejected("token-too-long",
                 "The human check's answer is longer than a genuine one can be; complete the check again."));
  // One key for the first try and its retry, so Cloudflare treats a retry as the same verification.
  std::vector<std::pair<std::string, std::string>> fields = {
      {"secret", settings_.secret_key}, {"response", std::move(token)}, {"idempotency_key", util::uuid_v4()}};
  if (!remote_ip.empty()) fields.emplace_back("remoteip", remote_ip);
  auto body = std::make_shared<const std::string>(http_client::form_urlencode(fields));
  attempt(std::move(body), std::move(remote_ip), std::chrono::steady_clock::now() + settings_.timeout, 1,
          std::move(done));
}

void TurnstileVerifier::attempt(std::shared_ptr<const std::string> body, std::string remote_ip,
                                std::chrono::steady_clock::time_point deadline, int attempt_number,
                                Done done) {
  http_client::Request request;
  request.method = "POST";
  request.url = settings_.verify_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = *body;
  request.total_timeout = std::max(
      std::chrono::milliseconds(1),
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  request.connect_timeout = std::min(request.total_timeout, std::chrono::milliseconds(settings_.timeout));
  request.max_response_bytes = kMaxAnswerBytes;
  http_.request(std::move(request), [self = shared_from_this(), body, remote_ip, deadline, attempt_number,
                                     done = std::move(done)](http_client::Response response) mutable {
    auto result = interpret(response, self->settings_);
    if (result.retryable && attempt_number == 1 &&
        deadline - std::chrono::steady_clock::now() >= kMinRetryBudget) {
      log()->info("turnstile verification for {} failed ({}); retrying with the same idempotency key",
                  remote_ip, result.reason);
      return self->attempt(std::move(body), std::move(remote_ip), deadline, 2, std::move(done));
    }
    switch (result.outcome) {
      case TurnstileOutcome::kPassed:
        log()->debug("turnstile verification for {} passed in {} ms", remote_ip, response.elapsed.count());
        break;
      case TurnstileOutcome::kRejected:
        log()->info("turnstile verification for {} rejected: {}", remote_ip, result.reason);
        break;
      case TurnstileOutcome::kUnavailable:
        if (result.reason == "missing-input-secret" || result.reason == "invalid-input-secret") {
          log()->error("siteverify refused turnstile.secret_key ({}): every login fails until it is fixed",
                       result.reason);
        } else {
          log()->warn("turnstile verification for {} failed closed: {} ({}){}", remote_ip, result.reason,
                      http_client::redact_url(self->settings_.verify_url),
                      response.error_message.empty() ? "" : ": " + response.error_message);
        }
        break;
    }
    done(std::move(result));
  });
}

}  // namespace switchboard::security
