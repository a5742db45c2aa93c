#pragma once
#include <memory>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/config/config.hpp"

namespace boost::asio {
class io_context;
}
namespace switchboard::http_client {
class HttpClient;
}
namespace switchboard::redis {
class RedisClient;
}

namespace switchboard::analytics {

// The recorder over the sink analytics.sink names (not started), or nullptr for "none". The HTTP sink uses
// `http`; the Redis sink needs `redis` (throws std::runtime_error when it is null). `io`, `http` and `redis`
// must outlive the recorder.
std::unique_ptr<EventRecorder> make_event_recorder(const config::Config& config, boost::asio::io_context& io,
                                                   http_client::HttpClient& http, redis::RedisClient* redis);

}  // namespace switchboard::analytics
