// Behaviour every HistoryStore shares, run against each implementation (typed tests).
#include <gtest/gtest.h>

#include <memory>

#include "history_test_util.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/sqlite_history_store.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::store {
namespace {

using namespace switchboard::store::testing;
using chat::DeliveryStatus;

struct MemoryBackend {
  static std::shared_ptr<HistoryStore> make(const std::filesystem::path&) {
    return std::make_shared<MemoryHistoryStore>(1000);
  }
};

struct SqliteBackend {
  static std::shared_ptr<HistoryStore> make(const std::filesystem::path& dir) {
    SqliteHistoryStore::Options options;
    options.file = dir / "history.db";
    return SqliteHistoryStore::open(std::move(options));
  }
};

template <typename Backend>
class HistoryStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Backend::make(dir_.path()); }
  void TearDown() override { store_->close(); }

  // Appends seq 1..n to `room`, all from alice unless `sender` says otherwise.
  void fill(const std::string& room, std::uint64_t n, const std::string& sender = "alice") {
    for (std::uint64_t i = 1; i <= n; ++i) ASSERT_FALSE(append_sync(*store_, msg(room, i, sender)));
  }

  TempDir dir_;
  std::shared_ptr<HistoryStore> store_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "Sqlite";
  }
};
TYPED_TEST_SUITE(HistoryStoreContract, Backends, BackendNames);

TYPED_TEST(HistoryStoreContract, EmptyRoomHasNothingAndSeqZero) {
  auto& s = *this->store_;
  const auto state = load_sync(s, "general", 100);
  EXPECT_TRUE(state.recent.empty());
  EXPECT_EQ(state.last_seq, 0u);

  const auto newest = before_sync(s, "general", "", 50);
  EXPECT_TRUE(newest.messages.empty());
  EXPECT_TRUE(newest.anchor_found);  // no anchor was asked for

  const auto a = after_sync(s, "general", "m1", 50);
  EXPECT_TRUE(a.messages.empty());
  EXPECT_FALSE(a.anchor_found);
  const auto b = before_sync(s, "general", "m1", 50);
  EXPECT_TRUE(b.messages.empty());
  EXPECT_FALSE(b.anchor_found);
}

