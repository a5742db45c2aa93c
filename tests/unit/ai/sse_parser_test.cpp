#include "switchboard/ai/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::ai {
namespace {

std::vector<SseEvent> parse_in_pieces(std::string_view stream, std::size_t piece, bool finish = true) {
  SseParser parser;
  std::vector<SseEvent> out;
  auto sink = [&out](const SseEvent& e) { out.push_back(e); };
  for (std::size_t i = 0; i < stream.size(); i += piece) parser.feed(stream.substr(i, piece), sink);
  if (finish) parser.finish(sink);
  return out;
}

std::vector<std::string> data_of(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.data);
  return out;
}

TEST(SseParser, ParsesEventsWhateverTheChunkBoundaries) {
  const std::string stream =
      "data: {\"response\":\"Hel\"}\n\n"
      "data: {\"response\":\"lo \\u00e9\"}\r\n\r\n"
      ": keep-alive comment\n\n"
      "event: message\rdata: x\r\r"
      "data: [DONE]\n\n";
  const std::vector<std::string> expected = {R"({"response":"Hel"})", R"({"response":"lo \u00e9"})", "x",
                                             "[DONE]"};
  for (std::size_t piece = 1; piece <= stream.size(); ++piece)
    EXPECT_EQ(data_of(parse_in_pieces(stream, piece)), expected) << "piece size " << piece;
}

TEST(SseParser, CrLfSplitAcrossChunksIsOneLineEnd) {
  SseParser parser;
  std::vector<std::string> got;
  auto sink = [&got](const SseEvent& e) { got.push_back(e.data); };
  parser.feed("data: a\r", sink);
  parser.feed("\n", sink);  // not a second (blank) line
  EXPECT_TRUE(got.empty());
  parser.feed("\r\n", sink);
  EXPECT_EQ(got, std::vector<std::string>{"a"});
}

TEST(SseParser, MultiLineDataJoinsWithNewlines) {
  const auto events = parse_in_pieces("data: line one\ndata:line two\ndata\n\n", 3);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "line one\nline two\n");
}

TEST(SseParser, KeepsEventNameAndId) {
  const auto events = parse_in_pieces("event: delta\nid: 7\ndata: d\n\ndata: e\n\n", 5);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[1].event, "");  // the event name resets
  EXPECT_EQ(events[1].id, "7");    // the last id persists
}

TEST(SseParser, IgnoresCommentsUnknownFieldsAndEventsWithoutData) {
  const auto events = parse_in_pieces(":ping\nretry: 1000\nfoo: bar\nevent: x\n\ndata: y\n\n", 4);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "y");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParser, StripsALeadingByteOrderMarkEvenWhenSplit) {
  const std::string stream =
      "\xEF\xBB\xBF"
      "data: z\n\n";
  for (std::size_t piece = 1; piece <= 4; ++piece)
    EXPECT_EQ(data_of(parse_in_pieces(stream, piece)), std::vector<std::string>{"z"});
}

TEST(SseParser, FinishDispatchesAnUnterminatedLastEvent) {
  EXPECT_EQ(data_of(parse_in_pieces("data: a\n\ndata: [DONE]\n", 2)),
            (std::vector<std::string>{"a", "[DONE]"}));
  EXPECT_EQ(data_of(parse_in_pieces("data: [DONE]", 4)), std::vector<std::string>{"[DONE]"});
  EXPECT_EQ(data_of(parse_in_pieces("data: [DONE]", 4, false)), std::vector<std::string>{});
}

TEST(SseParser, ASingleSpaceAfterTheColonIsRemovedOnlyOnce) {
  EXPECT_EQ(data_of(parse_in_pieces("data:  two spaces\n\n", 100)), std::vector<std::string>{" two spaces"});
}

TEST(SseParser, OversizedLineStopsTheParser) {
  SseParser parser(64);
  int events = 0;
  auto sink = [&events](const SseEvent&) { ++events; };
  EXPECT_TRUE(parser.feed("data: ok\n\n", sink));
  EXPECT_FALSE(parser.feed("data: " + std::string(100, 'x'), sink));
  EXPECT_TRUE(parser.overflowed());
  EXPECT_FALSE(parser.feed("\n\ndata: more\n\n", sink));
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace switchboard::ai
