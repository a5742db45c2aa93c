#include "switchboard/redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "switchboard/redis/reconnect_backoff.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::redis {
namespace asio = boost::asio;
namespace {

using Strand = asio::strand<asio::io_context::executor_type>;
using Ms = std::chrono::milliseconds;

// hiredis writes to its socket with write(2), which raises SIGPIPE when Redis has gone away. The server's own
// sockets (Asio) never need the signal, so it is ignored process-wide, unless somebody installed a handler.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

// The Asio adapter for one hiredis context: hiredis says when it wants to read or write (addRead/delRead/
// addWrite/delWrite), we wait for the socket with async_wait and call redisAsyncHandleRead/Write. hiredis
// owns the descriptor: cleanup() (called while hiredis frees the context, before it closes the fd) releases
// it instead of closing it, which also cancels our waits. Pending waits hold a shared_ptr, so the watcher
// outlives them; `ac_` is null from cleanup() on, so a late completion never touches a freed context.
// Thread-safety: used only on the client's strand (the descriptor's executor), as hiredis is.
class SocketWatcher final : public std::enable_shared_from_this<SocketWatcher> {
 public:
  SocketWatcher(const Strand& strand, redisAsyncContext* ac) : descriptor_(strand), ac_(ac) {}

  // Takes over hiredis' event hooks. On failure nothing was changed.
  boost::system::error_code attach() {
    boost::system::error_code ec;
    descriptor_.assign(ac_->c.fd, ec);
    if (ec) return ec;
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { static_cast<SocketWatcher*>(p)->want(kRead, true); };
    ac_->ev.delRead = [](void* p) { static_cast<SocketWatcher*>(p)->want(kRead, false); };
    ac_->ev.addWrite = [](void* p) { static_cast<SocketWatcher*>(p)->want(kWrite, true); };
    ac_->ev.delWrite = [](void* p) { static_cast<SocketWatcher*>(p)->want(kWrite, false); };
    ac_->ev.cleanup = [](void* p) { static_cast<SocketWatcher*>(p)->cleanup(); };
    return {};
  }

 private:
  enum Direction : std::size_t { kRead = 0, kWrite = 1 };

  void want(Direction d, bool on) {
    if (ac_ == nullptr) return;
    wanted_[d] = on;
    if (on && !waiting_[d]) wait(d);
  }

  // hiredis may call this more than once (on disconnect and again on free).
  void cleanup() {
    ac_ = nullptr;
    wanted_ = {false, false};
    if (descriptor_.is_open()) descriptor_.release();
  }

  void wait(Direction d) {
    waiting_[d] = true;
    descriptor_.async_wait(
        d == kRead ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this(), d](const boost::system::error_code& ec) { self->on_ready(d, ec); });
  }

  void on_ready(Direction d, const boost::system::error_code& ec) {
    waiting_[d] = false;
    // Cancelled (cleanup) or a descriptor error: hiredis is gone or will notice through the health check.
    if (ec || ac_ == nullptr || !wanted_[d]) return;
    // May free the context (EOF, error), which calls cleanup() and nulls ac_ before returning.
    if (d == kRead) {
      redisAsyncHandleRead(ac_);
    } else {
      redisAsyncHandleWrite(ac_);
    }
    // hiredis re-arms through want(); this covers the calls that return early (connect still in progress).
    if (ac_ != nullptr && wanted_[d] && !waiting_[d]) wait(d);
  }

  asio::posix::stream_descriptor descriptor_;
  redisAsyncContext* ac_;
  std::array<bool, 2> wanted_{false, false};
  std::array<bool, 2> waiting_{false, false};
};

}  // namespace

// All state below is touched only on strand_, except the atomics. hiredis callbacks run on the strand too
// (they are called from SocketWatcher completions or from our own redisAsyncFree), but never run user code
// inline: results are posted, so no user handler re-enters hiredis from inside one of its callbacks.
class RedisClient::Impl final : public std::enable_shared_from_this<RedisClient::Impl> {
 public:
  struct Call {
    ReplyHandler handler;       // empty once completed (reply, error or timeout)
    bool internal = false;      // internal handlers run on the strand; user handlers on the io_context
    bool bypass_limit = false;  // handshake and health PINGs are not refused by max_pending_commands
    std::optional<asio::steady_timer> timer;
  };

