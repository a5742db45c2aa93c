#include "switchboard/security/turnstile_verifier.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "switchboard/http_client/http_client.hpp"

namespace switchboard::security {
namespace {

using http_client::HttpError;
using http_client::Response;

Response answer(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response transport(HttpError error) {
  Response r;
  r.error = error;
  r.error_message = "simulated";
  return r;
}

const TurnstileSettings kPlain{"secret", "http://127.0.0.1:1/siteverify", "", "", std::chrono::seconds(5)};

TEST(TurnstileVerifier, SuccessPasses) {
  const auto r = TurnstileVerifier::interpret(
      answer(200, R"({"success":true,"error-codes":[],"hostname":"chat.example","action":"login"})"), kPlain);
  EXPECT_EQ(r.outcome, TurnstileOutcome::kPassed);
}

TEST(TurnstileVerifier, TokenErrorCodesAreRejectionsAPersonUnderstands) {
  struct Case {
    const char* code;
    const char* words;  // something the message must say
  };
  for (const auto& c : {Case{"missing-input-response", "Complete the human check"},
                        Case{"invalid-input-response", "not accepted"},
                        Case{"timeout-or-duplicate", "expired or was already used"},
                        Case{"bad-request", "reload the page"}, Case{"some-future-code", "not accepted"}}) {
    const auto r = TurnstileVerifier::interpret(
        answer(200, std::string(R"({"success":false,"error-codes":[")") + c.code + R"("]})"), kPlain);
    EXPECT_EQ(r.outcome, TurnstileOutcome::kRejected) << c.code;
    EXPECT_EQ(r.reason, c.code);
    EXPECT_NE(r.message.find(c.words), std::string::npos) << c.code << ": " << r.message;
    EXPECT_FALSE(r.retryable) << c.code;
  }
}

TEST(TurnstileVerifier, SecretProblemsAndCloudflareFaultsFailClosed) {
  for (const char* code : {"missing-input-secret", "invalid-input-secret"}) {
    const auto r = TurnstileVerifier::interpret(
        answer(200, std::string(R"({"success":false,"error-codes":[")") + code + R"("]})"), kPlain);
    EXPECT_EQ(r.outcome, TurnstileOutcome::kUnavailable) << code;
    EXPECT_EQ(r.reason, code);
    EXPECT_NE(r.message.find("misconfigured"), std::string::npos) << r.message;
    EXPECT_FALSE(r.retryable);
  }
  const auto internal = TurnstileVerifier::interpret(
      answer(200, R"({"success":false,"error-codes":["internal-error"]})"), kPlain);
  EXPECT_EQ(internal.outcome, TurnstileOutcome::kUnavailable);
  EXPECT_TRUE(internal.retryable);  // Cloudflare: "The request can be retried."
}

TEST(TurnstileVerifier, TheTokensOwnProblemOutranksOtherCodes) {
  const auto r = TurnstileVerifier::interpret(
      answer(200, R"({"success":false,"error-codes":["internal-error","timeout-or-duplicate"]})"), kPlain);
  EXPECT_EQ(r.outcome, TurnstileOutcome::kRejected);
  EXPECT_EQ(r.reason, "timeout-or-duplicate");
  EXPECT_EQ(TurnstileVerifier::for_error_codes({}).outcome, TurnstileOutcome::kRejected);
}

TEST(TurnstileVerifier, AnythingButAClearAnswerFailsClosed) {
  for (const char* body : {"{\"success\": tru", "[]", "{}", R"({"success":"yes"})", "", "<html>"}) {
    const auto r = TurnstileVerifier::interpret(answer(200, body), kPlain);
    EXPECT_EQ(r.outcome, TurnstileOutcome::kUnavailable) << body;
    EXPECT_EQ(r.reason, "malformed-answer") << body;
  }
  const auto http500 = TurnstileVerifier::interpret(answer(500, "oops"), kPlain);
  EXPECT_EQ(http500.outcome, TurnstileOutcome::kUnavailable);
  EXPECT_TRUE(http500.retryable);
  // A success that did not come with a 2xx status is not believed.
  EXPECT_EQ(TurnstileVerifier::interpret(answer(302, R"({"success":true})"), kPlain).outcome,
            TurnstileOutcome::kUnavailable);
  for (auto e : {HttpError::kTimeout, HttpError::kOverloaded, HttpError::kTls, HttpError::kShutdown,
                 HttpError::kTooLarge})
    EXPECT_EQ(TurnstileVerifier::interpret(transport(e), kPlain).outcome, TurnstileOutcome::kUnavailable);
  EXPECT_FALSE(TurnstileVerifier::interpret(transport(HttpError::kTimeout), kPlain).retryable);
  EXPECT_TRUE(TurnstileVerifier::interpret(transport(HttpError::kConnect), kPlain).retryable);
}

TEST(TurnstileVerifier, ChecksHostnameAndActionWhenConfigured) {
  TurnstileSettings strict = kPlain;
  strict.expected_hostname = "chat.example";
  strict.expected_action = "login";
  const auto ok = TurnstileVerifier::interpret(
      answer(200, R"({"success":true,"hostname":"chat.example","action":"login"})"), strict);
  EXPECT_EQ(ok.outcome, TurnstileOutcome::kPassed);
  const auto host = TurnstileVerifier::interpret(
      answer(200, R"({"success":true,"hostname":"evil.example","action":"login"})"), strict);
  EXPECT_EQ(host.outcome, TurnstileOutcome::kRejected);
  EXPECT_EQ(host.reason, "hostname-mismatch");
  const auto action =
      TurnstileVerifier::interpret(answer(200, R"({"success":true,"hostname":"chat.example"})"), strict);
  EXPECT_EQ(action.outcome, TurnstileOutcome::kRejected);
  EXPECT_EQ(action.reason, "action-mismatch");
}

TEST(TurnstileVerifier, MissingAndOverlongTokensAreRefusedWithoutACall) {
  boost::asio::io_context io;  // never run: any network call would leave `done` uncalled
  http_client::HttpClient http(io);
  auto verifier = std::make_shared<TurnstileVerifier>(http, kPlain);
  std::optional<TurnstileResult> got;
  verifier->verify("", "192.0.2.1", [&](TurnstileResult r) { got = r; });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->outcome, TurnstileOutcome::kRejected);
  EXPECT_EQ(got->reason, "missing-input-response");
  got.reset();
  verifier->verify(std::string(TurnstileVerifier::kMaxTokenChars + 1, 'x'), "192.0.2.1",
                   [&](TurnstileResult r) { got = r; });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->outcome, TurnstileOutcome::kRejected);
  EXPECT_EQ(got->reason, "token-too-long");
  EXPECT_EQ(http.stats().in_flight + http.stats().queued, 0u);
}

}  // namespace
}  // namespace switchboard::security
