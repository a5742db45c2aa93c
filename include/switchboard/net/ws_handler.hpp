#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "switchboard/net/client_connection.hpp"

namespace switchboard::net {

// What a WebSocket connection does with its traffic once the upgrade was authorised. The connection owns its
// handler; the handler must hold the connection only weakly. All calls happen on the connection's strand, in
// order: on_open once, then on_text/on_binary any number of times, then on_close once.
class WsHandler {
 public:
  virtual ~WsHandler() = default;
  virtual void on_open(const std::shared_ptr<ClientConnection>& conn) = 0;
  virtual void on_text(std::string text) = 0;
  virtual void on_binary() = 0;
  // `code` is the close code the connection ended with: the one the server sent when it closed first, else
  // the client's; 1006 when it ended without a close handshake.
  virtual void on_close(std::uint16_t code) = 0;
};

}  // namespace switchboard::net
