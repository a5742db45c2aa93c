#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include "http_session.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::net {

Listener::Listener(boost::asio::io_context& ioc, const config::Config& config, api::ApiService& api,
                   std::shared_ptr<ConnectionRegistry> registry, std::shared_ptr<const Edge> edge)
    : ioc_(ioc),
      acceptor_(boost::asio::make_strand(ioc)),
      config_(config),
      api_(api),
      registry_(std::move(registry)),
      edge_(std::move(edge)) {}

std::uint16_t Listener::open(const boost::asio::ip::tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(boost::asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint().port();
}

void Listener::run() {
  boost::asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  boost::asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

// Each connection gets its own strand, so its handlers never run concurrently.
void Listener::do_accept() {
  acceptor_.async_accept(
      boost::asio::make_strand(ioc_),
      [self = shared_from_this()](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
        self->on_accept(ec, std::move(s));
      });
}

void Listener::on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
  if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors and the like: log, keep accepting.
    util::logger("net")->warn("accept failed: {}", ec.message());
  } else {
    boost::system::error_code ignored;
    auto lease = edge_->limiter->admit();
    if (!lease) {
      // Even the refusals are at their cap: a flood. Closing at once keeps descriptors bounded.
      socket.close(ignored);
    } else {
      socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
      if (edge_->tls) {
        std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *edge_->tls), config_, api_,
                                                 registry_, edge_, std::move(*lease))
            ->run();
      } else {
        std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), config_, api_, registry_,
                                                   edge_, std::move(*lease))
            ->run();
      }
    }
  }
  do_accept();
}

}  // namespace switchboard::net
