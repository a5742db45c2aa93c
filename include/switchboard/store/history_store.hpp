#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "switchboard/chat/message.hpp"

namespace switchboard::store {

// Durable (or not) storage of room messages. The ChatRoom actor is the only writer for its room and keeps the
// recent messages in memory; the store is what survives, and what answers for anything older.
//
// Thread-safety: every method may be called from any thread. Completion handlers may run on any thread (the
// store's own, or inline before the call returns); callers post them back to their strand.
class HistoryStore {
 public:
  struct Page {
    std::vector<chat::Message> messages;  // oldest first
    bool anchor_found = true;             // false when the `since`/`before` id is not in the store
  };
  using Done = std::function<void(std::error_code)>;
  using PageDone = std::function<void(std::error_code, Page)>;
  // Loading a room on its first activation: the newest `limit` messages and the highest seq ever used.
  struct RoomState {
    std::vector<chat::Message> recent;  // oldest first
    std::uint64_t last_seq = 0;
  };
  using RoomStateDone = std::function<void(std::error_code, RoomState)>;
  using MessageDone = std::function<void(std::error_code, std::optional<chat::Message>)>;

  virtual ~HistoryStore() = default;

  // Persists `message` (seq already assigned by the room, strictly increasing per room). `done` runs once the
  // message is durable by this store's standard; only then may it be echoed. Calls for one room complete in
  // order.
  virtual void append(const chat::Message& message, Done done) = 0;

  // Raises a stored message's delivery status. Fire-and-forget: losing one is acceptable, lowering is not.
  virtual void update_status(const std::string& room_id, const std::string& message_id,
                             chat::DeliveryStatus status) = 0;

  // See RoomState.
  virtual void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) = 0;

  // Messages strictly after `since_id`, oldest first, at most `limit`. anchor_found=false if unknown.
  virtual void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
                     PageDone done) = 0;

  // Up to `limit` messages strictly before `before_id` (or the newest, when before_id is empty), oldest
  // first.
  virtual void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
                      PageDone done) = 0;

  // The message stored under `id` in the room, or nullopt when there is none. A room uses it when an append
  // was refused as a duplicate, to tell a retransmission from another sender's id. Stores that cannot look a
  // message up report std::errc::operation_not_supported.
  virtual void find(const std::string& room_id, const std::string& id, MessageDone done) {
    (void)room_id;
    (void)id;
    done(std::make_error_code(std::errc::operation_not_supported), std::nullopt);
  }

  // Removes the content of every message `user_id` ever sent, in every room: the text is blanked (and erased
  // from the backing file, not only hidden) and the message stays as a placeholder with `deleted` set. `done`
  // runs once that is durable. Stores that cannot delete report std::errc::operation_not_supported.
  virtual void delete_by_sender(const std::string& user_id, Done done) {
    (void)user_id;
    done(std::make_error_code(std::errc::operation_not_supported));
  }

  // Flushes everything accepted so far and releases the store's threads and files; later calls complete with
  // an error. Blocks until done; call it at shutdown, after the rooms stopped writing, and never from a
  // completion handler. Idempotent.
  virtual void close() {}
};

}  // namespace switchboard::store
