#include "switchboard/config/config.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "switchboard/redis/redis_url.hpp"
#include "switchboard/security/client_ip_resolver.hpp"
#include "switchboard/util/json_text.hpp"

extern char** environ;

namespace switchboard::config {
namespace {

using nlohmann::json;

// One configurable key bound to a field of a Config instance: how to read it from JSON and from a string.
struct Binding {
  std::string key;
  std::function<void(const json&)> from_json;
  std::function<void(const std::string&)> from_string;
};

[[noreturn]] void fail(const std::string& key, const std::string& why) {
  throw ConfigError("config key '" + key + "': " + why);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

template <typename Int>
Int parse_int(const std::string& key, const std::string& s) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size()) fail(key, "expected a whole number, got '" + s + "'");
    if (v < static_cast<long long>(std::numeric_limits<Int>::min()) ||
        static_cast<unsigned long long>(v) > static_cast<unsigned long long>(std::numeric_limits<Int>::max()))
      fail(key, "number out of range: " + s);
    return static_cast<Int>(v);
  } catch (const std::logic_error&) {
    fail(key, "expected a whole number, got '" + s + "'");
  }
}

Binding key_binding(const std::string& key, std::string& field) {
  return {key,
          [&field, key](const json& j) {
            if (!j.is_string()) fail(key, "expected a string");
            field = j.get<std::string>();
          },
          [&field](const std::string& s) { field = s; }};
}

Binding key_binding(const std::string& key, bool& field) {
  return {key,
          [&field, key](const json& j) {
            if (!j.is_boolean()) fail(key, "expected true or false");
            field = j.get<bool>();
          },
          [&field, key](const std::string& s) {
            if (s == "true" || s == "1" || s == "yes" || s == "on") {
              field = true;
            } else if (s == "false" || s == "0" || s == "no" || s == "off") {
              field = false;
            } else {
              fail(key, "expected true or false, got '" + s + "'");
            }
          }};
}

template <typename Int>
requires std::is_integral_v<Int> Binding key_binding(const std::string& key, Int& field) {
  return {key,
          [&field, key](const json& j) {
            if (!j.is_number_integer()) fail(key, "expected a whole number");
            field = parse_int<Int>(key, util::json_text(j));
          },
          [&field, key](const std::string& s) { field = parse_int<Int>(key, s); }};
}

Binding key_binding(const std::string& key, std::vector<std::string>& field) {
  return {key,
          [&field, key](const json& j) {
            if (!j.is_array()) fail(key, "expected an array of strings");
            field.clear();
            for (const auto& e : j) {
              if (!e.is_string()) fail(key, "expected an array of strings");
              field.push_back(e.get<std::string>());
            }
          },
          [&field](const std::string& s) { field = split_list(s); }};
}

Binding key_binding(const std::string& key, std::vector<GroupRoom>& field) {
  return {key,
          [&field, key](const json& j) {
            if (!j.is_array()) fail(key, "expected an array of {\"id\", \"name\"} objects");
            field.clear();
            for (const auto& e : j) {
              if (!e.is_object() || !e.contains("id") || !e.contains("name") || !e["id"].is_string() ||
                  !e["name"].is_string())
                fail(key, "expected an array of {\"id\", \"name\"} objects");
              field.push_back({e["id"].get<std::string>(), e["name"].get<std::string>()});
            }
          },
          [&field, key](const std::string& s) {
            // "id=Name,id2=Name 2"
            field.clear();
            for (const auto& item : split_list(s)) {
              const auto eq = item.find('=');
              if (eq == std::string::npos) fail(key, "expected id=Name pairs separated by commas");
              field.push_back({item.substr(0, eq), item.substr(eq + 1)});
            }
          }};
}

