// Completion-token counts for the ai_invocation event: both wire formats report usage.completion_tokens, in
// the body or in a stream event; -1 when they do not say.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "switchboard/ai/openai_provider.hpp"
#include "switchboard/ai/workers_ai_provider.hpp"
#include "switchboard/http_client/http_client.hpp"

namespace switchboard::ai {
namespace {

class UsageTokens : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  http_client::HttpClient http_{io_};
};

TEST_F(UsageTokens, OpenAiBodyAndStream) {
  OpenAiProvider p(http_, {"http://127.0.0.1:1", "", "m", "", std::chrono::seconds(5)});
  const auto with = p.parse_response(
      R"({"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":9,"completion_tokens":17}})");
  EXPECT_TRUE(with.ok());
  EXPECT_EQ(with.completion_tokens, 17);
  EXPECT_EQ(p.parse_response(R"({"choices":[{"message":{"content":"hi"}}]})").completion_tokens, -1);
  // With stream_options.include_usage the last event carries usage and no choices.
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[],"usage":{"completion_tokens":5}})").completion_tokens, 5);
  EXPECT_EQ(p.parse_stream_event(R"({"choices":[{"delta":{"content":"x"}}]})").completion_tokens, -1);
  EXPECT_EQ(p.parse_stream_event(R"({"usage":{"completion_tokens":"many"}})").completion_tokens, -1);
}

TEST_F(UsageTokens, WorkersAiBodyAndStream) {
  WorkersAiProvider p(http_, {"", "k", "@cf/meta/llama-3.2-1b-instruct", "acc", std::chrono::seconds(5)});
  const auto with = p.parse_response(
      R"({"result":{"response":"hi","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}},"success":true})");
  EXPECT_TRUE(with.ok());
  EXPECT_EQ(with.completion_tokens, 2);
  EXPECT_EQ(p.parse_stream_event(R"({"response":"","usage":{"completion_tokens":12}})").completion_tokens,
            12);
  EXPECT_EQ(p.parse_stream_event(R"({"response":"hi"})").completion_tokens, -1);
}

}  // namespace
}  // namespace switchboard::ai
