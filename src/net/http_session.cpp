#include "http_session.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket.hpp>

#include "switchboard/api/envelope.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/handler_guard.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"
#include "switchboard/util/utf8.hpp"
#include "websocket_session.hpp"

namespace switchboard::net {
namespace {

constexpr util::AreaLogger log{"net"};

// Refusals logged at most this often: a flood must not flood the log too (each one still has its access
// line).
constexpr std::int64_t kRefusalLogIntervalMs = 10'000;

// Accepts the upgrade only to close it at once with 1013 "Try Again Later" (RFC 6455 §7.4.1): a browser
// reports a close code to the page, whereas an HTTP refusal of an upgrade reaches it only as a failure.
class OverCapHandler final : public WsHandler {
 public:
  void on_open(const std::shared_ptr<ClientConnection>& conn) override {
    conn->close(1013, "Too many connections; try again later");
  }
  void on_text(std::string) override {}
  void on_binary() override {}
  void on_close(std::uint16_t) override {}
};

api::HttpRequest to_api_request(const http::request<http::string_body>& req, const std::string& peer_ip,
                                const security::ClientIpResolver& client_ips, bool tls) {
  api::HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto q = out.target.find('?');
  const auto raw_path = out.target.substr(0, q);
  out.path = api::percent_decode(raw_path, false).value_or(raw_path);
  if (q != std::string::npos) out.query = api::parse_query(std::string_view(out.target).substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  std::vector<std::string_view> forwarded_for;
  std::optional<std::string_view> cf_connecting_ip;
  for (const auto& [name, value] : out.headers) {
    if (name == "x-forwarded-for") forwarded_for.push_back(value);
    if (name == "cf-connecting-ip") cf_connecting_ip = value;
  }
  out.peer_ip = peer_ip;
  out.client_ip = client_ips.resolve(peer_ip, forwarded_for, cf_connecting_ip);
  out.tls = tls;
  out.request_id = util::uuid_v4();
  out.is_websocket_upgrade = beast::websocket::is_upgrade(req);
  return out;
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, const config::Config& config, api::ApiService& api,
                                 std::shared_ptr<ConnectionRegistry> registry,
                                 std::shared_ptr<const Edge> edge, security::ConnectionLimiter::Lease lease)
    : stream_(std::move(stream)),
      config_(config),
      api_(api),
      registry_(std::move(registry)),
      edge_(std::move(edge)),
      lease_(std::move(lease)) {
  beast::error_code ec;
  const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
  // Canonical form, so a dual-stack socket's ::ffff:a.b.c.d and a.b.c.d are the same client.
  if (!ec) peer_ip_ = edge_->client_ips.resolve(ep.address().to_string(), {}, std::nullopt);
  ++registry_->http_connections;
  if (registry_->metrics) registry_->metrics->connections(analytics::Metrics::Connection::kHttp).inc();
}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
  --registry_->http_connections;
  if (registry_->metrics) registry_->metrics->connections(analytics::Metrics::Connection::kHttp).dec();
}

template <class Stream>
void HttpSession<Stream>::run() {
  if constexpr (kIsTls<Stream>) {
    // The handshake shares the request timeout, so a silent client cannot hold the connection.
    boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::get_lowest_layer(self->stream_)
          .expires_after(std::chrono::seconds(self->config_.server.request_timeout_seconds));
      self->stream_.async_handshake(boost::asio::ssl::stream_base::server,
                                    beast::bind_front_handler(&HttpSession::on_handshake, self));
    });
  } else {
    boost::asio::dispatch(stream_.get_executor(),
                          beast::bind_front_handler(&HttpSession::do_read, this->shared_from_this()));
  }
}

template <class Stream>
void HttpSession<Stream>::on_handshake(beast::error_code ec) {
  if (ec) {
    // Plain HTTP to the TLS port, scanners, bad clients: nothing to answer in a protocol they speak.
    log()->debug("conn {} TLS handshake with {} failed: {}", conn_id_, peer_ip_, ec.message());
    return;
  }
  do_read();
}

