#include "switchboard/presence/presence_room.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/util/clock.hpp"

namespace switchboard::presence {

using nlohmann::json;

PresenceRoom::PresenceRoom(boost::asio::any_io_executor executor, std::shared_ptr<UserProfiles> profiles,
                           std::chrono::milliseconds away_after)
    : strand_(boost::asio::make_strand(std::move(executor))),
      profiles_(std::move(profiles)),
      away_after_(away_after),
      idle_timer_(strand_) {}

template <typename F>
void PresenceRoom::post(F&& f) {
  boost::asio::dispatch(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable { f(); });
}

void PresenceRoom::start() {
  post([this] { arm_idle_timer(); });
}

void PresenceRoom::stop() {
  post([this] {
    stopped_ = true;
    idle_timer_.cancel();
  });
}

void PresenceRoom::arm_idle_timer() {
  if (stopped_) return;
  // Check often enough that auto-away lands within a quarter of the idle period (bounded to 250 ms .. 15 s).
  const auto interval =
      std::clamp(away_after_ / 4, std::chrono::milliseconds(250), std::chrono::milliseconds(15000));
  idle_timer_.expires_after(interval);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    self->check_idle();
    self->arm_idle_timer();
  });
}

void PresenceRoom::broadcast(const net::SharedFrame& frame, std::uint64_t except_connection) {
  for (const auto& [id, m] : members_) {
    if (id == except_connection) continue;
    if (auto c = m.conn.lock()) c->send(frame);
  }
}

net::SharedFrame PresenceRoom::update_frame(const Profile& p) const {
  json j = {{"type", "presence_update"},
            {"userId", p.user_id},
            {"displayName", p.display_name},
            {"status", to_string(p.visible_status())}};
  if (!p.personal_message.empty()) j["personalMessage"] = p.personal_message;
  return net::make_frame(j.dump());
}

void PresenceRoom::join(std::shared_ptr<net::ClientConnection> conn, const std::string& user_id) {
  post([this, conn = std::move(conn), user_id] {
    const auto id = conn->connection_id();
    members_[id] = Member{conn, user_id};
    const bool first = sockets_per_user_[user_id]++ == 0;
    last_activity_[user_id] = util::steady_ms();
    auto profile = profiles_->set_connected(user_id, true);
    if (!profile) return;

    conn->send(net::make_frame(json{{"type", "system"}, {"content", "Connected to Global Presence"}}.dump()));
    const auto join_frame = net::make_frame(
        json{{"type", "presence_join"}, {"userId", user_id}, {"displayName", profile->display_name}}.dump());
    if (profile->visible_status() == Status::kOffline) {
      conn->send(join_frame);  // "appear offline": no one else learns about the new tab
    } else {
      broadcast(join_frame);
      if (first && profile->visible_status() != Status::kOnline) broadcast(update_frame(*profile), id);
    }

    json participants = json::array();
    for (const auto& p : profiles_->humans()) {
      if (!p.connected) continue;
      json entry = {
          {"id", p.user_id}, {"displayName", p.display_name}, {"status", to_string(p.visible_status())}};
      if (!p.personal_message.empty()) entry["personalMessage"] = p.personal_message;
      participants.push_back(std::move(entry));
    }
    conn->send(net::make_frame(json{{"type", "presence_full_sync"}, {"participants", participants}}.dump()));
    if (first && profile_listener_) profile_listener_(user_id);
  });
}

void PresenceRoom::leave(std::uint64_t connection_id) {
  post([this, connection_id] {
    const auto it = members_.find(connection_id);
    if (it == members_.end()) return;
    const std::string user_id = it->second.user_id;
    members_.erase(it);
    if (--sockets_per_user_[user_id] > 0) return;
    sockets_per_user_.erase(user_id);
    last_activity_.erase(user_id);
    const auto before = profiles_->get(user_id);
    const auto profile = profiles_->set_connected(user_id, false);
    if (!profile) return;
    // Someone who appeared offline was never seen online, so there is nothing to announce.
    if (before && before->visible_status() != Status::kOffline) broadcast(update_frame(*profile));
    if (guests_leaving_.erase(user_id)) profiles_->remove_guest(user_id);
    if (profile_listener_) profile_listener_(user_id);
  });
}

