#include "switchboard/ai/ai_factory.hpp"

#include <algorithm>

#include "switchboard/ai/memory_quota_store.hpp"
#include "switchboard/ai/openai_provider.hpp"
#include "switchboard/ai/workers_ai_provider.hpp"
#include "switchboard/http_client/http_client.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::ai {

http_client::HttpClientOptions http_client_options(const config::Config& config) {
  http_client::HttpClientOptions o;
  o.max_concurrent = static_cast<std::size_t>(config.http_client.max_concurrent_requests);
  o.max_queued = static_cast<std::size_t>(config.http_client.max_queued_requests);
  o.connect_timeout = std::chrono::seconds(config.http_client.connect_timeout_seconds);
  return o;
}

std::shared_ptr<LlmProvider> make_llm_provider(const config::Config& config, http_client::HttpClient& http) {
  const auto& ai = config.ai;
  ProviderSettings settings{ai.base_url, ai.api_key, ai.model, ai.account_id,
                            std::chrono::seconds(ai.timeout_seconds)};
  if (ai.provider == "workers-ai") return std::make_shared<WorkersAiProvider>(http, std::move(settings));
  if (ai.provider == "openai") return std::make_shared<OpenAiProvider>(http, std::move(settings));
  return nullptr;
}

std::shared_ptr<BotOrchestrator> make_bot_gateway(const config::Config& config,
                                                  const auth::UserDirectory& users,
                                                  http_client::HttpClient& http,
                                                  std::shared_ptr<QuotaStore> quotas,
                                                  boost::asio::io_context& io) {
  const auto& ai = config.ai;
  BotOrchestratorOptions options;
  options.enabled = ai.enabled;
  options.context_messages = ai.context_messages;
  options.max_reply_chars = ai.max_reply_chars;
  options.stream = ai.stream;
  options.max_tokens = ai.max_tokens;
  options.max_concurrent_replies = ai.max_concurrent_replies;
  options.quota = {ai.user_daily_quota, ai.global_daily_quota};
  // The provider's own timeout fires first; this watchdog also covers the quota store and a queued request.
  options.reply_deadline = std::chrono::seconds(ai.timeout_seconds) + std::chrono::seconds(5);
  options.typing_refresh = std::chrono::milliseconds(std::max(500, config.chat.typing_timeout_ms * 2 / 3));

  auto provider = ai.enabled ? make_llm_provider(config, http) : nullptr;
  if (!ai.enabled) {
    util::logger("ai")->info("AI bots are switched off (ai.enabled=false)");
  } else if (!provider) {
    util::logger("ai")->warn(
        "no AI provider configured: bots will answer with a system message naming ai.provider");
  } else {
    // Never the key; the base URL is an operator setting and carries none.
    util::logger("ai")->info(
        "AI provider {} model {} at {}", provider->name(), ai.model,
        http_client::redact_url(ai.base_url.empty() ? WorkersAiProvider::kDefaultBaseUrl : ai.base_url));
  }
  if (!quotas) quotas = std::make_shared<MemoryQuotaStore>();
  return std::make_shared<BotOrchestrator>(io, users, std::move(provider), std::move(quotas), options);
}

}  // namespace switchboard::ai
