#include "switchboard/chat/client_frame.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

FrameError invalid(std::string message, std::optional<std::string> ack_id = std::nullopt) {
  return {FrameErrorCode::kInvalidPayload, std::move(message), std::move(ack_id)};
}

// Parses the frame into an object and extracts its type and optional id (for ackId in errors).
struct Envelope {
  json doc;
  std::string type;
  std::optional<std::string> id;
};

std::variant<Envelope, FrameError> parse_envelope(std::string_view text) {
  Envelope env;
  try {
    env.doc = json::parse(text);
  } catch (const json::exception&) {
    return invalid(
        "The frame is not valid JSON (UTF-8). Send a JSON object such as {\"type\":\"chat\",...}.");
  }
  if (!env.doc.is_object()) return invalid("The frame must be a JSON object with a \"type\" field.");
  if (const auto it = env.doc.find("id"); it != env.doc.end() && it->is_string())
    env.id = it->get<std::string>();
  const auto type = env.doc.find("type");
  if (type == env.doc.end() || !type->is_string())
    return invalid("The frame needs a string \"type\" field.", env.id);
  env.type = type->get<std::string>();
  return env;
}

// Reads an optional field that must be a string when present.
bool optional_string(const json& doc, const char* key, std::optional<std::string>& out) {
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

std::variant<std::string, FrameError> checked_text(const Envelope& env, const char* key, std::size_t max_cp,
                                                   FrameErrorCode too_long, bool allow_blank) {
  const auto it = env.doc.find(key);
  if (it == env.doc.end() || !it->is_string())
    return invalid(std::string("\"") + key + "\" must be a string.", env.id);
  std::string value = it->get<std::string>();
  const auto len = util::utf8_code_points(value);
  if (!len) return invalid(std::string("\"") + key + "\" is not valid UTF-8.", env.id);
  if (*len > max_cp)
    return FrameError{too_long,
                      std::string("\"") + key + "\" is " + std::to_string(*len) +
                          " characters long; the limit is " + std::to_string(max_cp) + ".",
                      env.id};
  if (!allow_blank && util::is_blank(value))
    return invalid(std::string("\"") + key + "\" must not be empty or only white space.", env.id);
  return value;
}

}  // namespace

const char* to_string(FrameErrorCode code) {
  switch (code) {
    case FrameErrorCode::kInvalidPayload:
      return "INVALID_PAYLOAD";
    case FrameErrorCode::kRateLimited:
      return "RATE_LIMITED";
    case FrameErrorCode::kTooLarge:
      return "TOO_LARGE";
    case FrameErrorCode::kForbidden:
      return "FORBIDDEN";
    case FrameErrorCode::kUnavailable:
      return "UNAVAILABLE";
  }
  return "INVALID_PAYLOAD";
}

std::string encode_error(const FrameError& error) {
  json j = {{"type", "error"}, {"code", to_string(error.code)}, {"content", error.message}};
  if (error.ack_id) j["ackId"] = *error.ack_id;
  return util::json_text(j);
}

FrameError binary_frame_refused() {
  return {FrameErrorCode::kInvalidPayload, "Binary frames are not supported; send JSON text frames.",
          std::nullopt};
}

