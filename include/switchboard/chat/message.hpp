#pragma once
#include <cstdint>
#include <deque>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace switchboard::chat {

// Delivery status of a stored message; it only ever rises (sent < delivered < read).
enum class DeliveryStatus : std::uint8_t { kSent = 0, kDelivered = 1, kRead = 2 };

const char* to_string(DeliveryStatus s);
bool parse_delivery_status(std::string_view s, DeliveryStatus& out);

// A stored room message (PROTOCOL §2 `Message`). `seq` is the room-local position (1, 2, 3, ...): it orders
// history, anchors `since=` and `before=`, and never goes backwards, not even across restarts.
struct Message {
  std::string id;
  std::string room_id;
  std::string sender_id;
  std::string display_name;
  std::string content;
  std::int64_t timestamp = 0;
  bool is_nudge = false;
  bool is_wink = false;
  std::string wink_id;        // set when is_wink
  std::string type = "chat";  // "chat", "nudge" or "system"
  DeliveryStatus status = DeliveryStatus::kSent;
  std::uint64_t seq = 0;
  bool deleted = false;  // content removed at the sender's request; shown as a placeholder
};

// The wire shape of a Message. A deleted message keeps its id, sender, time and flags, with content "" and
// `deleted: true`: the placeholder; what it says ("message deleted") is the UI's choice.
nlohmann::json to_json(const Message& m);

// Turns every message of `sender_id` in `messages` that is not deleted yet into a placeholder (content
// cleared, `deleted` set), as HistoryStore::delete_by_sender does in the store. Returns their ids, oldest
// first.
std::vector<std::string> blank_sender(std::deque<Message>& messages, const std::string& sender_id);

// (ext) {type:"messages_deleted", roomId, senderId, ids}: tells a room's sockets that the messages of
// `sender_id` are placeholders now (see ChatRoom::forget_sender).
nlohmann::json messages_deleted_frame(const std::string& room_id, const std::string& sender_id,
                                      const std::vector<std::string>& ids);

}  // namespace switchboard::chat
