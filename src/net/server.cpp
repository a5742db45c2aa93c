#include "switchboard/net/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/ip/tcp.hpp>

#include "connection_registry.hpp"
#include "edge.hpp"
#include "listener.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::net {

Server::Server(boost::asio::io_context& ioc, const config::Config& config, api::ApiService& api)
    : ioc_(ioc), config_(config), api_(api), registry_(std::make_shared<ConnectionRegistry>()) {
  registry_->metrics = api.metrics();
}

Server::~Server() = default;

std::uint16_t Server::start() {
  const auto& listen = config_.server.listen;
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  boost::asio::ip::tcp::resolver resolver(ioc_);
  const auto results = resolver.resolve(host, std::to_string(port), boost::asio::ip::resolver_base::passive);
  auto edge = std::make_shared<Edge>(
      Edge{std::make_shared<security::ConnectionLimiter>(config_.security.max_connections,
                                                         config_.security.max_connections_per_ip),
           security::ClientIpResolver(config_.security.trusted_proxies), nullptr});
  if (!config_.server.tls_cert_file.empty())
    edge->tls = make_tls_context(config_.server.tls_cert_file, config_.server.tls_key_file);
  edge_ = edge;
  // Past the descriptor limit accept() fails before the cap can answer "try again later"; say so up front.
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
                      limit.rlim_cur < config_.security.max_connections)
    util::logger("net")->warn(
        "security.max_connections is {} but this process may open only {} files (ulimit -n); raise the limit "
        "or lower the cap",
        config_.security.max_connections, static_cast<unsigned long long>(limit.rlim_cur));
  listener_ = std::make_shared<Listener>(ioc_, config_, api_, registry_, edge_);
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

bool Server::tls() const {
  return edge_ && edge_->tls;
}

}  // namespace switchboard::net
