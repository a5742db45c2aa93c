#pragma once
#include <string>

#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/message.hpp"

namespace switchboard::ai::test {

// The shipped users and personas, so trigger rules are tested against the real names.
inline const auth::UserDirectory& directory() {
  static const auth::UserDirectory users =
      auth::UserDirectory::load(std::string(SWITCHBOARD_SOURCE_DIR) + "/config/users.json",
                                std::string(SWITCHBOARD_SOURCE_DIR) + "/config/personas.json");
  return users;
}

inline chat::Message msg(const std::string& sender, const std::string& name, const std::string& content,
                         const std::string& room = "general") {
  chat::Message m;
  static int counter = 0;
  m.id = "m" + std::to_string(++counter);
  m.room_id = room;
  m.sender_id = sender;
  m.display_name = name;
  m.content = content;
  m.timestamp = 1;
  return m;
}

}  // namespace switchboard::ai::test
