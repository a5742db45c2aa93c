#include "switchboard/chat/chat_room.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "switchboard/analytics/events.hpp"
#include "switchboard/store/store_error.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/handler_guard.hpp"
#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"
#include "switchboard/util/utf8.hpp"

namespace switchboard::chat {
namespace {

using nlohmann::json;

// How many stored messages a `since=` resume replays at most; a client further behind gets the newest history
// with resumed:false and pages back over REST.
constexpr std::size_t kMaxResumeMessages = 5000;

// The type of the frames that carry rosters between instances (never sent to a client).
constexpr const char* kRosterFrameType = "_roster";

constexpr util::AreaLogger log{"chat"};

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

SendError not_loaded() {
  return {SendError::Kind::kUnavailable,
          "This room's history cannot be loaded right now; please retry in a few seconds."};
}

// Backoff between attempts to load a room whose first load failed.
constexpr std::chrono::milliseconds kFirstReloadDelay{100};
// Several instances: how many log entries one catch-up reads, how many early publications a room holds back
// while it catches up (beyond that it drops them and reads them from the log), and the retry delay.
constexpr std::size_t kCatchUpBatch = 500;
constexpr std::size_t kMaxHeldBack = 2000;
constexpr std::chrono::milliseconds kCatchUpRetryDelay{500};
constexpr std::chrono::milliseconds kMaxReloadDelay{10'000};
// WebSocket close code 1013, "Try Again Later" (RFC 6455 registry): a join refused while the room cannot
// load.
constexpr std::uint16_t kCloseTryAgainLater = 1013;

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
  // A task that throws is dropped and logged; the room goes on serving its other members.
  boost::asio::dispatch(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable {
    util::run_guarded(util::HandlerSite::kActor, self->info_.id, f);
  });
}

template <typename F>
void ChatRoom::when_timer_fires(boost::asio::steady_timer& timer, F&& f) {
  // The timer was made on the strand, so `f` runs there, guarded like a posted task. Not run when cancelled.
  timer.async_wait([self = shared_from_this(), f = std::forward<F>(f)](boost::system::error_code ec) mutable {
    if (!ec) util::run_guarded(util::HandlerSite::kActor, self->info_.id, f);
  });
}

void ChatRoom::run_when_loaded(std::function<void()> ready, std::function<void()> unavailable) {
  switch (load_state_) {
    case LoadState::kLoaded:
      return ready();
    case LoadState::kFailed:
      // A retry is scheduled; answer now rather than hold the caller for the backoff.
      if (unavailable) unavailable();
      return;
    case LoadState::kLoading:
      waiting_for_load_.push_back({std::move(ready), std::move(unavailable)});
      return;
    case LoadState::kIdle:
      waiting_for_load_.push_back({std::move(ready), std::move(unavailable)});
      return start_load();
  }
}

void ChatRoom::start_load() {
  load_state_ = LoadState::kLoading;
  deps_.store->load_room(
      info_.id, deps_.config.chat.room_cache_messages,
      [self = shared_from_this()](std::error_code ec, store::HistoryStore::RoomState state) {
        self->post([self, ec, state = std::move(state)]() mutable { self->on_loaded(ec, std::move(state)); });
      });
}

void ChatRoom::on_loaded(std::error_code ec, store::HistoryStore::RoomState state) {
  auto waiting = std::move(waiting_for_load_);
  waiting_for_load_.clear();
  if (ec) {
    // Starting empty would show no history and hand out seqs the store already holds (every send refused as
    // a duplicate). Refuse work until a retry loads the room.
    reload_backoff_ =
        reload_backoff_.count() == 0 ? kFirstReloadDelay : std::min(reload_backoff_ * 2, kMaxReloadDelay);
    log()->error("room {}: loading history failed: {}; retrying in {} ms", info_.id, ec.message(),
                 reload_backoff_.count());
    load_state_ = LoadState::kFailed;
    if (!reload_timer_) reload_timer_ = std::make_unique<boost::asio::steady_timer>(strand_);
    reload_timer_->expires_after(reload_backoff_);
    when_timer_fires(*reload_timer_, [this] {
      if (load_state_ == LoadState::kFailed) start_load();
    });
    for (auto& w : waiting)
      if (w.unavailable) w.unavailable();
    return;
  }
  reload_backoff_ = std::chrono::milliseconds(0);
  next_seq_ = state.last_seq + 1;
  for (auto& m : state.recent) {
    if (m.seq >= next_seq_) next_seq_ = m.seq + 1;
    ids_[m.id] = IdInfo{m.sender_id};
    cache_.push_back(std::move(m));
  }
  // Everything committed so far is history for the sockets that join from now on.
  broadcast_seq_ = next_seq_ - 1;
  load_state_ = LoadState::kLoaded;
  if (deps_.bus && bus_subscription_ == 0) subscribe_to_bus();
  for (auto& w : waiting) w.ready();
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
        [this, conn, request = std::move(request)]() mutable { do_join(conn, std::move(request)); },
        [conn] {
          // Never a member: say why, then close so that the client reconnects later.
          const auto e = not_loaded();
          conn->send(net::make_frame(encode_error(FrameError{frame_code(e.kind), e.message, {}})));
          conn->close(kCloseTryAgainLater, "Try again later");
        });
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
        recent.empty() ? std::string() : util::json_text(history_frame(info_.id, recent, std::nullopt));
    return finish_join(conn, request.user_id, frame);
  }

