#include "switchboard/ai/bot_orchestrator.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>

#include "switchboard/ai/bot_trigger.hpp"
#include "switchboard/ai/delta_coalescer.hpp"
#include "switchboard/ai/prompt_builder.hpp"
#include "switchboard/ai/reply_post_processor.hpp"
#include "switchboard/analytics/events.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/log.hpp"
#include "switchboard/util/random.hpp"

namespace switchboard::ai {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kErrorKinds = static_cast<std::size_t>(LlmErrorKind::kCancelled) + 1;

}  // namespace

class BotReply;

// What the orchestrator and its replies share. Replies hold it by shared_ptr, so it outlives the orchestrator
// while they finish.
struct BotOrchestrator::Shared {
  Shared(asio::io_context& io_context, auth::UserDirectory directory, std::shared_ptr<LlmProvider> llm,
         std::shared_ptr<QuotaStore> quota_store, BotOrchestratorOptions opts)
      : io(io_context),
        users(std::move(directory)),
        provider(std::move(llm)),
        quotas(std::move(quota_store)),
        options(opts),
        prompts(opts.context_messages) {}

  void track(const std::shared_ptr<BotReply>& reply);
  std::string provider_name() const { return provider ? std::string(provider->name()) : "none"; }
  // Metrics and the ai_invocation event for one invocation, whatever its end (never the text).
  void observe(const std::string& user_id, const std::string& bot_id, analytics::Metrics::AiOutcome outcome,
               LlmErrorKind kind, std::int64_t latency_ms, int tokens, std::size_t reply_bytes) const;

  asio::io_context& io;
  const auth::UserDirectory users;
  const std::shared_ptr<LlmProvider> provider;
  const std::shared_ptr<QuotaStore> quotas;
  const BotOrchestratorOptions options;
  const PromptBuilder prompts;

  std::atomic<bool> shut_down{false};
  std::atomic<int> active{0};
  std::atomic<std::uint64_t> triggered{0}, replied{0}, failed{0}, quota_user{0}, quota_global{0},
      no_provider{0}, busy{0};
  std::array<std::atomic<std::uint64_t>, kErrorKinds> failures{};

  std::mutex mutex;                           // guards live
  std::vector<std::weak_ptr<BotReply>> live;  // for shutdown()

  // Set once before the first message (set_observers); read-only afterwards.
  std::shared_ptr<analytics::Metrics> metrics;
  std::shared_ptr<analytics::EventRecorder> events;
};

void BotOrchestrator::Shared::observe(const std::string& user_id, const std::string& bot_id,
                                      analytics::Metrics::AiOutcome outcome, LlmErrorKind kind,
                                      std::int64_t latency_ms, int tokens, std::size_t reply_bytes) const {
  if (metrics) metrics->observe_ai(outcome, static_cast<double>(latency_ms) / 1000.0);
  if (!events) return;
  const char* name = analytics::Metrics::to_string(outcome);
  events->record(analytics::events::ai_invocation(user_id, bot_id, provider_name(), name,
                                                  kind == LlmErrorKind::kNone ? "" : to_string(kind),
                                                  static_cast<double>(latency_ms), tokens, reply_bytes));
  if (outcome == analytics::Metrics::AiOutcome::kQuotaUser ||
      outcome == analytics::Metrics::AiOutcome::kQuotaGlobal)
    events->record(analytics::events::ai_quota_exceeded(
        user_id, bot_id, outcome == analytics::Metrics::AiOutcome::kQuotaUser ? "user" : "global"));
}

using Shared = BotOrchestrator::Shared;

// One bot reply, from the quota check to the final message. Everything runs on strand_; provider and quota
// callbacks are posted onto it, so no member needs a lock.
class BotReply final : public std::enable_shared_from_this<BotReply> {
  using Outcome = analytics::Metrics::AiOutcome;

