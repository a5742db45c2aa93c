#include "switchboard/chat/chat_room.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/util/clock.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

// How many stored messages a `since=` resume replays at most; a client further behind gets the newest history
// with resumed:false and pages back over REST.
constexpr std::size_t kMaxResumeMessages = 5000;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = spdlog::get("chat") ? spdlog::get("chat") : spdlog::default_logger();
  return logger;
}

json system_frame(const std::string& room_id, const std::string& text) {
  return {{"type", "system"}, {"content", text}, {"roomId", room_id}, {"timestamp", util::now_ms()}};
}

json history_frame(const std::string& room_id, const std::vector<const Message*>& messages,
                   std::optional<bool> resumed) {
  json list = json::array();
  for (const auto* m : messages) list.push_back(to_json(*m));
  json frame = {{"type", "history"}, {"roomId", room_id}};
  if (resumed) frame["resumed"] = *resumed;
  frame["messages"] = std::move(list);
  return frame;
}

// Server-made ids have the client-id shape (so clients can treat every id alike), start with the room seq so
// they read in order, and end in 48 random bits so a client cannot claim one before the server uses it.
std::string server_message_id(std::uint64_t seq) {
  return std::to_string(seq) + "-" + util::random_token(6);
}

SendError not_stored() {
  return {SendError::Kind::kUnavailable, "The message could not be stored; please retry."};
}

FrameErrorCode frame_code(SendError::Kind kind) {
  switch (kind) {
    case SendError::Kind::kTooLarge:
      return FrameErrorCode::kTooLarge;
    case SendError::Kind::kRateLimited:
      return FrameErrorCode::kRateLimited;
    case SendError::Kind::kForbidden:
      return FrameErrorCode::kForbidden;
    case SendError::Kind::kUnavailable:
      return FrameErrorCode::kUnavailable;
    default:
      return FrameErrorCode::kInvalidPayload;
  }
}

}  // namespace

ChatRoom::ChatRoom(boost::asio::any_io_executor executor, RoomInfo info, Dependencies deps)
    : strand_(boost::asio::make_strand(std::move(executor))),
      info_(std::move(info)),
      deps_(std::move(deps)) {}

ChatRoom::~ChatRoom() = default;

template <typename F>
void ChatRoom::post(F&& f) {
  boost::asio::dispatch(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable { f(); });
}

void ChatRoom::run_when_loaded(std::function<void()> f) {
  if (loaded_) return f();
  const bool first = waiting_for_load_.empty();
  waiting_for_load_.push_back(std::move(f));
  if (!first) return;
  deps_.store->load_room(
      info_.id, deps_.config.chat.room_cache_messages,
      [self = shared_from_this()](std::error_code ec, store::HistoryStore::RoomState state) {
        boost::asio::dispatch(self->strand_, [self, ec, state = std::move(state)]() mutable {
          self->on_loaded(ec, std::move(state));
        });
      });
}

void ChatRoom::on_loaded(std::error_code ec, store::HistoryStore::RoomState state) {
  if (ec) {
    // The room still works (live chat); history starts empty and writes will report the store's errors.
    log()->error("room {}: loading history failed: {}", info_.id, ec.message());
  }
  next_seq_ = state.last_seq + 1;
  for (auto& m : state.recent) {
    if (m.seq >= next_seq_) next_seq_ = m.seq + 1;
    ids_[m.id] = IdInfo{m.sender_id};
    cache_.push_back(std::move(m));
  }
  loaded_ = true;
  auto waiting = std::move(waiting_for_load_);
  for (auto& f : waiting) f();
}

ChatRoom::UserState& ChatRoom::user_state(const std::string& user_id) {
  auto it = users_.find(user_id);
  if (it == users_.end()) {
    const auto& c = deps_.config.chat;
    it = users_
             .emplace(user_id, UserState{0,
                                         SlidingWindowLimiter(static_cast<std::size_t>(c.rate_limit_messages),
                                                              c.rate_limit_window_seconds * 1000LL),
                                         SlidingWindowLimiter(static_cast<std::size_t>(c.nudge_limit),
                                                              c.nudge_window_seconds * 1000LL),
                                         -1, nullptr})
             .first;
  }
  return it->second;
}

