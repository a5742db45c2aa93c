#include "switchboard/analytics/http_event_sink.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/http_client/http_client.hpp"
#include "switchboard/redis/reconnect_backoff.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::analytics {
namespace {

namespace http = switchboard::http_client;

constexpr util::AreaLogger log{"analytics"};

bool retryable(const http::Response& r) {
  if (!r.ok())
    return r.error != http::HttpError::kShutdown && r.error != http::HttpError::kInvalidRequest &&
           r.error != http::HttpError::kTooLarge;
  return r.status >= 500 || r.status == 408 || r.status == 429;
}

// One batch on its way: the request, its attempts and the timer between them.
class Delivery final : public std::enable_shared_from_this<Delivery> {
 public:
  Delivery(boost::asio::io_context& io, http::HttpClient& client, http::Request request,
           const HttpEventSink::Options& options, EventSink::Done done)
      : client_(client),
        request_(std::move(request)),
        max_retries_(options.max_retries),
        backoff_(options.initial_backoff, options.max_backoff),
        timer_(io),
        done_(std::move(done)) {}

  void send() {
    client_.request(request_, [self = shared_from_this()](http::Response r) { self->on_response(r); });
  }

 private:
  void on_response(const http::Response& r) {
    if (r.ok() && r.status >= 200 && r.status < 300) return done_(true);
    const std::string what = r.ok() ? "HTTP " + std::to_string(r.status) : http::to_string(r.error);
    if (!retryable(r) || attempts_ >= max_retries_) {
      log()->warn("analytics collector {} refused a batch ({}) after {} attempt(s); dropping it",
                  http::redact_url(request_.url), what, attempts_ + 1);
      return done_(false);
    }
    ++attempts_;
    const auto wait = backoff_.next();
    log()->debug("analytics collector answered {}; retry {} in {} ms", what, attempts_, wait.count());
    timer_.expires_after(wait);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->done_(false);
      self->send();
    });
  }

  http::HttpClient& client_;
  const http::Request request_;
  const int max_retries_;
  int attempts_ = 0;
  redis::ReconnectBackoff backoff_;
  boost::asio::steady_timer timer_;
  EventSink::Done done_;
};

}  // namespace

HttpEventSink::HttpEventSink(boost::asio::io_context& io, http::HttpClient& client, Options options)
    : io_(io), http_(client), options_(std::move(options)) {}

std::string HttpEventSink::body(const std::vector<Event>& batch) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& e : batch) array.push_back(to_json(e));
  return util::json_text(array);
}

void HttpEventSink::write(std::vector<Event> batch, Done done) {
  http::Request req;
  req.method = "POST";
  req.url = options_.url;
  req.headers.push_back({"Content-Type", "application/json"});
  if (!options_.token.empty()) req.headers.push_back({"Authorization", "Bearer " + options_.token});
  req.body = body(batch);
  req.total_timeout = options_.timeout;
  req.max_response_bytes = 64 * 1024;  // the answer is not read; a collector has no reason to send much
  std::make_shared<Delivery>(io_, http_, std::move(req), options_, std::move(done))->send();
}

}  // namespace switchboard::analytics
