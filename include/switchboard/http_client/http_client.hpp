#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace switchboard::http_client {

// Why a request produced no usable HTTP response. An HTTP error status (4xx/5xx) is not a transport error: it
// arrives with `error == kNone` and the status set.
enum class HttpError : std::uint8_t {
  kNone = 0,
  kTimeout,         // connect or total timeout elapsed (time spent queued counts towards the total)
  kConnect,         // refused, unreachable, reset while connecting
  kResolve,         // host name did not resolve
  kTls,             // handshake failed or the peer's certificate did not verify
  kNetwork,         // the connection broke after it was established (reset, truncated body)
  kTooLarge,        // the response body exceeded max_response_bytes
  kAborted,         // the chunk handler returned false
  kCancelled,       // cancel() was called for this request
  kOverloaded,      // max_concurrent + max_queued reached: refused without being attempted
  kShutdown,        // shutdown() was called
  kInvalidRequest,  // bad URL, unsupported scheme or method
  kOther,
};

const char* to_string(HttpError e);

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE, HEAD
  std::string url;             // http:// or https:// only; redirects are not followed
  std::vector<Header> headers;
  std::string
      body;  // sent as is (set Content-Type yourself); for POST an empty body is sent as Content-Length: 0
  std::chrono::milliseconds connect_timeout{0};  // 0: the client's default
  std::chrono::milliseconds total_timeout{0};    // 0: the client's default; includes time spent queued
  std::size_t max_response_bytes = 0;            // 0: the client's default
};

struct Response {
  int status = 0;               // 0 when no HTTP response arrived
  std::vector<Header> headers;  // of the final response; names lower-cased, in arrival order
  // The whole body. For a streamed request the body goes to the chunk handler instead and this stays empty,
  // except when the status is not 2xx: error bodies are always collected here so callers can report them.
  std::string body;
  HttpError error = HttpError::kNone;
  std::string error_message;  // a human sentence from libcurl or from us; never holds headers or body text
  std::chrono::milliseconds elapsed{0};

  // True when an HTTP response arrived in full (whatever its status).
  bool ok() const { return error == HttpError::kNone; }
  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

using RequestId = std::uint64_t;
// Invoked exactly once per request, on the client's strand, unless the client is destroyed first.
using ResponseHandler = std::function<void(Response)>;
// Invoked on the client's strand for each piece of a 2xx body, as it arrives; return false to abort the
// transfer (the response handler then gets HttpError::kAborted). The view is valid only during the call.
using ChunkHandler = std::function<bool(std::string_view)>;

struct HttpClientOptions {
  std::size_t max_concurrent = 32;  // transfers in flight at once
  std::size_t max_queued = 256;     // waiting for a slot; beyond this a request fails with kOverloaded
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  std::string user_agent;  // empty: "switchboard/<version>"
};

// The one client for outside services (LLM providers, Turnstile siteverify): libcurl's multi interface driven
// by Asio (curl_multi_socket_action on Asio descriptors and a steady_timer), so no thread ever blocks on the
// network. Everything runs on one strand of the given io_context; handlers are invoked on that strand, and
// callers that own a strand of their own post to it from there. TLS peer and host verification are always on,
// redirects are not followed, and nothing here logs headers, bodies or query strings.
//
// Thread-safety: request(), request_stream(), cancel() and shutdown() may be called from any thread (they
// post to the strand). Destroy the client only when no other thread can call it; destruction drops pending
// handlers without invoking them (call shutdown() first to have them invoked with kShutdown). The io_context
// must outlive the client.
class HttpClient final {
 public:
  explicit HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request` (or queues it behind the concurrency cap) and later invokes `on_response` once.
  RequestId request(Request request, ResponseHandler on_response);

  // Like request(), but a 2xx body is delivered to `on_chunk` piece by piece (for server-sent events).
  RequestId request_stream(Request request, ChunkHandler on_chunk, ResponseHandler on_response);

  // Stops a queued or in-flight request; its handler gets kCancelled. Unknown or finished ids are ignored.
  void cancel(RequestId id);

  // Fails every queued and in-flight request with kShutdown, and every later one at once.
  void shutdown();

  struct Stats {
    std::size_t in_flight = 0;
    std::size_t queued = 0;
  };
  // A snapshot; may lag behind requests posted from other threads.
  Stats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// application/x-www-form-urlencoded encoding of `fields` (for Turnstile's siteverify and similar form POSTs).
std::string form_urlencode(const std::vector<std::pair<std::string, std::string>>& fields);

// `url` without its query string and fragment, for logs (query strings may carry keys).
std::string redact_url(std::string_view url);

}  // namespace switchboard::http_client
