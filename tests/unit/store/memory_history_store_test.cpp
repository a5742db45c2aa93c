// What only the in-memory store does: its per-room ring.
#include "switchboard/store/memory_history_store.hpp"

#include <gtest/gtest.h>

#include "history_test_util.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::store {
namespace {

using namespace switchboard::store::testing;

TEST(MemoryHistoryStore, KeepsOnlyTheNewestMessagesPerRoom) {
  MemoryHistoryStore store(3);
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_FALSE(append_sync(store, msg("general", i)));
  ASSERT_FALSE(append_sync(store, msg("music", 1)));
  const auto state = load_sync(store, "general", 100);
  EXPECT_EQ(seqs(state.recent), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(state.last_seq, 5u);  // the high-water mark outlives eviction
  EXPECT_EQ(load_sync(store, "music", 100).recent.size(), 1u);
  // An evicted anchor is unknown, so a resuming client learns that it may have missed something.
  EXPECT_FALSE(after_sync(store, "general", "m1", 10).anchor_found);
  EXPECT_FALSE(before_sync(store, "general", "m2", 10).anchor_found);
  EXPECT_EQ(seqs(before_sync(store, "general", "m4", 10).messages), (std::vector<std::uint64_t>{3}));
  // A seq evicted from the ring is still refused.
  auto old = msg("general", 2);
  old.id = "fresh";
  EXPECT_TRUE(append_sync(store, old));
}

TEST(MemoryHistoryStore, ItsIdIndexFollowsTheRing) {
  MemoryHistoryStore store(3);
  for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_FALSE(append_sync(store, msg("general", i)));
  EXPECT_FALSE(find_sync(store, "general", "m2")) << "evicted";
  ASSERT_TRUE(find_sync(store, "general", "m4"));
  EXPECT_EQ(find_sync(store, "general", "m4")->seq, 4u);
  store.update_status("general", "m3", chat::DeliveryStatus::kRead);
  EXPECT_EQ(find_sync(store, "general", "m3")->status, chat::DeliveryStatus::kRead);
  // An id still in the ring is refused; an evicted one is forgotten, as everything else evicted.
  auto again = msg("general", 6);
  again.id = "m5";
  EXPECT_EQ(append_sync(store, again), StoreErrc::kDuplicate);
  again.id = "m1";
  EXPECT_FALSE(append_sync(store, again));
  EXPECT_EQ(find_sync(store, "general", "m1")->seq, 6u);
  EXPECT_FALSE(find_sync(store, "general", "m3")) << "evicted by seq 6";
}

TEST(MemoryHistoryStore, CompletesInlineOnTheCallersThread) {
  MemoryHistoryStore store(10);
  bool ran = false;
  store.append(msg("general", 1), [&](std::error_code ec) {
    EXPECT_FALSE(ec);
    ran = true;
  });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace switchboard::store