std::vector<Binding> bindings(Config& c) {
  return {
      key_binding("server.listen", c.server.listen),
      key_binding("server.threads", c.server.threads),
      key_binding("server.web_root", c.server.web_root),
      key_binding("server.body_limit_bytes", c.server.body_limit_bytes),
      key_binding("server.header_limit_bytes", c.server.header_limit_bytes),
      key_binding("server.request_timeout_seconds", c.server.request_timeout_seconds),
      key_binding("server.keep_alive_timeout_seconds", c.server.keep_alive_timeout_seconds),
      key_binding("server.shutdown_timeout_seconds", c.server.shutdown_timeout_seconds),
      key_binding("server.port_file", c.server.port_file),
      key_binding("server.tls_cert_file", c.server.tls_cert_file),
      key_binding("server.tls_key_file", c.server.tls_key_file),
      key_binding("session.ttl_seconds", c.session.ttl_seconds),
      key_binding("session.touch_interval_seconds", c.session.touch_interval_seconds),
      key_binding("session.sweep_interval_seconds", c.session.sweep_interval_seconds),
      key_binding("redis.url", c.redis.url),
      key_binding("redis.connect_timeout_ms", c.redis.connect_timeout_ms),
      key_binding("redis.command_timeout_ms", c.redis.command_timeout_ms),
      key_binding("redis.reconnect_initial_backoff_ms", c.redis.reconnect_initial_backoff_ms),
      key_binding("redis.reconnect_max_backoff_ms", c.redis.reconnect_max_backoff_ms),
      key_binding("redis.health_check_interval_ms", c.redis.health_check_interval_ms),
      key_binding("redis.max_pending_commands", c.redis.max_pending_commands),
      key_binding("turnstile.site_key", c.turnstile.site_key),
      key_binding("turnstile.secret_key", c.turnstile.secret_key),
      key_binding("turnstile.verify_url", c.turnstile.verify_url),
      key_binding("turnstile.expected_hostname", c.turnstile.expected_hostname),
      key_binding("turnstile.expected_action", c.turnstile.expected_action),
      key_binding("turnstile.timeout_ms", c.turnstile.timeout_ms),
      key_binding("security.allowed_origins", c.security.allowed_origins),
      key_binding("security.trusted_proxies", c.security.trusted_proxies),
      key_binding("security.login_per_10s", c.security.login_per_10s),
      key_binding("security.max_connections", c.security.max_connections),
      key_binding("security.max_connections_per_ip", c.security.max_connections_per_ip),
      key_binding("chat.rooms", c.chat.rooms),
      key_binding("chat.winks", c.chat.winks),
      key_binding("chat.history_on_join", c.chat.history_on_join),
      key_binding("chat.room_cache_messages", c.chat.room_cache_messages),
      key_binding("chat.max_content_code_points", c.chat.max_content_code_points),
      key_binding("chat.max_display_name_code_points", c.chat.max_display_name_code_points),
      key_binding("chat.max_personal_message_code_points", c.chat.max_personal_message_code_points),
      key_binding("chat.max_frame_bytes", c.chat.max_frame_bytes),
      key_binding("chat.rate_limit_messages", c.chat.rate_limit_messages),
      key_binding("chat.rate_limit_window_seconds", c.chat.rate_limit_window_seconds),
      key_binding("chat.min_chat_interval_ms", c.chat.min_chat_interval_ms),
      key_binding("chat.nudge_limit", c.chat.nudge_limit),
      key_binding("chat.nudge_window_seconds", c.chat.nudge_window_seconds),
      key_binding("chat.typing_timeout_ms", c.chat.typing_timeout_ms),
      key_binding("chat.heartbeat_timeout_seconds", c.chat.heartbeat_timeout_seconds),
      key_binding("chat.participants_interval_ms", c.chat.participants_interval_ms),
      key_binding("chat.roster_refresh_seconds", c.chat.roster_refresh_seconds),
      key_binding("ws.max_queued_messages", c.ws.max_queued_messages),
      key_binding("ws.max_queued_bytes", c.ws.max_queued_bytes),
      key_binding("ws.write_timeout_seconds", c.ws.write_timeout_seconds),
      key_binding("ws.handshake_timeout_seconds", c.ws.handshake_timeout_seconds),
      key_binding("presence.away_after_seconds", c.presence.away_after_seconds),
      key_binding("presence.heartbeat_seconds", c.presence.heartbeat_seconds),
      key_binding("history.backend", c.history.backend),
      key_binding("history.memory_max_messages_per_room", c.history.memory_max_messages_per_room),
      key_binding("history.sqlite_file", c.history.sqlite_file),
      key_binding("history.max_pending_writes", c.history.max_pending_writes),
      key_binding("history.max_batch", c.history.max_batch),
      key_binding("history.max_pending_reads", c.history.max_pending_reads),
      key_binding("history.reader_threads", c.history.reader_threads),
      key_binding("history.retention_group_days", c.history.retention_group_days),
      key_binding("history.retention_direct_days", c.history.retention_direct_days),
      key_binding("history.retention_sweep_seconds", c.history.retention_sweep_seconds),
      key_binding("history.quick_check_on_open", c.history.quick_check_on_open),
      key_binding("history.max_page_count", c.history.max_page_count),
      key_binding("ai.enabled", c.ai.enabled),
      key_binding("ai.provider", c.ai.provider),
      key_binding("ai.base_url", c.ai.base_url),
      key_binding("ai.api_key", c.ai.api_key),
      key_binding("ai.model", c.ai.model),
      key_binding("ai.account_id", c.ai.account_id),
      key_binding("ai.timeout_seconds", c.ai.timeout_seconds),
      key_binding("ai.context_messages", c.ai.context_messages),
      key_binding("ai.user_daily_quota", c.ai.user_daily_quota),
      key_binding("ai.global_daily_quota", c.ai.global_daily_quota),
      key_binding("ai.stream", c.ai.stream),
      key_binding("ai.max_tokens", c.ai.max_tokens),
      key_binding("ai.max_reply_chars", c.ai.max_reply_chars),
      key_binding("ai.max_concurrent_replies", c.ai.max_concurrent_replies),
      key_binding("http_client.connect_timeout_seconds", c.http_client.connect_timeout_seconds),
      key_binding("http_client.max_concurrent_requests", c.http_client.max_concurrent_requests),
      key_binding("http_client.max_queued_requests", c.http_client.max_queued_requests),
      key_binding("data.dir", c.data.dir),
      key_binding("data.users_file", c.data.users_file),
      key_binding("data.personas_file", c.data.personas_file),
      key_binding("log.level", c.log.level),
      key_binding("log.format", c.log.format),
      key_binding("analytics.sink", c.analytics.sink),
      key_binding("analytics.dataset", c.analytics.dataset),
      key_binding("analytics.queue_size", c.analytics.queue_size),
      key_binding("analytics.batch_max_events", c.analytics.batch_max_events),
      key_binding("analytics.flush_interval_ms", c.analytics.flush_interval_ms),
      key_binding("analytics.file", c.analytics.file),
      key_binding("analytics.file_max_bytes", c.analytics.file_max_bytes),
      key_binding("analytics.file_keep", c.analytics.file_keep),
      key_binding("analytics.http_url", c.analytics.http_url),
      key_binding("analytics.http_token", c.analytics.http_token),
      key_binding("analytics.http_timeout_ms", c.analytics.http_timeout_ms),
      key_binding("analytics.http_max_retries", c.analytics.http_max_retries),
      key_binding("analytics.http_initial_backoff_ms", c.analytics.http_initial_backoff_ms),
      key_binding("analytics.http_max_backoff_ms", c.analytics.http_max_backoff_ms),
      key_binding("analytics.redis_stream", c.analytics.redis_stream),
      key_binding("analytics.redis_maxlen", c.analytics.redis_maxlen),
      key_binding("metrics.token", c.metrics.token),
  };
}

