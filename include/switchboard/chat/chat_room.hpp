#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/chat/bot_gateway.hpp"
#include "switchboard/chat/client_frame.hpp"
#include "switchboard/chat/rate_limiter.hpp"
#include "switchboard/chat/room_bus.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/net/client_connection.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/store/history_store.hpp"

namespace switchboard::chat {

// Why a send was refused; mapped to an error frame on WebSocket and to an HTTP envelope on REST.
struct SendError {
  enum class Kind { kInvalid, kTooLarge, kRateLimited, kForbidden, kUnavailable } kind;
  std::string message;
  std::int64_t retry_after_ms = 0;  // for kRateLimited
};

// Hooks a room calls into the rest of the server (presence); all may be called from the room's strand and
// must not block.
struct RoomHooks {
  // A DM chat, nudge or wink was stored: notify both participants' presence sockets.
  std::function<void(const std::vector<std::string>& user_ids, const Message&)> dm_notification;
  // A user changed their name or status from inside a room.
  std::function<void(const std::string& user_id)> profile_changed;
  // Any frame from a user counts as activity (auto-away).
  std::function<void(const std::string& user_id)> user_activity;
};

// One chat room as an actor: every method posts itself to the room's strand, so the room's state is only ever
// touched there. Members are held by weak_ptr. Implements PROTOCOL §5.
//
// Thread-safety: all public methods are safe from any thread. Completion handlers run on the room's strand.
class ChatRoom final : public BotRoomHandle, public std::enable_shared_from_this<ChatRoom> {
 public:
  struct Dependencies {
    const config::Config& config;
    FrameLimits limits;
    std::shared_ptr<store::HistoryStore> store;
    std::shared_ptr<presence::UserProfiles> profiles;
    std::shared_ptr<BotGateway> bots;  // may be null
    RoomHooks hooks;
    std::shared_ptr<analytics::Metrics> metrics;       // may be null
    std::shared_ptr<analytics::EventRecorder> events;  // may be null (analytics.sink "none")
    // Set when several instances share rooms through Redis: messages are stored in and delivered from the
    // shared log (in its seq order), and transient frames are relayed to the other instances. Null: one
    // instance.
    std::shared_ptr<RoomBus> bus;
  };
  struct JoinRequest {
    std::string user_id;
    std::optional<std::string> since;  // resume after this message id
  };
  using SendDone = std::function<void(std::variant<Message, SendError>)>;
  using PageDone = std::function<void(std::error_code, store::HistoryStore::Page)>;

  ChatRoom(boost::asio::any_io_executor executor, RoomInfo info, Dependencies deps);
  ~ChatRoom() override;

  const RoomInfo& info() const { return info_; }

  // Adds a socket: sends the connect sequence and history, then announces it.
  void join(std::shared_ptr<net::ClientConnection> conn, JoinRequest request);
  void leave(std::uint64_t connection_id);
  // A decoded frame from a member socket.
  void deliver(std::uint64_t connection_id, RoomFrame frame);
  // REST send: the same validation, limits, storage and broadcast as a WebSocket chat.
  void post_message(const std::string& user_id, std::string content, std::optional<std::string> client_id,
                    SendDone done);
  // REST history page (oldest first); see HistoryStore::before.
  void history_page(const std::string& before_id, std::size_t limit, PageDone done);
  // Call after HistoryStore::delete_by_sender(sender_id) completed: blanks that sender's messages in this
  // room's memory (content cleared, `deleted` set) and, when the room has members, broadcasts
  //   (ext) {type:"messages_deleted", roomId, senderId, ids:[...]}
  // meaning "every message of senderId in this room is now a placeholder"; `ids` lists the ones this room
  // held in memory (older ones a client paged in over REST are placeholders as well). A room that was never
  // loaded has nothing to blank; one still loading blanks once loaded.
  void forget_sender(const std::string& sender_id);
  // Re-announces participants when `user_id` (if present here) changed name or status elsewhere.
  void refresh_participant(const std::string& user_id);
  // Closes every member socket (shutdown).
  void close_all(std::uint16_t code, std::string reason);
  std::size_t member_count_hint() const { return member_count_hint_.load(); }

  // BotRoomHandle
  void bot_typing(const std::string& bot_id, bool is_typing) override;
  void bot_delta(const std::string& bot_id, const std::string& reply_id, const std::string& delta) override;
  void bot_reply(const std::string& bot_id, const std::string& reply_id, const std::string& text) override;
  void bot_system(const std::string& bot_id, const std::string& text) override;

