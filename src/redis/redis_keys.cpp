#include "switchboard/redis/redis_keys.hpp"

namespace switchboard::redis::keys {
namespace {

std::string join(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a).append(b);
  return out;
}

}  // namespace

std::string session(std::string_view token_hash) {
  return join("session:", token_hash);
}

std::string user_session(std::string_view user_id) {
  return join("user_session:", user_id);
}

std::string quota_user(std::string_view user_id, std::string_view utc_day) {
  return join(join("quota:user:", user_id), join(":", utc_day));
}

std::string quota_global(std::string_view utc_day) {
  return join("quota:global:", utc_day);
}

std::string room_seq(std::string_view room_id) {
  return join(join("room:", room_id), ":seq");
}

std::string room_messages(std::string_view room_id) {
  return join(join("room:", room_id), ":messages");
}

std::string room_ids(std::string_view room_id) {
  return join(join("room:", room_id), ":ids");
}

std::string room_status(std::string_view room_id) {
  return join(join("room:", room_id), ":status");
}

std::string room_channel(std::string_view room_id) {
  return join("room:", room_id);
}

std::string sender_messages(std::string_view user_id) {
  return join(join("sender:", user_id), ":messages");
}

std::string presence_instance(std::string_view instance_id) {
  return join("presence:instance:", instance_id);
}

std::string presence_alive(std::string_view instance_id) {
  return join("presence:alive:", instance_id);
}

std::string presence_sync_channel(std::string_view instance_id) {
  return join("switchboard:presence:", instance_id);
}

}  // namespace switchboard::redis::keys
