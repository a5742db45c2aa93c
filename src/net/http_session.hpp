#pragma once
#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "connection_registry.hpp"
#include "edge.hpp"
#include "switchboard/api/api_service.hpp"
#include "switchboard/api/envelope.hpp"
#include "switchboard/config/config.hpp"

namespace switchboard::net {

namespace beast = boost::beast;
namespace http = beast::http;

// One HTTP connection: reads requests one at a time (keep-alive), routes them through the ApiService, and
// hands authorised WebSocket upgrades to a WebSocketSession. Runs on the connection's strand. `Stream` is
// PlainStream or TlsStream (explicitly instantiated for both in http_session.cpp); with TLS the handshake
// comes first. A connection over the caps (its lease is a refusal, or its client IP is at its cap) gets
// 503 UNAVAILABLE with Retry-After, or a WebSocket that is accepted and closed with 1013.
template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, const config::Config& config, api::ApiService& api,
              std::shared_ptr<ConnectionRegistry> registry, std::shared_ptr<const Edge> edge,
              security::ConnectionLimiter::Lease lease);
  ~HttpSession();

  void run();

 private:
  void on_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle(api::HttpRequest request);
  // Authorises a WebSocket upgrade and hands the stream to a WebSocketSession, or sends the refusal.
  void upgrade(std::shared_ptr<api::HttpRequest> req, std::shared_ptr<std::atomic<bool>> answered);
  void send(api::HttpRequest const& request, api::HttpResponse response);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void send_early_error(int status, api::ErrorCode code, const char* message);
  void refuse_over_cap(api::HttpRequest request);
  void do_close();

  Stream stream_;
  beast::flat_buffer buffer_;
  const config::Config& config_;
  api::ApiService& api_;
  std::shared_ptr<ConnectionRegistry> registry_;
  std::shared_ptr<const Edge> edge_;
  security::ConnectionLimiter::Lease lease_;  // moves to the WebSocketSession on upgrade
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_ip_;
  bool first_request_ = true;
  std::int64_t started_ms_ = 0;
  std::chrono::steady_clock::time_point started_at_{};  // the current request's, for the latency histogram
  const std::uint64_t conn_id_ = ConnectionRegistry::next_id();  // for logs; the WebSocket gets its own
  // Counts one answered request in the metrics (route pattern, status, latency).
  void observe(const api::HttpRequest& request, int status) const;
};

}  // namespace switchboard::net
