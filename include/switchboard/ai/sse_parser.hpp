#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace switchboard::ai {

// One server-sent event (WHATWG HTML §9.2): `data` is its data lines joined with '\n'.
struct SseEvent {
  std::string event;  // the `event:` field; empty means "message"
  std::string data;
  std::string id;
};

// Incremental text/event-stream parser. Feed it the body in pieces split anywhere (inside a line, between CR
// and LF, inside a UTF-8 sequence); it calls back once per complete event. Handles LF, CRLF and CR line ends,
// comment lines, multi-line data, fields without a value, and a leading byte-order mark. Not thread-safe: one
// parser per stream, used from one strand.
class SseParser final {
 public:
  using EventHandler = std::function<void(const SseEvent&)>;

  // `max_event_bytes` bounds a single line and a single event's data, so a hostile stream cannot grow memory.
  explicit SseParser(std::size_t max_event_bytes = 1024 * 1024) : max_event_bytes_(max_event_bytes) {}

  // Parses `chunk`, calling `on_event` for every event it completes. Returns false (and ignores the rest of
  // the stream) once the size bound is exceeded.
  bool feed(std::string_view chunk, const EventHandler& on_event);

  // At the end of the stream: dispatches an event whose blank line never came (lenient: some servers end with
  // "data: [DONE]\n" and close).
  void finish(const EventHandler& on_event);

  bool overflowed() const { return overflowed_; }

 private:
  void process_line(std::string_view line, const EventHandler& on_event);
  void dispatch(const EventHandler& on_event);

  std::size_t max_event_bytes_;
  std::string line_;
  SseEvent pending_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the previous piece ended in CR; a leading LF belongs to that line end
  bool at_start_ = true;   // a BOM may only appear at the very start
  bool overflowed_ = false;
};

}  // namespace switchboard::ai
