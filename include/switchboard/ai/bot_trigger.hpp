#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/bot_gateway.hpp"
#include "switchboard/chat/message.hpp"

namespace switchboard::ai {

// The word after the first "@" that starts a word in `text` ("hey @Clippy, help" -> "Clippy"), without
// trailing punctuation; nullopt when there is none. An "@" inside a word (an e-mail address) does not count.
std::optional<std::string> first_mention(std::string_view text);

// The bot that `mention` names: its persona id or user id (case-insensitively), its display name, a word of
// its display name, or a case-insensitive part of its display name or persona id (at least two characters;
// "numetal" finds Nu-Metal Matt). Stronger matches win; ties go to the earlier persona in the directory.
// nullptr when none.
const auth::BotPersona* find_mentioned_bot(const auth::UserDirectory& users, std::string_view mention);

// Which bot, if any, must answer `message` (PROTOCOL §7): in a DM with a bot, that bot answers every human
// chat; in a group room, the bot named by the message's first @word. Bot messages, nudges, winks and non-chat
// messages never trigger a bot. Pure: safe from any thread.
const auth::BotPersona* triggered_bot(const auth::UserDirectory& users, const chat::RoomInfo& room,
                                      const chat::Message& message);

}  // namespace switchboard::ai
