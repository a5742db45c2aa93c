#include "switchboard/util/json_text.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "switchboard/util/utf8.hpp"

namespace switchboard::util {
namespace {

TEST(JsonText, WritesInvalidUtf8AsReplacementCharactersInsteadOfThrowing) {
  const nlohmann::json frame = {
      {"type", "error"}, {"content", "cut \xF0\x9F\x98"}, {"path", "/api/rooms/\xff"}};
  EXPECT_THROW((void)frame.dump(), nlohmann::json::type_error);  // what the server used to do
  std::string text;
  ASSERT_NO_THROW(text = json_text(frame));
  EXPECT_TRUE(utf8_code_points(text));
  const auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["content"], "cut \xEF\xBF\xBD");  // one U+FFFD for the cut sequence
  EXPECT_EQ(back["path"], "/api/rooms/\xEF\xBF\xBD");
}

TEST(JsonText, ValidTextIsWrittenExactlyAsDumpWritesIt) {
  const nlohmann::json j = {{"a", "\xF0\x9F\x98\x80 caf\xC3\xA9"}, {"n", 1}, {"l", {1, 2}}};
  EXPECT_EQ(json_text(j), j.dump());
}

// The rule behind json_text (README, "Text from outside"): no other serialization in src/. A plain dump()
// would throw on the first byte-cut string and take its handler down with it.
TEST(JsonText, IsTheOnlySerializerInTheSources) {
  const std::filesystem::path root = std::filesystem::path(SWITCHBOARD_SOURCE_DIR);
  const std::regex raw_dump(R"(\.dump\s*\()");
  std::vector<std::string> offenders;
  for (const auto& dir : {root / "src", root / "include"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().filename() == "json_text.cpp") continue;
      const auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        const auto comment = line.find("//");
        if (std::regex_search(line.substr(0, comment), raw_dump))
          offenders.push_back(std::filesystem::relative(entry.path(), root).string() + ":" +
                              std::to_string(n));
      }
    }
  }
  std::ostringstream list;
  for (const auto& o : offenders) list << "\n  " << o;
  EXPECT_TRUE(offenders.empty()) << "use util::json_text() instead of dump() at:" << list.str();
}

}  // namespace
}  // namespace switchboard::util
