#include "websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "switchboard/util/clock.hpp"

namespace switchboard::net {
namespace {

// How long a close handshake may take before the socket is simply dropped.
constexpr std::int64_t kCloseGraceMs = 3000;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = spdlog::get("net") ? spdlog::get("net") : spdlog::default_logger();
  return logger;
}

}  // namespace

template <class Stream>
WebSocketSession<Stream>::WebSocketSession(Stream&& stream, std::shared_ptr<WsHandler> handler,
                                           const config::Config& config,
                                           std::shared_ptr<ConnectionRegistry> registry,
                                           security::ConnectionLimiter::Lease lease)
    : ws_(std::move(stream)),
      handler_(std::move(handler)),
      config_(config),
      registry_(std::move(registry)),
      id_(ConnectionRegistry::next_id()),
      lease_(std::move(lease)),
      watchdog_(ws_.get_executor()) {}

template <class Stream>
WebSocketSession<Stream>::~WebSocketSession() {
  registry_->remove(id_);
}

template <class Stream>
void WebSocketSession<Stream>::run(http::request<http::string_body> request) {
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(config_.ws.handshake_timeout_seconds);
  timeouts.idle_timeout =
      websocket::stream_base::none();  // our heartbeat decides (PROTOCOL §5: 90 s, code 1011)
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(config_.chat.max_frame_bytes);  // larger frames: Beast closes with 1009
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "switchboard"); }));
  auto req = std::make_shared<http::request<http::string_body>>(std::move(request));
  ws_.async_accept(*req,
                   [self = this->shared_from_this(), req](beast::error_code ec) { self->on_accept(ec); });
}

template <class Stream>
void WebSocketSession<Stream>::on_accept(beast::error_code ec) {
  if (ec) {
    log()->debug("conn {} websocket accept failed: {}", id_, ec.message());
    return;
  }
  open_ = true;
  last_read_ms_ = util::steady_ms();
  registry_->add(this->shared_from_this());
  handler_->on_open(this->shared_from_this());
  arm_watchdog();
  do_read();
}

// Reads the next message; the loop ends with the connection.
template <class Stream>
void WebSocketSession<Stream>::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::on_read, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    // Beast answers an over-long message with 1009 itself; remember it as the code this connection ended
    // with.
    if (ec == websocket::error::message_too_big && close_reason_.code == websocket::close_code::none)
      close_reason_.code = websocket::close_code::too_big;
    if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted &&
        ec != boost::asio::error::eof && ec != boost::asio::error::connection_reset)
      log()->debug("conn {} read ended: {}", id_, ec.message());
    return finish();
  }
  last_read_ms_ = util::steady_ms();
  if (ws_.got_text()) {
    handler_->on_text(beast::buffers_to_string(buffer_.data()));
  } else {
    handler_->on_binary();
  }
  buffer_.consume(buffer_.size());
  // A large message leaves a large buffer behind; give it back so idle sockets stay small.
  if (buffer_.capacity() > 16 * 1024) buffer_ = beast::flat_buffer();
  do_read();
}

template <class Stream>
void WebSocketSession<Stream>::send(SharedFrame frame) {
  boost::asio::dispatch(ws_.get_executor(),
                        [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
                          if (self->closing_ || !self->open_) return;
                          if (self->queue_.size() + 1 > self->config_.ws.max_queued_messages ||
                              self->queued_bytes_ + frame->size() > self->config_.ws.max_queued_bytes) {
                            // A client that does not read must not grow our memory: drop what it has not
                            // taken and close it.
                            log()->warn("conn {} closed: send queue over its cap ({} messages, {} bytes)",
                                        self->id_, self->queue_.size(), self->queued_bytes_);
                            if (const auto& m = self->registry_->metrics) {
                              // The new frame and every queued one but the write in flight are lost.
                              m->ws_queue_drops.inc(1 + self->queue_.size() - (self->writing_ ? 1 : 0));
                              m->slow_consumer_closes.inc();
                            }
                            if (self->writing_) {
                              while (self->queue_.size() > 1) {
                                self->queued_bytes_ -= self->queue_.back()->size();
                                self->queue_.pop_back();
                              }
                            }
                            return self->start_close(websocket::close_code::policy_error,
                                                     "Too slow: messages were not read in time");
                          }
                          self->queued_bytes_ += frame->size();
                          self->queue_.push_back(std::move(frame));
                          if (!self->writing_) self->do_write();
                        });
}

