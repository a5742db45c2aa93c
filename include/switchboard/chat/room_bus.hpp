#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "switchboard/chat/message.hpp"

namespace switchboard::chat {

// The fan-out bus between instances that share one room (DESIGN §1): a room's messages are stored in one
// shared, ordered log and published to every instance with members in that room, and transient frames
// (typing, participants, delivery status, bot deltas, system lines) are relayed as they are. Present only
// when several instances share Redis; a single instance broadcasts directly.
//
// Order: the log assigns each message its room seq (1, 2, 3, ...) when it stores it, in one atomic step with
// the publication, so every instance sees the same order. A subscriber delivers by seq and fills gaps from
// the log (fetch), so a lost publication (a reconnect) is caught up rather than missed.
//
// Thread-safety: every method may be called from any thread. Handlers run on the bus's own thread or strand;
// receivers post them to their own strand and keep them short.
class RoomBus {
 public:
  using SubscriptionId = std::uint64_t;

  // The outcome of appending: the seq the log gave the message, or, when a message with the same id is in the
  // log already (a retried send), that stored message instead (idempotent sends).
  struct Appended {
    std::uint64_t seq = 0;
    std::optional<Message> existing;
  };
  using AppendDone = std::function<void(std::error_code, Appended)>;
  // A stored message as published: its seq and its wire frame (PROTOCOL §2 Message JSON), serialized once by
  // the publisher and relayed to local sockets as is.
  struct Published {
    std::uint64_t seq = 0;
    std::string frame;
  };
  using FetchDone = std::function<void(std::error_code, std::vector<Published>)>;

  struct Handlers {
    std::function<void(Published)> on_message;        // a stored message, in publication order
    std::function<void(std::string frame)> on_event;  // a transient frame from another instance
    // The subscription is (again) live: anything published while it was not may be missing; catch up with
    // fetch(). Also runs once after the first subscription.
    std::function<void()> on_live;
  };

  virtual ~RoomBus() = default;

  // Stores `message` (its seq is ignored: the log assigns it) and publishes it to the room's subscribers.
  virtual void publish_message(const Message& message, AppendDone done) = 0;
  // Relays a transient frame to the room's members on other instances (this instance's own are skipped).
  virtual void publish_event(const std::string& room_id, std::string frame) = 0;
  // Stored messages with seq in (after_seq, after_seq + limit], oldest first.
  virtual void fetch(const std::string& room_id, std::uint64_t after_seq, std::size_t limit,
                     FetchDone done) = 0;

  virtual SubscriptionId subscribe(const std::string& room_id, Handlers handlers) = 0;
  virtual void unsubscribe(SubscriptionId id) = 0;

  // This instance's id on the bus (rooms name their own members with it in roster frames).
  virtual const std::string& instance_id() const = 0;
};

// The inverse of to_json(Message) for frames read back from a shared log; nullopt when `frame` is not a
// Message.
std::optional<Message> message_from_frame(const std::string& frame, std::uint64_t seq);

}  // namespace switchboard::chat
