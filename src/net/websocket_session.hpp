#pragma once
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "connection_registry.hpp"
#include "edge.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/net/client_connection.hpp"
#include "switchboard/net/frame_output_stream.hpp"
#include "switchboard/net/ws_handler.hpp"

namespace switchboard::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// One WebSocket connection: owns the stream and the read buffer, caps what waits in its output queue (the
// FrameOutputStream under Beast's stream), and hands frames to its WsHandler. Everything runs on the
// connection's strand (the stream's executor). `Stream` is PlainStream or TlsStream (explicitly instantiated
// for both in websocket_session.cpp). It holds its connection's lease, so the connection counts against the
// caps until the session is gone.
template <class Stream>
class WebSocketSession final : public ClientConnection,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream&& stream, std::shared_ptr<WsHandler> handler, const config::Config& config,
                   std::shared_ptr<ConnectionRegistry> registry, security::ConnectionLimiter::Lease lease);
  ~WebSocketSession() override;

  // Completes the upgrade for `request` (already read and authorised), then starts reading.
  void run(http::request<http::string_body> request);

  void send(SharedFrame frame) override;
  void close(std::uint16_t code, std::string reason) override;
  std::uint64_t connection_id() const override { return id_; }

 private:
  void on_accept(beast::error_code ec);
  void drain_inbox();
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void start_close(std::uint16_t code, std::string reason);
  void do_close();
  void on_close(beast::error_code ec);
  void finish();
  void arm_watchdog();
  void on_watchdog();
  void abort();
  // Calls the handler; an exception from it closes this connection with 1011 instead of reaching the I/O
  // loop (util::HandlerSite::kWebSocket).
  template <class F>
  void call_handler(F&& call);

  FrameOutputStream<Stream>& output() { return ws_.next_layer(); }

  websocket::stream<FrameOutputStream<Stream>> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<WsHandler> handler_;
  const config::Config& config_;
  std::shared_ptr<ConnectionRegistry> registry_;
  const std::uint64_t id_;
  security::ConnectionLimiter::Lease lease_;

  // Frames from send(), which any thread may call: one posted drain_inbox() takes all that arrived meanwhile,
  // so a burst of broadcasts costs one handler on this strand, not one per frame.
  std::mutex inbox_mutex_;
  std::vector<SharedFrame> inbox_;  // at most ws.max_queued_messages
  std::size_t inbox_refused_ = 0;   // frames send() turned away because the inbox was full
  bool drain_posted_ = false;

  bool open_ = false;      // handshake done, on_open delivered
  bool closing_ = false;   // a close was requested; no more sends
  bool finished_ = false;  // on_close delivered
  websocket::close_reason close_reason_;

  // One timer watches three deadlines so an idle socket costs a single timer: heartbeat (last frame read), a
  // write that does not complete, and a close handshake that does not finish.
  boost::asio::steady_timer watchdog_;
  std::int64_t last_read_ms_ = 0;
  std::int64_t close_started_ms_ = 0;
};

}  // namespace switchboard::net