  // What hiredis carries as privdata for one command; owned by hiredis until its callback runs (exactly once,
  // with the reply or with NULL when the context is freed).
  struct CallRef {
    std::shared_ptr<Call> call;
    Impl* impl;
  };

  struct Conn {
    enum class State : std::uint8_t { kIdle, kConnecting, kReady, kWaiting };
    Conn(Impl* o, Link k, const Strand& strand, const Options& opts, std::uint64_t seed)
        : owner(o),
          kind(k),
          timer(strand),
          health_timer(strand),
          backoff(opts.reconnect_initial_backoff, opts.reconnect_max_backoff, seed) {}

    Impl* owner;
    Link kind;
    redisAsyncContext* ctx = nullptr;  // null once freed, or while hiredis is freeing it
    std::shared_ptr<SocketWatcher> watcher;
    State state = State::kIdle;
    std::uint64_t generation = 0;     // bumped on every attempt and failure: stale completions compare it
    asio::steady_timer timer;         // the connect timeout, then the reconnect backoff
    asio::steady_timer health_timer;  // commands link: when to PING next
    ReconnectBackoff backoff;
    std::atomic<bool> up{false};
    bool failure_logged = false;  // one warning per outage, the retries at debug
    // Commands link: SHA1s of the scripts sent on this connection (as EVAL) since it came up.
    std::unordered_set<std::string> scripts_sent;
  };

  struct Listener {
    SubscriptionId id;
    MessageHandler handler;
  };
  struct Topic {
    std::vector<Listener> listeners;
    std::vector<std::pair<SubscriptionId, AckHandler>> waiting_acks;
    bool confirmed = false;  // the server has acknowledged the (P)SUBSCRIBE on the current connection
  };

  Impl(asio::io_context& ioc, Options options)
      : options_(std::move(options)),
        strand_(asio::make_strand(ioc)),
        resolver_(strand_),
        cmd_(this, Link::kCommands, strand_, options_, std::random_device{}()),
        sub_(this, Link::kSubscriber, strand_, options_, std::random_device{}()) {}

  ~Impl() {
    // Only reached with live contexts when the io_context is being destroyed without stop() having run:
    // free them without posting anything.
    destroying_ = true;
    for (Conn* c : {&cmd_, &sub_}) close_context(*c);
  }

  // ---- public operations, posted to the strand ----

  void start() {
    ignore_sigpipe_once();
    asio::post(strand_, [self = shared_from_this()] {
      if (self->stopping_ || self->started_) return;
      self->started_ = true;
      self->connect(self->cmd_);
      self->connect(self->sub_);
    });
  }

  void stop() {
    asio::post(strand_, [self = shared_from_this()] { self->do_stop(); });
  }

  void command(std::vector<std::string> argv, Ms timeout, ReplyHandler done) {
    auto call = std::make_shared<Call>();
    call->handler = std::move(done);
    asio::post(strand_, [self = shared_from_this(), argv = std::move(argv), timeout, call = std::move(call)] {
      self->send(self->cmd_, argv, call, timeout, /*during_handshake=*/false);
    });
  }

  void eval(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
            ReplyHandler done) {
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.push_back("EVALSHA");
    argv.push_back(script.sha1());
    argv.push_back(std::to_string(keys.size()));
    for (auto& k : keys) argv.push_back(std::move(k));
    for (auto& a : args) argv.push_back(std::move(a));
    auto first = std::make_shared<Call>();
    first->internal = true;
    first->handler = [self = shared_from_this(), argv, source = script.source(), done = std::move(done)](
                         std::error_code ec, RedisReply reply) mutable {
      if (ec != RedisErrc::kNoScript) {
        asio::post(
            self->strand_.get_inner_executor(),
            [done = std::move(done), ec, reply = std::move(reply)]() mutable { done(ec, std::move(reply)); });
        return;
      }
      // The server does not know the script (first use, restart, SCRIPT FLUSH): EVAL loads and runs it.
      argv[0] = "EVAL";
      argv[1] = std::move(source);
      auto retry = std::make_shared<Call>();
      retry->handler = std::move(done);
      self->send(self->cmd_, argv, retry, self->options_.command_timeout, false);
    };
    asio::post(strand_, [self = shared_from_this(), argv = std::move(argv), first = std::move(first),
                         source = script.source()]() mutable {
      // A script's first use on a connection goes as EVAL, which also loads it; later ones as EVALSHA. The
      // server runs one connection's commands in order, so those EVALSHAs find it, and pipelined scripts
      // keep their order (an EVALSHA refused with NOSCRIPT and retried as EVAL would run after the ones sent
      // behind it: a room's messages out of order). NOSCRIPT now only follows a SCRIPT FLUSH.
      if (self->cmd_.scripts_sent.insert(argv[1]).second) {
        argv[0] = "EVAL";
        argv[1] = std::move(source);
      }
      self->send(self->cmd_, argv, first, self->options_.command_timeout, false);
    });
  }