std::string ChatRoom::display_name_of(const std::string& user_id) const {
  if (auto p = deps_.profiles->get(user_id)) return p->display_name;
  return user_id;
}

// ---- membership
// ----------------------------------------------------------------------------------------------

void ChatRoom::join(std::shared_ptr<net::ClientConnection> conn, JoinRequest request) {
  post([this, conn = std::move(conn), request = std::move(request)]() mutable {
    run_when_loaded(
        [this, conn, request = std::move(request)]() mutable { do_join(conn, std::move(request)); });
  });
}

void ChatRoom::do_join(const std::shared_ptr<net::ClientConnection>& conn, JoinRequest request) {
  const auto tail = [this](std::size_t n) {
    std::vector<const Message*> out;
    const std::size_t start = cache_.size() > n ? cache_.size() - n : 0;
    for (std::size_t i = start; i < cache_.size(); ++i) out.push_back(&cache_[i]);
    return out;
  };
  const std::size_t on_join = deps_.config.chat.history_on_join;

  if (!request.since) {
    const auto recent = tail(on_join);
    const std::string frame =
        recent.empty() ? std::string() : history_frame(info_.id, recent, std::nullopt).dump();
    return finish_join(conn, request.user_id, frame);
  }

  const std::string since = *request.since;
  const auto in_cache =
      std::find_if(cache_.begin(), cache_.end(), [&](const Message& m) { return m.id == since; });
  if (in_cache != cache_.end()) {
    std::vector<const Message*> after;
    for (auto it = std::next(in_cache); it != cache_.end(); ++it) after.push_back(&*it);
    return finish_join(conn, request.user_id, history_frame(info_.id, after, true).dump());
  }
  // Older than the cache (or unknown): ask the store, then top up with what was committed since it answered.
  deps_.store->after(info_.id, since, kMaxResumeMessages + 1,
                     [self = shared_from_this(), conn, user_id = request.user_id, tail, on_join](
                         std::error_code ec, store::HistoryStore::Page page) {
                       boost::asio::dispatch(
                           self->strand_, [self, conn, user_id, tail, on_join, ec, page = std::move(page)] {
                             std::string frame;
                             if (ec || !page.anchor_found || page.messages.size() > kMaxResumeMessages) {
                               frame = history_frame(self->info_.id, tail(on_join), false).dump();
                             } else {
                               std::vector<const Message*> after;
                               std::uint64_t last = 0;
                               for (const auto& m : page.messages) {
                                 after.push_back(&m);
                                 last = m.seq;
                               }
                               for (const auto& m : self->cache_)
                                 if (m.seq > last) after.push_back(&m);
                               frame = history_frame(self->info_.id, after, true).dump();
                             }
                             self->finish_join(conn, user_id, frame);
                           });
                     });
}

void ChatRoom::finish_join(const std::shared_ptr<net::ClientConnection>& conn, const std::string& user_id,
                           const std::string& history) {
  const auto id = conn->connection_id();
  if (!info_.is_direct) conn->send(net::make_frame(system_frame(info_.id, "Connected to ChatRoom").dump()));
  if (!history.empty()) conn->send(net::make_frame(history));

  members_[id] = Member{conn, user_id};
  member_count_hint_ = members_.size();
  auto& user = user_state(user_id);
  const bool first_socket = user.sockets++ == 0;
  if (first_socket) member_order_.push_back(user_id);
  if (info_.is_direct) return;

  const std::string joined = display_name_of(user_id) + " joined the room.";
  if (first_socket) {
    broadcast_system_line(joined);
    broadcast_participants();
  } else {
    // Another tab of someone already here: only that socket needs the lines.
    conn->send(net::make_frame(system_frame(info_.id, joined).dump()));
    broadcast_participants();
  }
}

void ChatRoom::leave(std::uint64_t connection_id) {
  post([this, connection_id] {
    const auto it = members_.find(connection_id);
    if (it == members_.end()) return;
    const std::string user_id = it->second.user_id;
    members_.erase(it);
    member_count_hint_ = members_.size();
    auto& user = user_state(user_id);
    if (--user.sockets > 0) return;
    std::erase(member_order_, user_id);
    if (user.typing_timer) {
      user.typing_timer->cancel();
      user.typing_timer.reset();
    }
    if (info_.is_direct) return;
    broadcast_system_line(display_name_of(user_id) + " left the room.");
    broadcast_participants();
  });
}

