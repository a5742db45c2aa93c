#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "switchboard/store/history_store.hpp"

namespace switchboard::store {

// The non-durable HistoryStore: each room keeps a ring of its newest `max_messages_per_room` messages in
// process memory, so everything is lost on restart. For tests, development and deployments that accept that.
//
// Thread-safety: every method may be called from any thread; one mutex guards all rooms. Every completion
// handler runs inline, on the caller's thread, before the call returns, and never under the lock (so a
// handler may call back into the store). After close(), calls complete with StoreErrc::kClosed.
class MemoryHistoryStore final : public HistoryStore {
 public:
  explicit MemoryHistoryStore(std::size_t max_messages_per_room);

  void append(const chat::Message& message, Done done) override;
  void update_status(const std::string& room_id, const std::string& message_id,
                     chat::DeliveryStatus status) override;
  void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) override;
  void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
             PageDone done) override;
  void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
              PageDone done) override;
  // Only the ring is searched: an id evicted from it is not found.
  void find(const std::string& room_id, const std::string& id, MessageDone done) override;
  void delete_by_sender(const std::string& user_id, Done done) override;
  void close() override;

 private:
  struct Room {
    std::deque<chat::Message> ring;  // ascending seq; at most max_per_room_
    // The seq of every id in `ring`: lookups and the duplicate check on append do not scan the ring.
    std::unordered_map<std::string, std::uint64_t> seq_by_id;
    std::uint64_t last_seq = 0;  // survives eviction from the ring
  };

  // Index of `id` in `room.ring`, or -1.
  static std::ptrdiff_t find(const Room& room, const std::string& id);

  const std::size_t max_per_room_;
  std::mutex mutex_;
  std::unordered_map<std::string, Room> rooms_;  // guarded by mutex_
  bool closed_ = false;                          // guarded by mutex_
};

}  // namespace switchboard::store
