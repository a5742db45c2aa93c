#include "switchboard/ai/workers_ai_provider.hpp"

#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

using nlohmann::json;

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Workers AI's errors array, shortened for logs.
std::string errors_detail(const json& j) {
  if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    const auto& e = j["errors"][0];
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
  }
  return "success is false";
}

}  // namespace

WorkersAiProvider::WorkersAiProvider(http_client::HttpClient& http, ProviderSettings settings)
    : HttpLlmProvider(http, [&settings] {
        if (settings.base_url.empty()) settings.base_url = kDefaultBaseUrl;
        return std::move(settings);
      }()) {}

http_client::Request WorkersAiProvider::build_request(const LlmRequest& request) const {
  const auto& s = settings();
  json messages = json::array();
  for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  json body = {
      {"messages", std::move(messages)}, {"stream", request.stream}, {"max_tokens", request.max_tokens}};

  http_client::Request r;
  r.method = "POST";
  r.url = trim_slashes(s.base_url) + "/accounts/" + s.account_id + "/ai/run/" + s.model;
  r.headers.push_back({"Authorization", "Bearer " + s.api_key});
  r.headers.push_back({"Content-Type", "application/json"});
  r.headers.push_back({"Accept", request.stream ? "text/event-stream" : "application/json"});
  r.body = util::json_text(body);
  r.total_timeout = s.timeout;
  return r;
}

LlmResult WorkersAiProvider::parse_response(std::string_view body) const {
  LlmResult res;
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) {
    res.error = LlmErrorKind::kMalformed;
    res.detail = "the body is not a JSON object";
    return res;
  }
  if (j.contains("success") && j["success"].is_boolean() && !j["success"].get<bool>()) {
    res.error = LlmErrorKind::kProvider;
    res.detail = errors_detail(j);
    return res;
  }
  if (!j.contains("result") || !j["result"].is_object() || !j["result"].contains("response")) {
    res.error = LlmErrorKind::kMalformed;
    res.detail = "no result.response in the body";
    return res;
  }
  res.completion_tokens = completion_tokens(j["result"]);
  const auto& response = j["result"]["response"];
  if (response.is_string()) {
    res.text = response.get<std::string>();
  } else if (!response.is_null()) {
    res.error = LlmErrorKind::kMalformed;
    res.detail = "result.response is not a string";
    return res;
  }
  reject_blank(res);
  return res;
}

StreamStep WorkersAiProvider::parse_stream_event(std::string_view data) const {
  json j;
  if (auto framed = open_stream_event(data, j)) return *framed;
  StreamStep step;
  step.completion_tokens = completion_tokens(j);
  if (j.contains("response")) {
    if (j["response"].is_string()) {
      step.delta = j["response"].get<std::string>();
    } else if (!j["response"].is_null()) {
      step.error = LlmErrorKind::kMalformed;
      step.detail = "a stream event's response is not a string";
    }
    return step;
  }
  if (j.contains("errors") || j.contains("error")) {
    step.error = LlmErrorKind::kProvider;
    step.detail = "error event: " + describe_error_body(data);
    return step;
  }
  // Some models stream the OpenAI shape even on this endpoint.
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const auto& c = j["choices"][0];
    if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
        c["delta"]["content"].is_string())
      step.delta = c["delta"]["content"].get<std::string>();
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) step.finished = true;
  }
  return step;  // e.g. a usage-only event
}

}  // namespace switchboard::ai