  SubscriptionId subscribe(bool pattern, std::string name, MessageHandler on_message, AckHandler on_ack) {
    const SubscriptionId id = next_subscription_id_.fetch_add(1);
    asio::post(strand_, [self = shared_from_this(), pattern, id, name = std::move(name),
                         on_message = std::move(on_message), on_ack = std::move(on_ack)]() mutable {
      self->add_listener(pattern, std::move(name), id, std::move(on_message), std::move(on_ack));
    });
    return id;
  }

  void unsubscribe(SubscriptionId id) {
    asio::post(strand_, [self = shared_from_this(), id] { self->remove_listener(id); });
  }

  void set_state_handler(StateHandler handler) {
    asio::post(strand_, [self = shared_from_this(), handler = std::move(handler)]() mutable {
      self->state_handler_ = std::move(handler);
    });
  }

  // ---- connection life cycle (strand only) ----

  void connect(Conn& c) {
    if (stopping_) return;
    c.state = Conn::State::kConnecting;
    const std::uint64_t gen = ++c.generation;
    c.timer.expires_after(options_.connect_timeout);
    c.timer.async_wait([self = shared_from_this(), &c, gen](const boost::system::error_code& ec) {
      if (ec || gen != c.generation || c.state != Conn::State::kConnecting) return;
      self->fail_link(c, gen, RedisErrc::kConnectFailed,
                      "no answer within redis.connect_timeout_ms (" +
                          std::to_string(self->options_.connect_timeout.count()) + " ms)");
    });
    const RedisUrl& url = options_.url;
    if (url.is_unix()) return open(c, gen, {});
    boost::system::error_code parse_ec;
    const auto address = asio::ip::make_address(url.host, parse_ec);
    if (!parse_ec) return open(c, gen, address.to_string());
    // A host name: resolve it asynchronously (hiredis would call getaddrinfo synchronously on this thread).
    resolver_.async_resolve(
        url.host, std::to_string(url.port),
        [self = shared_from_this(), &c, gen](const boost::system::error_code& ec,
                                             const asio::ip::tcp::resolver::results_type& results) {
          if (gen != c.generation || self->stopping_) return;
          if (ec || results.empty())
            return self->fail_link(c, gen, RedisErrc::kConnectFailed,
                                   "cannot resolve '" + self->options_.url.host + "': " + ec.message());
          // Prefer IPv4: "localhost" often lists ::1 first while Redis listens on 127.0.0.1 only.
          std::string chosen;
          for (const auto& entry : results)
            if (entry.endpoint().address().is_v4()) {
              chosen = entry.endpoint().address().to_string();
              break;
            }
          if (chosen.empty()) chosen = results.begin()->endpoint().address().to_string();
          self->open(c, gen, chosen);
        });
  }

  // Creates the hiredis context (a non-blocking connect), attaches the Asio adapter and pipelines the
  // handshake.
  void open(Conn& c, std::uint64_t gen, const std::string& address) {
    const RedisUrl& url = options_.url;
    redisAsyncContext* ac = url.is_unix() ? redisAsyncConnectUnix(url.socket_path.c_str())
                                          : redisAsyncConnect(address.c_str(), url.port);
    if (ac == nullptr) return fail_link(c, gen, RedisErrc::kConnectFailed, "out of memory");
    if (ac->err != 0) {
      const std::string why = ac->errstr != nullptr ? ac->errstr : "connect failed";
      redisAsyncFree(ac);
      return fail_link(c, gen, RedisErrc::kConnectFailed, why);
    }
    // Dead peers behind a silent network are noticed by TCP keepalive on the subscriber, which never PINGs.
    if (!url.is_unix()) redisEnableKeepAlive(&ac->c);
    auto watcher = std::make_shared<SocketWatcher>(strand_, ac);
    if (const auto ec = watcher->attach()) {
      redisAsyncFree(ac);
      return fail_link(c, gen, RedisErrc::kConnectFailed, "cannot watch the socket: " + ec.message());
    }
    ac->data = &c;
    c.ctx = ac;
    c.watcher = std::move(watcher);
    redisAsyncSetConnectCallback(ac, &Impl::on_connect);
    redisAsyncSetDisconnectCallback(ac, &Impl::on_disconnect);
    handshake(c, gen);
  }

