#include "switchboard/ai/sse_parser.hpp"

namespace switchboard::ai {

bool SseParser::feed(std::string_view chunk, const EventHandler& on_event) {
  if (overflowed_) return false;
  if (at_start_) {
    // The BOM may itself arrive split; wait until three bytes (or a mismatch) decide.
    line_.append(chunk);
    if (line_.size() < 3 && std::string_view("\xEF\xBB\xBF").substr(0, line_.size()) == line_) return true;
    at_start_ = false;
    std::string buffered = std::move(line_);
    line_.clear();
    std::string_view rest(buffered);
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    return feed(rest, on_event);
  }
  std::size_t i = 0;
  if (after_cr_ && !chunk.empty()) {
    after_cr_ = false;
    if (chunk[0] == '\n') i = 1;
  }
  while (i < chunk.size()) {
    const auto end = chunk.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(chunk.substr(i));
      if (line_.size() > max_event_bytes_) {
        overflowed_ = true;
        return false;
      }
      break;
    }
    line_.append(chunk.substr(i, end - i));
    if (line_.size() > max_event_bytes_) {
      overflowed_ = true;
      return false;
    }
    process_line(line_, on_event);
    line_.clear();
    if (overflowed_) return false;
    if (chunk[end] == '\r') {
      if (end + 1 == chunk.size()) {
        after_cr_ = true;
        i = end + 1;
        break;
      }
      i = chunk[end + 1] == '\n' ? end + 2 : end + 1;
    } else {
      i = end + 1;
    }
  }
  return true;
}

void SseParser::finish(const EventHandler& on_event) {
  if (overflowed_) return;
  if (at_start_) {
    at_start_ = false;
    line_.clear();  // only ever a partial byte-order mark while at_start_
  }
  if (!line_.empty()) {
    process_line(line_, on_event);
    line_.clear();
  }
  if (has_data_) dispatch(on_event);
}

void SseParser::process_line(std::string_view line, const EventHandler& on_event) {
  if (line.empty()) {
    if (has_data_) {
      dispatch(on_event);
    } else {
      pending_.event.clear();  // an event without data is dropped, as browsers do
    }
    return;
  }
  if (line.front() == ':') return;  // comment (often a keep-alive)
  const auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    has_data_ = true;
    if (pending_.data.size() > max_event_bytes_) overflowed_ = true;
  } else if (field == "event") {
    pending_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) pending_.id.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void SseParser::dispatch(const EventHandler& on_event) {
  on_event(pending_);
  pending_.event.clear();
  pending_.data.clear();
  has_data_ = false;
  // The last event id persists across events, as the spec says.
}

}  // namespace switchboard::ai
