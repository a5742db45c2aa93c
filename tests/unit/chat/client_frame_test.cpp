#include "switchboard/chat/client_frame.hpp"

#include <gtest/gtest.h>

namespace switchboard::chat {
namespace {

FrameLimits limits() {
  return FrameLimits{2048, 50, 128, {"kiss", "thunder"}};
}

FrameError error_of(std::string_view text) {
  auto r = decode_room_frame(text, limits());
  EXPECT_TRUE(std::holds_alternative<FrameError>(r)) << text;
  return std::holds_alternative<FrameError>(r) ? std::get<FrameError>(r) : FrameError{};
}

RoomFrame frame_of(std::string_view text) {
  auto r = decode_room_frame(text, limits());
  EXPECT_TRUE(std::holds_alternative<RoomFrame>(r)) << text;
  return std::holds_alternative<RoomFrame>(r) ? std::get<RoomFrame>(r) : RoomFrame{PingFrame{}};
}

TEST(ClientFrame, DecodesChatWithClientId) {
  const auto f = std::get<ChatFrame>(frame_of(R"({"type":"chat","content":"hi there","id":"abc-1"})"));
  EXPECT_EQ(f.content, "hi there");
  EXPECT_EQ(f.id, "abc-1");
}

TEST(ClientFrame, RejectsMalformedJsonAndNonObjects) {
  EXPECT_EQ(error_of("{not json").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of("[1,2]").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"content":"no type"})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of("\"\xff\xfe\"").code, FrameErrorCode::kInvalidPayload);  // invalid UTF-8
}

TEST(ClientFrame, UnknownTypeCarriesAckId) {
  const auto e = error_of(R"({"type":"dance","id":"m1"})");
  EXPECT_EQ(e.code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(e.ack_id, "m1");
  EXPECT_NE(encode_error(e).find(R"("ackId":"m1")"), std::string::npos);
}

TEST(ClientFrame, ChatContentRules) {
  EXPECT_EQ(error_of(R"({"type":"chat","content":"   "})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"type":"chat","content":""})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"type":"chat","content":42})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of("{\"type\":\"chat\",\"content\":\"\xc2\xa0\xe2\x80\x83\"}").code,
            FrameErrorCode::kInvalidPayload);  // NBSP + em space only
  // Limits count code points, not bytes: 2048 emoji pass, 2049 do not.
  std::string emoji;
  for (int i = 0; i < 2048; ++i) emoji += "\xF0\x9F\x98\x80";
  std::get<ChatFrame>(frame_of(R"({"type":"chat","content":")" + emoji + "\"}"));
  EXPECT_EQ(error_of(R"({"type":"chat","content":")" + emoji + "a\"}").code, FrameErrorCode::kTooLarge);
}

TEST(ClientFrame, WinkMustBeListed) {
  EXPECT_EQ(std::get<WinkFrame>(frame_of(R"({"type":"wink","winkId":"kiss"})")).wink_id, "kiss");
  EXPECT_EQ(error_of(R"({"type":"wink","winkId":"nope"})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"type":"wink"})").code, FrameErrorCode::kInvalidPayload);
}

TEST(ClientFrame, TypingNeedsBoolean) {
  EXPECT_TRUE(std::get<TypingFrame>(frame_of(R"({"type":"typing","isTyping":true})")).is_typing);
  EXPECT_EQ(error_of(R"({"type":"typing","isTyping":"yes"})").code, FrameErrorCode::kInvalidPayload);
}

TEST(ClientFrame, AckStatusValues) {
  const auto a = std::get<AckFrame>(frame_of(R"({"type":"ack","ackId":"m1","status":"read"})"));
  EXPECT_EQ(a.status, DeliveryStatus::kRead);
  EXPECT_EQ(error_of(R"({"type":"ack","ackId":"m1","status":"sent"})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"type":"ack","status":"read"})").code, FrameErrorCode::kInvalidPayload);
}

TEST(ClientFrame, PresenceFieldsAreChecked) {
  const auto p =
      std::get<RoomPresenceFrame>(frame_of(R"({"type":"presence","status":"busy","displayName":"Al"})"));
  EXPECT_EQ(p.status, presence::Status::kBusy);
  EXPECT_EQ(p.display_name, "Al");
  EXPECT_EQ(error_of(R"({"type":"presence","status":"sleeping"})").code, FrameErrorCode::kInvalidPayload);
  EXPECT_EQ(error_of(R"({"type":"presence","displayName":")" + std::string(51, 'x') + "\"}").code,
            FrameErrorCode::kInvalidPayload);
}

TEST(ClientFrame, PresenceSocketFrames) {
  auto ok = decode_presence_frame(R"({"type":"presence_update","status":"away","personalMessage":"brb"})",
                                  limits());
  ASSERT_TRUE(std::holds_alternative<PresenceFrame>(ok));
  const auto& u = std::get<PresenceUpdateFrame>(std::get<PresenceFrame>(ok));
  EXPECT_EQ(u.status, presence::Status::kAway);
  EXPECT_EQ(u.personal_message, "brb");
  EXPECT_TRUE(
      std::holds_alternative<FrameError>(decode_presence_frame(R"({"type":"presence_update"})", limits())));
  EXPECT_TRUE(std::holds_alternative<FrameError>(decode_presence_frame(R"({"type":"chat"})", limits())));
}

TEST(ClientFrame, ClientIdShape) {
  EXPECT_TRUE(is_valid_client_id("abc_DEF-123"));
  EXPECT_TRUE(is_valid_client_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_client_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_client_id(""));
  EXPECT_FALSE(is_valid_client_id("has space"));
  EXPECT_FALSE(is_valid_client_id("dot.ted"));
}

}  // namespace
}  // namespace switchboard::chat
