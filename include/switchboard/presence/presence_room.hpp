#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchboard/chat/client_frame.hpp"
#include "switchboard/chat/message.hpp"
#include "switchboard/net/client_connection.hpp"
#include "switchboard/presence/user_profiles.hpp"

namespace switchboard::presence {

// Global presence as one actor (PROTOCOL §6): who is connected, status changes, DM notifications and
// auto-away. Thread-safety: every public method may be called from any thread; it posts itself to the actor's
// strand.
class PresenceRoom final : public std::enable_shared_from_this<PresenceRoom> {
 public:
  PresenceRoom(boost::asio::any_io_executor executor, std::shared_ptr<UserProfiles> profiles,
               std::chrono::milliseconds away_after);

  // Called with the user id whenever a profile changed here, so rooms can refresh their participant lists.
  void set_profile_listener(std::function<void(const std::string&)> listener) {
    profile_listener_ = std::move(listener);
  }

  // Starts the auto-away timer.
  void start();
  void stop();

  void join(std::shared_ptr<net::ClientConnection> conn, const std::string& user_id);
  void leave(std::uint64_t connection_id);
  void deliver(std::uint64_t connection_id, chat::PresenceFrame frame);

  // A frame from `user_id` on any socket: resets the idle clock and lifts auto-away.
  void activity(const std::string& user_id);
  // Broadcasts `user_id`'s current profile to every presence socket (after a change made elsewhere).
  void publish(const std::string& user_id);
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
  template <typename F>
  void post(F&& f);
  void broadcast(const net::SharedFrame& frame, std::uint64_t except_connection = 0);
  net::SharedFrame update_frame(const Profile& p) const;
  void check_idle();
  void arm_idle_timer();

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
};

}  // namespace switchboard::presence
