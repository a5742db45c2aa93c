#pragma once
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "switchboard/config/config.hpp"

namespace switchboard::api {
class ApiService;
}

namespace switchboard::net {

class ConnectionRegistry;
class Listener;
struct Edge;

// The network edge: accepts TCP connections and runs HTTP and WebSocket sessions over them. Beast stays
// inside src/net; the rest of the server sees this class, ClientConnection and WsHandler only. Thread-safety:
// start() once before running the io_context; the other methods are safe from any thread.
class Server final {
 public:
  Server(boost::asio::io_context& ioc, const config::Config& config, api::ApiService& api);
  ~Server();

  // Binds server.listen and loads the TLS certificate when configured; returns the bound port (the real one
  // when the config says port 0). Throws on failure.
  std::uint16_t start();
  // Stops accepting new connections.
  void stop_accepting();
  // Sends every open WebSocket a close frame with `code` after what is already queued.
  void close_websockets(std::uint16_t code, const std::string& reason);
  std::size_t websocket_count() const;
  std::size_t http_connection_count() const;
  // True when serving HTTPS and WSS (server.tls_cert_file and server.tls_key_file).
  bool tls() const;

 private:
  boost::asio::io_context& ioc_;
  const config::Config& config_;
  api::ApiService& api_;
  std::shared_ptr<ConnectionRegistry> registry_;
  std::shared_ptr<const Edge> edge_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace switchboard::net
