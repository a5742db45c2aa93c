#pragma once
#include <memory>
#include <optional>
#include <string>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/chat/chat_room.hpp"
#include "switchboard/net/ws_handler.hpp"
#include "switchboard/session/session_service.hpp"

namespace switchboard::api {

// Adapts one room WebSocket to its ChatRoom: decodes frames on the connection's strand (so rooms never
// parse), answers bad frames itself, and forwards the rest. Counts itself in the connection metrics and
// records ws_open / ws_close events (either observer may be null).
class RoomSocket final : public net::WsHandler {
 public:
  RoomSocket(std::shared_ptr<chat::ChatRoom> room, session::Identity identity,
             std::optional<std::string> since, std::shared_ptr<session::SessionService> sessions,
             const chat::FrameLimits& limits, std::shared_ptr<analytics::Metrics> metrics = nullptr,
             std::shared_ptr<analytics::EventRecorder> events = nullptr);

  void on_open(const std::shared_ptr<net::ClientConnection>& conn) override;
  void on_text(std::string text) override;
  void on_binary() override;
  void on_close(std::uint16_t code) override;

 private:
  std::shared_ptr<chat::ChatRoom> room_;
  session::Identity identity_;
  std::optional<std::string> since_;
  std::shared_ptr<session::SessionService> sessions_;
  const chat::FrameLimits& limits_;
  std::weak_ptr<net::ClientConnection> conn_;
  std::uint64_t connection_id_ = 0;
  std::shared_ptr<analytics::Metrics> metrics_;
  std::shared_ptr<analytics::EventRecorder> events_;
  std::int64_t opened_ms_ = 0;
};

}  // namespace switchboard::api
