#include "switchboard/ai/prompt_builder.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace switchboard::ai {
namespace {

using test::msg;

const auth::BotPersona& clippy() {
  return *test::directory().find_bot("bot_clippy");
}

chat::RoomInfo group() {
  return {"general", false, {}};
}
chat::RoomInfo dm() {
  return {"dm_bot_clippy__user_1", true, {"bot_clippy", "user_1"}};
}

TEST(PromptBuilder, SystemTurnCarriesPersonaAndRules) {
  const auto turns = PromptBuilder(10).build(clippy(), group(), {msg("user_1", "Alex", "@clippy hi")});
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[0].role, "system");
  const std::string& sys = turns[0].content;
  EXPECT_NE(sys.find(clippy().system_prompt), std::string::npos);
  EXPECT_NE(sys.find("2005"), std::string::npos);
  EXPECT_NE(sys.find("group chat"), std::string::npos);
  EXPECT_NE(sys.find("no Markdown, no HTML"), std::string::npos);
  EXPECT_NE(sys.find("\"Clippy:\""), std::string::npos);  // told not to label itself
  EXPECT_EQ(turns[1], (ChatMessage{"user", "Alex: @clippy hi"}));
  EXPECT_NE(PromptBuilder::system_prompt(clippy(), dm()).find("one to one"), std::string::npos);
}

TEST(PromptBuilder, PersonaWithoutPromptGetsOneFromItsFields) {
  auth::BotPersona p = clippy();
  p.system_prompt.clear();
  const std::string sys = PromptBuilder::system_prompt(p, dm());
  EXPECT_EQ(sys.rfind("You are Clippy, over-eager office assistant. Your typing style: cheerful", 0), 0u)
      << sys;
}

TEST(PromptBuilder, KeepsTheLastNMessagesWithRolesAndNames) {
  std::vector<chat::Message> ctx;
  for (int i = 0; i < 8; ++i)
    ctx.push_back(msg(i % 2 ? "user_2" : "user_1", i % 2 ? "Jordan" : "Alex", "m" + std::to_string(i)));
  ctx.push_back(msg("bot_clippy", "Clippy", "It looks like you're counting!"));
  ctx.push_back(msg("user_1", "Alex", "@clippy and now?"));
  const auto turns = PromptBuilder(4).build(clippy(), group(), ctx);
  // Window: m6 (Alex), m7 (Jordan), Clippy, Alex.
  ASSERT_EQ(turns.size(), 4u);
  EXPECT_EQ(turns[1], (ChatMessage{"user", "Alex: m6\nJordan: m7"}));  // same-role turns merge
  EXPECT_EQ(turns[2], (ChatMessage{"assistant", "It looks like you're counting!"}));
  EXPECT_EQ(turns[3], (ChatMessage{"user", "Alex: @clippy and now?"}));
}

TEST(PromptBuilder, OtherBotsAreUsersAndLeadingAssistantTurnsAreDropped) {
  const auto turns = PromptBuilder(10).build(
      clippy(), group(),
      {msg("bot_clippy", "Clippy", "earlier reply"), msg("bot_hal9000", "HAL 9000", "I'm afraid."),
       msg("user_3", "Sam", "@clippy thoughts?")});
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1], (ChatMessage{"user", "HAL 9000: I'm afraid.\nSam: @clippy thoughts?"}));
}

TEST(PromptBuilder, SkipsSystemAndDeletedMessagesAndDescribesNudgesAndWinks) {
  chat::Message sys = msg("", "", "Alex joined the room.");
  sys.type = "system";
  chat::Message deleted = msg("user_1", "Alex", "oops");
  deleted.deleted = true;
  chat::Message nudge = msg("user_1", "Alex", "sent a nudge.");
  nudge.type = "nudge";
  nudge.is_nudge = true;
  chat::Message wink = msg("user_1", "Alex", "sent a wink.");
  wink.is_wink = true;
  wink.wink_id = "kiss";
  chat::Message nameless = msg("guest_zed", "", "hello?");
  const auto turns = PromptBuilder(10).build(clippy(), dm(), {sys, deleted, nudge, wink, nameless});
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].content, "(Alex sent a nudge)\n(Alex sent a wink)\nguest_zed: hello?");
}

TEST(PromptBuilder, VeryLongMessagesAreClipped) {
  const auto turns =
      PromptBuilder(10).build(clippy(), dm(), {msg("user_1", "Alex", std::string(10000, 'a'))});
  EXPECT_LT(turns[1].content.size(), 4100u);
}

}  // namespace
}  // namespace switchboard::ai
