#include "switchboard/auth/user_directory.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "switchboard/util/utf8.hpp"

namespace switchboard::auth {
namespace {

using nlohmann::json;

// The file's JSON (with // comments), or the embedded copy when `path` is empty; `path` becomes the name that
// error messages use.
json read_json(std::filesystem::path& path, std::string_view embedded, const char* embedded_name) {
  std::string text;
  if (path.empty()) {
    path = embedded_name;
    text = embedded;
  } else {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  try {
    return json::parse(text, nullptr, true, true);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path.string() + " is not valid JSON: " + e.what());
  }
}

std::string field(const json& j, const char* key, const std::filesystem::path& path, bool required = true) {
  if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  if (required) throw std::runtime_error(path.string() + ": an entry lacks the string field '" + key + "'");
  return {};
}

void check_id(const std::string& id, const std::filesystem::path& path) {
  // Ids must fit into DM room ids (dm_<a>__<b>): no double underscore, no characters outside the room id set.
  static const std::regex valid("^[a-z0-9]+(_[a-z0-9]+)*$");
  if (!std::regex_match(id, valid) || id.size() > 29)
    throw std::runtime_error(path.string() + ": id '" + id +
                             "' must match ^[a-z0-9]+(_[a-z0-9]+)*$, 29 chars max");
}

}  // namespace

UserDirectory UserDirectory::load(std::filesystem::path users_file, std::filesystem::path personas_file) {
  std::vector<Account> humans;
  const json users = read_json(users_file, embedded_users_json(), "the built-in users.json");
  if (!users.contains("users") || !users["users"].is_array())
    throw std::runtime_error(users_file.string() + ": expected {\"users\": [...]}");
  for (const auto& u : users["users"]) {
    Account a{field(u, "id", users_file),
              field(u, "email", users_file),
              field(u, "displayName", users_file),
              field(u, "avatarId", users_file),
              field(u, "personalMessage", users_file, false),
              false};
    check_id(a.id, users_file);
    humans.push_back(std::move(a));
  }
  std::vector<BotPersona> bots;
  const json personas = read_json(personas_file, embedded_personas_json(), "the built-in personas.json");
  if (!personas.contains("personas") || !personas["personas"].is_array())
    throw std::runtime_error(personas_file.string() + ": expected {\"personas\": [...]}");
  for (const auto& p : personas["personas"]) {
    BotPersona b;
    b.account = {field(p, "id", personas_file),
                 field(p, "email", personas_file),
                 field(p, "displayName", personas_file),
                 field(p, "avatarId", personas_file),
                 field(p, "personalMessage", personas_file, false),
                 true};
    check_id(b.account.id, personas_file);
    b.persona_id = field(p, "personaId", personas_file);
    b.archetype = field(p, "archetype", personas_file, false);
    b.typing_style = field(p, "typingStyle", personas_file, false);
    b.system_prompt = field(p, "systemPrompt", personas_file, false);
    b.apology = field(p, "apology", personas_file, false);
    b.listed = p.value("listed", false);
    bots.push_back(std::move(b));
  }
  return UserDirectory(std::move(humans), std::move(bots));
}

UserDirectory::UserDirectory(std::vector<Account> humans, std::vector<BotPersona> bots)
    : humans_(std::move(humans)), bots_(std::move(bots)) {
  std::set<std::string> seen;
  for (const auto& a : humans_)
    if (!seen.insert(a.id).second) throw std::runtime_error("duplicate account id '" + a.id + "'");
  for (const auto& b : bots_)
    if (!seen.insert(b.account.id).second)
      throw std::runtime_error("duplicate account id '" + b.account.id + "'");
}

const Account* UserDirectory::find_human(const std::string& id) const {
  for (const auto& a : humans_)
    if (a.id == id) return &a;
  return nullptr;
}

const BotPersona* UserDirectory::find_bot(const std::string& id) const {
  for (const auto& b : bots_)
    if (b.account.id == id) return &b;
  return nullptr;
}

const Account* UserDirectory::find_account(const std::string& id) const {
  if (const auto* h = find_human(id)) return h;
  if (const auto* b = find_bot(id)) return &b->account;
  return nullptr;
}

bool UserDirectory::name_is_reserved(const std::string& name) const {
  using util::iequals;
  for (const auto& a : humans_)
    if (iequals(name, a.id) || iequals(name, a.display_name)) return true;
  for (const auto& b : bots_)
    if (iequals(name, b.account.id) || iequals(name, b.account.display_name) || iequals(name, b.persona_id))
      return true;
  return false;
}

}  // namespace switchboard::auth