  // AUTH, SELECT (commands link only: pub/sub ignores databases), CLIENT SETNAME and PING, pipelined. The
  // link is up when PING answers, so a server that is still loading (-LOADING) or wants a password (-NOAUTH)
  // is retried.
  void handshake(Conn& c, std::uint64_t gen) {
    struct Step {
      std::vector<std::string> argv;
      bool required;
    };
    std::vector<Step> steps;
    const RedisUrl& url = options_.url;
    if (!url.password.empty()) {
      if (url.username.empty()) {
        steps.push_back({{"AUTH", url.password}, true});
      } else {
        steps.push_back({{"AUTH", url.username, url.password}, true});
      }
    }
    if (c.kind == Link::kCommands && url.db != 0) steps.push_back({{"SELECT", std::to_string(url.db)}, true});
    if (!options_.client_name.empty())
      steps.push_back(
          {{"CLIENT", "SETNAME", options_.client_name + (c.kind == Link::kCommands ? ":cmd" : ":sub")},
           false});
    steps.push_back({{"PING"}, true});
    for (std::size_t i = 0; i < steps.size(); ++i) {
      auto call = std::make_shared<Call>();
      call->internal = true;
      call->bypass_limit = true;
      const bool last = i + 1 == steps.size();
      call->handler = [self = shared_from_this(), &c, gen, last, required = steps[i].required,
                       name = steps[i].argv[0]](std::error_code ec, RedisReply reply) {
        if (gen != c.generation || c.state != Conn::State::kConnecting) return;
        if (ec && required) {
          const std::string detail = reply.is_error() ? name + ": " + reply.str : name + ": " + ec.message();
          return self->fail_link(c, gen, ec, detail);
        }
        if (last) self->on_handshake_done(c, gen);
      };
      send(c, steps[i].argv, call, Ms(0), /*during_handshake=*/true);
    }
  }

  void on_handshake_done(Conn& c, std::uint64_t gen) {
    if (gen != c.generation || c.state != Conn::State::kConnecting || stopping_) return;
    c.state = Conn::State::kReady;
    c.timer.cancel();
    c.backoff.reset();
    c.scripts_sent.clear();  // a new connection, perhaps to a restarted server without our scripts
    c.failure_logged = false;
    util::logger("redis")->info("{} connection to {} is up", to_string(c.kind), options_.url.redacted());
    if (c.kind == Link::kSubscriber) {
      resubscribe_all();
    } else {
      schedule_health_check(gen);
    }
    set_up(c, true);
  }

  // Ends the current attempt or connection and schedules the next attempt. Stale generations are ignored, so
  // the several signals of one failure (callback, timeout, NULL replies) act once.
  void fail_link(Conn& c, std::uint64_t gen, std::error_code why, const std::string& detail) {
    if (gen != c.generation || stopping_ || c.state == Conn::State::kWaiting) return;
    const bool was_up = c.state == Conn::State::kReady;
    const std::uint64_t next_gen = ++c.generation;
    c.timer.cancel();
    c.health_timer.cancel();
    close_context(c);
    if (c.kind == Link::kSubscriber) unconfirm_all(RedisErrc::kConnectionLost);
    c.state = Conn::State::kWaiting;
    const Ms delay = c.backoff.next();
    auto log = util::logger("redis");
    if (was_up) {
      log->warn("{} connection to {} lost ({}); reconnecting", to_string(c.kind), options_.url.redacted(),
                detail);
    } else if (!c.failure_logged) {
      log->warn("cannot open the {} connection to {} ({}: {}); retrying with backoff", to_string(c.kind),
                options_.url.redacted(), why.message(), detail);
      c.failure_logged = true;
    } else {
      log->debug("{} connection attempt {} failed ({}); next in {} ms", to_string(c.kind),
                 c.backoff.attempts(), detail, delay.count());
    }
    if (was_up) set_up(c, false);
    c.timer.expires_after(delay);
    c.timer.async_wait([self = shared_from_this(), &c, next_gen](const boost::system::error_code& ec) {
      if (ec || next_gen != c.generation || self->stopping_) return;
      self->connect(c);
    });
  }