void ChatRoom::close_all(std::uint16_t code, std::string reason) {
  post([this, code, reason = std::move(reason)] {
    for (auto& [id, m] : members_)
      if (auto c = m.conn.lock()) c->close(code, reason);
  });
}

void ChatRoom::refresh_participant(const std::string& user_id) {
  post([this, user_id] {
    const auto it = users_.find(user_id);
    if (!info_.is_direct && it != users_.end() && it->second.sockets > 0) broadcast_participants();
  });
}

// ---- sending
// --------------------------------------------------------------------------------------------------

void ChatRoom::broadcast(const net::SharedFrame& frame, std::uint64_t except_connection,
                         const std::string& except_user) {
  for (const auto& [id, m] : members_) {
    if (id == except_connection || (!except_user.empty() && m.user_id == except_user)) continue;
    if (auto c = m.conn.lock()) c->send(frame);
  }
}

void ChatRoom::send_to(std::uint64_t connection_id, const net::SharedFrame& frame) {
  const auto it = members_.find(connection_id);
  if (it == members_.end()) return;
  if (auto c = it->second.conn.lock()) c->send(frame);
}

void ChatRoom::send_error(std::uint64_t connection_id, const FrameError& error) {
  send_to(connection_id, net::make_frame(encode_error(error)));
}

void ChatRoom::broadcast_system_line(const std::string& text) {
  broadcast(net::make_frame(system_frame(info_.id, text).dump()));
}

void ChatRoom::broadcast_participants() {
  json list = json::array();
  for (const auto& user_id : member_order_) {
    const auto p = deps_.profiles->get(user_id);
    // In a room a member is reachable by definition; "appear offline" still shows as offline.
    const auto status = !p                                               ? presence::Status::kOnline
                        : p->chosen_status == presence::Status::kOffline ? presence::Status::kOffline
                        : p->auto_away                                   ? presence::Status::kAway
                                                                         : p->chosen_status;
    list.push_back({{"id", user_id},
                    {"displayName", p ? p->display_name : user_id},
                    {"status", presence::to_string(status)}});
  }
  broadcast(
      net::make_frame(json{{"type", "participants"}, {"roomId", info_.id}, {"participants", list}}.dump()));
}

void ChatRoom::set_typing(const std::string& user_id, bool is_typing, std::uint64_t except_connection) {
  auto& user = user_state(user_id);
  if (user.typing_timer) user.typing_timer->cancel();
  if (is_typing) {
    if (!user.typing_timer) user.typing_timer = std::make_unique<boost::asio::steady_timer>(strand_);
    user.typing_timer->expires_after(std::chrono::milliseconds(deps_.config.chat.typing_timeout_ms));
    user.typing_timer->async_wait([self = shared_from_this(), user_id](boost::system::error_code ec) {
      // Runs on the room strand (the timer was made on it). Cancelled when a newer true, a false or a chat
      // came.
      if (ec) return;
      self->broadcast(net::make_frame(json{
                          {"type", "typing"},
                          {"roomId", self->info_.id},
                          {"senderId", user_id},
                          {"displayName", self->display_name_of(user_id)},
                          {"isTyping",
                           false}}.dump()),
                      0, user_id);
    });
  }
  broadcast(net::make_frame(json{
                {"type", "typing"},
                {"roomId", info_.id},
                {"senderId", user_id},
                {"displayName", display_name_of(user_id)},
                {"isTyping",
                 is_typing}}.dump()),
            except_connection, user_id);
}

std::optional<SendError> ChatRoom::admit_content(UserState& user, bool is_chat, bool is_nudge,
                                                 std::int64_t now) {
  const auto& c = deps_.config.chat;
  if (is_chat && user.last_chat_ms >= 0 && now - user.last_chat_ms < c.min_chat_interval_ms)
    return SendError{SendError::Kind::kRateLimited,
                     "Slow down: wait " + std::to_string(c.min_chat_interval_ms) + " ms between messages.",
                     c.min_chat_interval_ms - (now - user.last_chat_ms)};
  if (is_nudge && !user.nudges.allows(now))
    return SendError{SendError::Kind::kRateLimited,
                     "Too many nudges: at most " + std::to_string(c.nudge_limit) + " every " +
                         std::to_string(c.nudge_window_seconds) + " seconds.",
                     user.nudges.retry_after_ms(now)};
  if (!user.content.allows(now))
    return SendError{SendError::Kind::kRateLimited,
                     "Too many messages: at most " + std::to_string(c.rate_limit_messages) + " every " +
                         std::to_string(c.rate_limit_window_seconds) + " seconds in a room.",
                     user.content.retry_after_ms(now)};
  user.content.record(now);
  if (is_nudge) user.nudges.record(now);
  if (is_chat) user.last_chat_ms = now;
  return std::nullopt;
}

