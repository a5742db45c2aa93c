#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::ai {

// One turn of a chat-completion prompt. `role` is "system", "user" or "assistant".
struct ChatMessage {
  std::string role;
  std::string content;

  bool operator==(const ChatMessage&) const = default;
};

struct LlmRequest {
  std::vector<ChatMessage> messages;
  bool stream = true;    // ask for server-sent events and deliver deltas as they arrive
  int max_tokens = 256;  // generation cap
};

// How a completion failed. Every kind ends in an apology to the user, never in a hang.
enum class LlmErrorKind : std::uint8_t {
  kNone = 0,
  kTimeout,     // connect or total timeout
  kConnect,     // refused, unreachable, name did not resolve, TLS failure
  kHttpStatus,  // the provider answered 4xx/5xx (status in LlmResult::http_status)
  kProvider,    // a 2xx answer that reports failure (Workers AI success:false, an error event in a stream)
  kMalformed,   // the body or an event is not the JSON the API documents
  kEmpty,       // the model produced no text
  kCut,         // the stream or connection ended before the completion did
  kOverloaded,  // too many outside requests at once; not attempted
  kCancelled,   // cancel() or shutdown
};

const char* to_string(LlmErrorKind kind);

struct LlmResult {
  LlmErrorKind error = LlmErrorKind::kNone;
  std::string text;            // the whole completion (also when streamed); partial text when cut
  int http_status = 0;         // 0 when no response arrived
  std::string detail;          // a short, loggable description of the failure (no prompt or reply text)
  int completion_tokens = -1;  // usage.completion_tokens as the provider reported it; -1 when it did not

  bool ok() const { return error == LlmErrorKind::kNone; }
};

using LlmCallId = std::uint64_t;
using DeltaHandler = std::function<void(std::string_view delta)>;
using CompletionHandler = std::function<void(LlmResult)>;

// A chat-completion backend. Implementations are Workers AI and OpenAI-compatible servers; tests add fakes.
//
// Contract: complete() returns at once. `on_delta` runs zero or more times (streamed requests only), then
// `on_done` runs exactly once. They never run concurrently with each other nor from inside complete() itself,
// on a thread of the implementation's choosing (ours: the HTTP client's strand), so callers post to their own
// strand. Thread-safety: complete() and cancel() may be called from any thread.
class LlmProvider {
 public:
  virtual ~LlmProvider() = default;

  // A short name for logs and metrics ("workers-ai", "openai").
  virtual std::string_view name() const = 0;

  virtual LlmCallId complete(LlmRequest request, DeltaHandler on_delta, CompletionHandler on_done) = 0;

  // Stops a call; its on_done then runs with kCancelled (unless it already ran).
  virtual void cancel(LlmCallId id) = 0;
};

}  // namespace switchboard::ai
