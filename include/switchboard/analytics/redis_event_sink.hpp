#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "switchboard/analytics/event_sink.hpp"

namespace switchboard::redis {
class RedisClient;
}

namespace switchboard::analytics {

// Appends each event to a Redis stream with XADD <stream> MAXLEN ~ <maxlen> * ..., so the stream stays
// roughly capped and consumers (XREAD, consumer groups) read events in order. Fields follow Analytics
// Engine's column names: dataset, index, timestamp, blob1..blobN, double1..doubleN. All XADDs of a batch are
// pipelined; the batch counts as written only if every one succeeded. No retries: while Redis is down the
// client fails commands at once, and those events are counted as dropped.
//
// Thread-safety: write() from the recorder's thread; completions on io_context threads. The RedisClient must
// outlive pending batches.
class RedisEventSink final : public EventSink {
 public:
  RedisEventSink(redis::RedisClient& redis, std::string stream, std::uint64_t maxlen);

  std::string_view name() const override { return "redis"; }
  void write(std::vector<Event> batch, Done done) override;

  // The XADD command for one event.
  std::vector<std::string> xadd(const Event& event) const;

 private:
  redis::RedisClient& redis_;
  const std::string stream_;
  const std::uint64_t maxlen_;
};

}  // namespace switchboard::analytics