 public:
  BotReply(std::shared_ptr<Shared> shared, std::shared_ptr<chat::BotRoomHandle> room,
           const auth::BotPersona& bot, std::string room_id, std::string user_id,
           std::vector<ChatMessage> prompt)
      : shared_(std::move(shared)),
        strand_(asio::make_strand(shared_->io)),
        flush_timer_(strand_),
        typing_timer_(strand_),
        deadline_timer_(strand_),
        room_(std::move(room)),
        bot_(bot),
        room_id_(std::move(room_id)),
        user_id_(std::move(user_id)),
        prompt_(std::move(prompt)),
        post_(ReplyPostProcessor::for_persona(bot, shared_->options.max_reply_chars)),
        coalescer_(shared_->options.delta_interval.count()),
        reply_id_(util::uuid_v4()),
        started_ms_(util::steady_ms()) {
    ++shared_->active;
  }

  ~BotReply() {
    if (!finished_) --shared_->active;  // only if the io_context died under us
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->check_quota(); });
  }

  void stop() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->finished_) return;
      if (self->calling_) self->shared_->provider->cancel(self->call_);
      self->room_->bot_typing(self->bot_.account.id, false);
      self->conclude(Outcome::kShutdown, LlmErrorKind::kCancelled);
    });
  }

 private:
  void check_quota() {
    arm_deadline();
    shared_->quotas->try_consume(user_id_, shared_->options.quota,
                                 [self = shared_from_this()](QuotaDecision d) {
                                   asio::post(self->strand_, [self, d] { self->on_quota(d); });
                                 });
  }

  void on_quota(QuotaDecision decision) {
    if (finished_) return;
    switch (decision) {
      case QuotaDecision::kAllowed:
        return generate();
      case QuotaDecision::kUserLimit:
        ++shared_->quota_user;
        room_->bot_system(bot_.account.id, BotOrchestrator::kUserQuotaText);
        return conclude(Outcome::kQuotaUser, LlmErrorKind::kNone);
      case QuotaDecision::kGlobalLimit:
        ++shared_->quota_global;
        room_->bot_system(bot_.account.id, BotOrchestrator::kGlobalQuotaText);
        return conclude(Outcome::kQuotaGlobal, LlmErrorKind::kNone);
      case QuotaDecision::kUnavailable:
        return fail(LlmErrorKind::kCancelled, "the quota store is unavailable");  // fail closed
    }
  }

  void generate() {
    room_->bot_typing(bot_.account.id, true);
    arm_typing_refresh();
    LlmRequest request{prompt_, shared_->options.stream, shared_->options.max_tokens};
    auto self = shared_from_this();
    call_ = shared_->provider->complete(
        std::move(request),
        [self](std::string_view delta) {
          asio::post(self->strand_, [self, text = std::string(delta)] { self->on_delta(text); });
        },
        [self](LlmResult result) {
          asio::post(self->strand_,
                     [self, result = std::move(result)]() mutable { self->on_done(std::move(result)); });
        });
    calling_ = true;
  }

  void on_delta(const std::string& text) {
    if (finished_) return;
    raw_ += text;
    pump();
  }

  // Flushes now if the pace allows, else makes sure a timer will come back when it does. The timer goes
  // through here too: deltas queued behind it on the strand may already have used the slot.
  void pump() {
    const std::int64_t now = util::steady_ms();
    if (coalescer_.may_flush(now)) return flush(now);
    if (flush_armed_) return;
    flush_armed_ = true;
    flush_timer_.expires_after(std::chrono::milliseconds(coalescer_.next_flush_at(now) - now));
    flush_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->flush_armed_ = false;
      if (!ec && !self->finished_) self->pump();
    });
  }

  // Sends what the preview adds to what clients already have, if it still extends it.
  void flush(std::int64_t now) {
    if (!streaming_ok_) return;
    const std::string preview = post_.preview(raw_);
    if (preview.size() <= sent_.size()) return;
    if (preview.compare(0, sent_.size(), sent_) != 0) {
      streaming_ok_ = false;  // the cleaning changed its mind; the final message will set things right
      return;
    }
    room_->bot_delta(bot_.account.id, reply_id_, preview.substr(sent_.size()));
    sent_ = preview;
    coalescer_.flushed(now);
  }

  void on_done(LlmResult result) {
    if (finished_) return;
    calling_ = false;
    tokens_ = result.completion_tokens;
    if (!result.ok()) return fail(result.error, result.detail, result.http_status);
    std::string text = post_.finish(result.text);
    if (text.empty())
      return fail(LlmErrorKind::kEmpty, "nothing left after post-processing", result.http_status);
    ++shared_->replied;
    room_->bot_reply(bot_.account.id, reply_id_, text);
    conclude(Outcome::kOk, LlmErrorKind::kNone, text.size());
  }

  void fail(LlmErrorKind kind, const std::string& detail, int status = 0) {
    ++shared_->failed;
    ++shared_->failures[static_cast<std::size_t>(kind)];
    // The same id as the deltas, so clients replace any partial text with the apology.
    room_->bot_reply(bot_.account.id, reply_id_,
                     bot_.apology.empty() ? BotOrchestrator::kGenericApology : bot_.apology);
    util::logger("ai")->warn("bot {} reply failed: provider={} kind={} status={} detail={}", bot_.account.id,
                             shared_->provider_name(), to_string(kind), status, detail);
    conclude(Outcome::kError, kind);
  }

  void arm_deadline() {
    deadline_timer_.expires_after(shared_->options.reply_deadline);
    deadline_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      if (self->calling_) self->shared_->provider->cancel(self->call_);
      self->calling_ = false;
      self->fail(LlmErrorKind::kTimeout, "no answer within the reply deadline");
    });
  }

  void arm_typing_refresh() {
    typing_timer_.expires_after(shared_->options.typing_refresh);
    typing_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      self->room_->bot_typing(self->bot_.account.id, true);
      self->arm_typing_refresh();
    });
  }

  // The single exit: stops the timers, releases the slot and logs, counts and records the invocation (never
  // the text).
  void conclude(Outcome outcome, LlmErrorKind kind, std::size_t reply_bytes = 0) {
    finished_ = true;
    flush_timer_.cancel();
    typing_timer_.cancel();
    deadline_timer_.cancel();
    --shared_->active;
    const auto latency_ms = util::steady_ms() - started_ms_;
    util::logger("ai")->info(
        "bot invocation: bot={} provider={} room={} outcome={}{}{} latency_ms={} tokens={} reply_bytes={}",
        bot_.account.id, shared_->provider_name(), room_id_, analytics::Metrics::to_string(outcome),
        kind == LlmErrorKind::kNone ? "" : " kind=", kind == LlmErrorKind::kNone ? "" : to_string(kind),
        latency_ms, tokens_, reply_bytes);
    shared_->observe(user_id_, bot_.account.id, outcome, kind, latency_ms, tokens_, reply_bytes);
  }

  std::shared_ptr<Shared> shared_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer flush_timer_;
  asio::steady_timer typing_timer_;
  asio::steady_timer deadline_timer_;
  std::shared_ptr<chat::BotRoomHandle> room_;
  const auth::BotPersona bot_;
  const std::string room_id_;
  const std::string user_id_;
  const std::vector<ChatMessage> prompt_;
  const ReplyPostProcessor post_;
  DeltaCoalescer coalescer_;
  const std::string reply_id_;
  const std::int64_t started_ms_;
  std::string raw_;   // everything the model wrote so far
  std::string sent_;  // the cleaned prefix clients already have as deltas
  LlmCallId call_ = 0;
  bool calling_ = false;  // a provider call is in progress
  bool flush_armed_ = false;
  bool streaming_ok_ = true;
  bool finished_ = false;
  int tokens_ = -1;  // completion tokens the provider reported
};

