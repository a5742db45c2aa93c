#pragma once
#include <string>

#include "switchboard/ai/http_llm_provider.hpp"

namespace switchboard::ai {

// OpenAI-compatible chat completions: POST {base}/v1/chat/completions, with or without `stream: true` (SSE
// with choices[].delta.content, ending in [DONE]). Served by Ollama, llama.cpp's server, vLLM and Workers
// AI's OpenAI endpoint. The Authorization header is sent only when a key is configured (local servers need
// none).
class OpenAiProvider final : public HttpLlmProvider {
 public:
  OpenAiProvider(http_client::HttpClient& http, ProviderSettings settings);

  std::string_view name() const override { return "openai"; }
  http_client::Request build_request(const LlmRequest& request) const override;
  LlmResult parse_response(std::string_view body) const override;
  StreamStep parse_stream_event(std::string_view data) const override;

  // The endpoint for a base URL: "http://h:11434" and "http://h:11434/" gain "/v1/chat/completions", a base
  // that already ends in "/v1" gains "/chat/completions", a full endpoint is kept; "{account_id}" is
  // substituted.
  static std::string endpoint(std::string base_url, const std::string& account_id);
};

}  // namespace switchboard::ai
