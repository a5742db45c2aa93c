#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "switchboard/ai/llm_provider.hpp"
#include "switchboard/ai/quota_store.hpp"
#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/metrics.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/bot_gateway.hpp"

namespace boost::asio {
class io_context;
}

namespace switchboard::ai {

struct BotOrchestratorOptions {
  bool enabled = true;                // ai.enabled: false means no reply of any kind
  std::size_t context_messages = 10;  // ai.context_messages
  std::size_t max_reply_chars = 600;  // ai.max_reply_chars
  bool stream = true;                 // ai.stream
  int max_tokens = 256;               // ai.max_tokens
  int max_concurrent_replies = 8;     // ai.max_concurrent_replies
  QuotaLimits quota;                  // ai.user_daily_quota, ai.global_daily_quota
  // Watchdog over a whole reply (quota check included), a little beyond the provider's own timeout, so a
  // reply can never hang the typing indicator whatever a dependency does.
  std::chrono::milliseconds reply_deadline{25000};
  std::chrono::milliseconds delta_interval{100};   // chat_delta pacing: at most ten a second per reply
  std::chrono::milliseconds typing_refresh{2000};  // re-sends typing:true while generating (rooms expire it)
};

// The AI side of the rooms (issue 4): decides which bot a human chat addresses, checks the daily quotas,
// shows the bot typing, streams the reply as coalesced chat_delta frames and posts the final post-processed
// chat message with the same id, or an in-character apology when anything fails. Every reply is a small actor
// on its own strand of the io_context, so slow providers never hold up a room or another reply.
//
// Thread-safety: on_human_chat() returns at once and may be called from any thread (rooms call it on their
// strand); shutdown() and stats() too. The io_context must outlive the replies (run it until they finish, or
// call shutdown() first), and the provider's HTTP client must outlive the orchestrator.
class BotOrchestrator final : public chat::BotGateway {
 public:
  // The system message a bot answers with when no provider is configured. It names the keys to set and is not
  // a canned imitation of a model.
  static constexpr const char* kNoProviderText =
      "(This bot is not connected to a language model. The server operator can set ai.provider to "
      "\"workers-ai\" "
      "or \"openai\", e.g. SWITCHBOARD_AI_PROVIDER=openai SWITCHBOARD_AI_BASE_URL=http://127.0.0.1:11434 "
      "SWITCHBOARD_AI_MODEL=llama3.2:1b for Ollama.)";
  static constexpr const char* kUserQuotaText = "(Bot limit reached: User Quota)";
  static constexpr const char* kGlobalQuotaText = "(Bot limit reached: Global Quota)";
  static constexpr const char* kGenericApology =
      "Sorry, I lost my train of thought there. Try me again in a minute?";

  // `provider` may be null (no provider configured). `quotas` must not be null.
  BotOrchestrator(boost::asio::io_context& io, auth::UserDirectory users,
                  std::shared_ptr<LlmProvider> provider, std::shared_ptr<QuotaStore> quotas,
                  BotOrchestratorOptions options);
  ~BotOrchestrator() override;

  void on_human_chat(std::shared_ptr<chat::BotRoomHandle> room, const chat::RoomInfo& info,
                     const chat::Message& message, const std::vector<chat::Message>& context) override;

  // Stops every reply in progress (their typing is cleared, nothing is posted) and ignores later messages.
  void shutdown();

  // True when bots can answer at all (ai.enabled and a provider configured): presence can show them online.
  bool bots_available() const;

  // Every invocation is counted in `metrics` (outcome, latency) and recorded as an ai_invocation event (plus
  // ai_quota_exceeded when a quota refused it). Either may be null. Call before the first on_human_chat().
  void set_observers(std::shared_ptr<analytics::Metrics> metrics,
                     std::shared_ptr<analytics::EventRecorder> events);

  struct Stats {
    std::uint64_t triggered = 0;                    // human chats that addressed a bot
    std::uint64_t replied = 0;                      // model replies posted
    std::uint64_t failed = 0;                       // apologies posted
    std::uint64_t quota_user = 0;                   // refused by the per-user quota
    std::uint64_t quota_global = 0;                 // refused by the global quota
    std::uint64_t no_provider = 0;                  // answered with kNoProviderText
    std::uint64_t busy = 0;                         // refused over max_concurrent_replies
    std::map<std::string, std::uint64_t> failures;  // by LlmErrorKind name
    std::size_t active = 0;                         // replies in progress
  };
  Stats stats() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace switchboard::ai
