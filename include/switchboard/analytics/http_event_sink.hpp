#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "switchboard/analytics/event_sink.hpp"

namespace boost::asio {
class io_context;
}
namespace switchboard::http_client {
class HttpClient;
}

namespace switchboard::analytics {

// POSTs each batch as a JSON array of data points to a collector through the shared HttpClient. A transport
// failure, a 5xx, 408 or 429 is retried after a capped exponential backoff with jitter; after max_retries
// retries (or any other 4xx) the batch is given up on, and the recorder counts its events as dropped. While a
// batch is being retried the recorder's queue keeps filling and drops when full, so a dead collector costs a
// bounded amount of memory and nothing else.
//
// Thread-safety: write() is called from the recorder's thread; completions run on the HttpClient's strand or
// an io_context thread. The io_context and the HttpClient must outlive the sink's pending batches (the
// composition root flushes analytics before shutting the client down).
class HttpEventSink final : public EventSink {
 public:
  struct Options {
    std::string url;    // analytics.http_url
    std::string token;  // analytics.http_token: sent as "Authorization: Bearer <token>" when set
    std::chrono::milliseconds timeout{5000};
    int max_retries = 3;
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{5000};
  };
  HttpEventSink(boost::asio::io_context& io, http_client::HttpClient& http, Options options);

  std::string_view name() const override { return "http"; }
  void write(std::vector<Event> batch, Done done) override;

  // The request body for `batch`: [{"dataset", "index", "blobs", "doubles", "timestamp"}, ...].
  static std::string body(const std::vector<Event>& batch);

 private:
  boost::asio::io_context& io_;
  http_client::HttpClient& http_;
  const Options options_;
};

}  // namespace switchboard::analytics