 private:
  struct Member {
    std::weak_ptr<net::ClientConnection> conn;
    std::string user_id;
  };
  struct UserState {
    int sockets = 0;
    SlidingWindowLimiter content;
    SlidingWindowLimiter nudges;
    std::int64_t last_chat_ms = -1;
    std::unique_ptr<boost::asio::steady_timer> typing_timer;
    std::int64_t joined_ms = 0;  // wall clock of the first socket here: orders participants on every instance
  };
  // A member of this room connected to another instance, from that instance's roster.
  struct RemoteMember {
    std::string user_id;
    std::string display_name;
    std::int64_t joined_ms = 0;
  };
  struct RemoteRoster {
    std::vector<RemoteMember> members;
    std::int64_t heard_ms = 0;  // steady clock of the last roster from that instance
  };
  struct IdInfo {
    std::string sender_id;
  };

  // Loading the room from the store on first use. A failed load is retried with backoff; until one
  // succeeds the room refuses work (kFailed) rather than start empty and reuse seqs the store already holds.
  enum class LoadState { kIdle, kLoading, kFailed, kLoaded };
  struct LoadWaiter {
    std::function<void()> ready;
    std::function<void()> unavailable;  // the load failed; may be empty
  };
  // Outcome of store_and_broadcast. `fresh` is false when the message turned out to be stored already (this
  // sender's retransmission of an id that had left the cache): the result is the stored original, which was
  // neither stored nor broadcast again.
  using StoreDone = std::function<void(std::variant<Message, SendError> result, bool fresh)>;

  // Runs `f` on the strand; an exception from it is logged and counted, and the room goes on.
  template <typename F>
  void post(F&& f);
  template <typename F>
  void when_timer_fires(boost::asio::steady_timer& timer, F&& f);
  // Runs `ready` once the room is loaded, or `unavailable` when loading fails (at once while a retry is
  // pending).
  void run_when_loaded(std::function<void()> ready, std::function<void()> unavailable = {});
  void start_load();
  void on_loaded(std::error_code ec, store::HistoryStore::RoomState state);

  void do_join(const std::shared_ptr<net::ClientConnection>& conn, JoinRequest request);
  void finish_join(const std::shared_ptr<net::ClientConnection>& conn, const std::string& user_id,
                   const std::string& history_frame);
  void handle_frame(std::uint64_t connection_id, RoomFrame& frame);
  std::optional<SendError> admit_content(const std::string& user_id, UserState& user, bool is_chat,
                                         bool is_nudge, std::int64_t now);
  UserState& user_state(const std::string& user_id);

  // Builds a message from `user_id`, stores it, then broadcasts it; `done` reports the outcome. `via` ("ws"
  // or "rest") marks a message a person sent, for analytics; bots and system lines pass nullptr.
  void store_and_broadcast(Message message, StoreDone done, const char* via = nullptr);
  // The store refused `message` as a duplicate: looks its id up and answers with the stored original (same
  // sender: a retransmission), stores it again under a server id (another sender's id), or fails.
  void resolve_duplicate(std::shared_ptr<Message> message, StoreDone done, const char* via);
  // The store's answer to one append, from any thread.
  struct Stored {
    std::shared_ptr<Message> message;
    std::error_code ec;
    StoreDone done;
    const char* via;
  };
  // Queues a store answer for the strand; answers that arrive together (a group commit) share one strand
  // handler instead of one each.
  void on_stored(Stored stored);
  void drain_stored();
  // Echoes and broadcasts a stored message, or reports why it was not stored (on the strand).
  void finish_stored(Stored stored);
  // Metrics and analytics for a message that was stored and broadcast.
  void record_stored(const Message& m, const char* via);
  // Removes and returns the REST retries waiting for message `id` (see retries_).
  std::vector<SendDone> take_retries(const std::string& id);
  // A StoreDone that tells the sending socket when its message could not be stored.
  StoreDone report_failure(std::uint64_t connection_id, std::optional<std::string> ack_id);
  Message make_message(const std::string& sender_id, std::string type, std::string content,
                       const std::optional<std::string>& client_id);
  // Resolves a client id per PROTOCOL §5: kept when valid and unused; nullopt when it repeats the sender's
  // own.
  std::optional<std::string> resolve_id(const std::string& sender_id,
                                        const std::optional<std::string>& client_id, std::uint64_t seq);
  void remember(const Message& m);

