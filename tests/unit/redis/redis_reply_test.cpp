#include "switchboard/redis/redis_reply.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "switchboard/redis/redis_error.hpp"
#include "switchboard/redis/redis_script.hpp"

namespace switchboard::redis {
namespace {

// Decodes RESP wire bytes with hiredis' own reader, as the client does.
RedisReply decode(const std::string& wire) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, wire.data(), wire.size());
  void* raw = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &raw), REDIS_OK);
  EXPECT_NE(raw, nullptr) << "incomplete reply: " << wire;
  RedisReply out = RedisReply::from_hiredis(static_cast<redisReply*>(raw));
  if (raw != nullptr) freeReplyObject(raw);
  redisReaderFree(reader);
  return out;
}

TEST(RedisReply, DecodesEveryResp2Type) {
  EXPECT_EQ(decode("+OK\r\n"), RedisReply::make_status("OK"));
  EXPECT_EQ(decode(":-42\r\n"), RedisReply::make_integer(-42));
  EXPECT_EQ(decode("$5\r\nhello\r\n"), RedisReply::make_string("hello"));
  EXPECT_EQ(decode("$-1\r\n"), RedisReply::nil());
  EXPECT_EQ(decode("*-1\r\n"), RedisReply::nil());
  EXPECT_EQ(decode("-ERR wrong\r\n"), RedisReply::make_error("ERR wrong"));
  EXPECT_EQ(decode("*0\r\n"), RedisReply::make_array({}));
}

TEST(RedisReply, BulkStringsAreBinarySafe) {
  const std::string payload("a\0b\r\nc", 6);
  const auto r = decode("$6\r\n" + payload + "\r\n");
  ASSERT_EQ(r.type, RedisReply::Type::kString);
  EXPECT_EQ(r.str, payload);
  EXPECT_EQ(r.str.size(), 6u);
}

TEST(RedisReply, NestedArrays) {
  const auto r = decode("*3\r\n$7\r\nmessage\r\n*2\r\n:1\r\n$-1\r\n+QUEUED\r\n");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[0].text(), "message");
  ASSERT_TRUE(r.elements[1].is_array());
  EXPECT_EQ(r.elements[1].elements[0].integer, 1);
  EXPECT_TRUE(r.elements[1].elements[1].is_nil());
  EXPECT_EQ(r.elements[2].type, RedisReply::Type::kStatus);
}

TEST(RedisReply, NullDecodesToNil) {
  EXPECT_TRUE(RedisReply::from_hiredis(nullptr).is_nil());
}

TEST(RedisReply, Accessors) {
  EXPECT_EQ(RedisReply::make_string("17").as_integer(), 17);
  EXPECT_EQ(RedisReply::make_integer(5).as_integer(), 5);
  EXPECT_FALSE(RedisReply::make_string("17x").as_integer());
  EXPECT_FALSE(RedisReply::make_string("").as_integer());
  EXPECT_FALSE(RedisReply::make_status("OK").as_integer());
  EXPECT_FALSE(RedisReply::nil().text());
  EXPECT_EQ(RedisReply::make_status("PONG").text(), "PONG");
  EXPECT_EQ(RedisReply::make_array({RedisReply::make_integer(1), RedisReply::nil()}).debug_string(),
            "[(integer) 1, (nil)]");
  EXPECT_EQ(
      RedisReply::make_string(std::string(100, 'x')).debug_string().find("(100 bytes)") != std::string::npos,
      true);
}

TEST(RedisReply, ErrorRepliesBecomeErrorCodes) {
  EXPECT_FALSE(RedisReply::make_status("OK").error_code());
  EXPECT_EQ(decode("-NOSCRIPT No matching script. Please use EVAL.\r\n").error_code(), RedisErrc::kNoScript);
  EXPECT_EQ(decode("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n").error_code(),
            RedisErrc::kWrongType);
  EXPECT_EQ(decode("-ERR unknown command 'FOO'\r\n").error_code(), RedisErrc::kServerError);
}

TEST(RedisReply, ErrorClassification) {
  EXPECT_EQ(classify_error_reply("LOADING Redis is loading the dataset in memory"), RedisErrc::kLoading);
  EXPECT_EQ(classify_error_reply("BUSY Redis is busy running a script."), RedisErrc::kBusy);
  EXPECT_EQ(classify_error_reply("READONLY You can't write against a read only replica."),
            RedisErrc::kReadOnly);
  EXPECT_EQ(classify_error_reply("OOM command not allowed when used memory > 'maxmemory'."),
            RedisErrc::kOutOfMemory);
  EXPECT_EQ(classify_error_reply("NOAUTH Authentication required."), RedisErrc::kAuthFailed);
  EXPECT_EQ(classify_error_reply("WRONGPASS invalid username-password pair"), RedisErrc::kAuthFailed);
  EXPECT_EQ(classify_error_reply("NOPERM this user has no permissions"), RedisErrc::kAuthFailed);
  EXPECT_EQ(classify_error_reply("BUSYGROUP Consumer Group name already exists"), RedisErrc::kServerError);
  EXPECT_EQ(classify_error_reply("OOMPH"), RedisErrc::kServerError);  // whole words only
  EXPECT_EQ(classify_error_reply(""), RedisErrc::kServerError);
}

TEST(RedisReply, ErrorCategory) {
  const std::error_code ec = RedisErrc::kTimeout;
  EXPECT_STREQ(ec.category().name(), "redis");
  EXPECT_EQ(ec.message(), "Redis did not answer in time");
  EXPECT_TRUE(is_unavailable(RedisErrc::kNotConnected));
  EXPECT_TRUE(is_unavailable(RedisErrc::kTimeout));
  EXPECT_TRUE(is_unavailable(RedisErrc::kConnectionLost));
  EXPECT_TRUE(is_unavailable(RedisErrc::kLoading));
  EXPECT_FALSE(is_unavailable(RedisErrc::kWrongType));
  EXPECT_FALSE(is_unavailable(RedisErrc::kBadArgument));
  EXPECT_FALSE(is_unavailable(std::make_error_code(std::errc::timed_out)));
  EXPECT_FALSE(is_unavailable({}));
}

TEST(RedisReply, ScriptSha1MatchesRedis) {
  // redis-cli SCRIPT LOAD "return 1" prints this.
  EXPECT_EQ(RedisScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace switchboard::redis
