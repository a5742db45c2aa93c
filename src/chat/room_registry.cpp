#include "switchboard/chat/room_registry.hpp"

#include <regex>

namespace switchboard::chat {

RoomRegistry::RoomRegistry(boost::asio::any_io_executor executor, ChatRoom::Dependencies deps)
    : executor_(std::move(executor)), deps_(std::move(deps)) {}

std::string RoomRegistry::dm_room_id(const std::string& a, const std::string& b) {
  return a < b ? "dm_" + a + "__" + b : "dm_" + b + "__" + a;
}

RoomRegistry::Status RoomRegistry::check_room_id(const std::string& room_id,
                                                 const std::vector<config::GroupRoom>& groups,
                                                 std::vector<std::string>& dm_ids, std::string& message) {
  static const std::regex valid("^[A-Za-z0-9_-]{1,64}$");
  if (!std::regex_match(room_id, valid)) {
    message = "A room id is 1 to 64 characters of letters, digits, '_' and '-'.";
    return Status::kInvalid;
  }
  if (room_id.rfind("dm_", 0) == 0) {
    const std::string rest = room_id.substr(3);
    const auto sep = rest.find("__");
    if (sep == std::string::npos || sep == 0 || sep + 2 >= rest.size()) {
      message = "A direct room id is dm_<userA>__<userB>.";
      return Status::kInvalid;
    }
    std::string a = rest.substr(0, sep), b = rest.substr(sep + 2);
    if (a == b) {
      message = "A direct room needs two different users.";
      return Status::kInvalid;
    }
    if (!(a < b) || b.find("__") != std::string::npos) {
      message = "A direct room id lists its two user ids sorted: " + dm_room_id(a, b) + ".";
      return Status::kInvalid;
    }
    dm_ids = {std::move(a), std::move(b)};
    return Status::kOk;
  }
  for (const auto& g : groups)
    if (g.id == room_id) return Status::kOk;
  message = "There is no room '" + room_id + "'.";
  return Status::kNotFound;
}

RoomRegistry::Lookup RoomRegistry::open(const std::string& room_id, const std::string& user_id) {
  Lookup out;
  std::vector<std::string> dm_ids;
  out.status = check_room_id(room_id, deps_.config.chat.rooms, dm_ids, out.message);
  if (out.status != Status::kOk) return out;
  if (!dm_ids.empty()) {
    for (const auto& id : dm_ids) {
      if (!deps_.profiles->exists(id)) {
        out.status = Status::kNotFound;
        out.message = "There is no user '" + id + "'.";
        return out;
      }
    }
    if (user_id != dm_ids[0] && user_id != dm_ids[1]) {
      out.status = Status::kForbidden;
      out.message = "Only the two participants may open a direct room.";
      return out;
    }
  }
  std::lock_guard lock(mutex_);
  auto& room = rooms_[room_id];
  if (!room) {
    RoomInfo info{room_id, !dm_ids.empty(), dm_ids};
    room = std::make_shared<ChatRoom>(executor_, std::move(info), deps_);
  }
  out.room = room;
  return out;
}

void RoomRegistry::for_each(const std::function<void(const std::shared_ptr<ChatRoom>&)>& f) const {
  std::vector<std::shared_ptr<ChatRoom>> rooms;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, room] : rooms_) rooms.push_back(room);
  }
  for (const auto& r : rooms) f(r);
}

void RoomRegistry::delete_messages_of(const std::string& user_id, std::function<void(std::error_code)> done) {
  // The rooms are told only after the store's deletion committed. By then every append the store accepted
  // before the deletion has completed and queued its echo on its room's strand, ahead of forget_sender, so a
  // message sent just before the request cannot survive in a room's memory.
  deps_.store->delete_by_sender(
      user_id, [weak = weak_from_this(), user_id, done = std::move(done)](std::error_code ec) {
        if (const auto self = weak.lock(); self && !ec)
          self->for_each([&](const std::shared_ptr<ChatRoom>& room) { room->forget_sender(user_id); });
        done(ec);
      });
}

}  // namespace switchboard::chat
