#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "connection_registry.hpp"
#include "edge.hpp"
#include "switchboard/api/api_service.hpp"
#include "switchboard/config/config.hpp"

namespace switchboard::net {

// Accepts connections and starts an HttpSession (plain or TLS) on a new strand for each, after the
// connection caps admitted it (or with a refusal to deliver).
class Listener final : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, const config::Config& config, api::ApiService& api,
           std::shared_ptr<ConnectionRegistry> registry, std::shared_ptr<const Edge> edge);

  // Opens, binds and listens on `endpoint`; returns the bound port. Throws boost::system::system_error.
  std::uint16_t open(const boost::asio::ip::tcp::endpoint& endpoint);
  void run();
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const config::Config& config_;
  api::ApiService& api_;
  std::shared_ptr<ConnectionRegistry> registry_;
  std::shared_ptr<const Edge> edge_;
};

}  // namespace switchboard::net
