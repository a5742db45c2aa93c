#include "switchboard/ai/prompt_builder.hpp"

#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

// Room text is user input; a single message cannot crowd out the rest of the context.
constexpr std::size_t kMaxTurnBytes = 4000;

std::string clip(const std::string& s) {
  if (s.size() <= kMaxTurnBytes) return s;
  return util::utf8_truncate_bytes(s, kMaxTurnBytes) + "...";
}

std::string speaker(const chat::Message& m) {
  return m.display_name.empty() ? m.sender_id : m.display_name;
}

}  // namespace

std::string PromptBuilder::system_prompt(const auth::BotPersona& bot, const chat::RoomInfo& room) {
  const std::string& name = bot.account.display_name;
  std::string out;
  if (!bot.system_prompt.empty()) {
    out = bot.system_prompt;
  } else {
    out = "You are " + name + (bot.archetype.empty() ? "" : ", " + bot.archetype) + ".";
    if (!bot.typing_style.empty()) out += " Your typing style: " + bot.typing_style + ".";
  }
  out += "\n\nThis is a roleplay set in 2005 on an instant messenger. You are " + name + ", ";
  out += room.is_direct ? "chatting one to one with a friend from your contact list."
                        : "chatting in a group chat room with several people who may @mention you.";
  out +=
      " Stay in character the whole time and never mention being an AI, a language model or an assistant.\n"
      "How to reply:\n"
      "- Write one short chat message: a sentence or two, like people typed in 2005.\n"
      "- Plain text only: no Markdown, no HTML, no lists, no headings.\n"
      "- Do not start with your name or any label such as \"" +
      name +
      ":\" or \"Assistant:\"; just write the message.\n"
      "- Messages from others start with the sender's name and a colon so you know who is talking; yours do "
      "not.";
  return out;
}

std::vector<ChatMessage> PromptBuilder::build(const auth::BotPersona& bot, const chat::RoomInfo& room,
                                              const std::vector<chat::Message>& context) const {
  std::vector<ChatMessage> turns;
  turns.push_back({"system", system_prompt(bot, room)});
  const std::size_t first = context.size() > context_messages_ ? context.size() - context_messages_ : 0;
  for (std::size_t i = first; i < context.size(); ++i) {
    const chat::Message& m = context[i];
    if (m.deleted || m.type == "system") continue;
    std::string text;
    if (m.is_nudge) {
      text = "(" + speaker(m) + " sent a nudge)";
    } else if (m.is_wink) {
      text = "(" + speaker(m) + " sent a wink)";
    } else {
      text = clip(m.content);
    }
    const bool own = m.sender_id == bot.account.id;
    ChatMessage turn{own ? "assistant" : "user",
                     own || m.is_nudge || m.is_wink ? text : speaker(m) + ": " + text};
    if (turns.size() == 1 && own) continue;  // the first turn after the system prompt must be the user's
    if (turns.back().role == turn.role) {
      turns.back().content += "\n" + turn.content;
    } else {
      turns.push_back(std::move(turn));
    }
  }
  return turns;
}

}  // namespace switchboard::ai
