#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_map>

#include "switchboard/chat/chat_room.hpp"

namespace switchboard::chat {

// Finds or creates rooms by id and applies PROTOCOL §2's room-id rules and the DM participant check.
// Thread-safety: all methods are safe from any thread.
class RoomRegistry final : public std::enable_shared_from_this<RoomRegistry> {
 public:
  enum class Status { kOk, kInvalid, kNotFound, kForbidden };
  struct Lookup {
    Status status = Status::kOk;
    std::string message;  // why, when not kOk
    std::shared_ptr<ChatRoom> room;
  };

  RoomRegistry(boost::asio::any_io_executor executor, ChatRoom::Dependencies deps);

  // Resolves `room_id` for `user_id` (who must be a participant of a DM).
  Lookup open(const std::string& room_id, const std::string& user_id);

  // Pure check of a room id's shape and DM naming; fills `dm_ids` for DMs. Exposed for unit tests.
  static Status check_room_id(const std::string& room_id, const std::vector<config::GroupRoom>& groups,
                              std::vector<std::string>& dm_ids, std::string& message);
  // The DM room id of two users (sorted, byte order).
  static std::string dm_room_id(const std::string& a, const std::string& b);

  void for_each(const std::function<void(const std::shared_ptr<ChatRoom>&)>& f) const;

  // Deletes every message `user_id` ever sent, in every room (HistoryStore::delete_by_sender), then blanks
  // them in each live room's memory and tells its sockets (ChatRoom::forget_sender). `done` gets the store's
  // error, if any; then the rooms are left alone, and a retry is harmless. `done` runs on a store thread and
  // must not block. Must be called on a registry owned by a shared_ptr.
  void delete_messages_of(const std::string& user_id, std::function<void(std::error_code)> done);

 private:
  boost::asio::any_io_executor executor_;
  ChatRoom::Dependencies deps_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<ChatRoom>> rooms_;
};

}  // namespace switchboard::chat