std::optional<std::string> ChatRoom::resolve_id(const std::string& sender_id,
                                                const std::optional<std::string>& client_id,
                                                std::uint64_t seq) {
  const auto server_id = [&] { return server_message_id(seq); };
  if (!client_id || !is_valid_client_id(*client_id)) return server_id();
  const auto it = ids_.find(*client_id);
  if (it == ids_.end()) return *client_id;
  if (it->second.sender_id == sender_id) return std::nullopt;  // a retransmission: drop silently
  return server_id();
}

Message ChatRoom::make_message(const std::string& sender_id, std::string type, std::string content,
                               const std::optional<std::string>& id) {
  Message m;
  m.seq = next_seq_++;
  m.id = id ? *id : server_message_id(m.seq);
  m.room_id = info_.id;
  m.sender_id = sender_id;
  m.display_name = display_name_of(sender_id);
  m.content = std::move(content);
  m.timestamp = util::now_ms();
  m.type = std::move(type);
  return m;
}

void ChatRoom::remember(const Message& m) {
  cache_.push_back(m);
  while (cache_.size() > deps_.config.chat.room_cache_messages) {
    ids_.erase(cache_.front().id);
    cache_.pop_front();
  }
}

void ChatRoom::store_and_broadcast(Message message, SendDone done) {
  ids_[message.id] = IdInfo{message.sender_id};
  auto shared = std::make_shared<Message>(std::move(message));
  deps_.store->append(
      *shared, [self = shared_from_this(), shared, done = std::move(done)](std::error_code ec) {
        boost::asio::dispatch(self->strand_, [self, shared, ec, done = std::move(done)] {
          const Message& m = *shared;
          auto retries = self->take_retries(m.id);
          if (ec) {
            self->ids_.erase(m.id);
            log()->error("room {}: storing message failed: {}", self->info_.id, ec.message());
            if (done) done(not_stored());
            for (auto& retry : retries) retry(not_stored());
            return;
          }
          // Only a stored message is echoed: once the sender sees it, it is in the store.
          self->remember(m);
          json frame = to_json(m);
          self->broadcast(net::make_frame(frame.dump()));
          if (self->info_.is_direct && m.type != "system" && self->deps_.hooks.dm_notification)
            self->deps_.hooks.dm_notification(self->info_.dm_user_ids, m);
          if (done) done(m);
          for (auto& retry : retries) retry(m);
        });
      });
}

std::vector<ChatRoom::SendDone> ChatRoom::take_retries(const std::string& id) {
  const auto it = retries_.find(id);
  if (it == retries_.end()) return {};
  auto out = std::move(it->second);
  retries_.erase(it);
  return out;
}

std::vector<Message> ChatRoom::context_messages(std::size_t n) const {
  std::vector<Message> out;
  const std::size_t start = cache_.size() > n ? cache_.size() - n : 0;
  for (std::size_t i = start; i < cache_.size(); ++i) out.push_back(cache_[i]);
  return out;
}

ChatRoom::SendDone ChatRoom::report_failure(std::uint64_t connection_id, std::optional<std::string> ack_id) {
  return [self = shared_from_this(), connection_id,
          ack_id = std::move(ack_id)](std::variant<Message, SendError> r) {
    if (const auto* err = std::get_if<SendError>(&r))
      self->send_error(connection_id, FrameError{frame_code(err->kind), err->message, ack_id});
  };
}

void ChatRoom::deliver(std::uint64_t connection_id, RoomFrame frame) {
  post([this, connection_id, frame = std::move(frame)]() mutable {
    run_when_loaded(
        [this, connection_id, frame = std::move(frame)]() mutable { handle_frame(connection_id, frame); });
  });
}