  const std::string since = *request.since;
  const auto in_cache =
      std::find_if(cache_.begin(), cache_.end(), [&](const Message& m) { return m.id == since; });
  if (in_cache != cache_.end()) {
    std::vector<const Message*> after;
    for (auto it = std::next(in_cache); it != cache_.end(); ++it) after.push_back(&*it);
    return finish_join(conn, request.user_id, util::json_text(history_frame(info_.id, after, true)));
  }
  // Older than the cache (or unknown): ask the store, then top up with what was committed since it answered.
  deps_.store->after(info_.id, since, kMaxResumeMessages + 1,
                     [self = shared_from_this(), conn, user_id = request.user_id, tail, on_join](
                         std::error_code ec, store::HistoryStore::Page page) {
                       self->post([self, conn, user_id, tail, on_join, ec, page = std::move(page)] {
                         std::string frame;
                         if (ec || !page.anchor_found || page.messages.size() > kMaxResumeMessages) {
                           frame = util::json_text(history_frame(self->info_.id, tail(on_join), false));
                         } else {
                           std::vector<const Message*> after;
                           std::uint64_t last = 0;
                           for (const auto& m : page.messages) {
                             // Committed, but its broadcast has not run yet: it reaches this socket live
                             // (a member by then), so listing it here would deliver it twice.
                             if (m.seq > self->broadcast_seq_) break;
                             after.push_back(&m);
                             last = m.seq;
                           }
                           for (const auto& m : self->cache_)
                             if (m.seq > last) after.push_back(&m);
                           frame = util::json_text(history_frame(self->info_.id, after, true));
                         }
                         self->finish_join(conn, user_id, frame);
                       });
                     });
}

void ChatRoom::finish_join(const std::shared_ptr<net::ClientConnection>& conn, const std::string& user_id,
                           const std::string& history) {
  const auto id = conn->connection_id();
  if (!info_.is_direct)
    conn->send(net::make_frame(util::json_text(system_frame(info_.id, "Connected to ChatRoom"))));
  if (!history.empty()) conn->send(net::make_frame(history));

  members_[id] = Member{conn, user_id};
  member_count_hint_ = members_.size();
  auto& user = user_state(user_id);
  const bool first_socket = user.sockets++ == 0;
  if (first_socket) {
    member_order_.push_back(user_id);
    user.joined_ms = util::now_ms();
    roster_changed_ = true;
  }
  if (info_.is_direct) return;

  const std::string joined = display_name_of(user_id) + " joined the room.";
  if (first_socket) {
    broadcast_system_line(joined);
    announce_participants();
  } else {
    // Another tab of someone already here: only that socket needs the lines; the list did not change.
    conn->send(net::make_frame(util::json_text(system_frame(info_.id, joined))));
    conn->send(participants_frame());
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
    roster_changed_ = true;
    if (user.typing_timer) {
      user.typing_timer->cancel();
      user.typing_timer.reset();
    }
    if (info_.is_direct) return;
    broadcast_system_line(display_name_of(user_id) + " left the room.");
    announce_participants();
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
    if (!info_.is_direct && it != users_.end() && it->second.sockets > 0) announce_participants();
  });
}

// ---- sending
// --------------------------------------------------------------------------------------------------

void ChatRoom::broadcast(const net::SharedFrame& frame, std::uint64_t except_connection,
                         const std::string& except_user) {
  std::uint64_t delivered = 0;
  for (const auto& [id, m] : members_) {
    if (id == except_connection || (!except_user.empty() && m.user_id == except_user)) continue;
    if (auto c = m.conn.lock()) {
      net::send_or_close(*c, frame, info_.id);
      ++delivered;
    }
  }
  // One atomic add per broadcast, not per member.
  if (deps_.metrics && delivered) deps_.metrics->broadcast_deliveries.inc(delivered);
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
  broadcast_event(net::make_frame(util::json_text(system_frame(info_.id, text))));
}

void ChatRoom::announce_participants() {
  if (info_.is_direct || participants_pending_) return;
  const auto interval = participants_interval();
  const auto since_last = util::steady_ms() - participants_sent_ms_;
  if (participants_sent_ms_ < 0 || since_last >= interval.count()) return send_participants();
  participants_pending_ = true;
  if (!participants_timer_) participants_timer_ = std::make_unique<boost::asio::steady_timer>(strand_);
  participants_timer_->expires_after(interval - std::chrono::milliseconds(since_last));
  when_timer_fires(*participants_timer_, [this] {
    participants_pending_ = false;
    send_participants();
  });
}

