#include "switchboard/ai/reply_post_processor.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace switchboard::ai {
namespace {

ReplyPostProcessor clippy(std::size_t cap = 600) {
  return ReplyPostProcessor::for_persona(*test::directory().find_bot("bot_clippy"), cap);
}

TEST(AiPostProcess, StripsLeadingNameAndRoleLabels) {
  const auto p = clippy();
  EXPECT_EQ(p.finish("Clippy: It looks like you're typing!"), "It looks like you're typing!");
  EXPECT_EQ(p.finish("clippy:hi"), "hi");
  EXPECT_EQ(p.finish("Assistant: hi"), "hi");
  EXPECT_EQ(p.finish("**Clippy:** hi"), "hi");
  EXPECT_EQ(p.finish("**Clippy**: hi"), "hi");
  EXPECT_EQ(p.finish("[Clippy]: hi"), "hi");
  EXPECT_EQ(p.finish("  AI: Clippy: hi"), "hi");
  EXPECT_EQ(p.finish("bot_clippy: hi"), "hi");
  // Not labels.
  EXPECT_EQ(p.finish("Clippy is here: hi"), "Clippy is here: hi");
  EXPECT_EQ(p.finish("AI is cool"), "AI is cool");
  EXPECT_EQ(p.finish("Note: paperclips rule"), "Note: paperclips rule");
}

TEST(AiPostProcess, StripsWrappingQuotes) {
  const auto p = clippy();
  EXPECT_EQ(p.finish("\"Hello there!\""), "Hello there!");
  EXPECT_EQ(p.finish("\xE2\x80\x9CHello\xE2\x80\x9D"), "Hello");
  EXPECT_EQ(p.finish("Clippy: 'sup'"), "sup");
  EXPECT_EQ(p.finish("\"a\" and \"b\""), "\"a\" and \"b\"");  // not one wrapped quotation
  EXPECT_EQ(p.finish("\"unbalanced"), "\"unbalanced");
}

TEST(AiPostProcess, StripsMarkdownEmphasisButKeepsEmoticons) {
  const auto p = clippy();
  EXPECT_EQ(p.finish("This is **really** *great* and __bold__ with `code`!"),
            "This is really great and bold with code!");
  EXPECT_EQ(p.finish("*hugs* you"), "hugs you");
  EXPECT_EQ(p.finish("**Wow!**"), "Wow!");
  EXPECT_EQ(p.finish("~*~ sparkles ~*~"), "~*~ sparkles ~*~");
  EXPECT_EQ(p.finish("^_^ hi ^_^"), "^_^ hi ^_^");
  EXPECT_EQ(p.finish("-_- ugh -_-"), "-_- ugh -_-");
  EXPECT_EQ(p.finish("kisses :* and :-*"), "kisses :* and :-*");
  EXPECT_EQ(p.finish("DJ_Euphoria and snake_case_names"), "DJ_Euphoria and snake_case_names");
  EXPECT_EQ(p.finish("5*3*2 = 30"), "5*3*2 = 30");
  EXPECT_EQ(p.finish("\\m/ rock on \\m/"), "\\m/ rock on \\m/");
}

TEST(AiPostProcess, DropsTemplateTokensAndTidiesWhitespace) {
  const auto p = clippy();
  EXPECT_EQ(p.finish("hi there<|eot_id|>"), "hi there");
  EXPECT_EQ(p.finish("hi</s>"), "hi");
  EXPECT_EQ(p.finish("  line one  \n\n\n\nline two \n"), "line one\n\nline two");
  EXPECT_EQ(p.finish("Clippy:   "), "");
  EXPECT_EQ(p.finish(""), "");
}

TEST(AiPostProcess, CapsLengthAtAWordBoundaryWithAnEllipsis) {
  const auto p = clippy(20);
  const std::string out = p.finish("one two three four five six seven");
  EXPECT_EQ(out, "one two three four\xE2\x80\xA6");
  EXPECT_EQ(p.finish("short"), "short");
  // Code points, not bytes: 25 smileys cut to 19 plus the ellipsis, never splitting one.
  std::string smileys;
  for (int i = 0; i < 25; ++i) smileys += "\xF0\x9F\x98\x80";
  const std::string capped = p.finish(smileys);
  EXPECT_EQ(capped.size(), 19u * 4 + 3);
}

TEST(AiPostProcess, PreviewHoldsBackWhatMightStillChange) {
  const auto p = clippy();
  EXPECT_EQ(p.preview("Cli"), "");  // could become "Clippy:"
  EXPECT_EQ(p.preview("Clippy"), "");
  EXPECT_EQ(p.preview("Clippy: It lo"), "It lo");
  EXPECT_EQ(p.preview("\"Hey"), "Hey");
  EXPECT_EQ(p.preview("so *hug"), "so ");  // an emphasis that may close
  EXPECT_EQ(p.preview("so *hugs* you"), "so hugs you");
  EXPECT_EQ(p.preview("wow *"), "wow ");  // a delimiter that may grow
  EXPECT_EQ(p.preview("kiss :* bye"), "kiss :* bye");
  EXPECT_EQ(p.preview("done<|eot"), "done");
}

TEST(AiPostProcess, PreviewsOfAGrowingTextExtendEachOther) {
  const auto p = clippy();
  const std::string full =
      "Assistant: Clippy: \"It looks like you're **writing a letter**! ~*~ Want _help_? :*\"";
  std::string previous;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const std::string now = p.preview(full.substr(0, n));
    EXPECT_EQ(now.compare(0, previous.size(), previous), 0)
        << "at " << n << ": '" << previous << "' -> '" << now << "'";
    previous = now;
  }
  EXPECT_EQ(p.finish(full), "It looks like you're writing a letter! ~*~ Want help? :*");
}

}  // namespace
}  // namespace switchboard::ai
