#include "switchboard/store/memory_history_store.hpp"

#include <algorithm>
#include <utility>

#include "switchboard/store/store_error.hpp"

namespace switchboard::store {

MemoryHistoryStore::MemoryHistoryStore(std::size_t max_messages_per_room)
    : max_per_room_(std::max<std::size_t>(1, max_messages_per_room)) {}

std::ptrdiff_t MemoryHistoryStore::find(const Room& room, const std::string& id) {
  // The id gives the seq; the ring is in ascending seq order (with gaps), so a binary search finds it.
  const auto known = room.seq_by_id.find(id);
  if (known == room.seq_by_id.end()) return -1;
  const auto it = std::lower_bound(room.ring.begin(), room.ring.end(), known->second,
                                   [](const chat::Message& m, std::uint64_t seq) { return m.seq < seq; });
  return it == room.ring.end() || it->seq != known->second ? -1 : it - room.ring.begin();
}

void MemoryHistoryStore::append(const chat::Message& message, Done done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else {
      Room& room = rooms_[message.room_id];
      // Same contract as the durable store: a seq or id already used in the room is refused.
      if (message.seq <= room.last_seq || find(room, message.id) >= 0) {
        ec = StoreErrc::kDuplicate;
      } else {
        room.ring.push_back(message);
        room.seq_by_id.emplace(message.id, message.seq);
        room.last_seq = message.seq;
        while (room.ring.size() > max_per_room_) {
          room.seq_by_id.erase(room.ring.front().id);
          room.ring.pop_front();
        }
      }
    }
  }
  done(ec);
}

void MemoryHistoryStore::update_status(const std::string& room_id, const std::string& message_id,
                                       chat::DeliveryStatus status) {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  const auto i = find(it->second, message_id);
  if (i < 0) return;
  auto& stored = it->second.ring[static_cast<std::size_t>(i)].status;
  stored = std::max(stored, status);
}

void MemoryHistoryStore::load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) {
  RoomState state;
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else if (const auto it = rooms_.find(room_id); it != rooms_.end()) {
      const auto& ring = it->second.ring;
      const std::size_t n = std::min(limit, ring.size());
      state.recent.assign(ring.end() - static_cast<std::ptrdiff_t>(n), ring.end());
      state.last_seq = it->second.last_seq;
    }
  }
  done(ec, std::move(state));
}

void MemoryHistoryStore::after(const std::string& room_id, const std::string& since_id, std::size_t limit,
                               PageDone done) {
  Page page;
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(room_id);
    const auto i = it == rooms_.end() ? -1 : find(it->second, since_id);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else if (i < 0) {
      page.anchor_found = false;
    } else {
      const auto& ring = it->second.ring;
      const auto first = ring.begin() + i + 1;
      const auto n = std::min<std::size_t>(limit, static_cast<std::size_t>(ring.end() - first));
      page.messages.assign(first, first + static_cast<std::ptrdiff_t>(n));
    }
  }
  done(ec, std::move(page));
}

void MemoryHistoryStore::before(const std::string& room_id, const std::string& before_id, std::size_t limit,
                                PageDone done) {
  Page page;
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(room_id);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else if (it == rooms_.end()) {
      page.anchor_found = before_id.empty();
    } else {
      const auto& ring = it->second.ring;
      std::ptrdiff_t end = static_cast<std::ptrdiff_t>(ring.size());
      if (!before_id.empty()) end = find(it->second, before_id);
      if (end < 0) {
        page.anchor_found = false;
      } else {
        const auto n =
            static_cast<std::ptrdiff_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(end)));
        page.messages.assign(ring.begin() + (end - n), ring.begin() + end);
      }
    }
  }
  done(ec, std::move(page));
}

void MemoryHistoryStore::find(const std::string& room_id, const std::string& id, MessageDone done) {
  std::optional<chat::Message> found;
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else if (const auto it = rooms_.find(room_id); it != rooms_.end()) {
      if (const auto i = find(it->second, id); i >= 0) found = it->second.ring[static_cast<std::size_t>(i)];
    }
  }
  done(ec, std::move(found));
}

void MemoryHistoryStore::delete_by_sender(const std::string& user_id, Done done) {
  std::error_code ec;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      ec = StoreErrc::kClosed;
    } else {
      for (auto& [id, room] : rooms_) {
        for (auto& m : room.ring) {
          if (m.sender_id != user_id || m.deleted) continue;
          m.content.clear();
          m.deleted = true;
        }
      }
    }
  }
  done(ec);
}

void MemoryHistoryStore::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  rooms_.clear();
}

}  // namespace switchboard::store
