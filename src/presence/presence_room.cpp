#include "switchboard/presence/presence_room.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/util/clock.hpp"
#include "switchboard/util/handler_guard.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::presence {

using nlohmann::json;

namespace {

constexpr util::AreaLogger log{"presence"};

}  // namespace

PresenceRoom::PresenceRoom(boost::asio::any_io_executor executor, std::shared_ptr<UserProfiles> profiles,
                           std::chrono::milliseconds away_after)
    : strand_(boost::asio::make_strand(std::move(executor))),
      profiles_(std::move(profiles)),
      away_after_(away_after),
      idle_timer_(strand_) {}

template <typename F>
void PresenceRoom::post(F&& f) {
  // A task that throws is dropped and logged; presence goes on serving everyone else.
  boost::asio::dispatch(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable {
    util::run_guarded(util::HandlerSite::kActor, "presence", f);
  });
}

void PresenceRoom::start() {
  post([this] {
    arm_idle_timer();
    if (!bus_) return;
    // The bus's handlers run on its threads, in publication order; each posts to this strand in that order.
    const std::weak_ptr<PresenceRoom> weak = shared_from_this();
    PresenceBus::Handlers h;
    h.on_user = [weak](PresenceSnapshot s) {
      if (const auto self = weak.lock())
        self->post([self = self.get(), s = std::move(s)] {
          if (self->remote_.apply(s)) self->remote_change(s.user_id, &s, s.event);
        });
    };
    h.on_instance = [weak](std::string instance, std::uint64_t version, std::vector<PresenceSnapshot> users) {
      if (const auto self = weak.lock())
        self->post([self = self.get(), instance = std::move(instance), version, users = std::move(users)] {
          std::unordered_map<std::string, const PresenceSnapshot*> by_user;
          for (const auto& u : users) by_user[u.user_id] = &u;
          self->remote_changes(self->remote_.replace(instance, version, users), by_user);
        });
    };
    h.on_live = [weak](std::vector<std::string> live) {
      if (const auto self = weak.lock())
        self->post([self = self.get(), live = std::move(live)] {
          self->remote_changes(self->remote_.keep_only(live));
        });
    };
    h.on_gone = [weak](std::string instance) {
      if (const auto self = weak.lock())
        self->post([self = self.get(), instance = std::move(instance)] {
          self->remote_changes(self->remote_.drop(instance));
        });
    };
    h.on_republish = [weak] {
      if (const auto self = weak.lock()) self->post([self = self.get()] { self->republish(); });
    };
    h.on_lost = [weak] {
      if (const auto self = weak.lock())
        self->post([self = self.get()] { self->remote_changes(self->remote_.drop_all()); });
    };
    bus_->start(std::move(h));
  });
}

void PresenceRoom::stop() {
  post([this] {
    stopped_ = true;
    idle_timer_.cancel();
    if (bus_) bus_->stop();
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
    util::run_guarded(util::HandlerSite::kActor, "presence", [&] { self->check_idle(); });
    self->arm_idle_timer();  // whatever happened above, the period goes on
  });
}

void PresenceRoom::broadcast(const net::SharedFrame& frame, std::uint64_t except_connection) {
  for (const auto& [id, m] : members_) {
    if (id == except_connection) continue;
    if (auto c = m.conn.lock()) net::send_or_close(*c, frame, "presence");
  }
}

PresenceRoom::Seen PresenceRoom::seen(const std::optional<Profile>& p) {
  if (!p) return {};
  return {p->visible_status(), p->display_name, p->personal_message};
}

net::SharedFrame PresenceRoom::update_frame(const Profile& p) const {
  json j = {{"type", "presence_update"},
            {"userId", p.user_id},
            {"displayName", p.display_name},
            {"status", to_string(p.visible_status())}};
  if (!p.personal_message.empty()) j["personalMessage"] = p.personal_message;
  return net::make_frame(util::json_text(j));
}

