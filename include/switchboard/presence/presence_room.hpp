#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchboard/chat/client_frame.hpp"
#include "switchboard/chat/message.hpp"
#include "switchboard/net/client_connection.hpp"
#include "switchboard/presence/presence_bus.hpp"
#include "switchboard/presence/remote_presence.hpp"
#include "switchboard/presence/user_profiles.hpp"

namespace switchboard::presence {

// Global presence as one actor (PROTOCOL §6): who is connected, status changes, DM notifications and
// auto-away. Thread-safety: every public method may be called from any thread; it posts itself to the actor's
// strand.
//
// With a PresenceBus (instances sharing Redis) presence is global: this instance publishes its part of each
// user (connected here, presence sockets here, its idle timer's verdict, and the user's latest name, status
// and message) and merges the other instances' parts. A user is reachable while connected to any instance;
// auto-away holds only when every instance with their presence sockets says so; the newest name/status/
// message change wins everywhere and is written to the local profiles. Local sockets get the same frames as
// for a local change (presence_join for a tab opened elsewhere, presence_update when what others see
// changes). A user's last presence socket closing on an instance also ends their socket-less sign-ins on the
// others, as it does locally. Guests signed in elsewhere get a profile here while they are connected.
class PresenceRoom final : public std::enable_shared_from_this<PresenceRoom> {
 public:
  PresenceRoom(boost::asio::any_io_executor executor, std::shared_ptr<UserProfiles> profiles,
               std::chrono::milliseconds away_after);

  // Called with the user id whenever a profile changed here, so rooms can refresh their participant lists.
  void set_profile_listener(std::function<void(const std::string&)> listener) {
    profile_listener_ = std::move(listener);
  }

  // Shares presence with other instances. Call before start().
  void set_bus(std::shared_ptr<PresenceBus> bus) { bus_ = std::move(bus); }

  // Starts the auto-away timer (and the bus).
  void start();
  void stop();

  void join(std::shared_ptr<net::ClientConnection> conn, const std::string& user_id);
  void leave(std::uint64_t connection_id);
  void deliver(std::uint64_t connection_id, chat::PresenceFrame frame);

  // A frame from `user_id` on any socket: resets the idle clock and lifts auto-away.
  void activity(const std::string& user_id);
  // Broadcasts `user_id`'s current profile to every presence socket (after a change made elsewhere: REST,
  // a room's presence frame), and shares it with the other instances.
  void publish(const std::string& user_id);
  // `user_id` was marked connected here outside the actor (a sign-in, a session adopted from another
  // instance): share it with the other instances.
  void signed_in(const std::string& user_id);
  // {type:"message_notification", message} to every presence socket of each of `user_ids`.
  void notify(const std::vector<std::string>& user_ids, const chat::Message& message);
  void close_all(std::uint16_t code, std::string reason);
  // A session of `user_id` ended. Guests disappear from the contact list once their last presence socket is
  // gone; a user seen only over REST goes offline.
  void session_ended(const std::string& user_id, bool is_guest);

 private:
  struct Member {
    std::weak_ptr<net::ClientConnection> conn;
    std::string user_id;
  };
  // What other users see of a user: a change of any of these is announced.
  struct Seen {
    Status status = Status::kOffline;
    std::string display_name;
    std::string personal_message;
    bool operator==(const Seen&) const = default;
  };
  static Seen seen(const std::optional<Profile>& p);

  template <typename F>
  void post(F&& f);
  void broadcast(const net::SharedFrame& frame, std::uint64_t except_connection = 0);
  net::SharedFrame update_frame(const Profile& p) const;
  void check_idle();
  void arm_idle_timer();

  // Recomputes what the other instances add to `user_id` and stores it in the profile; the profile after.
  std::optional<Profile> remerge(const std::string& user_id);
  // Publishes this instance's part of `user_id` on the bus (no-op without one).
  void share(const std::string& user_id, PresenceSnapshot::Event event);
  void stamp_fields(const std::string& user_id);
  // Another instance's change to `user_id` (`snapshot` null when that instance's part is gone).
  void remote_change(const std::string& user_id, const PresenceSnapshot* snapshot,
                     PresenceSnapshot::Event event);
  // Writes a newer name/status/message from another instance to the profile; true when it was newer.
  bool adopt_fields(const PresenceSnapshot& s);
  void remote_changes(const std::vector<std::string>& users,
                      const std::unordered_map<std::string, const PresenceSnapshot*>& snapshots = {});
  void republish();
  PresenceSnapshot snapshot_of(const Profile& p, PresenceSnapshot::Event event) const;

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::shared_ptr<UserProfiles> profiles_;
  std::chrono::milliseconds away_after_;
  boost::asio::steady_timer idle_timer_;
  bool stopped_ = false;
  std::function<void(const std::string&)> profile_listener_;

  std::unordered_map<std::uint64_t, Member> members_;
  std::unordered_map<std::string, int> sockets_per_user_;
  std::unordered_map<std::string, std::int64_t> last_activity_;  // steady ms, users with sockets only
  std::unordered_map<std::string, bool> guests_leaving_;  // guest sessions ended while sockets were open

  // Global presence (with a bus).
  std::shared_ptr<PresenceBus> bus_;
  RemotePresence remote_;
  std::unordered_set<std::string> local_away_;  // users this instance's idle timer set away
  struct FieldsStamp {
    std::int64_t at = 0;  // wall ms
    std::string by;       // instance
  };
  std::unordered_map<std::string, FieldsStamp> fields_at_;  // latest name/status/message change known
};

}  // namespace switchboard::presence
