#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "switchboard/util/handler_guard.hpp"

namespace switchboard::net {

// A frame shared by every recipient of a broadcast: serialized once, referenced by each write queue.
using SharedFrame = std::shared_ptr<const std::string>;

inline SharedFrame make_frame(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// The domain's view of one client WebSocket. Rooms hold weak_ptrs to these, so a room never keeps a dead
// connection alive and never sees a socket type.
//
// Thread-safety: send() and close() may be called from any thread; they post to the connection's strand.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;

  // Queues a text frame. When the connection's queue is over its cap, the connection closes itself (slow
  // consumer) instead of growing.
  virtual void send(SharedFrame frame) = 0;

  // Sends a close frame with `code` and `reason` after what is already queued, then ends the connection.
  virtual void close(std::uint16_t code, std::string reason) = 0;

  // Process-unique id, for logs and for keying room membership.
  virtual std::uint64_t connection_id() const = 0;
};

// Sends `frame` to one recipient of a broadcast. A connection whose send throws is closed with 1011 and the
// fault reported under `context` (the room), so that one bad recipient never costs the others their copy.
inline void send_or_close(ClientConnection& conn, const SharedFrame& frame, std::string_view context) {
  try {
    conn.send(frame);
  } catch (...) {
    util::report_handler_exception(util::HandlerSite::kActor, context, util::current_exception_message());
    conn.close(1011, "Internal server error");
  }
}

}  // namespace switchboard::net
