#include "switchboard/chat/message.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::chat {

const char* to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kRead:
      return "read";
  }
  return "sent";
}

bool parse_delivery_status(std::string_view s, DeliveryStatus& out) {
  if (s == "delivered") {
    out = DeliveryStatus::kDelivered;
  } else if (s == "read") {
    out = DeliveryStatus::kRead;
  } else {
    return false;
  }
  return true;
}

nlohmann::json to_json(const Message& m) {
  nlohmann::json j = {
      {"id", m.id},
      {"roomId", m.room_id},
      {"senderId", m.sender_id},
      {"content", m.deleted ? std::string() : m.content},
      {"timestamp", m.timestamp},
      {"isNudge", m.is_nudge},
      {"isWink", m.is_wink},
      {"type", m.type},
      {"status", to_string(m.status)},
  };
  if (!m.display_name.empty()) j["displayName"] = m.display_name;
  if (m.is_wink) j["winkId"] = m.wink_id;
  if (m.deleted) j["deleted"] = true;
  return j;
}

std::vector<std::string> blank_sender(std::deque<Message>& messages, const std::string& sender_id) {
  std::vector<std::string> ids;
  for (auto& m : messages) {
    if (m.sender_id != sender_id || m.deleted) continue;
    m.deleted = true;
    m.content.clear();
    ids.push_back(m.id);
  }
  return ids;
}

nlohmann::json messages_deleted_frame(const std::string& room_id, const std::string& sender_id,
                                      const std::vector<std::string>& ids) {
  return {{"type", "messages_deleted"}, {"roomId", room_id}, {"senderId", sender_id}, {"ids", ids}};
}

}  // namespace switchboard::chat
