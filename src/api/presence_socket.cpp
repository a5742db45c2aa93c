#include "switchboard/api/presence_socket.hpp"

#include "switchboard/analytics/events.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::api {
namespace {

void send_error(const std::weak_ptr<net::ClientConnection>& weak, const chat::FrameError& error) {
  if (auto c = weak.lock()) c->send(net::make_frame(chat::encode_error(error)));
}

}  // namespace

PresenceSocket::PresenceSocket(std::shared_ptr<presence::PresenceRoom> presence, session::Identity identity,
                               std::shared_ptr<session::SessionService> sessions,
                               const chat::FrameLimits& limits, std::shared_ptr<analytics::Metrics> metrics,
                               std::shared_ptr<analytics::EventRecorder> events)
    : presence_(std::move(presence)),
      identity_(std::move(identity)),
      sessions_(std::move(sessions)),
      limits_(limits),
      metrics_(std::move(metrics)),
      events_(std::move(events)) {}

void PresenceSocket::on_open(const std::shared_ptr<net::ClientConnection>& conn) {
  conn_ = conn;
  connection_id_ = conn->connection_id();
  sessions_->attach_socket(identity_.token_hash, conn);
  presence_->join(conn, identity_.user_id());
  opened_ms_ = util::steady_ms();
  if (metrics_) metrics_->connections(analytics::Metrics::Connection::kPresenceWs).inc();
  if (events_) events_->record(analytics::events::ws_open(identity_.user_id(), "presence", "", ""));
}

void PresenceSocket::on_text(std::string text) {
  sessions_->note_activity(identity_.token_hash);
  auto decoded = chat::decode_presence_frame(text, limits_);
  if (auto* error = std::get_if<chat::FrameError>(&decoded)) {
    presence_->activity(identity_.user_id());
    return send_error(conn_, *error);
  }
  presence_->deliver(connection_id_, std::move(std::get<chat::PresenceFrame>(decoded)));
}

void PresenceSocket::on_binary() {
  send_error(conn_, chat::binary_frame_refused());
}

void PresenceSocket::on_close(std::uint16_t code) {
  presence_->leave(connection_id_);
  sessions_->detach_socket(identity_.token_hash, connection_id_);
  if (metrics_) metrics_->connections(analytics::Metrics::Connection::kPresenceWs).dec();
  if (events_)
    events_->record(
        analytics::events::ws_close(identity_.user_id(), "presence", "", "", code,
                                    static_cast<double>(util::steady_ms() - opened_ms_) / 1000.0));
}

}  // namespace switchboard::api