std::chrono::milliseconds ChatRoom::participants_interval() const {
  const int base = deps_.config.chat.participants_interval_ms;
  if (base == 0) return std::chrono::milliseconds(0);
  // Each list is O(members) bytes to each of the members: bigger rooms get them less often.
  return std::chrono::milliseconds(std::max<std::int64_t>(base, static_cast<std::int64_t>(members_.size())));
}

void ChatRoom::send_participants() {
  participants_sent_ms_ = util::steady_ms();
  if (deps_.bus && roster_changed_) publish_roster(false);
  if (!members_.empty()) broadcast(participants_frame());
}

net::SharedFrame ChatRoom::participants_frame() const {
  struct Entry {
    const std::string* user_id;
    const std::string* remote_name;  // for a member only another instance knows
    std::int64_t joined_ms;
  };
  std::vector<Entry> entries;
  entries.reserve(member_order_.size());
  for (const auto& user_id : member_order_)
    entries.push_back({&user_id, nullptr, users_.at(user_id).joined_ms});
  if (!remote_rosters_.empty()) {
    // Members anywhere, once each, in the order they arrived (the same order on every instance).
    std::unordered_map<std::string_view, std::size_t> index;
    for (std::size_t i = 0; i < entries.size(); ++i) index.emplace(*entries[i].user_id, i);
    for (const auto& [instance, roster] : remote_rosters_) {
      for (const auto& m : roster.members) {
        const auto [it, added] = index.emplace(m.user_id, entries.size());
        if (added)
          entries.push_back({&m.user_id, &m.display_name, m.joined_ms});
        else
          entries[it->second].joined_ms = std::min(entries[it->second].joined_ms, m.joined_ms);
      }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.joined_ms != b.joined_ms ? a.joined_ms < b.joined_ms : *a.user_id < *b.user_id;
    });
  }
  json list = json::array();
  for (const auto& e : entries) {
    const auto p = deps_.profiles->get(*e.user_id);
    // In a room a member is reachable by definition; "appear offline" still shows as offline.
    const auto status = !p                                               ? presence::Status::kOnline
                        : p->chosen_status == presence::Status::kOffline ? presence::Status::kOffline
                        : p->auto_away                                   ? presence::Status::kAway
                                                                         : p->chosen_status;
    const std::string& name = p ? p->display_name : e.remote_name ? *e.remote_name : *e.user_id;
    list.push_back({{"id", *e.user_id}, {"displayName", name}, {"status", presence::to_string(status)}});
  }
  return net::make_frame(
      util::json_text(json{{"type", "participants"}, {"roomId", info_.id}, {"participants", list}}));
}

void ChatRoom::set_typing(const std::string& user_id, bool is_typing, std::uint64_t except_connection) {
  auto& user = user_state(user_id);
  if (user.typing_timer) user.typing_timer->cancel();
  if (is_typing) {
    if (!user.typing_timer) user.typing_timer = std::make_unique<boost::asio::steady_timer>(strand_);
    user.typing_timer->expires_after(std::chrono::milliseconds(deps_.config.chat.typing_timeout_ms));
    // Cancelled when a newer true, a false or a chat came.
    when_timer_fires(*user.typing_timer, [this, user_id] {
      broadcast_event(net::make_frame(util::json_text(json{{"type", "typing"},
                                                           {"roomId", info_.id},
                                                           {"senderId", user_id},
                                                           {"displayName", display_name_of(user_id)},
                                                           {"isTyping", false}})),
                      0, user_id);
    });
  }
  broadcast_event(net::make_frame(util::json_text(json{{"type", "typing"},
                                                       {"roomId", info_.id},
                                                       {"senderId", user_id},
                                                       {"displayName", display_name_of(user_id)},
                                                       {"isTyping", is_typing}})),
                  except_connection, user_id);
}

