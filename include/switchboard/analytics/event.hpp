#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace switchboard::analytics {

// One analytics data point, shaped like a Cloudflare Analytics Engine data point so the same events can be
// loaded there unchanged: a dataset, one index (the sampling key), up to 20 strings and up to 20 numbers.
// blobs[0] is always the event name; the rest of the layout is fixed per event (see events.hpp).
// Events never carry session ids, tokens or message text.
struct Event {
  static constexpr std::size_t kMaxBlobs = 20;
  static constexpr std::size_t kMaxDoubles = 20;
  static constexpr std::size_t kMaxIndexBytes = 96;   // Analytics Engine's limit
  static constexpr std::size_t kMaxBlobBytes = 1024;  // ours: keeps one event small

  std::string dataset;
  std::string index;
  std::vector<std::string> blobs;
  std::vector<double> doubles;
  std::int64_t timestamp = 0;  // ms since the Unix epoch

  // The event name (blobs[0]), or "" for an empty event.
  const std::string& name() const;
  // Cuts what is over the limits above (whole UTF-8 characters only).
  void clamp();
};

// {"dataset", "index", "blobs": [...], "doubles": [...], "timestamp"}
nlohmann::json to_json(const Event& event);

}  // namespace switchboard::analytics