  // Frees the context if we still own it. Pending commands complete with kConnectionLost (kShuttingDown when
  // stopping); onDisconnect sees ctx already null and does nothing.
  void close_context(Conn& c) {
    if (redisAsyncContext* ac = c.ctx) {
      c.ctx = nullptr;
      redisAsyncFree(ac);
    }
    c.watcher.reset();
  }

  void set_up(Conn& c, bool up) {
    c.up.store(up);
    if (state_handler_ && !stopping_) {
      try {
        state_handler_(c.kind, up);
      } catch (const std::exception& e) {
        util::logger("redis")->error("Redis state handler threw: {}", e.what());
      }
    }
  }

  void do_stop() {
    if (stopping_) return;
    stopping_ = true;
    for (Conn* c : {&cmd_, &sub_}) {
      ++c->generation;
      c->timer.cancel();
      c->health_timer.cancel();
      close_context(*c);
      c->state = Conn::State::kIdle;
      c->up.store(false);
    }
    resolver_.cancel();
    for (auto& kind : topics_)
      for (auto& [name, topic] : kind)
        for (auto& [id, ack] : topic.waiting_acks) run_ack(ack, RedisErrc::kShuttingDown);
    for (auto& kind : topics_) kind.clear();
    by_id_.clear();
    state_handler_ = nullptr;
  }

  // ---- health check (commands link) ----

