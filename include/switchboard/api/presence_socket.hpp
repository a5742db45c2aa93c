#pragma once
#include <memory>

#include "switchboard/chat/client_frame.hpp"
#include "switchboard/net/ws_handler.hpp"
#include "switchboard/presence/presence_room.hpp"
#include "switchboard/session/session_service.hpp"

namespace switchboard::api {

// Adapts one presence WebSocket to the PresenceRoom.
class PresenceSocket final : public net::WsHandler {
 public:
  PresenceSocket(std::shared_ptr<presence::PresenceRoom> presence, session::Identity identity,
                 std::shared_ptr<session::SessionService> sessions, const chat::FrameLimits& limits);

  void on_open(const std::shared_ptr<net::ClientConnection>& conn) override;
  void on_text(std::string text) override;
  void on_binary() override;
  void on_close() override;

 private:
  std::shared_ptr<presence::PresenceRoom> presence_;
  session::Identity identity_;
  std::shared_ptr<session::SessionService> sessions_;
  const chat::FrameLimits& limits_;
  std::weak_ptr<net::ClientConnection> conn_;
  std::uint64_t connection_id_ = 0;
};

}  // namespace switchboard::api
