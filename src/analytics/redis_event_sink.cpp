#include "switchboard/analytics/redis_event_sink.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

#include "switchboard/analytics/prometheus_writer.hpp"
#include "switchboard/redis/redis_client.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::analytics {
namespace {

constexpr util::AreaLogger log{"analytics"};

}  // namespace

RedisEventSink::RedisEventSink(redis::RedisClient& redis, std::string stream, std::uint64_t maxlen)
    : redis_(redis), stream_(std::move(stream)), maxlen_(maxlen) {}

std::vector<std::string> RedisEventSink::xadd(const Event& e) const {
  std::vector<std::string> argv = {
      "XADD",    stream_, "MAXLEN", "~",         std::to_string(maxlen_),    "*", "dataset",
      e.dataset, "index", e.index,  "timestamp", std::to_string(e.timestamp)};
  for (std::size_t i = 0; i < e.blobs.size(); ++i) {
    argv.push_back("blob" + std::to_string(i + 1));
    argv.push_back(e.blobs[i]);
  }
  for (std::size_t i = 0; i < e.doubles.size(); ++i) {
    argv.push_back("double" + std::to_string(i + 1));
    argv.push_back(PrometheusWriter::format_value(e.doubles[i]));
  }
  return argv;
}

void RedisEventSink::write(std::vector<Event> batch, Done done) {
  struct Pending {
    std::atomic<std::size_t> left;
    std::atomic<bool> failed{false};
    Done done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = batch.size();
  pending->done = std::move(done);
  for (const auto& e : batch) {
    redis_.command(xadd(e), [pending](std::error_code ec, const redis::RedisReply&) {
      if (ec && !pending->failed.exchange(true))
        log()->debug("XADD of an analytics event failed: {}", ec.message());
      if (--pending->left == 0) pending->done(!pending->failed.load());
    });
  }
}

}  // namespace switchboard::analytics
