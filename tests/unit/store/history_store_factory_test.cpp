// The test-only history.max_page_count key: from the environment through the factory to the SQLite store, so
// that integration tests can fill the "disk" without a tiny file system.
#include "switchboard/store/history_store_factory.hpp"

#include <gtest/gtest.h>

#include <map>

#include "history_test_util.hpp"
#include "switchboard/config/config.hpp"

namespace switchboard::store {
namespace {

using testing::append_sync;
using testing::msg;
using testing::TempDir;

TEST(HistoryStoreFactory, MaxPageCountFromTheEnvironmentFillsTheDatabase) {
  TempDir dir;
  const std::map<std::string, std::string> none;
  const auto c = config::load(
      "/nonexistent/switchboard.json", false,
      {{"SWITCHBOARD_HISTORY_MAX_PAGE_COUNT", "16"}, {"SWITCHBOARD_DATA_DIR", dir.path().string()}}, none);
  EXPECT_EQ(c.history.max_page_count, 16u);
  EXPECT_EQ(config::load("/nonexistent/switchboard.json", false, none, none).history.max_page_count, 0u);
  auto store = make_history_store(c);
  std::error_code ec;
  std::uint64_t seq = 0;
  while (!ec && seq < 100) ec = append_sync(*store, msg("general", ++seq, "alice", std::string(3000, 'x')));
  EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.message();
  EXPECT_GT(seq, 1u);  // the cap leaves room for a few messages first
  store->close();
}

}  // namespace
}  // namespace switchboard::store
