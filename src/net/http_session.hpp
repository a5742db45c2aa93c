#pragma once
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "connection_registry.hpp"
#include "switchboard/api/api_service.hpp"
#include "switchboard/api/envelope.hpp"
#include "switchboard/config/config.hpp"

namespace switchboard::net {

namespace beast = boost::beast;
namespace http = beast::http;

// One HTTP connection: reads requests one at a time (keep-alive), routes them through the ApiService, and
// hands authorised WebSocket upgrades to a WebSocketSession. Runs on the connection's strand.
class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, const config::Config& config, api::ApiService& api,
              std::shared_ptr<ConnectionRegistry> registry);
  ~HttpSession();

  void run();

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle(api::HttpRequest request);
  void send(api::HttpRequest const& request, api::HttpResponse response);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void send_early_error(int status, api::ErrorCode code, const char* message);
  void do_close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const config::Config& config_;
  api::ApiService& api_;
  std::shared_ptr<ConnectionRegistry> registry_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_ip_;
  bool first_request_ = true;
  std::int64_t started_ms_ = 0;
};

}  // namespace switchboard::net
