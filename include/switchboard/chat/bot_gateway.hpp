#pragma once
#include <memory>
#include <string>
#include <vector>

#include "switchboard/chat/message.hpp"

namespace switchboard::chat {

// What a room offers to the bots that answer in it.
// Thread-safety: every method may be called from any thread; the room posts it to its own strand.
class BotRoomHandle {
 public:
  virtual ~BotRoomHandle() = default;
  // Broadcasts {type:"typing", senderId: bot_id, isTyping} to the room.
  virtual void bot_typing(const std::string& bot_id, bool is_typing) = 0;
  // Broadcasts (ext) {type:"chat_delta", roomId, id: reply_id, senderId: bot_id, delta}. The caller coalesces.
  virtual void bot_delta(const std::string& bot_id, const std::string& reply_id, const std::string& delta) = 0;
  // Stores and broadcasts the final chat Message from the bot with id `reply_id`; clears the bot's typing.
  virtual void bot_reply(const std::string& bot_id, const std::string& reply_id, const std::string& text) = 0;
  // Stores and broadcasts a `system` Message (e.g. "(Bot limit reached: User Quota)"); clears the bot's typing.
  virtual void bot_system(const std::string& bot_id, const std::string& text) = 0;
};

// Describes the room a message was posted in.
struct RoomInfo {
  std::string id;
  bool is_direct = false;
  std::vector<std::string> dm_user_ids;  // the two ids of a DM room
};

// The room calls this after every stored human `chat` message. Implemented by the AI area; the room knows nothing
// about providers. Called on the room's strand: implementations must return quickly and never block.
class BotGateway {
 public:
  virtual ~BotGateway() = default;
  // `context` holds the room's most recent messages, oldest first, ending with `message`.
  virtual void on_human_chat(std::shared_ptr<BotRoomHandle> room, const RoomInfo& info, const Message& message,
                             const std::vector<Message>& context) = 0;
};

}  // namespace switchboard::chat
