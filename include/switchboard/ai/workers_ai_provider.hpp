#pragma once
#include "switchboard/ai/http_llm_provider.hpp"

namespace switchboard::ai {

// Cloudflare Workers AI REST: POST {base}/accounts/{account_id}/ai/run/{model} with a Bearer token. The
// answer is {result:{response}, success, errors}; streamed answers are `data: {"response": ...}` events
// ending in `data: [DONE]`.
class WorkersAiProvider final : public HttpLlmProvider {
 public:
  static constexpr const char* kDefaultBaseUrl = "https://api.cloudflare.com/client/v4";

  WorkersAiProvider(http_client::HttpClient& http, ProviderSettings settings);

  std::string_view name() const override { return "workers-ai"; }
  http_client::Request build_request(const LlmRequest& request) const override;
  LlmResult parse_response(std::string_view body) const override;
  StreamStep parse_stream_event(std::string_view data) const override;
};

}  // namespace switchboard::ai
