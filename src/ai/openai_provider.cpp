#include "switchboard/ai/openai_provider.hpp"

#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

OpenAiProvider::OpenAiProvider(http_client::HttpClient& http, ProviderSettings settings)
    : HttpLlmProvider(http, std::move(settings)) {}

std::string OpenAiProvider::endpoint(std::string base, const std::string& account_id) {
  for (auto pos = base.find("{account_id}"); pos != std::string::npos; pos = base.find("{account_id}"))
    base.replace(pos, 12, account_id);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (ends_with(base, "/chat/completions")) return base;
  if (ends_with(base, "/v1")) return base + "/chat/completions";
  return base + "/v1/chat/completions";
}

http_client::Request OpenAiProvider::build_request(const LlmRequest& request) const {
  const auto& s = settings();
  json messages = json::array();
  for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  json body = {{"model", s.model},
               {"messages", std::move(messages)},
               {"stream", request.stream},
               {"max_tokens", request.max_tokens}};

  http_client::Request r;
  r.method = "POST";
  r.url = endpoint(s.base_url, s.account_id);
  if (!s.api_key.empty()) r.headers.push_back({"Authorization", "Bearer " + s.api_key});
  r.headers.push_back({"Content-Type", "application/json"});
  r.headers.push_back({"Accept", request.stream ? "text/event-stream" : "application/json"});
  r.body = util::json_text(body);
  r.total_timeout = s.timeout;
  return r;
}

LlmResult OpenAiProvider::parse_response(std::string_view body) const {
  LlmResult res;
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) {
    res.error = LlmErrorKind::kMalformed;
    res.detail = "the body is not a JSON object";
    return res;
  }
  if (j.contains("error") && !j["error"].is_null()) {
    res.error = LlmErrorKind::kProvider;
    res.detail = describe_error_body(body);
    return res;
  }
  if (!j.contains("choices") || !j["choices"].is_array()) {
    res.error = LlmErrorKind::kMalformed;
    res.detail = "no choices in the body";
    return res;
  }
  res.completion_tokens = completion_tokens(j);
  if (!j["choices"].empty()) {
    const auto& c = j["choices"][0];
    if (!c.is_object() || !c.contains("message") || !c["message"].is_object()) {
      res.error = LlmErrorKind::kMalformed;
      res.detail = "choices[0].message is missing";
      return res;
    }
    const auto& content = c["message"].value("content", json());
    if (content.is_string()) {
      res.text = content.get<std::string>();
    } else if (!content.is_null()) {
      res.error = LlmErrorKind::kMalformed;
      res.detail = "choices[0].message.content is not a string";
      return res;
    }
  }
  reject_blank(res);
  return res;
}

StreamStep OpenAiProvider::parse_stream_event(std::string_view data) const {
  json j;
  if (auto framed = open_stream_event(data, j)) return *framed;
  StreamStep step;
  if (j.contains("error") && !j["error"].is_null()) {
    step.error = LlmErrorKind::kProvider;
    step.detail = "error event: " + describe_error_body(data);
    return step;
  }
  step.completion_tokens = completion_tokens(j);
  if (!j.contains("choices")) return step;  // e.g. a usage-only event
  if (!j["choices"].is_array()) {
    step.error = LlmErrorKind::kMalformed;
    step.detail = "choices is not an array";
    return step;
  }
  if (j["choices"].empty()) return step;
  const auto& c = j["choices"][0];
  if (!c.is_object()) {
    step.error = LlmErrorKind::kMalformed;
    step.detail = "choices[0] is not an object";
    return step;
  }
  if (c.contains("delta") && c["delta"].is_object()) {
    const auto& content = c["delta"].value("content", json());
    if (content.is_string()) step.delta = content.get<std::string>();
  }
  if (c.contains("finish_reason") && c["finish_reason"].is_string()) step.finished = true;
  return step;
}

}  // namespace switchboard::ai
