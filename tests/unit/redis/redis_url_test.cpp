#include "switchboard/redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace switchboard::redis {
namespace {

TEST(RedisUrl, HostPortAndDb) {
  const auto u = RedisUrl::parse("redis://cache.internal:6380/2");
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2);
  EXPECT_TRUE(u.password.empty());
  EXPECT_FALSE(u.is_unix());
}

TEST(RedisUrl, DefaultsPortAndDb) {
  const auto u = RedisUrl::parse("redis://127.0.0.1");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(RedisUrl::parse("redis://h/").db, 0);
  EXPECT_EQ(RedisUrl::parse("redis://h:7000").port, 7000);
}

TEST(RedisUrl, PasswordAndUsernameArePercentDecoded) {
  auto u = RedisUrl::parse("redis://:s%40cr%3At@h:1/0");
  EXPECT_EQ(u.password, "s@cr:t");
  EXPECT_TRUE(u.username.empty());
  u = RedisUrl::parse("redis://app:pw@h:1/0");
  EXPECT_EQ(u.username, "app");
  EXPECT_EQ(u.password, "pw");
  // The last '@' separates the credentials, so a raw '@' in the password still works.
  EXPECT_EQ(RedisUrl::parse("redis://:p@ss@h").password, "p@ss");
}

TEST(RedisUrl, Ipv6InBrackets) {
  const auto u = RedisUrl::parse("redis://[::1]:6390/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6390);
  EXPECT_EQ(u.db, 1);
  EXPECT_EQ(u.redacted(), "redis://[::1]:6390/1");
}

TEST(RedisUrl, UnixSocket) {
  auto u = RedisUrl::parse("unix:///run/redis/redis.sock");
  EXPECT_TRUE(u.is_unix());
  EXPECT_EQ(u.socket_path, "/run/redis/redis.sock");
  EXPECT_EQ(u.db, 0);
  u = RedisUrl::parse("unix://:pw@/tmp/r.sock?db=3");
  EXPECT_EQ(u.socket_path, "/tmp/r.sock");
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.db, 3);
  u = RedisUrl::parse("unix:///tmp/r.sock?password=x%20y&db=1");
  EXPECT_EQ(u.password, "x y");
  EXPECT_EQ(u.db, 1);
}

TEST(RedisUrl, RedactedNeverShowsThePassword) {
  const auto u = RedisUrl::parse("redis://app:hunter2@h:1/4");
  EXPECT_EQ(u.redacted(), "redis://app:***@h:1/4");
  EXPECT_EQ(RedisUrl::parse("unix://:hunter2@/s?db=2").redacted(), "unix://:***@/s?db=2");
}

TEST(RedisUrl, RejectsBadUrlsWithAClearMessage) {
  const auto message = [](const char* url) {
    try {
      (void)RedisUrl::parse(url);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("http://h:1").find("expected redis://"), std::string::npos);
  EXPECT_NE(message("rediss://h:1").find("TLS"), std::string::npos);
  EXPECT_NE(message("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(message("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(message("redis://h:abc").find("port"), std::string::npos);
  EXPECT_NE(message("redis://h:").find("port"), std::string::npos);
  EXPECT_NE(message("redis://h/x").find("db"), std::string::npos);
  EXPECT_NE(message("redis://h/-1").find("db"), std::string::npos);
  EXPECT_NE(message("redis://").find("host"), std::string::npos);
  EXPECT_NE(message("redis://:pw@").find("host"), std::string::npos);
  EXPECT_NE(message("redis://secret@h").find("colon"), std::string::npos);
  EXPECT_NE(message("redis://h h:1").find("host"), std::string::npos);
  EXPECT_NE(message("redis://[::1:1").find("IPv6"), std::string::npos);
  EXPECT_NE(message("redis://:%zz@h").find("percent"), std::string::npos);
  EXPECT_NE(message("unix://relative.sock").find("absolute"), std::string::npos);
  EXPECT_NE(message("unix:///s?timeout=1").find("timeout"), std::string::npos);
  // The password never appears in an error message.
  EXPECT_EQ(message("redis://:hunter2@h:99999").find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::redis
