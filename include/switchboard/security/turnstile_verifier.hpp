#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchboard/config/config.hpp"

namespace switchboard::http_client {
class HttpClient;
struct Response;
}  // namespace switchboard::http_client

namespace switchboard::security {

struct TurnstileSettings {
  std::string secret_key;
  std::string verify_url;
  std::string expected_hostname;            // empty: any hostname
  std::string expected_action;              // empty: any action
  std::chrono::milliseconds timeout{5000};  // for the whole verification, a retry included
};

// What a verification decided, in the terms the login answers with.
enum class TurnstileOutcome : std::uint8_t {
  kPassed,
  kRejected,     // the token is missing, invalid, expired, already used, or for another site: 403
                 // TURNSTILE_FAILED
  kUnavailable,  // siteverify could not say (unreachable, slow, malformed, our secret refused): 503, fail
                 // closed
};

struct TurnstileResult {
  TurnstileOutcome outcome = TurnstileOutcome::kUnavailable;
  std::string message;  // a sentence for the person signing in
  std::string
      reason;  // short and stable, for logs and metrics: an error code, "timeout", "hostname-mismatch"...
  bool retryable =
      false;  // worth one more try with the same idempotency key (Cloudflare says so, or transport)
};

// Verifies Turnstile tokens with siteverify before a login creates a session (PROTOCOL §3): a form POST of
// secret, response, remoteip and an idempotency_key through the shared HttpClient, never blocking a thread.
// A transport failure or Cloudflare's internal-error is retried once with the same idempotency key (which
// Cloudflare documents as the safe way to retry) while the time budget lasts; anything else that is not a
// clear yes fails closed. Neither the secret nor the token is ever logged.
//
// Thread-safety: verify() may be called from any thread. The HttpClient must outlive the verifier.
class TurnstileVerifier final : public std::enable_shared_from_this<TurnstileVerifier> {
 public:
  // Cloudflare's documented upper bound for a token.
  static constexpr std::size_t kMaxTokenChars = 2048;

  using Done = std::function<void(TurnstileResult)>;

  TurnstileVerifier(http_client::HttpClient& http, TurnstileSettings settings);

  // The verifier for `config`, or nullptr when turnstile.secret_key is empty (logins need no token).
  static std::shared_ptr<TurnstileVerifier> from_config(const config::Config& config,
                                                        http_client::HttpClient& http);

  // Calls `done` exactly once: inline for a missing or over-long token (no network call), otherwise on the
  // HTTP client's strand. `remote_ip` is the trusted client address (may be empty).
  void verify(std::string token, std::string remote_ip, Done done);

  // Pure: what a siteverify answer means (exposed for unit tests).
  static TurnstileResult interpret(const http_client::Response& response, const TurnstileSettings& settings);
  // Pure: the result for a failed answer's error-codes.
  static TurnstileResult for_error_codes(const std::vector<std::string>& codes);

 private:
  void attempt(std::shared_ptr<const std::string> body, std::string remote_ip,
               std::chrono::steady_clock::time_point deadline, int attempt_number, Done done);

  http_client::HttpClient& http_;
  const TurnstileSettings settings_;
};

}  // namespace switchboard::security
