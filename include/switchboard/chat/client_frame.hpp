#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchboard/chat/message.hpp"
#include "switchboard/presence/user_profiles.hpp"

namespace switchboard::chat {

// Codes of the WebSocket error frame (PROTOCOL §5). kUnavailable (ext) reports a message that could not be
// stored, so the sender knows it was not delivered.
enum class FrameErrorCode { kInvalidPayload, kRateLimited, kTooLarge, kForbidden, kUnavailable };
const char* to_string(FrameErrorCode code);

// A refused client frame: becomes {type:"error", code, content, ackId?} for the sender only.
struct FrameError {
  FrameErrorCode code;
  std::string message;
  std::optional<std::string> ack_id;  // the offending frame's "id", when it had a string one
};

// Serializes an error frame.
std::string encode_error(const FrameError& error);

struct ChatFrame {
  std::string content;
  std::optional<std::string> id;
};
struct NudgeFrame {
  std::optional<std::string> id;
};
struct WinkFrame {
  std::string wink_id;
  std::optional<std::string> id;
};
struct TypingFrame {
  bool is_typing = false;
};
struct RoomPresenceFrame {
  std::optional<presence::Status> status;
  std::optional<std::string> display_name;
  std::optional<std::string> id;  // echoed as ackId when the change is refused
};
struct AckFrame {
  std::string ack_id;
  DeliveryStatus status = DeliveryStatus::kDelivered;
};
struct PingFrame {};
using RoomFrame =
    std::variant<ChatFrame, NudgeFrame, WinkFrame, TypingFrame, RoomPresenceFrame, AckFrame, PingFrame>;

struct PresenceUpdateFrame {
  presence::Status status = presence::Status::kOnline;
  std::optional<std::string> display_name;
  std::optional<std::string> personal_message;
  std::optional<std::string> id;  // echoed as ackId when the change is refused
};
using PresenceFrame = std::variant<PresenceUpdateFrame, PingFrame>;

// Limits the decoders enforce (from config).
struct FrameLimits {
  std::size_t max_content_code_points = 2048;
  std::size_t max_display_name_code_points = 50;
  std::size_t max_personal_message_code_points = 128;
  std::vector<std::string> winks;
};

// Pure functions: decode one text frame of a room socket or of the presence socket. Every way a frame can be
// wrong maps to a FrameError with a sentence that says what to fix.
std::variant<RoomFrame, FrameError> decode_room_frame(std::string_view text, const FrameLimits& limits);
std::variant<PresenceFrame, FrameError> decode_presence_frame(std::string_view text,
                                                              const FrameLimits& limits);

// The answer to a binary frame (the protocol is JSON text only).
FrameError binary_frame_refused();

// A client-supplied message id is kept only when it is 1..64 characters of [A-Za-z0-9_-].
bool is_valid_client_id(std::string_view id);

}  // namespace switchboard::chat
