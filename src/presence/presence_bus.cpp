#include "switchboard/presence/presence_bus.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"

namespace switchboard::presence {

using nlohmann::json;

namespace {

std::optional<PresenceSnapshot::Event> parse_event(std::string_view s) {
  if (s == "state") return PresenceSnapshot::Event::kState;
  if (s == "join") return PresenceSnapshot::Event::kJoin;
  if (s == "leave") return PresenceSnapshot::Event::kLeave;
  if (s == "update") return PresenceSnapshot::Event::kUpdate;
  if (s == "signin") return PresenceSnapshot::Event::kSignIn;
  return std::nullopt;
}

json snapshot_json(const PresenceSnapshot& s) {
  json j = {{"instance", s.instance},        {"seq", s.seq},
            {"userId", s.user_id},           {"event", to_string(s.event)},
            {"connected", s.connected},      {"sockets", s.has_sockets},
            {"autoAway", s.auto_away},       {"displayName", s.display_name},
            {"status", to_string(s.status)}, {"personalMessage", s.personal_message},
            {"fieldsAt", s.fields_at},       {"fieldsBy", s.fields_by}};
  if (s.is_guest) {
    j["guest"] = true;
    j["email"] = s.email;
    j["avatarId"] = s.avatar_id;
  }
  return j;
}

std::optional<PresenceSnapshot> snapshot_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto str = [&](const char* key) -> const std::string* {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const auto flag = [&](const char* key) -> std::optional<bool> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
  };
  PresenceSnapshot s;
  const auto* instance = str("instance");
  const auto* user = str("userId");
  const auto* event = str("event");
  const auto* name = str("displayName");
  const auto* status = str("status");
  const auto* message = str("personalMessage");
  const auto* fields_by = str("fieldsBy");
  const auto connected = flag("connected");
  const auto sockets = flag("sockets");
  const auto away = flag("autoAway");
  const auto seq = j.find("seq");
  const auto fields_at = j.find("fieldsAt");
  if (!instance || instance->empty() || !user || user->empty() || !event || !name || !status || !message ||
      !fields_by || !connected || !sockets || !away || seq == j.end() || !seq->is_number_unsigned() ||
      fields_at == j.end() || !fields_at->is_number_integer())
    return std::nullopt;
  const auto parsed_event = parse_event(*event);
  const auto parsed_status = parse_status(*status);
  if (!parsed_event || !parsed_status) return std::nullopt;
  s.instance = *instance;
  s.seq = seq->get<std::uint64_t>();
  s.user_id = *user;
  s.event = *parsed_event;
  s.connected = *connected;
  s.has_sockets = *sockets;
  s.auto_away = *away;
  s.display_name = *name;
  s.status = *parsed_status;
  s.personal_message = *message;
  s.fields_at = fields_at->get<std::int64_t>();
  s.fields_by = *fields_by;
  if (flag("guest").value_or(false)) {
    const auto* email = str("email");
    const auto* avatar = str("avatarId");
    if (!email || !avatar) return std::nullopt;
    s.is_guest = true;
    s.email = *email;
    s.avatar_id = *avatar;
  }
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A sync answer's state of one instance: {"v": "<version>" (absent: never published), "users": [json
// strings]}. The heartbeat script copies the hash entries as they are, so each is a snapshot's JSON text.
std::optional<PresencePublication::InstanceState> sync_state(const std::string& instance, const json& j) {
  if (!j.is_object()) return std::nullopt;
  PresencePublication::InstanceState state;
  state.instance = instance;
  if (const auto v = j.find("v"); v != j.end()) {
    const auto parsed = v->is_string() ? parse_u64(v->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return std::nullopt;
    state.version = *parsed;
  }
  const auto users = j.find("users");
  // Lua's cjson writes an empty table as {}.
  if (users == j.end() || (users->is_object() && users->empty())) return state;
  if (!users->is_array()) return std::nullopt;
  for (const auto& entry : *users) {
    if (!entry.is_string()) return std::nullopt;
    auto s = decode_snapshot(entry.get_ref<const std::string&>());
    // One unreadable entry (written by another version, or by hand) must not hide the instance's others.
    if (s && s->instance == instance) state.users.push_back(std::move(*s));
  }
  return state;
}

}  // namespace

const char* to_string(PresenceSnapshot::Event e) {
  switch (e) {
    case PresenceSnapshot::Event::kState:
      return "state";
    case PresenceSnapshot::Event::kJoin:
      return "join";
    case PresenceSnapshot::Event::kLeave:
      return "leave";
    case PresenceSnapshot::Event::kUpdate:
      return "update";
    case PresenceSnapshot::Event::kSignIn:
      return "signin";
  }
  return "state";
}

std::string encode_snapshot(const PresenceSnapshot& s) {
  return util::json_text(snapshot_json(s));
}

std::optional<PresenceSnapshot> decode_snapshot(std::string_view text) {
  return snapshot_from(json::parse(text, nullptr, /*allow_exceptions=*/false));
}

std::string encode_user(const PresenceSnapshot& s) {
  auto j = snapshot_json(s);
  j["type"] = "user";
  return util::json_text(j);
}

std::string encode_all(const std::string& instance, std::uint64_t version,
                       const std::vector<PresenceSnapshot>& users) {
  json list = json::array();
  for (const auto& u : users) list.push_back(snapshot_json(u));
  return util::json_text(
      json{{"type", "all"}, {"instance", instance}, {"version", version}, {"users", std::move(list)}});
}

std::string encode_bye(const std::string& instance) {
  return util::json_text(json{{"type", "bye"}, {"instance", instance}});
}

std::optional<PresencePublication> decode_publication(std::string_view payload) {
  const auto j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return std::nullopt;
  const auto& t = type->get_ref<const std::string&>();
  const auto instance = j.find("instance");
  const bool has_instance =
      instance != j.end() && instance->is_string() && !instance->get<std::string>().empty();
  PresencePublication p;
  if (t == "user") {
    auto s = snapshot_from(j);
    if (!s) return std::nullopt;
    p.kind = PresencePublication::Kind::kUser;
    p.instance = s->instance;
    p.user = std::move(*s);
    return p;
  }
  if (t == "bye") {
    if (!has_instance) return std::nullopt;
    p.kind = PresencePublication::Kind::kBye;
    p.instance = instance->get<std::string>();
    return p;
  }
  if (t == "all") {
    const auto version = j.find("version");
    const auto users = j.find("users");
    if (!has_instance || version == j.end() || !version->is_number_unsigned() || users == j.end() ||
        !users->is_array())
      return std::nullopt;
    p.kind = PresencePublication::Kind::kAll;
    p.instance = instance->get<std::string>();
    p.state.instance = p.instance;
    p.state.version = version->get<std::uint64_t>();
    for (const auto& u : *users) {
      auto s = snapshot_from(u);
      if (!s || s->instance != p.instance) return std::nullopt;
      p.state.users.push_back(std::move(*s));
    }
    return p;
  }
  if (t == "sync") {
    p.kind = PresencePublication::Kind::kSync;
    const auto live = j.find("live");
    if (live == j.end()) return std::nullopt;
    if (live->is_array()) {
      for (const auto& id : *live) {
        if (!id.is_string()) return std::nullopt;
        p.live.push_back(id.get<std::string>());
      }
    } else if (!(live->is_object() && live->empty())) {  // cjson's empty table
      return std::nullopt;
    }
    if (const auto full = j.find("full"); full != j.end()) {
      if (!full->is_object()) return std::nullopt;
      p.full = true;
      if (const auto request = j.find("request"); request != j.end()) {
        const auto parsed =
            request->is_string() ? parse_u64(request->get_ref<const std::string&>()) : std::nullopt;
        if (!parsed) return std::nullopt;
        p.request = *parsed;
      }
      for (const auto& [id, state] : full->items()) {
        auto parsed = sync_state(id, state);
        if (!parsed) return std::nullopt;
        p.states.push_back(std::move(*parsed));
      }
    }
    return p;
  }
  return std::nullopt;
}

}  // namespace switchboard::presence