  void schedule_health_check(std::uint64_t gen) {
    if (options_.health_check_interval.count() <= 0) return;
    cmd_.health_timer.expires_after(options_.health_check_interval);
    cmd_.health_timer.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (ec || gen != self->cmd_.generation || self->cmd_.state != Conn::State::kReady) return;
      auto ping = std::make_shared<Call>();
      ping->internal = true;
      ping->bypass_limit = true;
      ping->handler = [self, gen](std::error_code ec, RedisReply) {
        if (gen != self->cmd_.generation || self->stopping_) return;
        if (ec != RedisErrc::kTimeout) return self->schedule_health_check(gen);  // any answer proves life
        // The server stopped answering without closing the socket (frozen, or a silent network). The
        // subscriber shares its fate; reconnect both.
        const std::string detail = "no answer to PING within redis.health_check_interval_ms";
        self->fail_link(self->cmd_, gen, RedisErrc::kTimeout, detail);
        if (self->sub_.state == Conn::State::kReady)
          self->fail_link(self->sub_, self->sub_.generation, RedisErrc::kTimeout, detail);
      };
      self->send(self->cmd_, {"PING"}, ping, self->options_.health_check_interval, false);
    });
  }

  // ---- commands ----

  void send(Conn& c, const std::vector<std::string>& argv, const std::shared_ptr<Call>& call, Ms timeout,
            bool during_handshake) {
    if (argv.empty()) return finish(call, RedisErrc::kBadArgument, {});
    if (stopping_) return finish(call, RedisErrc::kShuttingDown, {});
    const bool usable = c.ctx != nullptr && (during_handshake ? c.state == Conn::State::kConnecting
                                                              : c.state == Conn::State::kReady);
    if (!usable) return finish(call, RedisErrc::kNotConnected, {});
    if (!call->bypass_limit && in_flight_ >= options_.max_pending_commands)
      return finish(call, RedisErrc::kOverloaded, {});
    std::vector<const char*> args;
    std::vector<std::size_t> lengths;
    args.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const auto& a : argv) {
      args.push_back(a.data());
      lengths.push_back(a.size());
    }
    auto* ref = new CallRef{call, this};
    if (redisAsyncCommandArgv(c.ctx, &Impl::on_reply, ref, static_cast<int>(args.size()), args.data(),
                              lengths.data()) != REDIS_OK) {
      delete ref;  // not registered: hiredis will never call back for it
      return finish(call, RedisErrc::kNotConnected, {});
    }
    ++in_flight_;
    if (timeout.count() > 0) {
      call->timer.emplace(strand_);
      call->timer->expires_after(timeout);
      call->timer->async_wait([self = shared_from_this(), call](const boost::system::error_code& ec) {
        // The late reply, if any, is dropped by finish(); hiredis still owns the CallRef until then.
        if (!ec) self->finish(call, RedisErrc::kTimeout, {});
      });
    }
  }

  // Completes a call once; later completions (a reply after its timeout) are ignored. Never runs the handler
  // inline: it is posted, to the strand (internal) or to the io_context (user handlers).
  void finish(const std::shared_ptr<Call>& call, std::error_code ec, RedisReply reply) {
    if (!call->handler) return;
    if (call->timer) call->timer->cancel();
    ReplyHandler handler = std::move(call->handler);
    call->handler = nullptr;
    if (destroying_) return;
    auto run = [handler = std::move(handler), ec, reply = std::move(reply)]() mutable {
      handler(ec, std::move(reply));
    };
    if (call->internal) {
      asio::post(strand_, std::move(run));
    } else {
      asio::post(strand_.get_inner_executor(), std::move(run));
    }
  }

  // ---- hiredis callbacks (on the strand, inside hiredis: no user code, no hiredis calls) ----

  static void on_reply(redisAsyncContext*, void* raw_reply, void* privdata) {
    std::unique_ptr<CallRef> ref(static_cast<CallRef*>(privdata));
    Impl* self = ref->impl;
    --self->in_flight_;
    if (raw_reply == nullptr) {
      // The context is being freed with this command unanswered.
      self->finish(ref->call, self->stopping_ ? RedisErrc::kShuttingDown : RedisErrc::kConnectionLost, {});
      return;
    }
    RedisReply reply = RedisReply::from_hiredis(static_cast<const redisReply*>(raw_reply));
    const std::error_code ec = reply.error_code();
    self->finish(ref->call, ec, std::move(reply));
  }

  static void on_connect(const redisAsyncContext* ac, int status) {
    auto* c = static_cast<Conn*>(ac->data);
    if (c == nullptr || status == REDIS_OK || c->ctx != ac) return;
    c->ctx = nullptr;  // hiredis frees the context right after this callback
    c->owner->post_failure(*c, RedisErrc::kConnectFailed, ac->c.errstr);
  }

  static void on_disconnect(const redisAsyncContext* ac, int) {
    auto* c = static_cast<Conn*>(ac->data);
    if (c == nullptr || c->ctx != ac) return;  // we freed it ourselves (fail_link, stop)
    c->ctx = nullptr;
    c->owner->post_failure(*c, RedisErrc::kConnectionLost, ac->c.errstr[0] != '\0' ? ac->c.errstr : "closed");
  }

  void post_failure(Conn& c, RedisErrc why, std::string detail) {
    if (destroying_) return;
    asio::post(strand_, [self = shared_from_this(), &c, gen = c.generation, why, detail = std::move(detail)] {
      self->fail_link(c, gen, why, detail);
    });
  }

  // Pub/sub traffic on the subscriber link: confirmations and messages.
  static void on_pubsub(redisAsyncContext*, void* raw_reply, void* privdata) {
    auto* c = static_cast<Conn*>(privdata);
    Impl* self = c->owner;
    const auto* r = static_cast<const redisReply*>(raw_reply);
    if (r == nullptr || self->destroying_ || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    const auto str = [r](std::size_t i) {
      const redisReply* e = r->element[i];
      return e->type == REDIS_REPLY_STRING ? std::string(e->str, e->len) : std::string();
    };
    const std::string kind = str(0);
    if (kind == "message") {
      self->post_delivery(false, PubSubMessage{"", str(1), str(2)});
    } else if (kind == "pmessage" && r->elements >= 4) {
      self->post_delivery(true, PubSubMessage{str(1), str(2), str(3)});
    } else if (kind == "subscribe" || kind == "psubscribe") {
      asio::post(self->strand_, [self = self->shared_from_this(), pattern = kind[0] == 'p', name = str(1),
                                 gen = c->generation] { self->confirm(pattern, name, gen); });
    }
  }

  void post_delivery(bool pattern, PubSubMessage message) {
    asio::post(strand_, [self = shared_from_this(), pattern, message = std::move(message)] {
      self->deliver(pattern, message);
    });
  }

  // ---- subscriptions (strand only) ----

  void deliver(bool pattern, const PubSubMessage& message) {
    if (stopping_) return;
    const auto& kind = topics_[pattern ? 1 : 0];
    const auto it = kind.find(pattern ? message.pattern : message.channel);
    if (it == kind.end()) return;
    // A copy: a handler may unsubscribe (itself or others) while we iterate.
    std::vector<MessageHandler> handlers;
    handlers.reserve(it->second.listeners.size());
    for (const auto& l : it->second.listeners) handlers.push_back(l.handler);
    for (const auto& h : handlers) {
      try {
        h(message);
      } catch (const std::exception& e) {
        util::logger("redis")->error("handler for Redis channel {} threw: {}", message.channel, e.what());
      }
    }
  }

  void confirm(bool pattern, const std::string& name, std::uint64_t gen) {
    if (gen != sub_.generation || stopping_) return;
    auto& kind = topics_[pattern ? 1 : 0];
    const auto it = kind.find(name);
    if (it == kind.end()) return;
    it->second.confirmed = true;
    auto acks = std::move(it->second.waiting_acks);
    it->second.waiting_acks.clear();
    for (auto& [id, ack] : acks) run_ack(ack, {});
  }

  void add_listener(bool pattern, std::string name, SubscriptionId id, MessageHandler on_message,
                    AckHandler on_ack) {
    if (stopping_) return run_ack(on_ack, RedisErrc::kShuttingDown);
    auto& topic = topics_[pattern ? 1 : 0][name];
    const bool first = topic.listeners.empty();
    topic.listeners.push_back({id, std::move(on_message)});
    by_id_[id] = {pattern, name};
    if (sub_.state != Conn::State::kReady) return run_ack(on_ack, RedisErrc::kNotConnected);
    if (first) {
      topic.confirmed = false;
      if (on_ack) topic.waiting_acks.emplace_back(id, std::move(on_ack));
      send_pubsub(pattern ? "PSUBSCRIBE" : "SUBSCRIBE", {name});
    } else if (topic.confirmed) {
      run_ack(on_ack, {});
    } else if (on_ack) {
      topic.waiting_acks.emplace_back(id, std::move(on_ack));
    }
  }

  void remove_listener(SubscriptionId id) {
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) return;
    const auto [pattern, name] = found->second;
    by_id_.erase(found);
    auto& kind = topics_[pattern ? 1 : 0];
    const auto it = kind.find(name);
    if (it == kind.end()) return;
    auto& topic = it->second;
    std::erase_if(topic.listeners, [id](const Listener& l) { return l.id == id; });
    for (auto a = topic.waiting_acks.begin(); a != topic.waiting_acks.end();) {
      if (a->first == id) {
        run_ack(a->second, std::make_error_code(std::errc::operation_canceled));
        a = topic.waiting_acks.erase(a);
      } else {
        ++a;
      }
    }
    if (!topic.listeners.empty()) return;
    kind.erase(it);
    if (sub_.state == Conn::State::kReady) send_pubsub(pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", {name});
  }

  void resubscribe_all() {
    for (const bool pattern : {false, true}) {
      std::vector<std::string> names;
      for (auto& [name, topic] : topics_[pattern ? 1 : 0]) {
        topic.confirmed = false;
        names.push_back(name);
        if (names.size() == 512) {  // keep single commands reasonably small
          send_pubsub(pattern ? "PSUBSCRIBE" : "SUBSCRIBE", std::move(names));
          names.clear();
        }
      }
      if (!names.empty()) send_pubsub(pattern ? "PSUBSCRIBE" : "SUBSCRIBE", std::move(names));
    }
  }

  // After a lost subscriber connection nothing is confirmed; listeners waiting for their first confirmation
  // are told now rather than at some later reconnect.
  void unconfirm_all(std::error_code why) {
    for (auto& kind : topics_)
      for (auto& [name, topic] : kind) {
        topic.confirmed = false;
        auto acks = std::move(topic.waiting_acks);
        topic.waiting_acks.clear();
        for (auto& [id, ack] : acks) run_ack(ack, why);
      }
  }

  void send_pubsub(const char* verb, std::vector<std::string> names) {
    if (sub_.ctx == nullptr) return;
    std::vector<const char*> args{verb};
    std::vector<std::size_t> lengths{std::strlen(verb)};
    for (const auto& n : names) {
      args.push_back(n.data());
      lengths.push_back(n.size());
    }
    // One callback for all pub/sub traffic; its privdata is the link, which outlives the context. hiredis
    // refuses UNSUBSCRIBE outside subscribed mode, which is harmless.
    redisAsyncCommandArgv(sub_.ctx, &Impl::on_pubsub, &sub_, static_cast<int>(args.size()), args.data(),
                          lengths.data());
  }

  static void run_ack(const AckHandler& ack, std::error_code ec) {
    if (!ack) return;
    try {
      ack(ec);
    } catch (const std::exception& e) {
      util::logger("redis")->error("Redis subscription ack handler threw: {}", e.what());
    }
  }

  Options options_;
  Strand strand_;
  asio::ip::tcp::resolver resolver_;
  Conn cmd_;
  Conn sub_;
  StateHandler state_handler_;
  std::size_t in_flight_ = 0;  // commands hiredis holds a callback for (timed-out ones included)
  bool started_ = false;
  bool stopping_ = false;
  bool destroying_ = false;
  std::atomic<SubscriptionId> next_subscription_id_{1};
  std::array<std::map<std::string, Topic>, 2> topics_;  // [0] channels, [1] patterns
  std::unordered_map<SubscriptionId, std::pair<bool, std::string>> by_id_;
};