  void broadcast(const net::SharedFrame& frame, std::uint64_t except_connection = 0,
                 const std::string& except_user = {});
  void send_to(std::uint64_t connection_id, const net::SharedFrame& frame);
  void send_error(std::uint64_t connection_id, const FrameError& error);
  // The participants list goes out at once after a quiet interval, else once at the end of it: a burst of
  // joins (a reconnect storm, a big room filling up) costs a few lists instead of one per join, each to
  // every member.
  void announce_participants();
  void send_participants();
  net::SharedFrame participants_frame() const;
  std::chrono::milliseconds participants_interval() const;
  void broadcast_system_line(const std::string& text);

  // ---- several instances (deps_.bus)
  // Stores `message` in the shared log; its broadcast comes back through on_published, on every instance.
  void publish_via_bus(std::shared_ptr<Message> message, StoreDone done, const char* via);
  void subscribe_to_bus();
  // A stored message from the log's channel: delivered in seq order, holding back any that arrive early.
  void on_published(RoomBus::Published published);
  void deliver_published(std::uint64_t seq, std::string frame);
  void deliver_held_back();
  // Reads what the channel did not bring (a reconnect, a message that overtook another) from the log.
  void catch_up();
  // A transient frame from another instance.
  void on_relayed(const std::string& frame);
  // Rosters: each instance tells the others which users it holds in this room (when that changes, when asked,
  // and every roster_refresh_seconds), so that participants lists name members on every instance. An
  // instance not heard from for three periods has crashed or lost Redis: its members drop out.
  void publish_roster(bool ask_for_rosters);
  void on_roster(const std::string& instance, RemoteRoster roster, bool asks_for_rosters);
  // Also checks, every period, whether the room can let go of its subscription (see deactivate()).
  void arm_roster_timer();
  // A room with no local members and nothing in flight drops its bus subscription and its memory of the log,
  // so that an instance holds subscriptions only for rooms with local members. The next use loads it again
  // from the shared log (as at first use), so nothing published meanwhile is missed.
  bool can_deactivate() const;
  void deactivate();
  // Sends a transient frame this room broadcast to the room's members on other instances.
  void relay(const net::SharedFrame& frame);
  // broadcast() plus relay(): for transient frames (typing, receipts, bot deltas, system lines).
  void broadcast_event(const net::SharedFrame& frame, std::uint64_t except_connection = 0,
                       const std::string& except_user = {});
  void set_typing(const std::string& user_id, bool is_typing, std::uint64_t except_connection);
  std::string display_name_of(const std::string& user_id) const;
  std::vector<Message> context_messages(std::size_t n) const;

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  RoomInfo info_;
  Dependencies deps_;
  LoadState load_state_ = LoadState::kIdle;
  std::vector<LoadWaiter> waiting_for_load_;
  std::unique_ptr<boost::asio::steady_timer> reload_timer_;
  std::chrono::milliseconds reload_backoff_{0};

  std::unordered_map<std::uint64_t, Member> members_;
  std::vector<std::string> member_order_;  // users in join order, one entry per user
  std::unordered_map<std::string, UserState> users_;
  std::atomic<std::size_t> member_count_hint_{0};

  std::deque<Message> cache_;                    // the newest committed messages, oldest first
  std::unordered_map<std::string, IdInfo> ids_;  // ids of cached and in-flight messages
  // REST retries of a message still being stored, by id: answered with the original's outcome, so that a
  // client retrying after a timeout never gets a second copy.
  std::unordered_map<std::string, std::vector<SendDone>> retries_;
  std::uint64_t next_seq_ = 1;
  // The highest seq that is already the past for this room's sockets: loaded at activation or broadcast
  // since. A committed message above it still has its broadcast coming (see the `since=` resume).
  std::uint64_t broadcast_seq_ = 0;
  std::mutex stored_mutex_;
  std::vector<Stored> stored_;  // guarded by stored_mutex_: store answers not handled yet, in order
  RoomBus::SubscriptionId bus_subscription_ = 0;
  std::map<std::uint64_t, std::string> held_back_;  // published messages waiting for an earlier seq
  bool catching_up_ = false;
  std::unique_ptr<boost::asio::steady_timer> catch_up_timer_;

  std::unique_ptr<boost::asio::steady_timer> participants_timer_;
  bool participants_pending_ = false;
  std::int64_t participants_sent_ms_ = -1;  // steady clock; -1: never
  bool roster_changed_ = false;             // local members changed since the last roster went out
  std::size_t publishing_ = 0;              // messages handed to the bus, not answered yet
  std::map<std::string, RemoteRoster> remote_rosters_;  // by instance id
  std::unique_ptr<boost::asio::steady_timer> roster_timer_;
};

}  // namespace switchboard::chat
