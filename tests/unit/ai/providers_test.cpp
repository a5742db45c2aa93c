#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/ai/openai_provider.hpp"
#include "switchboard/ai/workers_ai_provider.hpp"

namespace switchboard::ai {
namespace {

using nlohmann::json;
namespace http = switchboard::http_client;

const std::string* find_header(const http::Request& r, const std::string& name) {
  for (const auto& h : r.headers)
    if (h.name == name) return &h.value;
  return nullptr;
}

LlmRequest sample_request(bool stream) {
  return {{{"system", "be brief"}, {"user", "Alice: hi \xF0\x9F\x98\x80"}}, stream, 128};
}

// Request building and parsing need no network; the client is only there because providers hold one.
class AiProviderFormat : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  http::HttpClient http_{io_};
};

TEST_F(AiProviderFormat, WorkersAiRequest) {
  WorkersAiProvider p(http_,
                      {"", "cf-key", "@cf/meta/llama-3.2-1b-instruct", "acc123", std::chrono::seconds(7)});
  const http::Request r = p.build_request(sample_request(true));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url,
            "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run/@cf/meta/llama-3.2-1b-instruct");
  ASSERT_NE(find_header(r, "Authorization"), nullptr);
  EXPECT_EQ(*find_header(r, "Authorization"), "Bearer cf-key");
  EXPECT_EQ(*find_header(r, "Content-Type"), "application/json");
  EXPECT_EQ(*find_header(r, "Accept"), "text/event-stream");
  EXPECT_EQ(r.total_timeout, std::chrono::seconds(7));
  const json body = json::parse(r.body);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["max_tokens"], 128);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0], (json{{"role", "system"}, {"content", "be brief"}}));
  EXPECT_EQ(body["messages"][1]["content"], "Alice: hi \xF0\x9F\x98\x80");
  EXPECT_FALSE(body.contains("model"));  // the model is in the path

  WorkersAiProvider custom(http_, {"http://127.0.0.1:9/client/v4/", "k", "m", "a", {}});
  EXPECT_EQ(custom.build_request(sample_request(false)).url,
            "http://127.0.0.1:9/client/v4/accounts/a/ai/run/m");
  EXPECT_EQ(json::parse(custom.build_request(sample_request(false)).body)["stream"], false);
}

TEST_F(AiProviderFormat, WorkersAiParsesResponses) {
  WorkersAiProvider p(http_, {"", "k", "m", "a", {}});
  LlmResult ok =
      p.parse_response(R"({"result":{"response":"hey there"},"success":true,"errors":[],"messages":[]})");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.text, "hey there");

  LlmResult failed = p.parse_response(
      R"({"result":null,"success":false,"errors":[{"code":5007,"message":"No such model"}]})");
  EXPECT_EQ(failed.error, LlmErrorKind::kProvider);
  EXPECT_NE(failed.detail.find("No such model"), std::string::npos);

  EXPECT_EQ(p.parse_response("not json").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_response(R"({"success":true})").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_response(R"({"result":{"response":42},"success":true})").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_response(R"({"result":{"response":"  \n"},"success":true})").error, LlmErrorKind::kEmpty);
  EXPECT_EQ(p.parse_response(R"({"result":{"response":null},"success":true})").error, LlmErrorKind::kEmpty);
}

TEST_F(AiProviderFormat, WorkersAiParsesStreamEvents) {
  WorkersAiProvider p(http_, {"", "k", "m", "a", {}});
  EXPECT_EQ(p.parse_stream_event(R"({"response":"Hel","p":"abc"})").delta, "Hel");
  EXPECT_TRUE(p.parse_stream_event("[DONE]").done);
  const StreamStep usage = p.parse_stream_event(R"({"response":"","usage":{"prompt_tokens":3}})");
  EXPECT_EQ(usage.error, LlmErrorKind::kNone);
  EXPECT_EQ(usage.delta, "");
  EXPECT_EQ(p.parse_stream_event("{oops").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_stream_event(R"({"errors":[{"message":"boom"}]})").error, LlmErrorKind::kProvider);
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[{"delta":{"content":"x"}}]})").delta, "x");
}

TEST_F(AiProviderFormat, OpenAiEndpoint) {
  EXPECT_EQ(OpenAiProvider::endpoint("http://127.0.0.1:11434", ""),
            "http://127.0.0.1:11434/v1/chat/completions");
  EXPECT_EQ(OpenAiProvider::endpoint("http://127.0.0.1:8080/", ""),
            "http://127.0.0.1:8080/v1/chat/completions");
  EXPECT_EQ(OpenAiProvider::endpoint("http://h/v1", ""), "http://h/v1/chat/completions");
  EXPECT_EQ(OpenAiProvider::endpoint("http://h/v1/chat/completions", ""), "http://h/v1/chat/completions");
  EXPECT_EQ(OpenAiProvider::endpoint("https://api.cloudflare.com/client/v4/accounts/{account_id}/ai", "acc"),
            "https://api.cloudflare.com/client/v4/accounts/acc/ai/v1/chat/completions");
}

TEST_F(AiProviderFormat, OpenAiRequest) {
  OpenAiProvider p(http_, {"http://127.0.0.1:11434", "", "llama3.2:1b", "", std::chrono::seconds(20)});
  const http::Request r = p.build_request(sample_request(false));
  EXPECT_EQ(r.url, "http://127.0.0.1:11434/v1/chat/completions");
  EXPECT_EQ(find_header(r, "Authorization"), nullptr);  // local servers need no key
  EXPECT_EQ(*find_header(r, "Accept"), "application/json");
  const json body = json::parse(r.body);
  EXPECT_EQ(body["model"], "llama3.2:1b");
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["max_tokens"], 128);
  EXPECT_EQ(body["messages"][1], (json{{"role", "user"}, {"content", "Alice: hi \xF0\x9F\x98\x80"}}));

  OpenAiProvider keyed(http_, {"http://h", "sk-test", "m", "", {}});
  EXPECT_EQ(*find_header(keyed.build_request(sample_request(true)), "Authorization"), "Bearer sk-test");
}