void BotOrchestrator::Shared::track(const std::shared_ptr<BotReply>& reply) {
  std::lock_guard lock(mutex);
  live.erase(std::remove_if(live.begin(), live.end(), [](const auto& w) { return w.expired(); }), live.end());
  live.push_back(reply);
}

BotOrchestrator::BotOrchestrator(boost::asio::io_context& io, auth::UserDirectory users,
                                 std::shared_ptr<LlmProvider> provider, std::shared_ptr<QuotaStore> quotas,
                                 BotOrchestratorOptions options)
    : shared_(
          std::make_shared<Shared>(io, std::move(users), std::move(provider), std::move(quotas), options)) {}

BotOrchestrator::~BotOrchestrator() = default;

void BotOrchestrator::on_human_chat(std::shared_ptr<chat::BotRoomHandle> room, const chat::RoomInfo& info,
                                    const chat::Message& message, const std::vector<chat::Message>& context) {
  Shared& s = *shared_;
  if (!s.options.enabled || s.shut_down || !room) return;
  const auth::BotPersona* bot = triggered_bot(s.users, info, message);
  if (bot == nullptr) return;
  ++s.triggered;
  if (!s.provider) {
    ++s.no_provider;
    room->bot_system(bot->account.id, kNoProviderText);
    util::logger("ai")->info("bot invocation: bot={} provider=none room={} outcome=no_provider",
                             bot->account.id, info.id);
    s.observe(message.sender_id, bot->account.id, analytics::Metrics::AiOutcome::kNoProvider,
              LlmErrorKind::kNone, 0, -1, 0);
    return;
  }
  if (s.active.load() >= s.options.max_concurrent_replies) {
    ++s.busy;
    ++s.failed;
    ++s.failures[static_cast<std::size_t>(LlmErrorKind::kOverloaded)];
    room->bot_reply(bot->account.id, util::uuid_v4(), bot->apology.empty() ? kGenericApology : bot->apology);
    util::logger("ai")->warn(
        "bot invocation: bot={} provider={} room={} outcome=busy ({} replies in progress)", bot->account.id,
        s.provider_name(), info.id, s.active.load());
    s.observe(message.sender_id, bot->account.id, analytics::Metrics::AiOutcome::kBusy,
              LlmErrorKind::kOverloaded, 0, -1, 0);
    return;
  }
  // The context ends with `message`, so the prompt always closes on the message being answered.
  auto prompt =
      context.empty() ? s.prompts.build(*bot, info, {message}) : s.prompts.build(*bot, info, context);
  auto reply = std::make_shared<BotReply>(shared_, std::move(room), *bot, info.id, message.sender_id,
                                          std::move(prompt));
  s.track(reply);
  reply->start();
}

