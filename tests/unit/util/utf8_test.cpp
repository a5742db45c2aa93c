#include "switchboard/util/utf8.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
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

// One code point of each encoded length: 1, 2, 3 and 4 bytes.
constexpr std::string_view kOneOfEachLength[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};

TEST(Utf8Truncate, CutsBetweenCodePointsOfEveryLength) {
  for (const auto cp : kOneOfEachLength) {
    std::string text;
    for (int i = 0; i < 5; ++i) text += cp;
    for (std::size_t n = 0; n <= 6; ++n) {
      const auto cut = utf8_truncate(text, n);
      EXPECT_EQ(cut.size(), std::min<std::size_t>(n, 5) * cp.size()) << cp.size() << "-byte, n=" << n;
      EXPECT_EQ(utf8_code_points(cut), std::min<std::size_t>(n, 5));
    }
  }
}

TEST(Utf8Truncate, ByteBudgetNeverSplitsASequence) {
  const std::string mixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // 1+2+3+4+1 bytes
  const std::size_t boundaries[] = {0, 1, 3, 6, 10, 11};
  for (std::size_t budget = 0; budget <= mixed.size() + 1; ++budget) {
    const auto cut = utf8_truncate_bytes(mixed, budget);
    const auto expected = *std::prev(std::upper_bound(std::begin(boundaries), std::end(boundaries), budget));
    EXPECT_EQ(cut, mixed.substr(0, expected)) << "budget " << budget;
    EXPECT_TRUE(utf8_code_points(cut)) << "budget " << budget;
  }
}

TEST(Utf8Truncate, EveryByteCutOfTheCrashFrameTypeIsRepairedToValidText) {
  // The value from the report: a byte cut at 32 split the eighth emoji.
  std::string type = "x";
  for (int i = 0; i < 10; ++i) type += "\xF0\x9F\x98\x80";
  for (std::size_t cut = 0; cut <= type.size(); ++cut) {
    const std::string broken = type.substr(0, cut);  // what a byte cut leaves: maybe a partial sequence
    const auto repaired = utf8_truncate(broken, 1000);
    ASSERT_TRUE(utf8_code_points(repaired)) << "cut " << cut;
    // Whole code points survive as they were; a partial one at the end becomes U+FFFD per byte.
    const std::size_t whole = cut == 0 ? 0 : 1 + (cut - 1) / 4 * 4;
    EXPECT_EQ(repaired.substr(0, whole), type.substr(0, whole));
    EXPECT_EQ(repaired.size() - whole, (cut - whole) * 3) << "cut " << cut;
  }
}

TEST(Utf8Truncate, InvalidInputBecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_truncate("\xff", 10), fffd);
  EXPECT_EQ(utf8_truncate("a\x80"
                          "b",
                          10),
            "a" + fffd + "b");                                                  // lone continuation byte
  EXPECT_EQ(utf8_truncate("\xC0\xAF", 10), fffd + fffd);                        // overlong '/'
  EXPECT_EQ(utf8_truncate("\xED\xA0\x80", 10), fffd + fffd + fffd);             // UTF-16 surrogate
  EXPECT_EQ(utf8_truncate("\xF4\x90\x80\x80", 10), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(utf8_truncate("\xF0\x9F\x98", 10), fffd + fffd + fffd);             // cut short
  EXPECT_EQ(utf8_truncate("\xff\xff\xff", 2), fffd + fffd);  // each bad byte counts as one code point
  EXPECT_EQ(utf8_truncate_bytes("a\xff", 3), "a");           // U+FFFD needs three bytes; only two are left
  EXPECT_EQ(utf8_truncate(std::string_view("a\0b", 3), 3), std::string("a\0b", 3));  // NUL is text
}

TEST(Utf8Excerpt, AddsAnEllipsisOnlyWhenItCut) {
  EXPECT_EQ(utf8_excerpt("short", 10), "short");
  EXPECT_EQ(utf8_excerpt("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 1), "\xF0\x9F\x98\x80\xE2\x80\xA6");
  EXPECT_EQ(utf8_excerpt("", 0), "");
  EXPECT_EQ(utf8_excerpt("\xff", 5), "\xEF\xBF\xBD");  // repaired, not cut
  // Cut after repairs that made it longer than the input: still marked as cut.
  EXPECT_EQ(utf8_excerpt("\xff\xff\xff\xff", 2), "\xEF\xBF\xBD\xEF\xBF\xBD\xE2\x80\xA6");
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
