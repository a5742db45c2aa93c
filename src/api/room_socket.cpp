#include "switchboard/api/room_socket.hpp"

namespace switchboard::api {
namespace {

void send_error(const std::weak_ptr<net::ClientConnection>& weak, const chat::FrameError& error) {
  if (auto c = weak.lock()) c->send(net::make_frame(chat::encode_error(error)));
}

}  // namespace

RoomSocket::RoomSocket(std::shared_ptr<chat::ChatRoom> room, session::Identity identity,
                       std::optional<std::string> since, std::shared_ptr<session::SessionService> sessions,
                       const chat::FrameLimits& limits)
    : room_(std::move(room)),
      identity_(std::move(identity)),
      since_(std::move(since)),
      sessions_(std::move(sessions)),
      limits_(limits) {}

void RoomSocket::on_open(const std::shared_ptr<net::ClientConnection>& conn) {
  conn_ = conn;
  connection_id_ = conn->connection_id();
  sessions_->attach_socket(identity_.token_hash, conn);
  room_->join(conn, chat::ChatRoom::JoinRequest{identity_.user_id(), since_});
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

void RoomSocket::on_close() {
  room_->leave(connection_id_);
  sessions_->detach_socket(identity_.token_hash, connection_id_);
}

}  // namespace switchboard::api