void BotOrchestrator::shutdown() {
  shared_->shut_down = true;
  std::vector<std::shared_ptr<BotReply>> replies;
  {
    std::lock_guard lock(shared_->mutex);
    for (const auto& w : shared_->live)
      if (auto r = w.lock()) replies.push_back(std::move(r));
    shared_->live.clear();
  }
  for (const auto& r : replies) r->stop();
}

void BotOrchestrator::set_observers(std::shared_ptr<analytics::Metrics> metrics,
                                    std::shared_ptr<analytics::EventRecorder> events) {
  shared_->metrics = std::move(metrics);
  shared_->events = std::move(events);
}

bool BotOrchestrator::bots_available() const {
  return shared_->options.enabled && shared_->provider != nullptr;
}

BotOrchestrator::Stats BotOrchestrator::stats() const {
  const Shared& s = *shared_;
  Stats out;
  out.triggered = s.triggered;
  out.replied = s.replied;
  out.failed = s.failed;
  out.quota_user = s.quota_user;
  out.quota_global = s.quota_global;
  out.no_provider = s.no_provider;
  out.busy = s.busy;
  for (std::size_t k = 1; k < kErrorKinds; ++k)
    if (const auto n = s.failures[k].load(); n > 0) out.failures[to_string(static_cast<LlmErrorKind>(k))] = n;
  out.active = static_cast<std::size_t>(std::max(0, s.active.load()));
  return out;
}

}  // namespace switchboard::ai
