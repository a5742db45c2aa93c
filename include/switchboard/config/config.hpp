#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::config {

// A configured public group room.
struct GroupRoom {
  std::string id;
  std::string name;
};

// The whole typed configuration. Every field has the documented default of config/switchboard.json; see that
// file for the meaning of each key. Plain data: copy it freely, read it from any thread.
struct Config {
  struct Server {
    std::string listen = "127.0.0.1:8080";
    int threads = 0;       // 0: one per CPU in the affinity mask
    std::string web_root;  // empty: the UI embedded in the binary
    std::size_t body_limit_bytes = 64 * 1024;
    std::size_t header_limit_bytes = 8 * 1024;
    int request_timeout_seconds = 30;
    int keep_alive_timeout_seconds = 60;
    int shutdown_timeout_seconds = 10;
    std::string port_file;      // when set, the bound port is written here (tests)
    std::string tls_cert_file;  // PEM certificate chain; with tls_key_file, serve HTTPS and WSS
    std::string tls_key_file;   // PEM private key
  } server;

  struct Session {
    int ttl_seconds = 1200;
    int touch_interval_seconds = 60;
    int sweep_interval_seconds = 10;
  } session;

  struct Redis {
    std::string url;
    int connect_timeout_ms = 2000;  // TCP connect plus AUTH/SELECT/PING
    int command_timeout_ms = 1000;
    int reconnect_initial_backoff_ms = 100;
    int reconnect_max_backoff_ms = 2000;
    int health_check_interval_ms = 3000;  // 0: no PINGs
    std::size_t max_pending_commands = 10000;
  } redis;

  struct Turnstile {
    std::string site_key;
    std::string secret_key;
    std::string verify_url = "https://challenges.cloudflare.com/turnstile/v0/siteverify";
    std::string expected_hostname;  // empty: siteverify's hostname is not checked
    std::string expected_action;    // empty: the widget's action is not checked
    int timeout_ms = 5000;          // siteverify budget per login (a retry included); then 503, fail closed
  } turnstile;

  struct Security {
    std::vector<std::string> allowed_origins;
    std::vector<std::string> trusted_proxies;
    int login_per_10s = 5;
    std::size_t max_connections = 20000;       // open connections (HTTP and WebSocket) in all
    std::size_t max_connections_per_ip = 256;  // open connections per client IP
  } security;

  struct Chat {
    std::vector<GroupRoom> rooms = {{"general", "General Chat"}, {"music", "Music 🎵"}};
    std::vector<std::string> winks = {"dancing_pig", "kiss", "heart_burst", "thunder"};
    std::size_t history_on_join = 100;
    std::size_t room_cache_messages = 200;
    std::size_t max_content_code_points = 2048;
    std::size_t max_display_name_code_points = 50;
    std::size_t max_personal_message_code_points = 128;
    std::size_t max_frame_bytes = 64 * 1024;
    int rate_limit_messages = 15;
    int rate_limit_window_seconds = 60;
    int min_chat_interval_ms = 200;
    int nudge_limit = 3;
    int nudge_window_seconds = 10;
    int typing_timeout_ms = 3000;
    int heartbeat_timeout_seconds = 90;
    // A room's participants list goes out at most once per this interval (or 1 ms per member, if longer):
    // a mass join costs a few lists rather than one per join.
    int participants_interval_ms = 250;
    // With several instances: how often each one re-announces its members of a room; an instance silent for
    // three periods (a crash) drops out of the room's participants.
    int roster_refresh_seconds = 20;
  } chat;

  struct WebSocket {
    std::size_t max_queued_messages = 1024;
    std::size_t max_queued_bytes = 4 * 1024 * 1024;
    int write_timeout_seconds = 30;
    int handshake_timeout_seconds = 30;
  } ws;

  struct Presence {
    int away_after_seconds = 600;
    // With several instances sharing Redis: each refreshes its presence heartbeat this often (key TTL three
    // periods), so the users of a crashed instance go offline elsewhere within four periods.
    int heartbeat_seconds = 10;
  } presence;