// Reads one request; the first one gets the request timeout, later ones the keep-alive idle timeout. A
// connection that is only here to be refused gets little time.
template <class Stream>
void HttpSession<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(config_.server.header_limit_bytes));
  parser_->body_limit(config_.server.body_limit_bytes);
  int timeout =
      first_request_ ? config_.server.request_timeout_seconds : config_.server.keep_alive_timeout_seconds;
  if (!lease_.admitted()) timeout = std::min(timeout, 5);
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(timeout));
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::send_early_error(int status, api::ErrorCode code, const char* message) {
  api::HttpRequest req;
  req.request_id = util::uuid_v4();
  req.client_ip = peer_ip_;
  auto res = api::failure(req, code, message);
  res.status = status;
  res.set_header("Connection", "close");
  send(req, std::move(res));
}

template <class Stream>
void HttpSession<Stream>::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::eof)
    return do_close();
  if (ec == http::error::body_limit)
    return send_early_error(413, api::ErrorCode::kPayloadTooLarge,
                            "The request body is larger than the server accepts.");
  if (ec == http::error::header_limit)
    return send_early_error(431, api::ErrorCode::kBadRequest,
                            "The request headers are larger than the server accepts.");
  if (ec) {
    if (ec != boost::asio::error::operation_aborted && ec != boost::asio::error::connection_reset)
      send_early_error(400, api::ErrorCode::kBadRequest, "The request is not valid HTTP/1.1.");
    return;
  }
  first_request_ = false;
  started_ms_ = util::steady_ms();
  started_at_ = std::chrono::steady_clock::now();
  handle(to_api_request(parser_->get(), peer_ip_, edge_->client_ips, kIsTls<Stream>));
}

template <class Stream>
void HttpSession<Stream>::refuse_over_cap(api::HttpRequest request) {
  static std::atomic<std::int64_t> last_logged_ms{0};
  const auto now = util::steady_ms();
  auto last = last_logged_ms.load();
  if (now - last >= kRefusalLogIntervalMs && last_logged_ms.compare_exchange_strong(last, now)) {
    const auto& limiter = *edge_->limiter;
    log()->warn(
        "request {} from {} refused: connection cap reached ({} of {} in all, {} of {} for this address; "
        "security.max_connections, security.max_connections_per_ip); more refusals in the next {} s are "
        "not logged here",
        request.request_id, request.client_ip, limiter.total(), limiter.max_total(),
        limiter.count_for(request.client_ip), limiter.max_per_ip(), kRefusalLogIntervalMs / 1000);
  }
  const bool wants_ws = request.is_websocket_upgrade && request.path.rfind("/api/ws/", 0) == 0;
  if (wants_ws) {
    beast::get_lowest_layer(stream_).expires_never();
    log()->info("request {} websocket {} from {} refused with 1013: connection cap", request.request_id,
                request.path, request.client_ip);
    std::make_shared<WebSocketSession<Stream>>(std::move(stream_), std::make_shared<OverCapHandler>(),
                                               config_, registry_, std::move(lease_))
        ->run(parser_->release());
    return;
  }
  auto res =
      api::failure(request, api::ErrorCode::kUnavailable,
                   "The server has too many open connections from your address or in all; try again in a "
                   "few seconds.");
  res.set_header("Retry-After", "5");
  res.set_header("Connection", "close");
  send(request, std::move(res));
}

template <class Stream>
void HttpSession<Stream>::handle(api::HttpRequest request) {
  // Counted against the client IP of each request: behind a proxy one connection may carry several clients.
  if (!lease_.admitted() || !lease_.assign_ip(request.client_ip)) return refuse_over_cap(std::move(request));
  auto req = std::make_shared<api::HttpRequest>(std::move(request));
  // Exactly one answer per request: a handler that throws after it answered must not answer again.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  try {
    if (req->is_websocket_upgrade && req->path.rfind("/api/ws/", 0) == 0) return upgrade(req, answered);
    api::Respond respond = [self = this->shared_from_this(), req, answered](api::HttpResponse res) {
      if (answered->exchange(true)) return;
      boost::asio::dispatch(self->stream_.get_executor(), [self, req, res = std::move(res)]() mutable {
        self->send(*req, std::move(res));
      });
    };
    if (req->method == "OPTIONS") {
      req->route = analytics::Metrics::kRoutePreflight;
      return respond(api_.policy().preflight(*req));
    }
    api_.router().route(*req, std::move(respond));
  } catch (...) {
    // A handler bug costs this request a 500, never the process. (One that throws later, in a completion
    // handler, is stopped by the I/O loop and costs the connection its answer.)
    util::report_handler_exception(util::HandlerSite::kHttp,
                                   fmt::format("conn {} request {} {} {}", conn_id_, req->request_id,
                                               req->method, util::utf8_excerpt(req->path, 200)),
                                   util::current_exception_message());
    if (answered->exchange(true)) return;
    auto res = api::failure(*req, api::ErrorCode::kInternal, "Something went wrong on our side.");
    res.set_header("Connection", "close");
    send(*req, std::move(res));
  }
}

