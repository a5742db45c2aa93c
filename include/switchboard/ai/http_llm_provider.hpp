#pragma once
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/ai/llm_provider.hpp"
#include "switchboard/http_client/http_client.hpp"

namespace switchboard::ai {

// Where and how to reach a provider. `api_key` is a secret: it goes into the Authorization header and nowhere
// else.
struct ProviderSettings {
  std::string base_url;
  std::string api_key;
  std::string model;
  std::string account_id;  // Workers AI; also substituted for "{account_id}" in an OpenAI base URL
  std::chrono::milliseconds timeout{20000};
};

// One SSE event interpreted by a provider's wire format.
struct StreamStep {
  std::string delta;                         // text to append (may be empty)
  bool done = false;                         // the "[DONE]" sentinel
  bool finished = false;                     // the model reported a finish reason (OpenAI)
  LlmErrorKind error = LlmErrorKind::kNone;  // kMalformed or kProvider
  std::string detail;
  int completion_tokens = -1;  // a usage report in this event (usually the last one), else -1
};

// The plumbing both HTTP providers share: sending through the HttpClient, streaming through SseParser, and
// mapping every transport and protocol failure to an LlmErrorKind. Subclasses supply only the wire format,
// which is public so unit tests can check it without a network. Create instances with std::make_shared
// (in-flight calls keep the provider alive). The HttpClient must outlive it. Thread-safety: as LlmProvider;
// the format methods are const and pure.
class HttpLlmProvider : public LlmProvider, public std::enable_shared_from_this<HttpLlmProvider> {
 public:
  HttpLlmProvider(http_client::HttpClient& http, ProviderSettings settings);

  LlmCallId complete(LlmRequest request, DeltaHandler on_delta, CompletionHandler on_done) override;
  void cancel(LlmCallId id) override;

  // The HTTP request for `request` (URL, headers with the key, JSON body, timeouts).
  virtual http_client::Request build_request(const LlmRequest& request) const = 0;
  // The text of a whole 2xx JSON body, or kMalformed / kProvider / kEmpty.
  virtual LlmResult parse_response(std::string_view body) const = 0;
  // One SSE event's data.
  virtual StreamStep parse_stream_event(std::string_view data) const = 0;

  // The provider's own error message from a non-2xx body (either API's shape), shortened for logs.
  static std::string describe_error_body(std::string_view body);

  // Maps a finished HTTP exchange to a result. `streamed_text`, `stream_complete` and `stream_error` describe
  // what the SSE events said (ignored for non-streamed calls). Public for unit tests.
  LlmResult to_result(const http_client::Response& response, bool streamed, const std::string& streamed_text,
                      bool stream_complete, const StreamStep& stream_error) const;

 protected:
  const ProviderSettings& settings() const { return settings_; }
  // The framing both wire formats share. Returns the finished step for "[DONE]" or a non-object event;
  // otherwise fills `event` and returns nullopt so the provider reads its own fields.
  static std::optional<StreamStep> open_stream_event(std::string_view data, nlohmann::json& event);
  // A reply that is only white space is kEmpty, whatever the wire format.
  static void reject_blank(LlmResult& result);
  // usage.completion_tokens of a body or event (both APIs use that name), or -1.
  static int completion_tokens(const nlohmann::json& holder);

 private:
  http_client::HttpClient& http_;
  ProviderSettings settings_;
};

}  // namespace switchboard::ai