  struct History {
    std::string backend = "auto";  // "auto", "sqlite" (durable, in data.dir), "memory" or "redis" (shared)
    std::size_t memory_max_messages_per_room = 10000;
    std::string sqlite_file = "history.db";  // relative paths are inside data.dir
    std::size_t max_pending_writes = 10000;  // queued appends beyond this fail at once
    std::size_t max_batch = 2048;            // operations per group-commit transaction
    std::size_t max_pending_reads = 1024;
    std::size_t reader_threads = 2;
    int retention_group_days = 0;   // 0: keep forever
    int retention_direct_days = 0;  // 0: keep forever
    int retention_sweep_seconds = 3600;
    bool quick_check_on_open = true;
    std::uint32_t max_page_count = 0;  // test-only: cap in pages, to simulate a full disk; 0 = no cap
  } history;

  struct Ai {
    bool enabled = true;
    std::string provider;  // empty, "workers-ai" or "openai"
    std::string base_url;
    std::string api_key;
    std::string model = "@cf/meta/llama-3.2-1b-instruct";
    std::string account_id;
    int timeout_seconds = 20;
    std::size_t context_messages = 10;
    int user_daily_quota = 50;
    int global_daily_quota = 4000;
    bool stream = true;                 // ask the provider for SSE and relay chat_delta frames
    int max_tokens = 256;               // generation cap sent to the provider
    std::size_t max_reply_chars = 600;  // post-processed reply cap, in code points
    int max_concurrent_replies = 8;     // bot replies generating at once; keeps HTTP slots free for Turnstile
  } ai;

  struct HttpClient {
    int connect_timeout_seconds = 5;
    int max_concurrent_requests = 32;  // transfers in flight at once (AI and Turnstile together)
    int max_queued_requests = 256;     // waiting beyond that; more fail at once with an overload error
  } http_client;

  struct Data {
    std::string dir = "./data";
    std::string users_file;     // empty: the seeded accounts built into the binary
    std::string personas_file;  // empty: the bot personas built into the binary
  } data;

  struct Log {
    std::string level = "info";
    std::string format = "text";  // "text" or "json"
  } log;

  struct Analytics {
    std::string sink = "file";  // "file", "stdout", "http", "redis" or "none"
    std::string dataset = "switchboard";
    std::size_t queue_size = 10000;
    std::size_t batch_max_events = 100;
    int flush_interval_ms = 1000;
    std::string file = "events.jsonl";  // relative paths are inside data.dir
    std::uint64_t file_max_bytes = 10 * 1024 * 1024;
    std::size_t file_keep = 5;
    std::string http_url;
    std::string http_token;
    int http_timeout_ms = 5000;
    int http_max_retries = 3;
    int http_initial_backoff_ms = 200;
    int http_max_backoff_ms = 5000;
    std::string redis_stream = "switchboard:events";
    std::uint64_t redis_maxlen = 100000;
  } analytics;

  struct Metrics {
    std::string token;  // empty: /metrics answers loopback clients only
  } metrics;
};

// Thrown for any bad configuration; what() names the offending key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads `path` (JSON with // comments), then applies SWITCHBOARD_* environment variables from `env`, then the
// `overrides` (key -> value, from the command line), and validates the result. A missing file is an error
// only when `must_exist`. Throws ConfigError.
Config load(const std::filesystem::path& path, bool must_exist, const std::map<std::string, std::string>& env,
            const std::map<std::string, std::string>& overrides);

// The environment variable that overrides `key`, e.g. "redis.url" -> "SWITCHBOARD_REDIS_URL".
std::string env_name(const std::string& key);

// Every key the loader accepts, in file order (for --help and the documentation test).
std::vector<std::string> known_keys();

// Reads the current process environment into a map (only SWITCHBOARD_* variables).
std::map<std::string, std::string> process_environment();

}  // namespace switchboard::config
