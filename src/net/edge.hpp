#pragma once
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

#include "switchboard/security/client_ip_resolver.hpp"
#include "switchboard/security/connection_limiter.hpp"

namespace switchboard::net {

// The two transports a session can run over; HttpSession and WebSocketSession are instantiated for both.
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// What every connection of one listener shares besides the API: connection caps, the client-IP rule and the
// TLS context. Built once at start-up; sessions hold it by shared_ptr because they may outlive the Server.
// Thread-safety: immutable apart from the limiter, which is itself thread-safe.
struct Edge {
  std::shared_ptr<security::ConnectionLimiter> limiter;
  security::ClientIpResolver client_ips;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
};

// A TLS 1.2+ server context for a PEM certificate chain and key. Throws std::runtime_error naming the config
// key whose file could not be used.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file);

}  // namespace switchboard::net
