#pragma once
#include <memory>

#include "switchboard/ai/bot_orchestrator.hpp"
#include "switchboard/ai/llm_provider.hpp"
#include "switchboard/ai/quota_store.hpp"
#include "switchboard/auth/user_directory.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/http_client/http_client.hpp"

namespace boost::asio {
class io_context;
}

namespace switchboard::ai {

// The HttpClient options from config (http_client.*), for the composition root to build the one shared
// client.
http_client::HttpClientOptions http_client_options(const config::Config& config);

// The provider named by ai.provider ("workers-ai" or "openai"), or nullptr when it is empty. The HttpClient
// must outlive the provider.
std::shared_ptr<LlmProvider> make_llm_provider(const config::Config& config, http_client::HttpClient& http);

// The BotGateway the rooms call: a BotOrchestrator over the configured provider (or none) and `quotas` (a
// MemoryQuotaStore when null). `users` is copied. The io_context runs the replies; the HttpClient must
// outlive the returned object.
std::shared_ptr<BotOrchestrator> make_bot_gateway(const config::Config& config,
                                                  const auth::UserDirectory& users,
                                                  http_client::HttpClient& http,
                                                  std::shared_ptr<QuotaStore> quotas,
                                                  boost::asio::io_context& io);

}  // namespace switchboard::ai