// ---- RedisClient ----

RedisClient::Options RedisClient::options_from(const config::Config::Redis& redis) {
  Options o;
  o.url = RedisUrl::parse(redis.url);
  o.connect_timeout = Ms(redis.connect_timeout_ms);
  o.command_timeout = Ms(redis.command_timeout_ms);
  o.reconnect_initial_backoff = Ms(redis.reconnect_initial_backoff_ms);
  o.reconnect_max_backoff = Ms(redis.reconnect_max_backoff_ms);
  o.health_check_interval = Ms(redis.health_check_interval_ms);
  o.max_pending_commands = redis.max_pending_commands;
  return o;
}

RedisClient::RedisClient(boost::asio::io_context& ioc, Options options)
    : impl_(std::make_shared<Impl>(ioc, std::move(options))) {}

RedisClient::~RedisClient() {
  impl_->stop();
}

void RedisClient::set_state_handler(StateHandler handler) {
  impl_->set_state_handler(std::move(handler));
}
void RedisClient::start() {
  impl_->start();
}
void RedisClient::stop() {
  impl_->stop();
}
bool RedisClient::is_connected() const {
  return impl_->cmd_.up.load();
}
bool RedisClient::is_subscriber_connected() const {
  return impl_->sub_.up.load();
}
const RedisClient::Options& RedisClient::options() const {
  return impl_->options_;
}

