#include "switchboard/ai/http_llm_provider.hpp"

#include <nlohmann/json.hpp>

#include "switchboard/ai/sse_parser.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

namespace http = switchboard::http_client;

// Raw bytes of a streamed body kept in case the server ignored `stream: true` and answered with plain JSON.
constexpr std::size_t kMaxFallbackBytes = 1024 * 1024;

std::string shorten(std::string s, std::size_t max = 160) {
  if (s.size() <= max) return s;
  s.resize(max);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80)
    s.pop_back();  // keep UTF-8 whole
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s + "...";
}

LlmErrorKind from_transport(http::HttpError e, int status) {
  switch (e) {
    case http::HttpError::kTimeout:
      return LlmErrorKind::kTimeout;
    case http::HttpError::kNetwork:
      // A broken connection after the status line arrived is a cut answer; before it, a failed connection.
      return status > 0 ? LlmErrorKind::kCut : LlmErrorKind::kConnect;
    case http::HttpError::kTooLarge:
      return LlmErrorKind::kMalformed;
    case http::HttpError::kCancelled:
    case http::HttpError::kShutdown:
      return LlmErrorKind::kCancelled;
    case http::HttpError::kOverloaded:
      return LlmErrorKind::kOverloaded;
    default:  // connect, resolve, TLS, invalid URL, other
      return LlmErrorKind::kConnect;
  }
}

// The per-call state shared by the chunk and completion handlers (both run on the HTTP client's strand).
struct StreamState {
  SseParser parser;
  std::string text;
  std::string raw;  // fallback copy, only until the first event
  bool saw_event = false;
  bool done = false;
  bool finished = false;
  int completion_tokens = -1;
  StreamStep error;
  DeltaHandler on_delta;
};

}  // namespace

const char* to_string(LlmErrorKind kind) {
  switch (kind) {
    case LlmErrorKind::kNone:
      return "ok";
    case LlmErrorKind::kTimeout:
      return "timeout";
    case LlmErrorKind::kConnect:
      return "connect";
    case LlmErrorKind::kHttpStatus:
      return "http_status";
    case LlmErrorKind::kProvider:
      return "provider";
    case LlmErrorKind::kMalformed:
      return "malformed";
    case LlmErrorKind::kEmpty:
      return "empty";
    case LlmErrorKind::kCut:
      return "cut";
    case LlmErrorKind::kOverloaded:
      return "overloaded";
    case LlmErrorKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

HttpLlmProvider::HttpLlmProvider(http::HttpClient& http, ProviderSettings settings)
    : http_(http), settings_(std::move(settings)) {}

std::optional<StreamStep> HttpLlmProvider::open_stream_event(std::string_view data, nlohmann::json& event) {
  StreamStep step;
  if (data == "[DONE]") {
    step.done = true;
    return step;
  }
  event = nlohmann::json::parse(data, nullptr, false);
  if (!event.is_object()) {
    step.error = LlmErrorKind::kMalformed;
    step.detail = "a stream event is not a JSON object";
    return step;
  }
  return std::nullopt;
}

int HttpLlmProvider::completion_tokens(const nlohmann::json& holder) {
  if (!holder.is_object()) return -1;
  const auto it = holder.find("usage");
  if (it == holder.end() || !it->is_object()) return -1;
  const auto n = it->find("completion_tokens");
  return n != it->end() && n->is_number_integer() ? n->get<int>() : -1;
}

void HttpLlmProvider::reject_blank(LlmResult& result) {
  if (result.error != LlmErrorKind::kNone || !util::is_blank(result.text)) return;
  result.error = LlmErrorKind::kEmpty;
  result.detail = "the model returned no text";
}

std::string HttpLlmProvider::describe_error_body(std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    // Workers AI: {"errors":[{"code":7003,"message":"..."}]}
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
        j["errors"][0].is_object()) {
      const auto& e = j["errors"][0];
      std::string out = e.value("message", std::string("error"));
      if (e.contains("code") && e["code"].is_number_integer())
        out += " (code " + std::to_string(e["code"].get<long>()) + ")";
      return shorten(out);
    }
    // OpenAI: {"error":{"message":"..."}}; Ollama and llama.cpp: {"error":"..."}
    if (j.contains("error")) {
      if (j["error"].is_string()) return shorten(j["error"].get<std::string>());
      if (j["error"].is_object() && j["error"].contains("message") && j["error"]["message"].is_string())
        return shorten(j["error"]["message"].get<std::string>());
    }
  }
  if (body.empty()) return "empty body";
  return util::utf8_code_points(body) ? shorten(std::string(body), 80) : "non-text body";
}