TEST_F(AiProviderFormat, OpenAiParsesResponses) {
  OpenAiProvider p(http_, {"http://h", "", "m", "", {}});
  const LlmResult ok = p.parse_response(
      R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}]})");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.text, "yo");
  EXPECT_EQ(p.parse_response(R"({"choices":[{"message":{"role":"assistant","content":null}}]})").error,
            LlmErrorKind::kEmpty);
  EXPECT_EQ(p.parse_response(R"({"choices":[]})").error, LlmErrorKind::kEmpty);
  EXPECT_EQ(p.parse_response(R"({"object":"chat.completion"})").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_response(R"({"choices":[{"text":"legacy"}]})").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_response("[1,2]").error, LlmErrorKind::kMalformed);
  const LlmResult err = p.parse_response(R"({"error":{"message":"model not loaded","type":"x"}})");
  EXPECT_EQ(err.error, LlmErrorKind::kProvider);
  EXPECT_NE(err.detail.find("model not loaded"), std::string::npos);
}

TEST_F(AiProviderFormat, OpenAiParsesStreamEvents) {
  OpenAiProvider p(http_, {"http://h", "", "m", "", {}});
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[{"index":0,"delta":{"role":"assistant"}}]})").delta, "");
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})")
                .delta,
            "Hi");
  EXPECT_TRUE(
      p.parse_stream_event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})").finished);
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[],"usage":{"total_tokens":9}})").error, LlmErrorKind::kNone);
  EXPECT_TRUE(p.parse_stream_event("[DONE]").done);
  EXPECT_EQ(p.parse_stream_event("garbage").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_stream_event(R"({"choices":"nope"})").error, LlmErrorKind::kMalformed);
  EXPECT_EQ(p.parse_stream_event(R"({"error":{"message":"overloaded"}})").error, LlmErrorKind::kProvider);
}

TEST_F(AiProviderFormat, ErrorBodiesAreDescribedShortly) {
  EXPECT_EQ(
      HttpLlmProvider::describe_error_body(R"({"errors":[{"code":10000,"message":"Authentication error"}]})"),
      "Authentication error (code 10000)");
  EXPECT_EQ(HttpLlmProvider::describe_error_body(R"({"error":{"message":"Rate limit"}})"), "Rate limit");
  EXPECT_EQ(HttpLlmProvider::describe_error_body(R"({"error":"model 'x' not found"})"),
            "model 'x' not found");
  EXPECT_EQ(HttpLlmProvider::describe_error_body(""), "empty body");
  EXPECT_LE(HttpLlmProvider::describe_error_body(std::string(1000, 'x')).size(), 90u);
}

TEST_F(AiProviderFormat, TransportAndStatusFailuresMapToKinds) {
  OpenAiProvider p(http_, {"http://h", "", "m", "", {}});
  auto result = [&p](http::HttpError e, int status, const std::string& body = "", bool streamed = false,
                     bool complete = false, const std::string& text = "") {
    http::Response r;
    r.error = e;
    r.status = status;
    r.body = body;
    return p.to_result(r, streamed, text, complete, {});
  };
  EXPECT_EQ(result(http::HttpError::kTimeout, 0).error, LlmErrorKind::kTimeout);
  EXPECT_EQ(result(http::HttpError::kConnect, 0).error, LlmErrorKind::kConnect);
  EXPECT_EQ(result(http::HttpError::kResolve, 0).error, LlmErrorKind::kConnect);
  EXPECT_EQ(result(http::HttpError::kTls, 0).error, LlmErrorKind::kConnect);
  EXPECT_EQ(result(http::HttpError::kNetwork, 0).error, LlmErrorKind::kConnect);
  EXPECT_EQ(result(http::HttpError::kNetwork, 200, "", true, false, "partial").error, LlmErrorKind::kCut);
  EXPECT_EQ(result(http::HttpError::kNetwork, 200, "", true, false, "partial").text, "partial");
  EXPECT_EQ(result(http::HttpError::kOverloaded, 0).error, LlmErrorKind::kOverloaded);
  EXPECT_EQ(result(http::HttpError::kCancelled, 0).error, LlmErrorKind::kCancelled);
  const LlmResult status = result(http::HttpError::kNone, 429, R"({"error":{"message":"slow down"}})");
  EXPECT_EQ(status.error, LlmErrorKind::kHttpStatus);
  EXPECT_EQ(status.http_status, 429);
  EXPECT_EQ(status.detail, "HTTP 429: slow down");
  EXPECT_EQ(result(http::HttpError::kNone, 200, "", true, false, "half").error, LlmErrorKind::kCut);
  EXPECT_EQ(result(http::HttpError::kNone, 200, "", true, true, " ").error, LlmErrorKind::kEmpty);
  EXPECT_TRUE(result(http::HttpError::kNone, 200, "", true, true, "fine").ok());
  StreamStep bad;
  bad.error = LlmErrorKind::kMalformed;
  bad.detail = "x";
  http::Response aborted;
  aborted.error = http::HttpError::kAborted;
  aborted.status = 200;
  EXPECT_EQ(p.to_result(aborted, true, "", false, bad).error, LlmErrorKind::kMalformed);
}

}  // namespace
}  // namespace switchboard::ai