void ChatRoom::handle_frame(std::uint64_t connection_id, RoomFrame& frame) {
  const auto member = members_.find(connection_id);
  if (member == members_.end()) return;
  const std::string user_id = member->second.user_id;
  if (deps_.hooks.user_activity) deps_.hooks.user_activity(user_id);
  const auto now = util::steady_ms();

  const auto fail = [&](const SendError& e, const std::optional<std::string>& ack_id) {
    send_error(connection_id, FrameError{frame_code(e.kind), e.message, ack_id});
  };

  if (auto* chat = std::get_if<ChatFrame>(&frame)) {
    const auto id = resolve_id(user_id, chat->id, next_seq_);
    if (!id) return;  // duplicate of this sender's own message
    auto& user = user_state(user_id);
    if (auto err = admit_content(user, /*is_chat=*/true, /*is_nudge=*/false, now))
      return fail(*err, chat->id);
    if (user.typing_timer) user.typing_timer->cancel();
    auto message = make_message(user_id, "chat", std::move(chat->content), id);
    const auto ack_id = chat->id;
    store_and_broadcast(std::move(message), [self = shared_from_this(),
                                             report = report_failure(connection_id, ack_id)](auto result) {
      if (std::holds_alternative<SendError>(result)) return report(std::move(result));
      if (self->deps_.bots)
        self->deps_.bots->on_human_chat(self, self->info_, std::get<Message>(result),
                                        self->context_messages(self->deps_.config.ai.context_messages));
    });
  } else if (auto* nudge = std::get_if<NudgeFrame>(&frame)) {
    const auto id = resolve_id(user_id, nudge->id, next_seq_);
    if (!id) return;
    if (auto err = admit_content(user_state(user_id), false, /*is_nudge=*/true, now))
      return fail(*err, nudge->id);
    auto message = make_message(user_id, "nudge", "sent a nudge.", id);
    message.is_nudge = true;
    store_and_broadcast(std::move(message), report_failure(connection_id, nudge->id));
  } else if (auto* wink = std::get_if<WinkFrame>(&frame)) {
    const auto id = resolve_id(user_id, wink->id, next_seq_);
    if (!id) return;
    if (auto err = admit_content(user_state(user_id), false, false, now)) return fail(*err, wink->id);
    auto message = make_message(user_id, "chat", "sent a wink.", id);
    message.is_wink = true;
    message.wink_id = wink->wink_id;
    store_and_broadcast(std::move(message), report_failure(connection_id, wink->id));
  } else if (auto* typing = std::get_if<TypingFrame>(&frame)) {
    set_typing(user_id, typing->is_typing, connection_id);
  } else if (auto* presence = std::get_if<RoomPresenceFrame>(&frame)) {
    if (presence->display_name) {
      const auto check = deps_.profiles->check_display_name(user_id, *presence->display_name);
      if (check != presence::UserProfiles::NameCheck::kOk ||
          !deps_.profiles->set_display_name(user_id, *presence->display_name))
        return send_error(connection_id,
                          FrameError{FrameErrorCode::kForbidden,
                                     "That display name belongs to another user or a bot; pick another one.",
                                     presence->id});
    }
    if (presence->status) deps_.profiles->set_status(user_id, *presence->status);
    if (!info_.is_direct) broadcast_participants();
    if (deps_.hooks.profile_changed) deps_.hooks.profile_changed(user_id);
  } else if (auto* ack = std::get_if<AckFrame>(&frame)) {
    const auto it =
        std::find_if(cache_.rbegin(), cache_.rend(), [&](const Message& m) { return m.id == ack->ack_id; });
    if (it == cache_.rend() || it->sender_id == user_id || ack->status <= it->status)
      return;  // ignored silently
    it->status = ack->status;
    deps_.store->update_status(info_.id, it->id, it->status);
    broadcast(net::make_frame(json{
        {"type", "delivery_status"},
        {"roomId", info_.id},
        {"ackId", it->id},
        {"status", to_string(it->status)},
        {"senderId", user_id},
        {"timestamp",
         util::now_ms()}}.dump()));
  }
  // PingFrame: activity was noted above; nothing else to do.
}

