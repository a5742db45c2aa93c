#include "switchboard/ai/bot_trigger.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace switchboard::ai {
namespace {

using test::msg;

std::string mentioned(const std::string& word) {
  const auto* bot = find_mentioned_bot(test::directory(), word);
  return bot ? bot->account.id : "";
}

std::string trigger(const chat::RoomInfo& room, const chat::Message& m) {
  const auto* bot = triggered_bot(test::directory(), room, m);
  return bot ? bot->account.id : "";
}

TEST(AiTrigger, FirstMentionIsTheFirstAtWord) {
  EXPECT_EQ(first_mention("hey @Clippy, help"), "Clippy");
  EXPECT_EQ(first_mention("@hal9000"), "hal9000");
  EXPECT_EQ(first_mention("mail a@b.com then @tom."), "tom");
  EXPECT_EQ(first_mention("@ alone then @DJ_Euphoria!"), "DJ_Euphoria");
  EXPECT_EQ(first_mention("@Nu-Metal"), "Nu-Metal");
  EXPECT_EQ(first_mention("no mention"), std::nullopt);
  EXPECT_EQ(first_mention("trailing @"), std::nullopt);
}

TEST(AiTrigger, MentionMatchesPersonaIdOrPartOfDisplayName) {
  EXPECT_EQ(mentioned("clippy"), "bot_clippy");
  EXPECT_EQ(mentioned("CLIPPY"), "bot_clippy");
  EXPECT_EQ(mentioned("hal9000"), "bot_hal9000");
  EXPECT_EQ(mentioned("HAL"), "bot_hal9000");
  EXPECT_EQ(mentioned("9000"), "bot_hal9000");
  EXPECT_EQ(mentioned("jeeves"), "bot_ask_jeeves");
  EXPECT_EQ(mentioned("numetal"), "bot_numetal_matt");
  EXPECT_EQ(mentioned("Nu-Metal"), "bot_numetal_matt");
  EXPECT_EQ(mentioned("matt"), "bot_numetal_matt");
  EXPECT_EQ(mentioned("dj"), "bot_dj_euphoria");
  EXPECT_EQ(mentioned("euphoria"), "bot_dj_euphoria");
  EXPECT_EQ(mentioned("zero"), "bot_zerocool");
  EXPECT_EQ(mentioned("tom"), "bot_tom");
  EXPECT_EQ(mentioned("bot_tom"), "bot_tom");
  EXPECT_EQ(mentioned("a"), "");  // one letter names nobody
  EXPECT_EQ(mentioned("alex"), "");
  EXPECT_EQ(mentioned(""), "");
}

TEST(AiTrigger, GroupRoomNeedsAMentionOfABot) {
  const chat::RoomInfo general{"general", false, {}};
  EXPECT_EQ(trigger(general, msg("user_1", "Alex", "@clippy help me")), "bot_clippy");
  EXPECT_EQ(trigger(general, msg("user_1", "Alex", "hello everyone")), "");
  EXPECT_EQ(trigger(general, msg("user_1", "Alex", "@Jordan hi, and @clippy")),
            "");  // only the first @word counts
  EXPECT_EQ(trigger(general, msg("guest_zed", "zed", "yo @HAL open the pod bay doors")), "bot_hal9000");
}

TEST(AiTrigger, DirectRoomWithABotTriggersEveryHumanChat) {
  const chat::RoomInfo dm{"dm_bot_tom__user_2", true, {"bot_tom", "user_2"}};
  EXPECT_EQ(trigger(dm, msg("user_2", "Jordan", "hi tom")), "bot_tom");
  EXPECT_EQ(trigger(dm, msg("user_2", "Jordan", "@clippy?")), "bot_tom");  // the DM's bot, whoever is named
  const chat::RoomInfo humans{"dm_user_1__user_2", true, {"user_1", "user_2"}};
  EXPECT_EQ(trigger(humans, msg("user_2", "Jordan", "@clippy hi")), "");
}

TEST(AiTrigger, BotsNeverTriggerBots) {
  const chat::RoomInfo general{"general", false, {}};
  EXPECT_EQ(trigger(general, msg("bot_clippy", "Clippy", "@hal9000 hi")), "");
  const chat::RoomInfo dm{"dm_bot_clippy__bot_tom", true, {"bot_clippy", "bot_tom"}};
  EXPECT_EQ(trigger(dm, msg("bot_tom", "Tom", "hey")), "");
}

TEST(AiTrigger, NudgesWinksAndSystemMessagesDoNotTrigger) {
  const chat::RoomInfo dm{"dm_bot_tom__user_2", true, {"bot_tom", "user_2"}};
  auto nudge = msg("user_2", "Jordan", "sent a nudge.");
  nudge.type = "nudge";
  nudge.is_nudge = true;
  auto wink = msg("user_2", "Jordan", "sent a wink.");
  wink.is_wink = true;
  auto system = msg("user_2", "Jordan", "x");
  system.type = "system";
  EXPECT_EQ(trigger(dm, nudge), "");
  EXPECT_EQ(trigger(dm, wink), "");
  EXPECT_EQ(trigger(dm, system), "");
}

}  // namespace
}  // namespace switchboard::ai