void PresenceRoom::join(std::shared_ptr<net::ClientConnection> conn, const std::string& user_id) {
  post([this, conn = std::move(conn), user_id] {
    const auto id = conn->connection_id();
    members_[id] = Member{conn, user_id};
    const bool first = sockets_per_user_[user_id]++ == 0;
    last_activity_[user_id] = util::steady_ms();
    if (!profiles_->set_connected(user_id, true)) return;
    const auto profile = remerge(user_id);
    if (!profile) return;

    conn->send(net::make_frame(
        util::json_text(json{{"type", "system"}, {"content", "Connected to Global Presence"}})));
    const auto join_frame = net::make_frame(util::json_text(
        json{{"type", "presence_join"}, {"userId", user_id}, {"displayName", profile->display_name}}));
    if (profile->visible_status() == Status::kOffline) {
      conn->send(join_frame);  // "appear offline": no one else learns about the new tab
    } else {
      broadcast(join_frame);
      if (first && profile->visible_status() != Status::kOnline) broadcast(update_frame(*profile), id);
    }

    json participants = json::array();
    for (const auto& p : profiles_->humans()) {
      if (!p.reachable()) continue;
      json entry = {
          {"id", p.user_id}, {"displayName", p.display_name}, {"status", to_string(p.visible_status())}};
      if (!p.personal_message.empty()) entry["personalMessage"] = p.personal_message;
      participants.push_back(std::move(entry));
    }
    conn->send(net::make_frame(
        util::json_text(json{{"type", "presence_full_sync"}, {"participants", participants}})));
    share(user_id, PresenceSnapshot::Event::kJoin);
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
    local_away_.erase(user_id);
    const auto before = profiles_->get(user_id);
    if (!profiles_->set_connected(user_id, false)) return;
    const auto profile = remerge(user_id);
    if (!profile) return;
    // Someone who appeared offline was never seen online, and someone still connected to another instance
    // stays online: only a change is announced.
    if (seen(before) != seen(profile)) broadcast(update_frame(*profile));
    share(user_id, PresenceSnapshot::Event::kLeave);
    if (guests_leaving_.erase(user_id)) {
      profiles_->remove_guest(user_id);
      fields_at_.erase(user_id);
    }
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
    profiles_->set_connected(user_id, false);
    const auto after = remerge(user_id);
    if (after && seen(before) != seen(after)) broadcast(update_frame(*after));
    share(user_id, PresenceSnapshot::Event::kState);
    if (is_guest) {
      profiles_->remove_guest(user_id);
      fields_at_.erase(user_id);
    }
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
    if (!profiles_->set_status(user_id, update->status)) return;
    local_away_.erase(user_id);  // choosing a status is activity
    stamp_fields(user_id);
    const auto profile = remerge(user_id);
    if (!profile) return;
    broadcast(update_frame(*profile), connection_id);
    share(user_id, PresenceSnapshot::Event::kUpdate);
    if (profile_listener_) profile_listener_(user_id);
  });
}

void PresenceRoom::activity(const std::string& user_id) {
  post([this, user_id] {
    const auto it = last_activity_.find(user_id);
    if (it == last_activity_.end()) return;
    it->second = util::steady_ms();
    if (!local_away_.erase(user_id)) return;
    const auto before = profiles_->get(user_id);
    const auto back = remerge(user_id);
    if (back && seen(before) != seen(back)) {
      broadcast(update_frame(*back));
      if (profile_listener_) profile_listener_(user_id);
    }
    share(user_id, PresenceSnapshot::Event::kUpdate);
  });
}