template <class Stream>
void HttpSession<Stream>::upgrade(std::shared_ptr<api::HttpRequest> req,
                                  std::shared_ptr<std::atomic<bool>> answered) {
  // Stop the HTTP timer while the upgrade is being authorised; the WebSocket sets its own.
  beast::get_lowest_layer(stream_).expires_never();
  api_.authorize_upgrade(*req, [self = this->shared_from_this(), req, answered](
                                   api::HttpResponse refusal, std::shared_ptr<WsHandler> handler) mutable {
    if (answered->exchange(true)) return;
    boost::asio::dispatch(self->stream_.get_executor(), [self, req, refusal = std::move(refusal),
                                                         handler = std::move(handler)]() mutable {
      if (!handler) {
        refusal.set_header("Connection", "close");
        return self->send(*req, std::move(refusal));
      }
      auto ws =
          std::make_shared<WebSocketSession<Stream>>(std::move(self->stream_), std::move(handler),
                                                     self->config_, self->registry_, std::move(self->lease_));
      // The WebSocket's own lines say "conn <id>"; this one ties that id to the request.
      log()->info("conn {} request {} websocket {} from {}{} is conn {}", self->conn_id_, req->request_id,
                  req->path, req->client_ip, req->client_ip == req->peer_ip ? "" : " via " + req->peer_ip,
                  ws->connection_id());
      self->observe(*req, 101);
      ws->run(self->parser_->release());
    });
  });
}

template <class Stream>
void HttpSession<Stream>::send(const api::HttpRequest& request, api::HttpResponse response) {
  api_.policy().apply(request, response);
  const bool close = !parser_ || !parser_->is_header_done() || !parser_->get().keep_alive() ||
                     std::any_of(response.headers.begin(), response.headers.end(), [](const auto& h) {
                       return h.first == "Connection" && h.second == "close";
                     });
  auto res = std::make_shared<http::response<http::string_body>>();
  res->result(static_cast<unsigned>(response.status));
  res->version(11);
  res->set(http::field::server, "switchboard");
  if (!response.content_type.empty() && response.status != 204 && response.status != 304)
    res->set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) res->set(name, value);
  if (request.method != "HEAD") res->body() = std::move(response.body);
  res->prepare_payload();
  if (request.method == "HEAD") res->content_length(response.body.size());
  res->keep_alive(!close);
  if (!request.method.empty())
    log()->info(
        "conn {} request {} {} {} {} {} {}ms{}", conn_id_, request.request_id, request.client_ip,
        request.method, request.path, response.status, util::steady_ms() - started_ms_,
        request.client_ip == request.peer_ip || request.peer_ip.empty() ? "" : " via " + request.peer_ip);
  observe(request, response.status);
  beast::get_lowest_layer(stream_).expires_after(
      std::chrono::seconds(config_.server.request_timeout_seconds));
  http::async_write(stream_, *res,
                    [self = this->shared_from_this(), res, keep = !close](
                        beast::error_code ec, std::size_t n) { self->on_write(keep, ec, n); });
}

template <class Stream>
void HttpSession<Stream>::observe(const api::HttpRequest& request, int status) const {
  const auto& metrics = registry_->metrics;
  if (!metrics) return;
  // Requests that failed before routing (not HTTP, over a limit, over the connection cap) have no pattern.
  if (request.method.empty()) return metrics->observe_http(analytics::Metrics::kRouteInvalid, status, 0);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_at_;
  metrics->observe_http(request.route.empty() ? std::string_view("other") : std::string_view(request.route),
                        status, elapsed.count());
}

template <class Stream>
void HttpSession<Stream>::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (ec) return;
  if (!keep_alive) return do_close();
  do_read();
}

template <class Stream>
void HttpSession<Stream>::do_close() {
  beast::error_code ignored;
  if constexpr (kIsTls<Stream>) {
    // close_notify first, bounded: a peer that never answers must not hold the connection.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored_too;
      beast::get_lowest_layer(self->stream_).socket().close(ignored_too);
    });
  } else {
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  }
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace switchboard::net
