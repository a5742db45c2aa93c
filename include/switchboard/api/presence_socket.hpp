#pragma once
#include <memory>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/chat/client_frame.hpp"
#include "switchboard/net/ws_handler.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/session/session_service.hpp"

namespace switchboard::api {

// Adapts one presence WebSocket to the PresenceRoom. Counts itself in the connection metrics and records
// ws_open / ws_close events (either observer may be null).
class PresenceSocket final : public net::WsHandler {
 public:
  PresenceSocket(std::shared_ptr<presence::PresenceRoom> presence, session::Identity identity,
                 std::shared_ptr<session::SessionService> sessions, const chat::FrameLimits& limits,
                 std::shared_ptr<analytics::Metrics> metrics = nullptr,
                 std::shared_ptr<analytics::EventRecorder> events = nullptr);

  void on_open(const std::shared_ptr<net::ClientConnection>& conn) override;
  void on_text(std::string text) override;
  void on_binary() override;
  void on_close(std::uint16_t code) override;

 private:
  std::shared_ptr<presence::PresenceRoom> presence_;
  session::Identity identity_;
  std::shared_ptr<session::SessionService> sessions_;
  const chat::FrameLimits& limits_;
  std::weak_ptr<net::ClientConnection> conn_;
  std::uint64_t connection_id_ = 0;
  std::shared_ptr<analytics::Metrics> metrics_;
  std::shared_ptr<analytics::EventRecorder> events_;
  std::int64_t opened_ms_ = 0;
};

}  // namespace switchboard::api