bool is_valid_client_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::variant<RoomFrame, FrameError> decode_room_frame(std::string_view text, const FrameLimits& limits) {
  auto parsed = parse_envelope(text);
  if (auto* err = std::get_if<FrameError>(&parsed)) return std::move(*err);
  const auto& env = std::get<Envelope>(parsed);
  const auto& doc = env.doc;

  if (env.type == "chat") {
    auto content = checked_text(env, "content", limits.max_content_code_points, FrameErrorCode::kTooLarge,
                                /*allow_blank=*/false);
    if (auto* err = std::get_if<FrameError>(&content)) return std::move(*err);
    return RoomFrame{ChatFrame{std::move(std::get<std::string>(content)), env.id}};
  }
  if (env.type == "nudge") return RoomFrame{NudgeFrame{env.id}};
  if (env.type == "wink") {
    const auto it = doc.find("winkId");
    if (it == doc.end() || !it->is_string()) return invalid("A wink needs a string \"winkId\".", env.id);
    auto wink = it->get<std::string>();
    if (std::find(limits.winks.begin(), limits.winks.end(), wink) == limits.winks.end())
      return invalid(
          "Unknown winkId \"" + util::utf8_excerpt(wink, 64) + "\"; GET /api/config lists the winks.",
          env.id);
    return RoomFrame{WinkFrame{std::move(wink), env.id}};
  }
  if (env.type == "typing") {
    const auto it = doc.find("isTyping");
    if (it == doc.end() || !it->is_boolean()) return invalid("\"isTyping\" must be true or false.", env.id);
    return RoomFrame{TypingFrame{it->get<bool>()}};
  }
  if (env.type == "presence") {
    RoomPresenceFrame frame;
    frame.id = env.id;
    std::optional<std::string> status;
    if (!optional_string(doc, "status", status)) return invalid("\"status\" must be a string.", env.id);
    if (status) {
      frame.status = presence::parse_status(*status);
      if (!frame.status) return invalid("\"status\" must be one of online, busy, away, offline.", env.id);
    }
    if (doc.contains("displayName") && !doc["displayName"].is_null()) {
      auto name = checked_text(env, "displayName", limits.max_display_name_code_points,
                               FrameErrorCode::kInvalidPayload, /*allow_blank=*/false);
      if (auto* err = std::get_if<FrameError>(&name)) return std::move(*err);
      frame.display_name = std::move(std::get<std::string>(name));
    }
    return RoomFrame{std::move(frame)};
  }
  if (env.type == "ack") {
    const auto id = doc.find("ackId");
    if (id == doc.end() || !id->is_string()) return invalid("An ack needs a string \"ackId\".", env.id);
    const auto st = doc.find("status");
    AckFrame ack{id->get<std::string>()};
    if (st == doc.end() || !st->is_string() || !parse_delivery_status(st->get<std::string>(), ack.status))
      return invalid("An ack's \"status\" must be \"delivered\" or \"read\".", env.id);
    return RoomFrame{std::move(ack)};
  }
  if (env.type == "ping") return RoomFrame{PingFrame{}};
  return invalid("Unknown frame type \"" + util::utf8_excerpt(env.type, 32) +
                     "\"; expected chat, nudge, wink, typing, presence, ack or ping.",
                 env.id);
}

std::variant<PresenceFrame, FrameError> decode_presence_frame(std::string_view text,
                                                              const FrameLimits& limits) {
  auto parsed = parse_envelope(text);
  if (auto* err = std::get_if<FrameError>(&parsed)) return std::move(*err);
  const auto& env = std::get<Envelope>(parsed);
  const auto& doc = env.doc;
  if (env.type == "ping") return PresenceFrame{PingFrame{}};
  if (env.type != "presence_update")
    return invalid(
        "Unknown frame type \"" + util::utf8_excerpt(env.type, 32) + "\"; expected presence_update or ping.",
        env.id);
  PresenceUpdateFrame frame;
  frame.id = env.id;
  const auto st = doc.find("status");
  std::optional<presence::Status> status;
  if (st != doc.end() && st->is_string()) status = presence::parse_status(st->get<std::string>());
  if (!status) return invalid("\"status\" must be one of online, busy, away, offline.", env.id);
  frame.status = *status;
  if (doc.contains("displayName") && !doc["displayName"].is_null()) {
    auto name =
        checked_text(env, "displayName", limits.max_display_name_code_points, FrameErrorCode::kInvalidPayload,
                     /*allow_blank=*/false);
    if (auto* err = std::get_if<FrameError>(&name)) return std::move(*err);
    frame.display_name = std::move(std::get<std::string>(name));
  }
  if (doc.contains("personalMessage") && !doc["personalMessage"].is_null()) {
    auto pm = checked_text(env, "personalMessage", limits.max_personal_message_code_points,
                           FrameErrorCode::kInvalidPayload, /*allow_blank=*/true);
    if (auto* err = std::get_if<FrameError>(&pm)) return std::move(*err);
    frame.personal_message = std::move(std::get<std::string>(pm));
  }
  return PresenceFrame{std::move(frame)};
}

}  // namespace switchboard::chat
