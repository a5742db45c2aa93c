#include "switchboard/analytics/event.hpp"

#include <nlohmann/json.hpp>

#include "switchboard/util/utf8.hpp"

namespace switchboard::analytics {
namespace {

void cut_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() > max_bytes) s = util::utf8_truncate_bytes(s, max_bytes);
}

}  // namespace

const std::string& Event::name() const {
  static const std::string empty;
  return blobs.empty() ? empty : blobs.front();
}

void Event::clamp() {
  cut_utf8(index, kMaxIndexBytes);
  if (blobs.size() > kMaxBlobs) blobs.resize(kMaxBlobs);
  if (doubles.size() > kMaxDoubles) doubles.resize(kMaxDoubles);
  for (auto& b : blobs) cut_utf8(b, kMaxBlobBytes);
}

nlohmann::json to_json(const Event& e) {
  return {{"dataset", e.dataset},
          {"index", e.index},
          {"blobs", e.blobs},
          {"doubles", e.doubles},
          {"timestamp", e.timestamp}};
}

}  // namespace switchboard::analytics