void PresenceRoom::session_ended(const std::string& user_id, bool is_guest) {
  post([this, user_id, is_guest] {
    if (sockets_per_user_.count(user_id)) {
      // Its sockets are closing (4401); leave() finishes the job when the last one is gone.
      if (is_guest) guests_leaving_[user_id] = true;
      return;
    }
    const auto before = profiles_->get(user_id);
    if (!before) return;
    const auto after = profiles_->set_connected(user_id, false);
    if (before->visible_status() != Status::kOffline && after) broadcast(update_frame(*after));
    if (is_guest) profiles_->remove_guest(user_id);
    if (profile_listener_) profile_listener_(user_id);
  });
}

void PresenceRoom::deliver(std::uint64_t connection_id, chat::PresenceFrame frame) {
  post([this, connection_id, frame = std::move(frame)] {
    const auto it = members_.find(connection_id);
    if (it == members_.end()) return;
    const std::string user_id = it->second.user_id;
    last_activity_[user_id] = util::steady_ms();
    const auto* update = std::get_if<chat::PresenceUpdateFrame>(&frame);
    if (!update) {
      activity(user_id);
      return;  // ping
    }
    if (update->display_name) {
      if (profiles_->check_display_name(user_id, *update->display_name) != UserProfiles::NameCheck::kOk ||
          !profiles_->set_display_name(user_id, *update->display_name)) {
        if (auto c = it->second.conn.lock())
          c->send(net::make_frame(chat::encode_error(
              {chat::FrameErrorCode::kForbidden,
               "That display name belongs to another user or a bot; pick another one.", update->id})));
        return;
      }
    }
    if (update->personal_message) profiles_->set_personal_message(user_id, *update->personal_message);
    const auto profile = profiles_->set_status(user_id, update->status);
    if (!profile) return;
    broadcast(update_frame(*profile), connection_id);
    if (profile_listener_) profile_listener_(user_id);
  });
}

void PresenceRoom::activity(const std::string& user_id) {
  post([this, user_id] {
    const auto it = last_activity_.find(user_id);
    if (it == last_activity_.end()) return;
    it->second = util::steady_ms();
    const auto p = profiles_->get(user_id);
    if (!p || !p->auto_away) return;
    if (const auto back = profiles_->set_auto_away(user_id, false)) {
      broadcast(update_frame(*back));
      if (profile_listener_) profile_listener_(user_id);
    }
  });
}

void PresenceRoom::check_idle() {
  const auto now = util::steady_ms();
  for (const auto& [user_id, last] : last_activity_) {
    if (now - last < away_after_.count()) continue;
    const auto p = profiles_->get(user_id);
    // Online and busy users drift to away; someone who chose away or appears offline is left alone.
    if (!p || p->auto_away || (p->chosen_status != Status::kOnline && p->chosen_status != Status::kBusy))
      continue;
    if (const auto away = profiles_->set_auto_away(user_id, true)) {
      broadcast(update_frame(*away));
      if (profile_listener_) profile_listener_(user_id);
    }
  }
}

void PresenceRoom::publish(const std::string& user_id) {
  post([this, user_id] {
    if (const auto p = profiles_->get(user_id)) broadcast(update_frame(*p));
  });
}

void PresenceRoom::notify(const std::vector<std::string>& user_ids, const chat::Message& message) {
  auto frame =
      net::make_frame(json{{"type", "message_notification"}, {"message", chat::to_json(message)}}.dump());
  post([this, user_ids, frame] {
    for (const auto& [id, m] : members_) {
      if (std::find(user_ids.begin(), user_ids.end(), m.user_id) == user_ids.end()) continue;
      if (auto c = m.conn.lock()) c->send(frame);
    }
  });
}

void PresenceRoom::close_all(std::uint16_t code, std::string reason) {
  post([this, code, reason = std::move(reason)] {
    for (auto& [id, m] : members_)
      if (auto c = m.conn.lock()) c->close(code, reason);
  });
}

}  // namespace switchboard::presence
