#include "switchboard/api/presence_socket.hpp"

namespace switchboard::api {
namespace {

void send_error(const std::weak_ptr<net::ClientConnection>& weak, const chat::FrameError& error) {
  if (auto c = weak.lock()) c->send(net::make_frame(chat::encode_error(error)));
}

}  // namespace

PresenceSocket::PresenceSocket(std::shared_ptr<presence::PresenceRoom> presence, session::Identity identity,
                               std::shared_ptr<session::SessionService> sessions,
                               const chat::FrameLimits& limits)
    : presence_(std::move(presence)),
      identity_(std::move(identity)),
      sessions_(std::move(sessions)),
      limits_(limits) {}

void PresenceSocket::on_open(const std::shared_ptr<net::ClientConnection>& conn) {
  conn_ = conn;
  connection_id_ = conn->connection_id();
  sessions_->attach_socket(identity_.token_hash, conn);
  presence_->join(conn, identity_.user_id());
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

void PresenceSocket::on_close() {
  presence_->leave(connection_id_);
  sessions_->detach_socket(identity_.token_hash, connection_id_);
}

}  // namespace switchboard::api
