#include "switchboard/util/utf8.hpp"

#include <gtest/gtest.h>

#include <set>

#include "switchboard/util/random.hpp"

namespace switchboard::util {
namespace {

TEST(Utf8, CountsCodePoints) {
  EXPECT_EQ(utf8_code_points("abc"), 3u);
  EXPECT_EQ(utf8_code_points("Music \xF0\x9F\x8E\xB5"), 7u);
  EXPECT_EQ(utf8_code_points(""), 0u);
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(utf8_code_points("\xff"));
  EXPECT_FALSE(utf8_code_points("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(utf8_code_points("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(utf8_code_points("\xf0\x9f\x8e"));  // truncated
}

TEST(Utf8, Blank) {
  EXPECT_TRUE(is_blank(" \t\n"));
  EXPECT_TRUE(is_blank("\xe3\x80\x80"));  // ideographic space
  EXPECT_FALSE(is_blank(" a "));
}

TEST(Random, TokensAreLongUniqueAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto t = random_token(24);
    EXPECT_EQ(t.size(), 32u);  // 192 bits
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(Random, UuidV4Shape) {
  const auto u = uuid_v4();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
}

TEST(Random, Sha256AndConstantTimeCompare) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
}

}  // namespace
}  // namespace switchboard::util
