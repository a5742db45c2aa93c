#include "edge.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace switchboard::net {

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file,
                                                            const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // The options above already exclude older versions; the floor makes it explicit whatever OpenSSL adds.
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec)
    throw std::runtime_error("config key 'server.tls_cert_file': cannot use '" + cert_file +
                             "' as a PEM certificate chain: " + ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("config key 'server.tls_key_file': cannot use '" + key_file +
                             "' as a PEM private key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("config key 'server.tls_key_file': the key does not match server.tls_cert_file");
  return ctx;
}

}  // namespace switchboard::net
