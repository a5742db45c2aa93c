#include "switchboard/analytics/file_event_sink.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "switchboard/analytics/events.hpp"

namespace switchboard::analytics {
namespace {

namespace fs = std::filesystem;

class FileEventSinkTest : public ::testing::Test {
 protected:
  FileEventSinkTest() {
    char tmpl[] = "/tmp/switchboard-events-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~FileEventSinkTest() override { fs::remove_all(dir_); }

  static std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  static bool write(FileEventSink& sink, std::vector<Event> batch) {
    bool result = false;
    sink.write(std::move(batch), [&](bool ok) { result = ok; });
    return result;
  }
  static Event numbered(int n) {
    Event e = events::rate_limited("user_" + std::to_string(n), "messages", "group", 1000);
    e.dataset = "ds";
    e.timestamp = 1'700'000'000'000 + n;
    return e;
  }

  fs::path dir_;
};

TEST_F(FileEventSinkTest, AppendsOneJsonObjectPerLine) {
  const fs::path path = dir_ / "sub" / "events.jsonl";  // the directory is created
  FileEventSink sink({path, 1 << 20, 3});
  ASSERT_TRUE(write(sink, {numbered(1), numbered(2)}));
  ASSERT_TRUE(write(sink, {numbered(3)}));
  const auto got = lines(path);
  ASSERT_EQ(got.size(), 3u);
  const auto j = nlohmann::json::parse(got[2]);
  EXPECT_EQ(j["dataset"], "ds");
  EXPECT_EQ(j["index"], "user_3");
  EXPECT_EQ(j["blobs"], nlohmann::json({"rate_limited", "messages", "group"}));
  EXPECT_EQ(j["doubles"], nlohmann::json({1000}));
  EXPECT_EQ(j["timestamp"], 1'700'000'000'003);
}

TEST_F(FileEventSinkTest, RotatesBySizeAndKeepsKFiles) {
  const fs::path path = dir_ / "events.jsonl";
  const std::size_t line = nlohmann::json(to_json(numbered(10))).dump().size() + 1;
  // Room for three lines per file.
  FileEventSink sink({path, 3 * line + 1, 2});
  for (int n = 10; n < 20; ++n) ASSERT_TRUE(write(sink, {numbered(n)}));
  // 10 lines at 3 per file: the live file has 1, .1 and .2 have 3 each, the oldest 3 are gone.
  EXPECT_EQ(lines(path).size(), 1u);
  EXPECT_EQ(lines(sink.rotated(1)).size(), 3u);
  EXPECT_EQ(lines(sink.rotated(2)).size(), 3u);
  EXPECT_FALSE(fs::exists(sink.rotated(3)));
  EXPECT_NE(lines(path)[0].find("user_19"), std::string::npos);
  EXPECT_NE(lines(sink.rotated(1))[0].find("user_16"), std::string::npos);
  EXPECT_NE(lines(sink.rotated(2))[0].find("user_13"), std::string::npos);
  for (const auto& p : {path, sink.rotated(1), sink.rotated(2)}) EXPECT_LE(fs::file_size(p), 3 * line + 1);
}

// A batch larger than max_bytes rotates in its middle: no file ends up over the limit.
TEST_F(FileEventSinkTest, RotatesInsideALargeBatch) {
  const fs::path path = dir_ / "events.jsonl";
  const std::size_t line = to_json(numbered(10)).dump().size() + 1;
  FileEventSink sink({path, 3 * line, 5});
  std::vector<Event> batch;
  for (int n = 10; n < 20; ++n) batch.push_back(numbered(n));
  ASSERT_TRUE(write(sink, std::move(batch)));
  EXPECT_EQ(lines(path).size(), 1u);
  for (std::size_t i = 1; i <= 3; ++i) EXPECT_EQ(lines(sink.rotated(i)).size(), 3u) << i;
  EXPECT_FALSE(fs::exists(sink.rotated(4)));
  EXPECT_NE(lines(sink.rotated(3))[0].find("user_10"), std::string::npos);
  EXPECT_NE(lines(path)[0].find("user_19"), std::string::npos);
}

TEST_F(FileEventSinkTest, KeepZeroTruncatesInstead) {
  const fs::path path = dir_ / "events.jsonl";
  const std::size_t line = to_json(numbered(10)).dump().size() + 1;
  FileEventSink sink({path, 2 * line, 0});
  for (int n = 10; n < 15; ++n) ASSERT_TRUE(write(sink, {numbered(n)}));
  EXPECT_EQ(lines(path).size(), 1u);
  EXPECT_FALSE(fs::exists(sink.rotated(1)));
}

TEST_F(FileEventSinkTest, ReportsAFileItCannotOpen) {
  // A directory where the file should be.
  const fs::path path = dir_ / "taken";
  fs::create_directories(path);
  FileEventSink sink({path, 1 << 20, 1});
  EXPECT_FALSE(write(sink, {numbered(1)}));
}

}  // namespace
}  // namespace switchboard::analytics