void require_positive(const std::string& key, long long v) {
  if (v <= 0) fail(key, "must be greater than zero");
}

void validate(const Config& c) {
  static const std::regex host_port(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(c.server.listen, m, host_port) || std::stoi(m[2]) > 65535)
    fail("server.listen", "expected HOST:PORT (port 0 picks a free port), got '" + c.server.listen + "'");
  if (c.server.threads < 0) fail("server.threads", "must be 0 (one per core) or more");
  require_positive("server.body_limit_bytes", static_cast<long long>(c.server.body_limit_bytes));
  require_positive("server.header_limit_bytes", static_cast<long long>(c.server.header_limit_bytes));
  require_positive("server.request_timeout_seconds", c.server.request_timeout_seconds);
  require_positive("server.keep_alive_timeout_seconds", c.server.keep_alive_timeout_seconds);
  require_positive("server.shutdown_timeout_seconds", c.server.shutdown_timeout_seconds);
  require_positive("session.ttl_seconds", c.session.ttl_seconds);
  require_positive("session.touch_interval_seconds", c.session.touch_interval_seconds);
  require_positive("session.sweep_interval_seconds", c.session.sweep_interval_seconds);
  if (c.session.sweep_interval_seconds > 60)
    fail("session.sweep_interval_seconds",
         "must be at most 60 (expired sessions' sockets close within 60 s)");
  if (!c.redis.url.empty()) {
    try {
      (void)redis::RedisUrl::parse(c.redis.url);
    } catch (const std::invalid_argument& e) {
      fail("redis.url",
           std::string(e.what()) + " (expected redis://[:password@]host:port/db or unix:///path)");
    }
  }
  require_positive("redis.connect_timeout_ms", c.redis.connect_timeout_ms);
  require_positive("redis.command_timeout_ms", c.redis.command_timeout_ms);
  require_positive("redis.reconnect_initial_backoff_ms", c.redis.reconnect_initial_backoff_ms);
  require_positive("redis.reconnect_max_backoff_ms", c.redis.reconnect_max_backoff_ms);
  if (c.redis.reconnect_max_backoff_ms < c.redis.reconnect_initial_backoff_ms)
    fail("redis.reconnect_max_backoff_ms", "must be at least redis.reconnect_initial_backoff_ms");
  if (c.redis.health_check_interval_ms < 0) fail("redis.health_check_interval_ms", "must be 0 (off) or more");
  require_positive("redis.max_pending_commands", static_cast<long long>(c.redis.max_pending_commands));
  require_positive("security.login_per_10s", c.security.login_per_10s);
  require_positive("security.max_connections", static_cast<long long>(c.security.max_connections));
  require_positive("security.max_connections_per_ip",
                   static_cast<long long>(c.security.max_connections_per_ip));
  if (const auto why = security::check_trusted_proxies(c.security.trusted_proxies); !why.empty())
    fail("security.trusted_proxies", why + " (expected CIDR blocks such as 10.0.0.0/8 or 2001:db8::/32)");
  if (c.server.tls_cert_file.empty() != c.server.tls_key_file.empty())
    fail(c.server.tls_cert_file.empty() ? "server.tls_cert_file" : "server.tls_key_file",
         "set both server.tls_cert_file and server.tls_key_file, or neither");
  for (const auto& [key, file] : {std::pair{"server.tls_cert_file", &c.server.tls_cert_file},
                                  std::pair{"server.tls_key_file", &c.server.tls_key_file}})
    if (!file->empty() && !std::ifstream(*file)) fail(key, "cannot read '" + *file + "'");
  if (c.turnstile.verify_url.rfind("http://", 0) != 0 && c.turnstile.verify_url.rfind("https://", 0) != 0)
    fail("turnstile.verify_url", "expected an http:// or https:// URL");
  require_positive("turnstile.timeout_ms", c.turnstile.timeout_ms);
  static const std::regex room_id("^[A-Za-z0-9_-]{1,64}$");
  std::set<std::string> room_ids;
  for (const auto& r : c.chat.rooms) {
    if (!std::regex_match(r.id, room_id) || r.id.rfind("dm_", 0) == 0)
      fail("chat.rooms", "room id '" + r.id + "' must match ^[A-Za-z0-9_-]{1,64}$ and not start with dm_");
    if (!room_ids.insert(r.id).second) fail("chat.rooms", "room id '" + r.id + "' is listed twice");
    if (r.name.empty()) fail("chat.rooms", "room '" + r.id + "' needs a name");
  }
  if (c.chat.winks.empty()) fail("chat.winks", "list at least one wink id");
  require_positive("chat.history_on_join", static_cast<long long>(c.chat.history_on_join));
  if (c.chat.room_cache_messages < c.chat.history_on_join)
    fail("chat.room_cache_messages", "must be at least chat.history_on_join");
  require_positive("chat.max_content_code_points", static_cast<long long>(c.chat.max_content_code_points));
  require_positive("chat.max_display_name_code_points",
                   static_cast<long long>(c.chat.max_display_name_code_points));
  require_positive("chat.max_frame_bytes", static_cast<long long>(c.chat.max_frame_bytes));
  require_positive("chat.rate_limit_messages", c.chat.rate_limit_messages);
  require_positive("chat.rate_limit_window_seconds", c.chat.rate_limit_window_seconds);
  if (c.chat.min_chat_interval_ms < 0) fail("chat.min_chat_interval_ms", "must not be negative");
  require_positive("chat.nudge_limit", c.chat.nudge_limit);
  require_positive("chat.nudge_window_seconds", c.chat.nudge_window_seconds);
  require_positive("chat.typing_timeout_ms", c.chat.typing_timeout_ms);
  require_positive("chat.heartbeat_timeout_seconds", c.chat.heartbeat_timeout_seconds);
  if (c.chat.participants_interval_ms < 0) fail("chat.participants_interval_ms", "must not be negative");
  require_positive("chat.roster_refresh_seconds", c.chat.roster_refresh_seconds);
  require_positive("ws.max_queued_messages", static_cast<long long>(c.ws.max_queued_messages));
  require_positive("ws.max_queued_bytes", static_cast<long long>(c.ws.max_queued_bytes));
  require_positive("ws.write_timeout_seconds", c.ws.write_timeout_seconds);
  require_positive("ws.handshake_timeout_seconds", c.ws.handshake_timeout_seconds);
  require_positive("presence.away_after_seconds", c.presence.away_after_seconds);
  require_positive("presence.heartbeat_seconds", c.presence.heartbeat_seconds);
  if (c.presence.heartbeat_seconds > 15)
    fail("presence.heartbeat_seconds",
         "must be at most 15 (a crashed instance's users go offline within four periods, 60 s)");
  if (c.history.backend != "auto" && c.history.backend != "sqlite" && c.history.backend != "memory" &&
      c.history.backend != "redis")
    fail("history.backend",
         "expected \"auto\", \"sqlite\", \"memory\" or \"redis\", got '" + c.history.backend + "'");
  if (c.history.backend == "redis" && c.redis.url.empty())
    fail("history.backend", "\"redis\" needs redis.url");
  require_positive("history.memory_max_messages_per_room",
                   static_cast<long long>(c.history.memory_max_messages_per_room));
  if (c.history.sqlite_file.empty()) fail("history.sqlite_file", "must not be empty");
  require_positive("history.max_pending_writes", static_cast<long long>(c.history.max_pending_writes));
  require_positive("history.max_batch", static_cast<long long>(c.history.max_batch));
  require_positive("history.max_pending_reads", static_cast<long long>(c.history.max_pending_reads));
  require_positive("history.reader_threads", static_cast<long long>(c.history.reader_threads));
  if (c.history.reader_threads > 64) fail("history.reader_threads", "must be at most 64");
  if (c.history.retention_group_days < 0)
    fail("history.retention_group_days", "must be 0 (keep forever) or more");
  if (c.history.retention_direct_days < 0)
    fail("history.retention_direct_days", "must be 0 (keep forever) or more");
  require_positive("history.retention_sweep_seconds", c.history.retention_sweep_seconds);
  if (!c.ai.provider.empty() && c.ai.provider != "workers-ai" && c.ai.provider != "openai")
    fail("ai.provider", "expected \"\", \"workers-ai\" or \"openai\", got '" + c.ai.provider + "'");
  require_positive("ai.timeout_seconds", c.ai.timeout_seconds);
  require_positive("ai.user_daily_quota", c.ai.user_daily_quota);
  require_positive("ai.global_daily_quota", c.ai.global_daily_quota);
  require_positive("ai.context_messages", static_cast<long long>(c.ai.context_messages));
  require_positive("ai.max_tokens", c.ai.max_tokens);
  require_positive("ai.max_reply_chars", static_cast<long long>(c.ai.max_reply_chars));
  if (c.ai.max_reply_chars > c.chat.max_content_code_points)
    fail("ai.max_reply_chars", "must be at most chat.max_content_code_points");
  require_positive("ai.max_concurrent_replies", c.ai.max_concurrent_replies);
  if (c.ai.enabled && c.ai.provider == "workers-ai" && (c.ai.account_id.empty() || c.ai.api_key.empty()))
    fail("ai.provider",
         "\"workers-ai\" needs ai.account_id and ai.api_key (SWITCHBOARD_AI_ACCOUNT_ID, "
         "SWITCHBOARD_AI_API_KEY)");
  if (c.ai.enabled && c.ai.provider == "openai" && c.ai.base_url.empty())
    fail("ai.base_url", "\"openai\" needs the server's base URL, e.g. http://127.0.0.1:11434 for Ollama");
  if (!c.ai.base_url.empty() && c.ai.base_url.rfind("http://", 0) != 0 &&
      c.ai.base_url.rfind("https://", 0) != 0)
    fail("ai.base_url", "expected an http:// or https:// URL");
  require_positive("http_client.connect_timeout_seconds", c.http_client.connect_timeout_seconds);
  require_positive("http_client.max_concurrent_requests", c.http_client.max_concurrent_requests);
  if (c.http_client.max_queued_requests < 0) fail("http_client.max_queued_requests", "must not be negative");
  if (c.data.dir.empty()) fail("data.dir", "must not be empty");
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!levels.count(c.log.level))
    fail("log.level", "expected one of trace, debug, info, warn, error, critical, off");
  if (c.log.format != "text" && c.log.format != "json") fail("log.format", "expected \"text\" or \"json\"");
  static const std::set<std::string> sinks = {"file", "stdout", "http", "redis", "none"};
  if (!sinks.count(c.analytics.sink))
    fail("analytics.sink",
         "expected \"file\", \"stdout\", \"http\", \"redis\" or \"none\", got '" + c.analytics.sink + "'");
  if (c.analytics.dataset.empty()) fail("analytics.dataset", "must not be empty");
  require_positive("analytics.queue_size", static_cast<long long>(c.analytics.queue_size));
  require_positive("analytics.batch_max_events", static_cast<long long>(c.analytics.batch_max_events));
  require_positive("analytics.flush_interval_ms", c.analytics.flush_interval_ms);
  if (c.analytics.file.empty()) fail("analytics.file", "must not be empty");
  if (c.analytics.file_max_bytes < 1024) fail("analytics.file_max_bytes", "must be at least 1024");
  if (c.analytics.sink == "http" && c.analytics.http_url.rfind("http://", 0) != 0 &&
      c.analytics.http_url.rfind("https://", 0) != 0)
    fail("analytics.http_url", "analytics.sink \"http\" needs the collector's http:// or https:// URL");
  require_positive("analytics.http_timeout_ms", c.analytics.http_timeout_ms);
  if (c.analytics.http_max_retries < 0) fail("analytics.http_max_retries", "must be 0 (no retry) or more");
  require_positive("analytics.http_initial_backoff_ms", c.analytics.http_initial_backoff_ms);
  if (c.analytics.http_max_backoff_ms < c.analytics.http_initial_backoff_ms)
    fail("analytics.http_max_backoff_ms", "must be at least analytics.http_initial_backoff_ms");
  if (c.analytics.sink == "redis" && c.redis.url.empty())
    fail("analytics.sink", "\"redis\" needs redis.url (SWITCHBOARD_REDIS_URL)");
  if (c.analytics.redis_stream.empty()) fail("analytics.redis_stream", "must not be empty");
  require_positive("analytics.redis_maxlen", static_cast<long long>(c.analytics.redis_maxlen));
}