void PresenceRoom::check_idle() {
  const auto now = util::steady_ms();
  std::vector<std::string> idle;
  for (const auto& [user_id, last] : last_activity_) {
    if (now - last < away_after_.count() || local_away_.count(user_id)) continue;
    const auto p = profiles_->get(user_id);
    // Online and busy users drift to away; someone who chose away or appears offline is left alone.
    if (!p || (p->chosen_status != Status::kOnline && p->chosen_status != Status::kBusy)) continue;
    idle.push_back(user_id);
  }
  for (const auto& user_id : idle) {
    local_away_.insert(user_id);
    const auto before = profiles_->get(user_id);
    // Shown as away only when the user's sockets on other instances are idle too.
    const auto away = remerge(user_id);
    if (away && seen(before) != seen(away)) {
      broadcast(update_frame(*away));
      if (profile_listener_) profile_listener_(user_id);
    }
    share(user_id, PresenceSnapshot::Event::kUpdate);
  }
}

void PresenceRoom::publish(const std::string& user_id) {
  post([this, user_id] {
    local_away_.erase(user_id);  // a change the user made: activity
    stamp_fields(user_id);
    if (const auto p = remerge(user_id)) broadcast(update_frame(*p));
    share(user_id, PresenceSnapshot::Event::kUpdate);
  });
}

void PresenceRoom::signed_in(const std::string& user_id) {
  post([this, user_id] {
    remerge(user_id);
    share(user_id, PresenceSnapshot::Event::kSignIn);
  });
}

void PresenceRoom::notify(const std::vector<std::string>& user_ids, const chat::Message& message) {
  auto frame = net::make_frame(
      util::json_text(json{{"type", "message_notification"}, {"message", chat::to_json(message)}}));
  post([this, user_ids, frame] {
    for (const auto& [id, m] : members_) {
      if (std::find(user_ids.begin(), user_ids.end(), m.user_id) == user_ids.end()) continue;
      if (auto c = m.conn.lock()) net::send_or_close(*c, frame, "presence");
    }
  });
}

void PresenceRoom::close_all(std::uint16_t code, std::string reason) {
  post([this, code, reason = std::move(reason)] {
    for (auto& [id, m] : members_)
      if (auto c = m.conn.lock()) c->close(code, reason);
  });
}

// ---- global presence

std::optional<Profile> PresenceRoom::remerge(const std::string& user_id) {
  const auto p = profiles_->get(user_id);
  if (!p) return std::nullopt;
  const LocalPresence local{p->connected, sockets_per_user_.count(user_id) > 0,
                            local_away_.count(user_id) > 0};
  const auto m = merge(local, remote_.view(user_id));
  if (m.connected_elsewhere == p->connected_elsewhere && m.auto_away == p->auto_away) return p;
  return profiles_->set_merged(user_id, m.connected_elsewhere, m.auto_away);
}

void PresenceRoom::stamp_fields(const std::string& user_id) {
  if (!bus_) return;
  auto& stamp = fields_at_[user_id];
  stamp.at = std::max(util::now_ms(), stamp.at + 1);  // later than any change known, even with skewed clocks
  stamp.by = bus_->instance_id();
}

PresenceSnapshot PresenceRoom::snapshot_of(const Profile& p, PresenceSnapshot::Event event) const {
  PresenceSnapshot s;
  s.user_id = p.user_id;
  s.event = event;
  s.connected = p.connected;
  s.has_sockets = sockets_per_user_.count(p.user_id) > 0;
  s.auto_away = local_away_.count(p.user_id) > 0;
  s.display_name = p.display_name;
  s.status = p.chosen_status;
  s.personal_message = p.personal_message;
  if (const auto it = fields_at_.find(p.user_id); it != fields_at_.end()) {
    s.fields_at = it->second.at;
    s.fields_by = it->second.by;
  }
  if (p.is_guest) {
    s.is_guest = true;
    s.email = p.email;
    s.avatar_id = p.avatar_id;
  }
  return s;
}

void PresenceRoom::share(const std::string& user_id, PresenceSnapshot::Event event) {
  if (!bus_) return;
  const auto p = profiles_->get(user_id);
  // Bots are the same on every instance; a guest known only from elsewhere has nothing of ours to share.
  if (!p || p->is_bot || (p->remote_only && !p->connected)) return;
  bus_->publish(snapshot_of(*p, event));
}