std::optional<SendError> ChatRoom::admit_content(const std::string& user_id, UserState& user, bool is_chat,
                                                 bool is_nudge, std::int64_t now) {
  const auto& c = deps_.config.chat;
  const auto limited = [&](const char* scope, std::string message, std::int64_t retry_after_ms) {
    if (deps_.events)
      deps_.events->record(analytics::events::rate_limited(
          user_id, scope, info_.is_direct ? "direct" : "group", retry_after_ms));
    return SendError{SendError::Kind::kRateLimited, std::move(message), retry_after_ms};
  };
  if (is_chat && user.last_chat_ms >= 0 && now - user.last_chat_ms < c.min_chat_interval_ms)
    return limited("chat_interval",
                   "Slow down: wait " + std::to_string(c.min_chat_interval_ms) + " ms between messages.",
                   c.min_chat_interval_ms - (now - user.last_chat_ms));
  if (is_nudge && !user.nudges.allows(now))
    return limited("nudges",
                   "Too many nudges: at most " + std::to_string(c.nudge_limit) + " every " +
                       std::to_string(c.nudge_window_seconds) + " seconds.",
                   user.nudges.retry_after_ms(now));
  if (!user.content.allows(now))
    return limited("messages",
                   "Too many messages: at most " + std::to_string(c.rate_limit_messages) + " every " +
                       std::to_string(c.rate_limit_window_seconds) + " seconds in a room.",
                   user.content.retry_after_ms(now));
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

void ChatRoom::store_and_broadcast(Message message, StoreDone done, const char* via) {
  if (deps_.bus) return publish_via_bus(std::make_shared<Message>(std::move(message)), std::move(done), via);
  ids_[message.id] = IdInfo{message.sender_id};
  auto shared = std::make_shared<Message>(std::move(message));
  deps_.store->append(
      *shared, [self = shared_from_this(), shared, done = std::move(done), via](std::error_code ec) mutable {
        self->on_stored(Stored{std::move(shared), ec, std::move(done), via});
      });
}

void ChatRoom::on_stored(Stored stored) {
  {
    std::lock_guard lock(stored_mutex_);
    const bool drain_pending = !stored_.empty();
    stored_.push_back(std::move(stored));
    if (drain_pending) return;
  }
  // Inline when the store answered on the strand (the memory store does), else one hop for the whole queue.
  post([this] { drain_stored(); });
}

void ChatRoom::drain_stored() {
  std::vector<Stored> answers;
  {
    std::lock_guard lock(stored_mutex_);
    answers.swap(stored_);
  }
  for (auto& a : answers) finish_stored(std::move(a));
}

void ChatRoom::finish_stored(Stored stored) {
  const Message& m = *stored.message;
  auto& done = stored.done;
  // The id is taken in the store although not in this room's memory (it left the cache): find out by whom
  // before answering. The id stays in ids_ meanwhile, so that retries queue behind this.
  if (stored.ec == store::StoreErrc::kDuplicate)
    return resolve_duplicate(std::move(stored.message), std::move(done), stored.via);
  auto retries = take_retries(m.id);
  if (stored.ec) {
    ids_.erase(m.id);
    log()->error("room {}: storing message failed: {}", info_.id, stored.ec.message());
    if (done) done(not_stored(), true);
    for (auto& retry : retries) retry(not_stored());
    return;
  }
  // Only a stored message is echoed: once the sender sees it, it is in the store.
  remember(m);
  json frame = to_json(m);
  broadcast(net::make_frame(util::json_text(frame)));
  broadcast_seq_ = m.seq;
  record_stored(m, stored.via);
  if (info_.is_direct && m.type != "system" && deps_.hooks.dm_notification)
    deps_.hooks.dm_notification(info_.dm_user_ids, m);
  if (done) done(m, true);
  for (auto& retry : retries) retry(m);
}

void ChatRoom::resolve_duplicate(std::shared_ptr<Message> message, StoreDone done, const char* via) {
  const std::string id = message->id;
  deps_.store->find(info_.id, id,
                    [self = shared_from_this(), message = std::move(message), done = std::move(done), via](
                        std::error_code ec, std::optional<Message> existing) mutable {
                      self->post([self, message = std::move(message), done = std::move(done), via, ec,
                                  existing = std::move(existing)]() mutable {
                        const Message& m = *message;
                        auto retries = self->take_retries(m.id);
                        self->ids_.erase(m.id);
                        if (!ec && existing && existing->sender_id == m.sender_id) {
                          // This sender's own earlier message: a retransmission, answered with the stored
                          // original (PROTOCOL §5 dedupe), never stored or broadcast twice.
                          if (done) done(*existing, false);
                          for (auto& retry : retries) retry(*existing);
                          return;
                        }
                        if (!ec && existing) {
                          // Another sender's id: replaced by a server id, as for an id still in the
                          // cache.
                          Message again = m;
                          again.seq = self->next_seq_++;
                          again.id = server_message_id(again.seq);
                          return self->store_and_broadcast(
                              std::move(again),
                              [done = std::move(done), retries = std::move(retries)](
                                  std::variant<Message, SendError> result, bool fresh) {
                                for (auto& retry : retries) retry(result);
                                if (done) done(std::move(result), fresh);
                              },
                              via);
                        }
                        // Not found: the seq, not the id, was refused (the room is behind the store), or
                        // the lookup failed.
                        log()->error("room {}: message {} refused as a duplicate ({})", self->info_.id, m.id,
                                     ec ? ec.message() : std::string("seq already used"));
                        if (done) done(not_stored(), true);
                        for (auto& retry : retries) retry(not_stored());
                      });
                    });
}

void ChatRoom::record_stored(const Message& m, const char* via) {
  using Kind = analytics::Metrics::MessageKind;
  if (deps_.metrics) {
    const Kind kind = m.is_nudge           ? Kind::kNudge
                      : m.is_wink          ? Kind::kWink
                      : m.type == "system" ? Kind::kSystem
                      : via == nullptr     ? Kind::kBotReply
                                           : Kind::kChat;
    deps_.metrics->messages(kind).inc();
  }
  if (!deps_.events || via == nullptr) return;
  // Group room ids are public; a direct room's id names both people, so it stays out of the event.
  const std::string_view room_type = info_.is_direct ? "direct" : "group";
  const std::string_view room_id = info_.is_direct ? std::string_view() : std::string_view(info_.id);
  if (m.is_nudge) {
    deps_.events->record(analytics::events::nudge(m.sender_id, room_type, room_id));
  } else if (m.is_wink) {
    deps_.events->record(analytics::events::wink(m.sender_id, room_type, room_id, m.wink_id));
  } else {
    deps_.events->record(analytics::events::message_sent(m.sender_id, room_type, room_id, via,
                                                         util::utf8_code_points(m.content).value_or(0),
                                                         m.content.size()));
  }
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

ChatRoom::StoreDone ChatRoom::report_failure(std::uint64_t connection_id, std::optional<std::string> ack_id) {
  return [self = shared_from_this(), connection_id, ack_id = std::move(ack_id)](
             std::variant<Message, SendError> r, bool /*fresh*/) {
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
    if (auto err = admit_content(user_id, user, /*is_chat=*/true, /*is_nudge=*/false, now))
      return fail(*err, chat->id);
    if (user.typing_timer) user.typing_timer->cancel();
    auto message = make_message(user_id, "chat", std::move(chat->content), id);
    const auto ack_id = chat->id;
    store_and_broadcast(
        std::move(message),
        [self = shared_from_this(), report = report_failure(connection_id, ack_id)](auto result, bool fresh) {
          if (std::holds_alternative<SendError>(result)) return report(std::move(result), fresh);
          if (!fresh) return;  // a retransmission of a stored message: dropped silently, as PROTOCOL §5 says
          if (self->deps_.bots)
            self->deps_.bots->on_human_chat(self, self->info_, std::get<Message>(result),
                                            self->context_messages(self->deps_.config.ai.context_messages));
        },
        "ws");
  } else if (auto* nudge = std::get_if<NudgeFrame>(&frame)) {
    const auto id = resolve_id(user_id, nudge->id, next_seq_);
    if (!id) return;
    if (auto err = admit_content(user_id, user_state(user_id), false, /*is_nudge=*/true, now))
      return fail(*err, nudge->id);
    auto message = make_message(user_id, "nudge", "sent a nudge.", id);
    message.is_nudge = true;
    store_and_broadcast(std::move(message), report_failure(connection_id, nudge->id), "ws");
  } else if (auto* wink = std::get_if<WinkFrame>(&frame)) {
    const auto id = resolve_id(user_id, wink->id, next_seq_);
    if (!id) return;
    if (auto err = admit_content(user_id, user_state(user_id), false, false, now))
      return fail(*err, wink->id);
    auto message = make_message(user_id, "chat", "sent a wink.", id);
    message.is_wink = true;
    message.wink_id = wink->wink_id;
    store_and_broadcast(std::move(message), report_failure(connection_id, wink->id), "ws");
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
    if (!info_.is_direct) announce_participants();
    if (deps_.hooks.profile_changed) deps_.hooks.profile_changed(user_id);
  } else if (auto* ack = std::get_if<AckFrame>(&frame)) {
    const auto it =
        std::find_if(cache_.rbegin(), cache_.rend(), [&](const Message& m) { return m.id == ack->ack_id; });
    if (it == cache_.rend() || it->sender_id == user_id || ack->status <= it->status)
      return;  // ignored silently
    it->status = ack->status;
    deps_.store->update_status(info_.id, it->id, it->status);
    broadcast_event(net::make_frame(util::json_text(json{{"type", "delivery_status"},
                                                         {"roomId", info_.id},
                                                         {"ackId", it->id},
                                                         {"status", to_string(it->status)},
                                                         {"senderId", user_id},
                                                         {"timestamp", util::now_ms()}})));
  }
  // PingFrame: activity was noted above; nothing else to do.
}

void ChatRoom::post_message(const std::string& user_id, std::string content,
                            std::optional<std::string> client_id, SendDone done) {
  post([this, user_id, content = std::move(content), client_id = std::move(client_id),
        done = std::move(done)]() mutable {
    auto unavailable = [done] { done(not_loaded()); };
    run_when_loaded(
        [this, user_id, content = std::move(content), client_id = std::move(client_id),
         done = std::move(done)]() mutable {
          if (deps_.hooks.user_activity) deps_.hooks.user_activity(user_id);
          auto id = resolve_id(user_id, client_id, next_seq_);
          if (!id) {
            // A retried REST send: answer with the message already stored under that id or, while the
            // original is still being stored (known but not cached yet), with the original's outcome once it
            // is known.
            const auto it = std::find_if(cache_.rbegin(), cache_.rend(),
                                         [&](const Message& m) { return m.id == *client_id; });
            if (it != cache_.rend()) return done(*it);
            return retries_[*client_id].push_back(std::move(done));
          }
          auto& user = user_state(user_id);
          if (auto err = admit_content(user_id, user, true, false, util::steady_ms())) return done(*err);
          if (user.typing_timer) user.typing_timer->cancel();
          auto message = make_message(user_id, "chat", std::move(content), id);
          store_and_broadcast(
              std::move(message),
              [self = shared_from_this(), done = std::move(done)](auto result, bool fresh) {
                if (auto* m = std::get_if<Message>(&result); m && fresh && self->deps_.bots)
                  self->deps_.bots->on_human_chat(
                      self, self->info_, *m, self->context_messages(self->deps_.config.ai.context_messages));
                done(std::move(result));
              },
              "rest");
        },
        std::move(unavailable));
  });
}

void ChatRoom::history_page(const std::string& before_id, std::size_t limit, PageDone done) {
  deps_.store->before(info_.id, before_id, limit,
                      [self = shared_from_this(), done = std::move(done)](std::error_code ec,
                                                                          store::HistoryStore::Page page) {
                        self->post([ec, page = std::move(page), done = std::move(done)]() mutable {
                          done(ec, std::move(page));
                        });
                      });
}

void ChatRoom::forget_sender(const std::string& sender_id) {
  post([this, sender_id] {
    // Not loaded and no load under way (never used, or a retry pending): nothing is cached, and the next load
    // reads placeholders.
    if (load_state_ == LoadState::kIdle || load_state_ == LoadState::kFailed) return;
    // Still loading: the load may have read the store before the deletion committed, so blank afterwards.
    run_when_loaded([this, sender_id] {
      const auto ids = blank_sender(cache_, sender_id);
      if (members_.empty()) return;
      broadcast(net::make_frame(util::json_text(messages_deleted_frame(info_.id, sender_id, ids))));
    });
  });
}

// ---- bots
// -----------------------------------------------------------------------------------------------------

void ChatRoom::bot_typing(const std::string& bot_id, bool is_typing) {
  post([this, bot_id, is_typing] {
    broadcast_event(net::make_frame(util::json_text(json{{"type", "typing"},
                                                         {"roomId", info_.id},
                                                         {"senderId", bot_id},
                                                         {"displayName", display_name_of(bot_id)},
                                                         {"isTyping", is_typing}})));
  });
}

void ChatRoom::bot_delta(const std::string& bot_id, const std::string& reply_id, const std::string& delta) {
  post([this, bot_id, reply_id, delta] {
    broadcast_event(net::make_frame(util::json_text(json{{"type", "chat_delta"},
                                                         {"roomId", info_.id},
                                                         {"id", reply_id},
                                                         {"senderId", bot_id},
                                                         {"delta", delta}})));
  });
}

void ChatRoom::bot_reply(const std::string& bot_id, const std::string& reply_id, const std::string& text) {
  post([this, bot_id, reply_id, text] {
    run_when_loaded(
        [this, bot_id, reply_id, text] {
          bot_typing(bot_id, false);
          const bool id_free = is_valid_client_id(reply_id) && !ids_.count(reply_id);
          store_and_broadcast(
              make_message(bot_id, "chat", text, id_free ? std::optional(reply_id) : std::nullopt), {});
        },
        [this, bot_id] {
          log()->warn("room {}: a reply of {} was dropped: the room cannot be loaded", info_.id, bot_id);
        });
  });
}

void ChatRoom::bot_system(const std::string& bot_id, const std::string& text) {
  post([this, bot_id, text] {
    run_when_loaded(
        [this, bot_id, text] {
          bot_typing(bot_id, false);
          store_and_broadcast(make_message(bot_id, "system", text, std::nullopt), {});
        },
        [this, bot_id] {
          log()->warn("room {}: a line of {} was dropped: the room cannot be loaded", info_.id, bot_id);
        });
  });
}

// ---- several instances
// ------------------------------------------------------------------------------------------

void ChatRoom::broadcast_event(const net::SharedFrame& frame, std::uint64_t except_connection,
                               const std::string& except_user) {
  broadcast(frame, except_connection, except_user);
  relay(frame);
}

void ChatRoom::relay(const net::SharedFrame& frame) {
  if (deps_.bus) deps_.bus->publish_event(info_.id, *frame);
}

void ChatRoom::publish_via_bus(std::shared_ptr<Message> message, StoreDone done, const char* via) {
  ids_[message->id] = IdInfo{message->sender_id};
  ++publishing_;
  deps_.bus->publish_message(*message, [self = shared_from_this(), message, done = std::move(done), via](
                                           std::error_code ec, RoomBus::Appended appended) mutable {
    self->post([self, message, done = std::move(done), via, ec, appended = std::move(appended)]() mutable {
      --self->publishing_;
      auto retries = self->take_retries(message->id);
      if (ec) {
        self->ids_.erase(message->id);
        log()->error("room {}: storing message failed: {}", self->info_.id, ec.message());
        if (done) done(not_stored(), true);
        for (auto& retry : retries) retry(not_stored());
        return;
      }
      if (appended.existing) {
        const Message& existing = *appended.existing;
        self->ids_[existing.id] = IdInfo{existing.sender_id};
        if (existing.sender_id == message->sender_id) {
          // A retransmission (perhaps through another instance): the stored original, not a second copy.
          if (done) done(existing, false);
          for (auto& retry : retries) retry(existing);
          return;
        }
        // Another sender's id: stored under a server id instead, as for an id this room remembers.
        Message again = *message;
        again.id = server_message_id(self->next_seq_++);
        return self->publish_via_bus(
            std::make_shared<Message>(std::move(again)),
            [done = std::move(done), retries = std::move(retries)](std::variant<Message, SendError> r,
                                                                   bool fresh) {
              for (auto& retry : retries) retry(r);
              if (done) done(std::move(r), fresh);
            },
            via);
      }
      // Stored: the echo and broadcast come through on_published, in the log's order, on every instance.
      message->seq = appended.seq;
      self->record_stored(*message, via);
      if (done) done(*message, true);
      for (auto& retry : retries) retry(*message);
    });
  });
}

void ChatRoom::subscribe_to_bus() {
  std::weak_ptr<ChatRoom> weak = weak_from_this();
  const auto on_strand = [weak](auto f) {
    if (auto self = weak.lock()) self->post([self, f = std::move(f)]() mutable { f(*self); });
  };
  RoomBus::Handlers handlers;
  handlers.on_message = [on_strand](RoomBus::Published p) {
    on_strand([p = std::move(p)](ChatRoom& room) mutable { room.on_published(std::move(p)); });
  };
  handlers.on_event = [on_strand](std::string frame) {
    on_strand([frame = std::move(frame)](ChatRoom& room) { room.on_relayed(frame); });
  };
  handlers.on_live = [on_strand] {
    on_strand([](ChatRoom& room) {
      room.catch_up();
      // Rosters published while the subscription was down were missed: ask again.
      room.publish_roster(true);
    });
  };
  bus_subscription_ = deps_.bus->subscribe(info_.id, std::move(handlers));
  arm_roster_timer();
}

bool ChatRoom::can_deactivate() const {
  return deps_.bus && bus_subscription_ != 0 && load_state_ == LoadState::kLoaded && members_.empty() &&
         waiting_for_load_.empty() && retries_.empty() && publishing_ == 0 && !catching_up_ &&
         held_back_.empty();
}

void ChatRoom::deactivate() {
  deps_.bus->unsubscribe(bus_subscription_);
  bus_subscription_ = 0;
  if (catch_up_timer_) catch_up_timer_->cancel();
  remote_rosters_.clear();
  cache_.clear();
  ids_.clear();
  broadcast_seq_ = 0;
  next_seq_ = 1;
  load_state_ = LoadState::kIdle;  // the next join or send loads the room again, then subscribes
  log()->debug("room {}: no local members; dropped its subscription", info_.id);
}

void ChatRoom::publish_roster(bool ask_for_rosters) {
  if (!deps_.bus || info_.is_direct) return;
  roster_changed_ = false;
  json members = json::array();
  for (const auto& user_id : member_order_)
    members.push_back({{"id", user_id},
                       {"displayName", display_name_of(user_id)},
                       {"joinedMs", users_.at(user_id).joined_ms}});
  json frame = {{"type", kRosterFrameType},
                {"roomId", info_.id},
                {"instance", deps_.bus->instance_id()},
                {"members", std::move(members)}};
  if (ask_for_rosters) frame["ask"] = true;
  deps_.bus->publish_event(info_.id, util::json_text(frame));
}

void ChatRoom::on_roster(const std::string& instance, RemoteRoster roster, bool asks_for_rosters) {
  if (instance.empty() || instance == deps_.bus->instance_id()) return;
  if (asks_for_rosters && !member_order_.empty()) publish_roster(false);
  const auto same = [](const std::vector<RemoteMember>& a, const std::vector<RemoteMember>& b) {
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(), [](const RemoteMember& x, const RemoteMember& y) {
          return x.user_id == y.user_id && x.display_name == y.display_name && x.joined_ms == y.joined_ms;
        });
  };
  bool changed = false;
  if (roster.members.empty()) {
    changed = remote_rosters_.erase(instance) > 0;
  } else {
    auto& slot = remote_rosters_[instance];
    changed = !same(slot.members, roster.members);
    slot = std::move(roster);
  }
  if (changed) announce_participants();
}

void ChatRoom::arm_roster_timer() {
  if (!roster_timer_) roster_timer_ = std::make_unique<boost::asio::steady_timer>(strand_);
  const auto period = std::chrono::seconds(deps_.config.chat.roster_refresh_seconds);
  roster_timer_->expires_after(period);
  roster_timer_->async_wait([weak = weak_from_this(), period](boost::system::error_code ec) {
    // Runs on the room strand (the timer was made on it).
    // Held weakly: the period alone must not keep a room alive.
    const auto self = weak.lock();
    if (ec || !self) return;
    if (self->can_deactivate()) return self->deactivate();
    util::run_guarded(util::HandlerSite::kActor, self->info_.id, [&] {
      if (!self->member_order_.empty()) self->publish_roster(false);
      const auto cutoff =
          util::steady_ms() - 3 * std::chrono::duration_cast<std::chrono::milliseconds>(period).count();
      if (std::erase_if(self->remote_rosters_,
                        [&](const auto& entry) { return entry.second.heard_ms < cutoff; }))
        self->announce_participants();
    });
    self->arm_roster_timer();  // whatever happened above, the period goes on
  });
}

void ChatRoom::on_published(RoomBus::Published published) {
  if (load_state_ != LoadState::kLoaded || published.seq <= broadcast_seq_) return;  // loaded or seen already
  if (published.seq == broadcast_seq_ + 1) {
    deliver_published(published.seq, std::move(published.frame));
    return deliver_held_back();
  }
  // An earlier message is missing (it overtook this one, or the channel dropped it): hold this one back.
  if (held_back_.size() < kMaxHeldBack) held_back_.emplace(published.seq, std::move(published.frame));
  catch_up();
}

void ChatRoom::deliver_published(std::uint64_t seq, std::string frame) {
  broadcast_seq_ = seq;
  if (seq >= next_seq_) next_seq_ = seq + 1;
  auto m = message_from_frame(frame, seq);
  if (!m) {
    log()->warn("room {}: unreadable message at seq {} skipped", info_.id, seq);
    return;
  }
  ids_[m->id] = IdInfo{m->sender_id};
  remember(*m);
  // The publisher serialized the frame once; every instance relays those bytes as they are.
  broadcast(net::make_frame(std::move(frame)));
  if (info_.is_direct && m->type != "system" && deps_.hooks.dm_notification)
    deps_.hooks.dm_notification(info_.dm_user_ids, *m);
}

void ChatRoom::deliver_held_back() {
  while (!held_back_.empty() && held_back_.begin()->first <= broadcast_seq_ + 1) {
    auto node = held_back_.extract(held_back_.begin());
    if (node.key() == broadcast_seq_ + 1) deliver_published(node.key(), std::move(node.mapped()));
  }
}

void ChatRoom::catch_up() {
  if (catching_up_ || load_state_ != LoadState::kLoaded) return;
  catching_up_ = true;
  deps_.bus->fetch(info_.id, broadcast_seq_, kCatchUpBatch,
                   [self = shared_from_this()](std::error_code ec, std::vector<RoomBus::Published> got) {
                     self->post([self, ec, got = std::move(got)]() mutable {
                       self->catching_up_ = false;
                       if (ec) {
                         // Redis is away: try again shortly; the subscription's on_live also brings us back.
                         log()->warn("room {}: catching up from the shared log failed: {}", self->info_.id,
                                     ec.message());
                         if (!self->catch_up_timer_)
                           self->catch_up_timer_ = std::make_unique<boost::asio::steady_timer>(self->strand_);
                         self->catch_up_timer_->expires_after(kCatchUpRetryDelay);
                         self->when_timer_fires(*self->catch_up_timer_, [self] { self->catch_up(); });
                         return;
                       }
                       const bool more = got.size() == kCatchUpBatch;
                       for (auto& p : got) {
                         if (p.seq <= self->broadcast_seq_) continue;
                         self->deliver_published(p.seq, std::move(p.frame));
                       }
                       self->deliver_held_back();
                       if (more) return self->catch_up();
                       // The log has nothing between what was delivered and what was held back: a hole (a
                       // removed entry).
                       if (!self->held_back_.empty()) {
                         self->broadcast_seq_ = self->held_back_.begin()->first - 1;
                         self->deliver_held_back();
                       }
                     });
                   });
}

void ChatRoom::on_relayed(const std::string& frame) {
  const auto j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  const std::string type = j.value("type", "");
  if (type == kRosterFrameType) {
    // Between instances only; never relayed to sockets. A malformed one is logged and ignored.
    RemoteRoster roster;
    roster.heard_ms = util::steady_ms();
    try {
      for (const auto& m : j.at("members")) {
        const auto& id = m.at("id").get_ref<const std::string&>();
        roster.members.push_back({id, m.contains("displayName") ? m.at("displayName").get<std::string>() : id,
                                  m.contains("joinedMs") ? m.at("joinedMs").get<std::int64_t>() : 0});
      }
      on_roster(j.at("instance").get<std::string>(), std::move(roster),
                j.contains("ask") && j.at("ask").get<bool>());
    } catch (const json::exception& e) {
      log()->warn("room {}: an unreadable roster from another instance was ignored: {}", info_.id, e.what());
    }
    return;
  }
  if (type == "typing") {
    // Not back to the typist's own sockets here, as for a local typist.
    return broadcast(net::make_frame(frame), 0, j.value("senderId", ""));
  }
  if (type == "delivery_status") {
    const std::string ack_id = j.value("ackId", "");
    DeliveryStatus status{};
    if (parse_delivery_status(j.value("status", ""), status)) {
      const auto it =
          std::find_if(cache_.rbegin(), cache_.rend(), [&](const Message& m) { return m.id == ack_id; });
      if (it != cache_.rend() && status > it->status) it->status = status;
    }
  }
  broadcast(net::make_frame(frame));
}

}  // namespace switchboard::chat