void ChatRoom::post_message(const std::string& user_id, std::string content,
                            std::optional<std::string> client_id, SendDone done) {
  post([this, user_id, content = std::move(content), client_id = std::move(client_id),
        done = std::move(done)]() mutable {
    run_when_loaded([this, user_id, content = std::move(content), client_id = std::move(client_id),
                     done = std::move(done)]() mutable {
      if (deps_.hooks.user_activity) deps_.hooks.user_activity(user_id);
      auto id = resolve_id(user_id, client_id, next_seq_);
      if (!id) {
        // A retried REST send: answer with the message already stored under that id or, while the original
        // is still being stored (known but not cached yet), with the original's outcome once it is known.
        const auto it = std::find_if(cache_.rbegin(), cache_.rend(),
                                     [&](const Message& m) { return m.id == *client_id; });
        if (it != cache_.rend()) return done(*it);
        return retries_[*client_id].push_back(std::move(done));
      }
      auto& user = user_state(user_id);
      if (auto err = admit_content(user, true, false, util::steady_ms())) return done(*err);
      if (user.typing_timer) user.typing_timer->cancel();
      auto message = make_message(user_id, "chat", std::move(content), id);
      store_and_broadcast(
          std::move(message), [self = shared_from_this(), done = std::move(done)](auto result) {
            if (auto* m = std::get_if<Message>(&result); m && self->deps_.bots)
              self->deps_.bots->on_human_chat(self, self->info_, *m,
                                              self->context_messages(self->deps_.config.ai.context_messages));
            done(std::move(result));
          });
    });
  });
}

void ChatRoom::history_page(const std::string& before_id, std::size_t limit, PageDone done) {
  deps_.store->before(info_.id, before_id, limit,
                      [self = shared_from_this(), done = std::move(done)](std::error_code ec,
                                                                          store::HistoryStore::Page page) {
                        boost::asio::dispatch(self->strand_,
                                              [ec, page = std::move(page), done = std::move(done)]() mutable {
                                                done(ec, std::move(page));
                                              });
                      });
}

void ChatRoom::forget_sender(const std::string& sender_id) {
  post([this, sender_id] {
    // Never loaded (only REST history was read here): nothing is cached, and a later load reads placeholders.
    if (!loaded_ && waiting_for_load_.empty()) return;
    // Still loading: the load may have read the store before the deletion committed, so blank afterwards.
    run_when_loaded([this, sender_id] {
      const auto ids = blank_sender(cache_, sender_id);
      if (members_.empty()) return;
      broadcast(net::make_frame(messages_deleted_frame(info_.id, sender_id, ids).dump()));
    });
  });
}

// ---- bots
// -----------------------------------------------------------------------------------------------------

void ChatRoom::bot_typing(const std::string& bot_id, bool is_typing) {
  post([this, bot_id, is_typing] {
    broadcast(net::make_frame(json{
        {"type", "typing"},
        {"roomId", info_.id},
        {"senderId", bot_id},
        {"displayName", display_name_of(bot_id)},
        {"isTyping", is_typing}}.dump()));
  });
}

void ChatRoom::bot_delta(const std::string& bot_id, const std::string& reply_id, const std::string& delta) {
  post([this, bot_id, reply_id, delta] {
    broadcast(net::make_frame(json{
        {"type", "chat_delta"},
        {"roomId", info_.id},
        {"id", reply_id},
        {"senderId", bot_id},
        {"delta", delta}}.dump()));
  });
}

void ChatRoom::bot_reply(const std::string& bot_id, const std::string& reply_id, const std::string& text) {
  post([this, bot_id, reply_id, text] {
    run_when_loaded([this, bot_id, reply_id, text] {
      bot_typing(bot_id, false);
      const bool id_free = is_valid_client_id(reply_id) && !ids_.count(reply_id);
      store_and_broadcast(
          make_message(bot_id, "chat", text, id_free ? std::optional(reply_id) : std::nullopt), {});
    });
  });
}

void ChatRoom::bot_system(const std::string& bot_id, const std::string& text) {
  post([this, bot_id, text] {
    run_when_loaded([this, bot_id, text] {
      bot_typing(bot_id, false);
      store_and_broadcast(make_message(bot_id, "system", text, std::nullopt), {});
    });
  });
}

}  // namespace switchboard::chat