void PresenceRoom::republish() {
  if (!bus_) return;
  std::vector<PresenceSnapshot> users;
  for (const auto& p : profiles_->humans())
    if (p.connected) users.push_back(snapshot_of(p, PresenceSnapshot::Event::kState));
  bus_->publish_all(std::move(users));
}

bool PresenceRoom::adopt_fields(const PresenceSnapshot& s) {
  if (s.fields_at <= 0) return false;  // never changed: the same defaults everywhere
  const auto p = profiles_->get(s.user_id);
  if (!p) return false;
  auto& stamp = fields_at_[s.user_id];
  if (s.fields_at < stamp.at || (s.fields_at == stamp.at && s.fields_by <= stamp.by)) return false;
  stamp = FieldsStamp{s.fields_at, s.fields_by};
  if (p->display_name != s.display_name && !profiles_->set_display_name(s.user_id, s.display_name))
    log()->warn("presence: {}'s display name from another instance is taken here; keeping '{}'", s.user_id,
                p->display_name);
  if (p->personal_message != s.personal_message)
    profiles_->set_personal_message(s.user_id, s.personal_message);
  if (p->chosen_status != s.status) profiles_->set_status(s.user_id, s.status);
  return true;
}

void PresenceRoom::remote_changes(const std::vector<std::string>& users,
                                  const std::unordered_map<std::string, const PresenceSnapshot*>& snapshots) {
  for (const auto& user_id : users) {
    const auto it = snapshots.find(user_id);
    remote_change(user_id, it == snapshots.end() ? nullptr : it->second, PresenceSnapshot::Event::kState);
  }
}

void PresenceRoom::remote_change(const std::string& user_id, const PresenceSnapshot* s,
                                 PresenceSnapshot::Event event) {
  const auto before = profiles_->get(user_id);
  if (!before) {
    // Unknown here: a guest signed in elsewhere gets a profile (as a session adopted from another instance
    // does); anything else (a user missing from this instance's users file) is left out.
    if (!s || !s->is_guest || !s->connected) return;
    profiles_->add_remote_guest(user_id, s->display_name, s->email, s->avatar_id);
  }
  const bool fields = s && adopt_fields(*s);
  const bool sockets_here = sockets_per_user_.count(user_id) > 0;
  if (event == PresenceSnapshot::Event::kLeave && !sockets_here) {
    // The user's last presence socket on that instance closed: a sign-in here without sockets ends too, as
    // it does when the last socket closes here.
    if (const auto p = profiles_->get(user_id); p && p->connected) {
      profiles_->set_connected(user_id, false);
      share(user_id, PresenceSnapshot::Event::kState);
    }
  }
  const auto after = remerge(user_id);
  if (!after) return;
  bool removed = false;
  if (after->remote_only && !after->reachable() && !sockets_here) {
    removed = profiles_->remove_remote_guest(user_id);
    if (removed) fields_at_.erase(user_id);
  }
  const bool changed = seen(before) != seen(after);
  const bool visible = after->visible_status() != Status::kOffline;
  if (event == PresenceSnapshot::Event::kJoin && visible) {
    // A tab opened elsewhere shows as it does locally: presence_join, plus the status when it is not online.
    const bool was_visible = seen(before).status != Status::kOffline;
    broadcast(net::make_frame(util::json_text(
        json{{"type", "presence_join"}, {"userId", user_id}, {"displayName", after->display_name}})));
    if (changed && (was_visible || after->visible_status() != Status::kOnline))
      broadcast(update_frame(*after));
  } else if (event == PresenceSnapshot::Event::kSignIn) {
    // A sign-in announces nothing, as locally: the profile (full syncs, /api/users) shows it.
  } else if (changed || (fields && event == PresenceSnapshot::Event::kUpdate)) {
    broadcast(update_frame(*after));
  }
  if ((changed || fields || removed) && profile_listener_) profile_listener_(user_id);
}

}  // namespace switchboard::presence