// Flattens {"a": {"b": 1}} into {"a.b": 1}; arrays and scalars are leaves.
void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) {
      flatten(v, key, out);
    } else {
      out[key] = v;
    }
  }
}

// The keys that name files or folders.
std::vector<std::pair<std::string, std::string*>> path_fields(Config& c) {
  return {{"server.web_root", &c.server.web_root},
          {"server.port_file", &c.server.port_file},
          {"server.tls_cert_file", &c.server.tls_cert_file},
          {"server.tls_key_file", &c.server.tls_key_file},
          {"data.dir", &c.data.dir},
          {"data.users_file", &c.data.users_file},
          {"data.personas_file", &c.data.personas_file}};
}

}  // namespace

std::string env_name(const std::string& key) {
  std::string out = "SWITCHBOARD_";
  for (char ch : key)
    out.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

std::vector<std::string> known_keys() {
  Config c;
  std::vector<std::string> keys;
  for (const auto& b : bindings(c)) keys.push_back(b.key);
  return keys;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("SWITCHBOARD_", 0) != 0) continue;
    const auto eq = kv.find('=');
    if (eq != std::string_view::npos)
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

Config load(const std::filesystem::path& path, bool must_exist, const std::map<std::string, std::string>& env,
            const std::map<std::string, std::string>& overrides) {
  Config c;
  auto table = bindings(c);
  std::map<std::string, Binding*> by_key;
  for (auto& b : table) by_key[b.key] = &b;

  std::ifstream in(path);
  if (in) {
    json doc;
    try {
      doc = json::parse(in, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      throw ConfigError("config file " + path.string() + " is not valid JSON: " + e.what());
    }
    if (!doc.is_object()) throw ConfigError("config file " + path.string() + " must hold a JSON object");
    std::map<std::string, json> flat;
    flatten(doc, "", flat);
    for (const auto& [key, value] : flat) {
      const auto it = by_key.find(key);
      if (it == by_key.end()) fail(key, "unknown key in " + path.string());
      it->second->from_json(value);
    }
    // A relative path in the file is relative to the file's folder, so the server starts the same from any
    // working directory. (In the environment and on the command line it is relative to the working directory,
    // as in a shell.)
    const auto folder = std::filesystem::absolute(path).parent_path();
    for (const auto& [key, field] : path_fields(c)) {
      if (flat.count(key) && !field->empty() && std::filesystem::path(*field).is_relative())
        *field = (folder / *field).lexically_normal().string();
    }
  } else if (must_exist) {
    throw ConfigError("config file " + path.string() + " cannot be read");
  }

  for (auto& b : table) {
    const auto it = env.find(env_name(b.key));
    if (it != env.end()) b.from_string(it->second);
  }
  for (const auto& [key, value] : overrides) {
    const auto it = by_key.find(key);
    if (it == by_key.end()) fail(key, "unknown key");
    it->second->from_string(value);
  }
  validate(c);
  return c;
}

}  // namespace switchboard::config