TYPED_TEST(HistoryStoreContract, RoundTripsEveryField) {
  auto& s = *this->store_;
  chat::Message chat = msg("dm_alice__bob", 1, "alice", "héllo 🎵 wörld");
  chat::Message nudge = msg("dm_alice__bob", 2, "bob", "sent a nudge.");
  nudge.type = "nudge";
  nudge.is_nudge = true;
  nudge.status = DeliveryStatus::kDelivered;
  chat::Message wink = msg("dm_alice__bob", 3, "alice", "sent a wink.");
  wink.is_wink = true;
  wink.wink_id = "dancing_pig";
  wink.status = DeliveryStatus::kRead;
  wink.timestamp = 1'234'567'890'123;
  for (const auto& m : {chat, nudge, wink}) ASSERT_FALSE(append_sync(s, m));

  const auto state = load_sync(s, "dm_alice__bob", 10);
  ASSERT_EQ(state.recent.size(), 3u);
  EXPECT_EQ(state.last_seq, 3u);
  const auto& got = state.recent;
  EXPECT_EQ(got[0].content, "héllo 🎵 wörld");
  EXPECT_EQ(got[0].display_name, "Name of alice");
  EXPECT_EQ(got[0].type, "chat");
  EXPECT_EQ(got[0].room_id, "dm_alice__bob");
  EXPECT_EQ(got[0].timestamp, chat.timestamp);
  EXPECT_FALSE(got[0].deleted);
  EXPECT_EQ(got[1].type, "nudge");
  EXPECT_TRUE(got[1].is_nudge);
  EXPECT_FALSE(got[1].is_wink);
  EXPECT_EQ(got[1].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(got[1].sender_id, "bob");
  EXPECT_TRUE(got[2].is_wink);
  EXPECT_EQ(got[2].wink_id, "dancing_pig");
  EXPECT_EQ(got[2].status, DeliveryStatus::kRead);
  EXPECT_EQ(got[2].timestamp, 1'234'567'890'123);
  EXPECT_EQ(got[2].id, "m3");
}

TYPED_TEST(HistoryStoreContract, LoadRoomReturnsNewestOldestFirst) {
  this->fill("general", 10);
  auto& s = *this->store_;
  auto state = load_sync(s, "general", 3);
  EXPECT_EQ(seqs(state.recent), (std::vector<std::uint64_t>{8, 9, 10}));
  EXPECT_EQ(state.last_seq, 10u);
  state = load_sync(s, "general", 0);
  EXPECT_TRUE(state.recent.empty());
  EXPECT_EQ(state.last_seq, 10u);
  state = load_sync(s, "general", static_cast<std::size_t>(-1));
  EXPECT_EQ(state.recent.size(), 10u);
}

TYPED_TEST(HistoryStoreContract, BeforePagesBackwards) {
  this->fill("general", 10);
  auto& s = *this->store_;
  EXPECT_EQ(seqs(before_sync(s, "general", "", 3).messages), (std::vector<std::uint64_t>{8, 9, 10}));
  EXPECT_EQ(seqs(before_sync(s, "general", "m8", 3).messages), (std::vector<std::uint64_t>{5, 6, 7}));
  // A short last page, then an empty one before the first message (the anchor still exists).
  EXPECT_EQ(seqs(before_sync(s, "general", "m3", 3).messages), (std::vector<std::uint64_t>{1, 2}));
  const auto first = before_sync(s, "general", "m1", 3);
  EXPECT_TRUE(first.messages.empty());
  EXPECT_TRUE(first.anchor_found);
  // Limit bounds.
  const auto zero = before_sync(s, "general", "m5", 0);
  EXPECT_TRUE(zero.messages.empty());
  EXPECT_TRUE(zero.anchor_found);
  EXPECT_EQ(before_sync(s, "general", "m5", static_cast<std::size_t>(-1)).messages.size(), 4u);
  EXPECT_EQ(before_sync(s, "general", "", 1000).messages.size(), 10u);
  // Unknown anchors, including an id that exists in another room only.
  this->fill("music", 2);
  const auto unknown = before_sync(s, "general", "nope", 3);
  EXPECT_FALSE(unknown.anchor_found);
  EXPECT_TRUE(unknown.messages.empty());
  EXPECT_FALSE(before_sync(s, "other", "m1", 3).anchor_found);
}

TYPED_TEST(HistoryStoreContract, AfterPagesForwards) {
  this->fill("general", 10);
  auto& s = *this->store_;
  EXPECT_EQ(seqs(after_sync(s, "general", "m1", 3).messages), (std::vector<std::uint64_t>{2, 3, 4}));
  EXPECT_EQ(seqs(after_sync(s, "general", "m7", 100).messages), (std::vector<std::uint64_t>{8, 9, 10}));
  const auto last = after_sync(s, "general", "m10", 100);
  EXPECT_TRUE(last.messages.empty());
  EXPECT_TRUE(last.anchor_found);
  const auto zero = after_sync(s, "general", "m2", 0);
  EXPECT_TRUE(zero.messages.empty());
  EXPECT_TRUE(zero.anchor_found);
  const auto unknown = after_sync(s, "general", "m11", 100);
  EXPECT_FALSE(unknown.anchor_found);
  EXPECT_TRUE(unknown.messages.empty());
  EXPECT_FALSE(after_sync(s, "general", "", 100).anchor_found);
}

TYPED_TEST(HistoryStoreContract, BeforePagesReachTheFirstMessage) {
  this->fill("general", 23);
  auto& s = *this->store_;
  std::vector<std::uint64_t> all;
  std::string anchor;
  for (int pages = 0; pages < 100; ++pages) {
    const auto page = before_sync(s, "general", anchor, 5);
    if (page.messages.empty()) break;
    const auto chunk = seqs(page.messages);
    all.insert(all.begin(), chunk.begin(), chunk.end());
    anchor = page.messages.front().id;
  }
  std::vector<std::uint64_t> expected;
  for (std::uint64_t i = 1; i <= 23; ++i) expected.push_back(i);
  EXPECT_EQ(all, expected);
}

TYPED_TEST(HistoryStoreContract, RoomsAreIndependent) {
  auto& s = *this->store_;
  ASSERT_FALSE(append_sync(s, msg("general", 1)));
  ASSERT_FALSE(append_sync(s, msg("music", 1)));  // same id and seq, another room
  ASSERT_FALSE(append_sync(s, msg("music", 2)));
  EXPECT_EQ(load_sync(s, "general", 10).last_seq, 1u);
  EXPECT_EQ(load_sync(s, "music", 10).recent.size(), 2u);
}

TYPED_TEST(HistoryStoreContract, RefusesReusedIdsAndSeqs) {
  this->fill("general", 3);
  auto& s = *this->store_;
  auto same_id = msg("general", 4);
  same_id.id = "m2";
  EXPECT_EQ(append_sync(s, same_id), StoreErrc::kDuplicate);
  EXPECT_EQ(append_sync(s, msg("general", 3)), std::errc::file_exists);  // same seq
  auto older = msg("general", 2);
  older.id = "fresh";
  EXPECT_EQ(append_sync(s, older), StoreErrc::kDuplicate);  // seq must rise
  const auto state = load_sync(s, "general", 10);
  EXPECT_EQ(seqs(state.recent), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(state.recent[1].content, "hello 2");
  EXPECT_FALSE(append_sync(s, msg("general", 7)));  // gaps are fine
  EXPECT_EQ(load_sync(s, "general", 10).last_seq, 7u);
}

TYPED_TEST(HistoryStoreContract, FindLooksUpAMessageById) {
  this->fill("general", 3, "bob");
  auto& s = *this->store_;
  const auto found = find_sync(s, "general", "m2");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->seq, 2u);
  EXPECT_EQ(found->sender_id, "bob");
  EXPECT_EQ(found->content, "hello 2");
  EXPECT_FALSE(find_sync(s, "general", "m9")) << "unknown id";
  EXPECT_FALSE(find_sync(s, "music", "m2")) << "ids are per room";
}

TYPED_TEST(HistoryStoreContract, StatusOnlyRises) {
  this->fill("general", 2);
  auto& s = *this->store_;
  s.update_status("general", "m1", DeliveryStatus::kRead);
  s.update_status("general", "m1", DeliveryStatus::kDelivered);  // would lower: ignored
  s.update_status("general", "m2", DeliveryStatus::kDelivered);
  s.update_status("general", "unknown", DeliveryStatus::kRead);
  s.update_status("nowhere", "m1", DeliveryStatus::kRead);
  barrier(s);
  const auto state = load_sync(s, "general", 10);
  EXPECT_EQ(state.recent[0].status, DeliveryStatus::kRead);
  EXPECT_EQ(state.recent[1].status, DeliveryStatus::kDelivered);
}

TYPED_TEST(HistoryStoreContract, DeleteBySenderLeavesPlaceholders) {
  auto& s = *this->store_;
  ASSERT_FALSE(append_sync(s, msg("general", 1, "alice", "alice says hi")));
  ASSERT_FALSE(append_sync(s, msg("general", 2, "bob", "bob says hi")));
  ASSERT_FALSE(append_sync(s, msg("dm_alice__bob", 1, "alice", "private")));
  ASSERT_FALSE(delete_sync(s, "alice"));
  ASSERT_FALSE(append_sync(s, msg("general", 3, "alice", "after the deletion")));

  const auto general = load_sync(s, "general", 10).recent;
  ASSERT_EQ(general.size(), 3u);
  EXPECT_TRUE(general[0].deleted);
  EXPECT_EQ(general[0].content, "");
  EXPECT_EQ(general[0].sender_id, "alice");
  EXPECT_EQ(general[0].id, "m1");  // the placeholder keeps its place and id
  EXPECT_FALSE(general[1].deleted);
  EXPECT_EQ(general[1].content, "bob says hi");
  EXPECT_FALSE(general[2].deleted);
  EXPECT_EQ(general[2].content, "after the deletion");
  const auto dm = load_sync(s, "dm_alice__bob", 10).recent;
  ASSERT_EQ(dm.size(), 1u);
  EXPECT_TRUE(dm[0].deleted);
  EXPECT_EQ(dm[0].content, "");
  // Anchors on deleted messages still work.
  EXPECT_EQ(seqs(after_sync(s, "general", "m1", 10).messages), (std::vector<std::uint64_t>{2, 3}));
}

TYPED_TEST(HistoryStoreContract, ClosedStoreRefusesCalls) {
  this->fill("general", 1);
  auto& s = *this->store_;
  s.close();
  s.close();  // idempotent
  EXPECT_EQ(append_sync(s, msg("general", 2)), std::errc::operation_canceled);
  std::error_code ec;
  load_sync(s, "general", 10, &ec);
  EXPECT_EQ(ec, StoreErrc::kClosed);
  before_sync(s, "general", "", 10, &ec);
  EXPECT_EQ(ec, StoreErrc::kClosed);
  after_sync(s, "general", "m1", 10, &ec);
  EXPECT_EQ(ec, StoreErrc::kClosed);
  EXPECT_EQ(delete_sync(s, "alice"), StoreErrc::kClosed);
  find_sync(s, "general", "m1", &ec);
  EXPECT_EQ(ec, StoreErrc::kClosed);
  s.update_status("general", "m1", DeliveryStatus::kRead);  // dropped, no crash
}

TEST(HistoryStoreInterface, DeleteIsUnsupportedByDefault) {
  // A minimal store that implements only the required calls.
  class Bare final : public HistoryStore {
   public:
    void append(const chat::Message&, Done done) override { done({}); }
    void update_status(const std::string&, const std::string&, chat::DeliveryStatus) override {}
    void load_room(const std::string&, std::size_t, RoomStateDone done) override { done({}, {}); }
    void after(const std::string&, const std::string&, std::size_t, PageDone done) override { done({}, {}); }
    void before(const std::string&, const std::string&, std::size_t, PageDone done) override { done({}, {}); }
  } bare;
  EXPECT_EQ(delete_sync(bare, "alice"), std::errc::operation_not_supported);
  std::error_code ec;
  EXPECT_FALSE(find_sync(bare, "general", "m1", &ec));
  EXPECT_EQ(ec, std::errc::operation_not_supported);
  bare.close();  // the default does nothing
}

TEST(HistoryStoreError, CodesMapToPortableConditions) {
  EXPECT_EQ(make_error_code(StoreErrc::kQueueFull), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(make_error_code(StoreErrc::kDiskFull), std::errc::no_space_on_device);
  EXPECT_EQ(make_error_code(StoreErrc::kIoError), std::errc::io_error);
  EXPECT_EQ(make_error_code(StoreErrc::kClosed), std::errc::operation_canceled);
  EXPECT_EQ(std::error_code(StoreErrc::kDiskFull).message(), "the history database or its disk is full");
  EXPECT_STREQ(store_category().name(), "history_store");
}

}  // namespace
}  // namespace switchboard::store