void RedisClient::command(std::vector<std::string> argv, ReplyHandler done) {
  impl_->command(std::move(argv), impl_->options_.command_timeout, std::move(done));
}

void RedisClient::command(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                          ReplyHandler done) {
  impl_->command(std::move(argv), timeout, std::move(done));
}

void RedisClient::eval(const RedisScript& script, std::vector<std::string> keys,
                       std::vector<std::string> args, ReplyHandler done) {
  impl_->eval(script, std::move(keys), std::move(args), std::move(done));
}

void RedisClient::publish(std::string channel, std::string payload, ReplyHandler done) {
  command({"PUBLISH", std::move(channel), std::move(payload)}, std::move(done));
}

RedisClient::SubscriptionId RedisClient::subscribe(std::string channel, MessageHandler on_message,
                                                   AckHandler on_ack) {
  return impl_->subscribe(false, std::move(channel), std::move(on_message), std::move(on_ack));
}

RedisClient::SubscriptionId RedisClient::psubscribe(std::string pattern, MessageHandler on_message,
                                                    AckHandler on_ack) {
  return impl_->subscribe(true, std::move(pattern), std::move(on_message), std::move(on_ack));
}

void RedisClient::unsubscribe(SubscriptionId id) {
  impl_->unsubscribe(id);
}

const char* to_string(RedisClient::Link link) {
  return link == RedisClient::Link::kCommands ? "commands" : "subscriber";
}

}  // namespace switchboard::redis
