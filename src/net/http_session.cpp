#include "http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket.hpp>

#include "switchboard/api/envelope.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/random.hpp"
#include "websocket_session.hpp"

namespace switchboard::net {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = spdlog::get("net") ? spdlog::get("net") : spdlog::default_logger();
  return logger;
}

api::HttpRequest to_api_request(const http::request<http::string_body>& req, const std::string& peer_ip) {
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
  out.client_ip = peer_ip;
  out.request_id = util::uuid_v4();
  out.is_websocket_upgrade = beast::websocket::is_upgrade(req);
  return out;
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket&& socket, const config::Config& config,
                         api::ApiService& api, std::shared_ptr<ConnectionRegistry> registry)
    : stream_(std::move(socket)), config_(config), api_(api), registry_(std::move(registry)) {
  beast::error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ip_ = ep.address().to_string();
  ++registry_->http_connections;
}

HttpSession::~HttpSession() {
  --registry_->http_connections;
}

void HttpSession::run() {
  boost::asio::dispatch(stream_.get_executor(),
                        beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

// Reads one request; the first one gets the request timeout, later ones the keep-alive idle timeout.
void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(config_.server.header_limit_bytes));
  parser_->body_limit(config_.server.body_limit_bytes);
  stream_.expires_after(std::chrono::seconds(first_request_ ? config_.server.request_timeout_seconds
                                                            : config_.server.keep_alive_timeout_seconds));
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::send_early_error(int status, api::ErrorCode code, const char* message) {
  api::HttpRequest req;
  req.request_id = util::uuid_v4();
  req.client_ip = peer_ip_;
  auto res = api::failure(req, code, message);
  res.status = status;
  res.set_header("Connection", "close");
  send(req, std::move(res));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
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
  handle(to_api_request(parser_->get(), peer_ip_));
}

void HttpSession::handle(api::HttpRequest request) {
  const bool wants_ws = request.is_websocket_upgrade && request.path.rfind("/api/ws/", 0) == 0;
  if (wants_ws) {
    // Stop the HTTP timer while the upgrade is being authorised; the WebSocket sets its own.
    stream_.expires_never();
    auto req = std::make_shared<api::HttpRequest>(std::move(request));
    api_.authorize_upgrade(*req, [self = shared_from_this(), req](
                                     api::HttpResponse refusal, std::shared_ptr<WsHandler> handler) mutable {
      boost::asio::dispatch(self->stream_.get_executor(), [self, req, refusal = std::move(refusal),
                                                           handler = std::move(handler)]() mutable {
        if (!handler) {
          refusal.set_header("Connection", "close");
          return self->send(*req, std::move(refusal));
        }
        log()->info("request {} websocket {} from {}", req->request_id, req->path, req->client_ip);
        std::make_shared<WebSocketSession>(std::move(self->stream_), std::move(handler), self->config_,
                                           self->registry_)
            ->run(self->parser_->release());
      });
    });
    return;
  }
  auto req = std::make_shared<api::HttpRequest>(std::move(request));
  api::Respond respond = [self = shared_from_this(), req](api::HttpResponse res) {
    boost::asio::dispatch(self->stream_.get_executor(),
                          [self, req, res = std::move(res)]() mutable { self->send(*req, std::move(res)); });
  };
  if (req->method == "OPTIONS") return respond(api_.policy().preflight(*req));
  try {
    api_.router().route(*req, std::move(respond));
  } catch (const std::exception& e) {
    // A handler bug must not take the process down: log it and answer 500.
    log()->error("request {} {} {} failed: {}", req->request_id, req->method, req->path, e.what());
    send(*req, api::failure(*req, api::ErrorCode::kInternal, "Something went wrong on our side."));
  }
}

void HttpSession::send(const api::HttpRequest& request, api::HttpResponse response) {
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
    log()->info("request {} {} {} {} {} {}ms", request.request_id, request.client_ip, request.method,
                request.path, response.status, util::steady_ms() - started_ms_);
  stream_.expires_after(std::chrono::seconds(config_.server.request_timeout_seconds));
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res, keep = !close](beast::error_code ec, std::size_t n) {
                      self->on_write(keep, ec, n);
                    });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (ec) return;
  if (!keep_alive) return do_close();
  do_read();
}

void HttpSession::do_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace switchboard::net
