#include "switchboard/analytics/event_recorder_factory.hpp"

#include <stdexcept>

#include "switchboard/analytics/file_event_sink.hpp"
#include "switchboard/analytics/http_event_sink.hpp"
#include "switchboard/analytics/redis_event_sink.hpp"
#include "switchboard/analytics/stdout_event_sink.hpp"

namespace switchboard::analytics {

std::unique_ptr<EventRecorder> make_event_recorder(const config::Config& config, boost::asio::io_context& io,
                                                   http_client::HttpClient& http, redis::RedisClient* redis) {
  const auto& a = config.analytics;
  std::unique_ptr<EventSink> sink;
  if (a.sink == "none") return nullptr;
  if (a.sink == "file") {
    std::filesystem::path path(a.file);
    if (path.is_relative()) path = std::filesystem::path(config.data.dir) / path;
    sink = std::make_unique<FileEventSink>(FileEventSink::Options{path, a.file_max_bytes, a.file_keep});
  } else if (a.sink == "stdout") {
    sink = std::make_unique<StdoutEventSink>();
  } else if (a.sink == "http") {
    sink = std::make_unique<HttpEventSink>(
        io, http,
        HttpEventSink::Options{a.http_url, a.http_token, std::chrono::milliseconds(a.http_timeout_ms),
                               a.http_max_retries, std::chrono::milliseconds(a.http_initial_backoff_ms),
                               std::chrono::milliseconds(a.http_max_backoff_ms)});
  } else if (a.sink == "redis") {
    if (redis == nullptr)
      throw std::runtime_error("analytics.sink \"redis\" needs a Redis client (set redis.url)");
    sink = std::make_unique<RedisEventSink>(*redis, a.redis_stream, a.redis_maxlen);
  } else {
    throw std::invalid_argument("unknown analytics.sink '" + a.sink + "'");
  }
  EventRecorderOptions options;
  options.dataset = a.dataset;
  options.queue_size = a.queue_size;
  options.batch_max = a.batch_max_events;
  options.flush_interval = std::chrono::milliseconds(a.flush_interval_ms);
  // Long enough for every retry of the HTTP sink; a bound only for sinks whose io_context stopped.
  options.write_timeout = std::chrono::milliseconds(
      (a.http_timeout_ms + a.http_max_backoff_ms) * static_cast<long long>(a.http_max_retries + 1) + 1000);
  return std::make_unique<EventRecorder>(std::move(sink), options);
}

}  // namespace switchboard::analytics
