#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "switchboard/chat/room_bus.hpp"
#include "switchboard/redis/redis_client.hpp"
#include "switchboard/store/history_store.hpp"

namespace switchboard::store {

// Rooms' history and fan-out in Redis, shared by every instance (issue 3): one class for both because a
// message is stored and published in one Lua script, so that the order in the log and on the channel agree
// and a published message is always readable from the log. Keys: see redis::keys (room:<id>:seq / :messages /
// :ids / :status, sender:<id>:messages). The seq is the room's INCR counter, so it is monotonic across
// instances and restarts, and reads are HMGETs of seq ranges.
//
// Durability is Redis's: run it with `appendonly yes` (and `appendfsync always` for the promise of issue 8
// that an echoed message survives power loss). Retention by age is not applied here (HistoryStore's retention
// keys apply to the SQLite store); deletion is.
//
// Thread-safety: every method may be called from any thread; handlers run on io_context threads (see
// RedisClient), never inline.
class RedisRoomLog final : public HistoryStore,
                           public chat::RoomBus,
                           public std::enable_shared_from_this<RedisRoomLog> {
 public:
  // `instance_id` marks this process's publications so it can skip its own transient frames.
  RedisRoomLog(std::shared_ptr<redis::RedisClient> client, std::string instance_id);

  // HistoryStore
  void append(const chat::Message& message, Done done) override;
  void update_status(const std::string& room_id, const std::string& message_id,
                     chat::DeliveryStatus status) override;
  void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) override;
  void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
             PageDone done) override;
  void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
              PageDone done) override;
  void delete_by_sender(const std::string& user_id, Done done) override;

  // RoomBus
  void publish_message(const chat::Message& message, AppendDone done) override;
  void publish_event(const std::string& room_id, std::string frame) override;
  void fetch(const std::string& room_id, std::uint64_t after_seq, std::size_t limit, FetchDone done) override;
  SubscriptionId subscribe(const std::string& room_id, Handlers handlers) override;
  void unsubscribe(SubscriptionId id) override;
  const std::string& instance_id() const override { return instance_id_; }

  // Call when the Redis subscriber link came back: every subscription is live again and catches up (on_live).
  void subscriber_link_restored();

  // Every instance's deletions, announced on redis::keys::kSenderDeletedChannel; `handler` gets the user id
  // of deletions made by other instances (this one's rooms were told directly). Runs on the client's strand.
  void on_sender_deleted(std::function<void(const std::string& user_id)> handler);

  // The channel payloads, exposed for unit tests: "m <origin> <seq>\n<frame>" for a stored message and
  // "e <origin>\n<frame>" for a transient frame.
  struct Envelope {
    char kind = 0;  // 'm' or 'e'
    std::string origin;
    std::uint64_t seq = 0;
    std::string frame;
  };
  static std::string encode_event(const std::string& origin, const std::string& frame);
  static std::optional<Envelope> decode(const std::string& payload);

 private:
  struct Range;
  void read_range(const std::string& room_id, const char* mode, const std::string& anchor, std::size_t limit,
                  std::function<void(std::error_code, Range)> done);

  std::shared_ptr<redis::RedisClient> client_;
  std::string instance_id_;
  std::mutex mutex_;
  struct Subscription {
    redis::RedisClient::SubscriptionId redis_id = 0;
    std::shared_ptr<Handlers> handlers;
  };
  std::unordered_map<SubscriptionId, Subscription> subscriptions_;
  SubscriptionId next_id_ = 1;
};

}  // namespace switchboard::store
