#include "websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <utility>

#include "switchboard/util/clock.hpp"
#include "switchboard/util/handler_guard.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::net {
namespace {

// How long a close handshake may take before the socket is simply dropped.
constexpr std::int64_t kCloseGraceMs = 3000;

constexpr util::AreaLogger log{"net"};

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
  output().set_owner(this->weak_from_this());
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
  call_handler([&] { handler_->on_open(this->shared_from_this()); });
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
    call_handler([&] { handler_->on_text(beast::buffers_to_string(buffer_.data())); });
  } else {
    call_handler([&] { handler_->on_binary(); });
  }
  // Give the buffer back: clients send rarely, and an idle socket should hold no read buffer of its own.
  buffer_ = beast::flat_buffer();
  do_read();
}

template <class Stream>
void WebSocketSession<Stream>::send(SharedFrame frame) {
  {
    std::lock_guard lock(inbox_mutex_);
    if (inbox_.size() >= config_.ws.max_queued_messages) {
      ++inbox_refused_;  // drain_inbox() closes the connection as a slow consumer
    } else {
      inbox_.push_back(std::move(frame));
    }
    if (drain_posted_) return;
    drain_posted_ = true;
  }
  boost::asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->drain_inbox(); });
}

template <class Stream>
void WebSocketSession<Stream>::drain_inbox() {
  std::vector<SharedFrame> frames;
  std::size_t refused = 0;
  {
    std::lock_guard lock(inbox_mutex_);
    frames.swap(inbox_);
    refused = std::exchange(inbox_refused_, 0);
    drain_posted_ = false;
  }
  if (closing_ || !open_) return;
  auto& out = output();
  std::size_t queued = 0;
  for (; queued < frames.size() && refused == 0; ++queued) {
    const auto& frame = frames[queued];
    if (out.queued_frames() + 1 > config_.ws.max_queued_messages ||
        out.queued_bytes() + frame->size() > config_.ws.max_queued_bytes)
      break;
    out.queue_text(frame);
  }
  if (queued < frames.size() || refused > 0) {
    // A client that does not read must not grow our memory: drop what it has not taken and close it.
    log()->warn("conn {} closed: send queue over its cap ({} messages, {} bytes)", id_, out.queued_frames(),
                out.queued_bytes());
    // Lost: every queued frame not yet in flight, what did not fit, and what send() refused.
    const std::size_t dropped = out.discard_unsent() + (frames.size() - queued) + refused;
    if (const auto& m = registry_->metrics) {
      m->ws_queue_drops.inc(dropped);
      m->slow_consumer_closes.inc();
    }
    return start_close(websocket::close_code::policy_error, "Too slow: messages were not read in time");
  }
  out.flush_now();
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
  do_close();  // the close frame queues behind the frames already queued
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
  output().discard_unsent();
  registry_->remove(id_);
  if (!open_) return;
  // Ours when the server closed first, else the client's; none at all means the TCP connection just ended.
  std::uint16_t code = 1006;
  if (close_reason_.code != websocket::close_code::none) {
    code = static_cast<std::uint16_t>(close_reason_.code);
  } else if (ws_.reason().code != websocket::close_code::none) {
    code = static_cast<std::uint16_t>(ws_.reason().code);
  }
  call_handler([&] { handler_->on_close(code); });
}

template <class Stream>
template <class F>
void WebSocketSession<Stream>::call_handler(F&& call) {
  try {
    call();
  } catch (...) {
    util::report_handler_exception(util::HandlerSite::kWebSocket, fmt::format("conn {}", id_),
                                   util::current_exception_message());
    // The handler's state is unknown now; the client gets 1011 (RFC 6455: an unexpected condition) and may
    // reconnect. After finish() there is nothing left to close.
    if (!finished_) start_close(websocket::close_code::internal_error, "Internal server error");
  }
}

template <class Stream>
void WebSocketSession<Stream>::arm_watchdog() {
  if (finished_) return;
  std::int64_t deadline = last_read_ms_ + config_.chat.heartbeat_timeout_seconds * 1000LL;
  if (const auto started = output().write_started_ms())
    deadline = std::min<std::int64_t>(deadline, started + config_.ws.write_timeout_seconds * 1000LL);
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
  const auto write_started = output().write_started_ms();
  if (closing_) {
    if (close_started_ms_ == 0) return do_close();
    if (now - close_started_ms_ >= kCloseGraceMs) return abort();
    return arm_watchdog();
  }
  if (write_started && now - write_started >= config_.ws.write_timeout_seconds * 1000LL) {
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
