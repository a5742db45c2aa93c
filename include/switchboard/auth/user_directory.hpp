#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::auth {

// An account known at start-up: a seeded human (config/users.json) or an AI bot (config/personas.json).
struct Account {
  std::string id;
  std::string email;
  std::string display_name;
  std::string avatar_id;
  std::string personal_message;
  bool is_ai_bot = false;
};

// A bot's persona; `account` is the user it chats as.
struct BotPersona {
  Account account;
  std::string persona_id;
  std::string archetype;
  std::string typing_style;
  std::string system_prompt;  // our own prompt text; empty means the AI area builds one from the fields above
  bool listed = false;        // shown in /api/users; unlisted bots can still be @mentioned
  std::string apology;        // in-character line posted when a reply fails; empty means a generic one
};

// The static part of the user base: seeded humans and bots. Immutable after construction, so any thread may
// read it.
class UserDirectory final {
 public:
  // Throws std::runtime_error naming the file and the problem. An empty path means the copy built into the
  // binary (config/users.json, config/personas.json at build time).
  static UserDirectory load(std::filesystem::path users_file, std::filesystem::path personas_file);
  static std::string_view embedded_users_json();  // generated: cmake/GenerateEmbeddedSeed.cmake
  static std::string_view embedded_personas_json();
  UserDirectory(std::vector<Account> humans, std::vector<BotPersona> bots);

  const std::vector<Account>& humans() const { return humans_; }
  const std::vector<BotPersona>& bots() const { return bots_; }

  const Account* find_human(const std::string& id) const;
  const BotPersona* find_bot(const std::string& id) const;   // by user id
  const Account* find_account(const std::string& id) const;  // human or bot

  // True when `name` equals (ASCII case-insensitively) any seeded or bot id, persona id or display name, so a
  // guest or a display-name change cannot impersonate a known account.
  bool name_is_reserved(const std::string& name) const;

 private:
  std::vector<Account> humans_;
  std::vector<BotPersona> bots_;
};

}  // namespace switchboard::auth