LlmResult HttpLlmProvider::to_result(const http::Response& response, bool streamed,
                                     const std::string& streamed_text, bool stream_complete,
                                     const StreamStep& stream_error) const {
  LlmResult res;
  res.http_status = response.status;
  if (!response.ok()) {
    if (response.error == http::HttpError::kAborted && stream_error.error != LlmErrorKind::kNone) {
      res.error = stream_error.error;
      res.detail = stream_error.detail;
    } else {
      res.error = from_transport(response.error, response.status);
      res.detail = std::string(http::to_string(response.error)) + ": " + response.error_message;
    }
    res.text = streamed_text;
    return res;
  }
  if (response.status < 200 || response.status >= 300) {
    res.error = LlmErrorKind::kHttpStatus;
    res.detail = "HTTP " + std::to_string(response.status) + ": " + describe_error_body(response.body);
    return res;
  }
  if (!streamed) return parse_response(response.body);
  if (stream_error.error != LlmErrorKind::kNone) {
    res.error = stream_error.error;
    res.detail = stream_error.detail;
    res.text = streamed_text;
    return res;
  }
  res.text = streamed_text;
  if (!stream_complete) {
    res.error = LlmErrorKind::kCut;
    res.detail = "the stream ended before [DONE]";
  } else if (util::is_blank(streamed_text)) {
    res.error = LlmErrorKind::kEmpty;
    res.detail = "the model returned no text";
  }
  return res;
}

LlmCallId HttpLlmProvider::complete(LlmRequest request, DeltaHandler on_delta, CompletionHandler on_done) {
  http::Request req = build_request(request);
  if (req.total_timeout.count() == 0) req.total_timeout = settings_.timeout;
  auto self = shared_from_this();
  if (!request.stream) {
    return http_.request(std::move(req), [self, on_done = std::move(on_done)](http::Response r) {
      on_done(self->to_result(r, false, {}, false, {}));
    });
  }
  auto state = std::make_shared<StreamState>();
  state->on_delta = std::move(on_delta);
  auto handle_event = [self, state](const SseEvent& ev) {
    state->saw_event = true;
    state->raw.clear();
    if (state->done || state->error.error != LlmErrorKind::kNone) return;  // nothing counts after [DONE]
    StreamStep step = self->parse_stream_event(ev.data);
    if (step.error != LlmErrorKind::kNone) {
      state->error = std::move(step);
      return;
    }
    if (!step.delta.empty()) {
      state->text += step.delta;
      if (state->on_delta) state->on_delta(step.delta);
    }
    state->done = state->done || step.done;
    state->finished = state->finished || step.finished;
    if (step.completion_tokens >= 0) state->completion_tokens = step.completion_tokens;
  };
  auto on_chunk = [state, handle_event](std::string_view chunk) {
    if (!state->saw_event && state->raw.size() + chunk.size() <= kMaxFallbackBytes) state->raw.append(chunk);
    if (!state->parser.feed(chunk, handle_event)) {
      state->error.error = LlmErrorKind::kMalformed;
      state->error.detail = "a stream event exceeded the size limit";
    }
    return state->error.error == LlmErrorKind::kNone;  // stop reading once the stream is unusable
  };
  auto on_response = [self, state, handle_event, on_done = std::move(on_done)](http::Response r) {
    if (r.ok() && r.status >= 200 && r.status < 300 && state->error.error == LlmErrorKind::kNone) {
      state->parser.finish(handle_event);
      if (!state->saw_event && !state->raw.empty()) {
        // The server ignored `stream: true` and sent one JSON document; accept it.
        const auto* type = r.header("content-type");
        if (type != nullptr && type->find("json") != std::string::npos) {
          on_done(self->parse_response(state->raw));
          return;
        }
      }
    }
    auto result = self->to_result(r, true, state->text, state->done || state->finished, state->error);
    result.completion_tokens = state->completion_tokens;
    on_done(std::move(result));
  };
  return http_.request_stream(std::move(req), std::move(on_chunk), std::move(on_response));
}

void HttpLlmProvider::cancel(LlmCallId id) {
  http_.cancel(id);
}

}  // namespace switchboard::ai
