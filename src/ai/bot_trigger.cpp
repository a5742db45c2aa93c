#include "switchboard/ai/bot_trigger.hpp"

#include <cctype>

#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

bool mention_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '-' || c == '.' || u >= 0x80;
}

// Lower-case letters and digits only: "Nu-Metal Matt" -> "numetalmatt".
std::string squash(std::string_view s) {
  std::string out;
  for (const char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80)
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

bool has_word(std::string_view name, std::string_view word) {
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find_first_of(" -_", start);
    if (end == std::string_view::npos) end = name.size();
    if (util::iequals(name.substr(start, end - start), word)) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> first_mention(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@') continue;
    if (i > 0 && mention_char(text[i - 1])) continue;  // part of a word, e.g. an e-mail address
    std::size_t end = i + 1;
    while (end < text.size() && mention_char(text[end])) ++end;
    std::string_view word = text.substr(i + 1, end - i - 1);
    while (!word.empty() && (word.back() == '.' || word.back() == '-')) word.remove_suffix(1);
    if (!word.empty()) return std::string(word);
  }
  return std::nullopt;
}

const auth::BotPersona* find_mentioned_bot(const auth::UserDirectory& users, std::string_view mention) {
  if (mention.empty()) return nullptr;
  const std::string needle = squash(mention);
  const auth::BotPersona* best = nullptr;
  int best_score = 0;
  for (const auto& bot : users.bots()) {
    int score = 0;
    const std::string& name = bot.account.display_name;
    if (util::iequals(mention, bot.persona_id) || util::iequals(mention, bot.account.id)) {
      score = 5;
    } else if (util::iequals(mention, name) || (!needle.empty() && needle == squash(name))) {
      score = 4;
    } else if (has_word(name, mention)) {
      score = 3;
    } else if (needle.size() >= 2 && (squash(name).find(needle) != std::string::npos ||
                                      squash(bot.persona_id).find(needle) != std::string::npos)) {
      score = 2;
    }
    if (score > best_score) {
      best = &bot;
      best_score = score;
    }
  }
  return best;
}

const auth::BotPersona* triggered_bot(const auth::UserDirectory& users, const chat::RoomInfo& room,
                                      const chat::Message& message) {
  if (message.type != "chat" || message.is_nudge || message.is_wink || message.deleted) return nullptr;
  if (users.find_bot(message.sender_id) != nullptr) return nullptr;  // bots never trigger bots
  if (room.is_direct) {
    for (const auto& id : room.dm_user_ids) {
      if (id == message.sender_id) continue;
      if (const auto* bot = users.find_bot(id)) return bot;
    }
    return nullptr;
  }
  const auto mention = first_mention(message.content);
  return mention ? find_mentioned_bot(users, *mention) : nullptr;
}

}  // namespace switchboard::ai
