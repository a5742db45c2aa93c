#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "switchboard/ai/llm_provider.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/bot_gateway.hpp"
#include "switchboard/chat/message.hpp"

namespace switchboard::ai {

// Turns a persona and a room's recent messages into a chat-completion prompt: one system turn (the persona's
// prompt plus our roleplay rules), then the last `context_messages` room messages as user/assistant turns.
// The bot's own messages become assistant turns; everyone else's become user turns prefixed with the
// speaker's name, so the model can follow a group conversation. Consecutive turns of one role are merged
// (strict chat templates demand alternation), and the turns start with a user turn. Pure and immutable: safe
// from any thread.
class PromptBuilder final {
 public:
  explicit PromptBuilder(std::size_t context_messages) : context_messages_(context_messages) {}

  std::vector<ChatMessage> build(const auth::BotPersona& bot, const chat::RoomInfo& room,
                                 const std::vector<chat::Message>& context) const;

  // The system turn alone.
  static std::string system_prompt(const auth::BotPersona& bot, const chat::RoomInfo& room);

 private:
  std::size_t context_messages_;
};

}  // namespace switchboard::ai