// Writes the front of the queue; only one write is ever in flight.
template <class Stream>
void WebSocketSession<Stream>::do_write() {
  writing_ = true;
  write_started_ms_ = util::steady_ms();
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(*queue_.front()),
                  beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  write_started_ms_ = 0;
  if (ec) return abort();
  queued_bytes_ -= queue_.front()->size();
  queue_.pop_front();
  if (!queue_.empty()) return do_write();
  if (closing_ && close_started_ms_ == 0) do_close();
}

template <class Stream>
void WebSocketSession<Stream>::close(std::uint16_t code, std::string reason) {
  boost::asio::dispatch(ws_.get_executor(),
                        [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
                          self->start_close(code, std::move(reason));
                        });
}

template <class Stream>
void WebSocketSession<Stream>::start_close(std::uint16_t code, std::string reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
  if (!open_) return;
  if (!writing_) return do_close();
  // The close frame follows what is queued (on_write calls do_close); the watchdog bounds the wait.
  arm_watchdog();
}

// Sends the close frame; the pending read completes with `closed` once the peer answers.
template <class Stream>
void WebSocketSession<Stream>::do_close() {
  close_started_ms_ = util::steady_ms();
  arm_watchdog();
  ws_.async_close(close_reason_,
                  beast::bind_front_handler(&WebSocketSession::on_close, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::on_close(beast::error_code ec) {
  if (ec) abort();
}

template <class Stream>
void WebSocketSession<Stream>::abort() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

template <class Stream>
void WebSocketSession<Stream>::finish() {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  watchdog_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  registry_->remove(id_);
  if (!open_) return;
  // Ours when the server closed first, else the client's; none at all means the TCP connection just ended.
  std::uint16_t code = 1006;
  if (close_reason_.code != websocket::close_code::none) {
    code = static_cast<std::uint16_t>(close_reason_.code);
  } else if (ws_.reason().code != websocket::close_code::none) {
    code = static_cast<std::uint16_t>(ws_.reason().code);
  }
  handler_->on_close(code);
}

template <class Stream>
void WebSocketSession<Stream>::arm_watchdog() {
  if (finished_) return;
  std::int64_t deadline = last_read_ms_ + config_.chat.heartbeat_timeout_seconds * 1000LL;
  if (write_started_ms_)
    deadline =
        std::min<std::int64_t>(deadline, write_started_ms_ + config_.ws.write_timeout_seconds * 1000LL);
  if (closing_) {
    const std::int64_t close_from = close_started_ms_ ? close_started_ms_ : util::steady_ms();
    deadline = std::min<std::int64_t>(deadline, close_from + kCloseGraceMs);
  }
  watchdog_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, deadline - util::steady_ms())));
  watchdog_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_watchdog();
  });
}

template <class Stream>
void WebSocketSession<Stream>::on_watchdog() {
  if (finished_) return;
  const auto now = util::steady_ms();
  if (closing_) {
    const std::int64_t close_from = close_started_ms_ ? close_started_ms_ : now;
    if (close_started_ms_ == 0 && !writing_) return do_close();
    if (now - close_from >= kCloseGraceMs || (writing_ && now - write_started_ms_ >= kCloseGraceMs))
      return abort();
    return arm_watchdog();
  }
  if (write_started_ms_ && now - write_started_ms_ >= config_.ws.write_timeout_seconds * 1000LL) {
    log()->warn("conn {} closed: a write did not complete in {} s", id_, config_.ws.write_timeout_seconds);
    return abort();
  }
  if (now - last_read_ms_ >= config_.chat.heartbeat_timeout_seconds * 1000LL) {
    start_close(websocket::close_code::internal_error, "Heartbeat timeout");
    return arm_watchdog();
  }
  arm_watchdog();
}

template class WebSocketSession<PlainStream>;
template class WebSocketSession<TlsStream>;

}  // namespace switchboard::net
