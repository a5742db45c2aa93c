#include "switchboard/net/server.hpp"

#include <boost/asio/ip/tcp.hpp>

#include "connection_registry.hpp"
#include "listener.hpp"

namespace switchboard::net {

Server::Server(boost::asio::io_context& ioc, const config::Config& config, api::ApiService& api)
    : ioc_(ioc), config_(config), api_(api), registry_(std::make_shared<ConnectionRegistry>()) {}

Server::~Server() = default;

std::uint16_t Server::start() {
  const auto& listen = config_.server.listen;
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  boost::asio::ip::tcp::resolver resolver(ioc_);
  const auto results = resolver.resolve(host, std::to_string(port), boost::asio::ip::resolver_base::passive);
  listener_ = std::make_shared<Listener>(ioc_, config_, api_, registry_);
  const auto bound = listener_->open(results.begin()->endpoint());
  listener_->run();
  return bound;
}

void Server::stop_accepting() {
  if (listener_) listener_->stop();
}

void Server::close_websockets(std::uint16_t code, const std::string& reason) {
  registry_->close_all(code, reason);
}

std::size_t Server::websocket_count() const {
  return registry_->size();
}

std::size_t Server::http_connection_count() const {
  return registry_->http_connections.load();
}

}  // namespace switchboard::net
