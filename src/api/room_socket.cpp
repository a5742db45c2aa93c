#include "switchboard/api/room_socket.hpp"

#include "switchboard/analytics/events.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::api {
namespace {

void send_error(const std::weak_ptr<net::ClientConnection>& weak, const chat::FrameError& error) {
  if (auto c = weak.lock()) c->send(net::make_frame(chat::encode_error(error)));
}

}  // namespace

RoomSocket::RoomSocket(std::shared_ptr<chat::ChatRoom> room, session::Identity identity,
                       std::optional<std::string> since, std::shared_ptr<session::SessionService> sessions,
                       const chat::FrameLimits& limits, std::shared_ptr<analytics::Metrics> metrics,
                       std::shared_ptr<analytics::EventRecorder> events)
    : room_(std::move(room)),
      identity_(std::move(identity)),
      since_(std::move(since)),
      sessions_(std::move(sessions)),
      limits_(limits),
      metrics_(std::move(metrics)),
      events_(std::move(events)) {}

void RoomSocket::on_open(const std::shared_ptr<net::ClientConnection>& conn) {
  conn_ = conn;
  connection_id_ = conn->connection_id();
  sessions_->attach_socket(identity_.token_hash, conn);
  room_->join(conn, chat::ChatRoom::JoinRequest{identity_.user_id(), since_});
  opened_ms_ = util::steady_ms();
  if (metrics_) metrics_->connections(analytics::Metrics::Connection::kRoomWs).inc();
  if (events_) {
    const auto& info = room_->info();
    events_->record(analytics::events::ws_open(identity_.user_id(), "room",
                                               info.is_direct ? "direct" : "group",
                                               info.is_direct ? std::string() : info.id));
  }
}

void RoomSocket::on_text(std::string text) {
  sessions_->note_activity(identity_.token_hash);
  auto decoded = chat::decode_room_frame(text, limits_);
  if (auto* error = std::get_if<chat::FrameError>(&decoded)) return send_error(conn_, *error);
  room_->deliver(connection_id_, std::move(std::get<chat::RoomFrame>(decoded)));
}

void RoomSocket::on_binary() {
  send_error(conn_, chat::binary_frame_refused());
}

void RoomSocket::on_close(std::uint16_t code) {
  room_->leave(connection_id_);
  sessions_->detach_socket(identity_.token_hash, connection_id_);
  if (metrics_) metrics_->connections(analytics::Metrics::Connection::kRoomWs).dec();
  if (events_) {
    const auto& info = room_->info();
    events_->record(
        analytics::events::ws_close(identity_.user_id(), "room", info.is_direct ? "direct" : "group",
                                    info.is_direct ? std::string() : info.id, code,
                                    static_cast<double>(util::steady_ms() - opened_ms_) / 1000.0));
  }
}

}  // namespace switchboard::api
