#include "switchboard/config/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

namespace switchboard::config {
namespace {

const std::filesystem::path kShipped =
    std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "config/switchboard.json";

std::filesystem::path write_temp(const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() / ("sb_config_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << text;
  return path;
}

TEST(Config, ShippedFileLoadsWithDefaults) {
  const Config c = load(kShipped, true, {}, {});
  const Config defaults;
  EXPECT_EQ(c.server.listen, defaults.server.listen);
  EXPECT_EQ(c.session.ttl_seconds, 1200);
  EXPECT_EQ(c.chat.rooms.size(), 2u);
  EXPECT_EQ(c.chat.rooms[1].name, "Music 🎵");
}

TEST(Config, RelativePathsInTheFileAreRelativeToItsFolder) {
  const auto folder = std::filesystem::temp_directory_path() / ("sb_paths_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder / "etc" / "tls");
  std::ofstream(folder / "etc" / "tls" / "cert.pem") << "(validation only checks that it can be read)";
  std::ofstream(folder / "etc" / "tls" / "key.pem") << "(validation only checks that it can be read)";
  const auto path = folder / "etc" / "switchboard.json";
  std::ofstream(path)
      << R"({"data": {"dir": "../state", "users_file": "users.json", "personas_file": "/abs/p.json"},
                            "server": {"tls_cert_file": "tls/cert.pem", "tls_key_file": "tls/key.pem",
                                       "web_root": ""}})";
  // From a relative --config too: the folder is made absolute first.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(folder);
  Config c = load("etc/switchboard.json", true, {}, {});
  std::filesystem::current_path(cwd);
  const auto canonical = std::filesystem::weakly_canonical(folder);
  EXPECT_EQ(std::filesystem::path(c.data.dir), canonical / "state");
  EXPECT_EQ(std::filesystem::path(c.data.users_file), canonical / "etc" / "users.json");
  EXPECT_EQ(c.data.personas_file, "/abs/p.json") << "absolute paths stay as they are";
  EXPECT_EQ(std::filesystem::path(c.server.tls_cert_file), canonical / "etc" / "tls" / "cert.pem");
  EXPECT_EQ(c.server.web_root, "") << "empty means unset, not the folder";

  // The environment and flags are relative to the working directory, as in a shell; defaults stay as they
  // are.
  c = load(path, true, {{"SWITCHBOARD_DATA_DIR", "rel"}}, {{"data.users_file", "u.json"}});
  EXPECT_EQ(c.data.dir, "rel");
  EXPECT_EQ(c.data.users_file, "u.json");
  c = load(folder / "missing.json", false, {}, {});
  EXPECT_EQ(c.data.dir, Config{}.data.dir);
  EXPECT_EQ(c.data.users_file, "") << "empty: the built-in accounts";
  std::filesystem::remove_all(folder);
}

TEST(Config, ShippedFileDocumentsEveryKey) {
  std::ifstream in(kShipped);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& key : known_keys()) {
    const auto leaf = key.substr(key.rfind('.') + 1);
    EXPECT_NE(text.find("\"" + leaf + "\""), std::string::npos)
        << key << " is missing from the shipped config";
  }
}

TEST(Config, EnvironmentBeatsFileAndFlagsBeatEnvironment) {
  const auto path = write_temp(R"({"session": {"ttl_seconds": 30}, "redis": {"url": "redis://a:1/0"}})");
  auto c = load(path, true, {{"SWITCHBOARD_SESSION_TTL_SECONDS", "40"}}, {});
  EXPECT_EQ(c.session.ttl_seconds, 40);
  EXPECT_EQ(c.redis.url, "redis://a:1/0");
  c = load(path, true, {{"SWITCHBOARD_SESSION_TTL_SECONDS", "40"}}, {{"session.ttl_seconds", "50"}});
  EXPECT_EQ(c.session.ttl_seconds, 50);
  std::filesystem::remove(path);
}

TEST(Config, ListsFromEnvironmentAreCommaSeparated) {
  const auto c = load("/nonexistent", false,
                      {{"SWITCHBOARD_SECURITY_ALLOWED_ORIGINS", "https://a.example, https://b.example"},
                       {"SWITCHBOARD_CHAT_ROOMS", "lobby=The Lobby,dev=Developers"}},
                      {});
  ASSERT_EQ(c.security.allowed_origins.size(), 2u);
  EXPECT_EQ(c.security.allowed_origins[1], "https://b.example");
  ASSERT_EQ(c.chat.rooms.size(), 2u);
  EXPECT_EQ(c.chat.rooms[0].name, "The Lobby");
}

void expect_error_naming(const std::function<void()>& f, const std::string& key) {
  try {
    f();
    FAIL() << "expected ConfigError naming " << key;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(Config, BadValuesNameTheirKey) {
  expect_error_naming(
      [] {
        load("/nonexistent", false, {{"SWITCHBOARD_SESSION_TTL_SECONDS", "abc"}}, {});
      },
      "session.ttl_seconds");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {{"SWITCHBOARD_SESSION_TTL_SECONDS", "0"}}, {});
      },
      "session.ttl_seconds");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {}, {{"server.listen", "nonsense"}});
      },
      "server.listen");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {{"SWITCHBOARD_AI_ENABLED", "maybe"}}, {});
      },
      "ai.enabled");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {{"SWITCHBOARD_REDIS_URL", "http://x"}}, {});
      },
      "redis.url");
  expect_error_naming([] { load("/nonexistent", false, {}, {{"no.such", "1"}}); }, "no.such");
  const auto path = write_temp(R"({"server": {"listen": 8080}})");
  expect_error_naming([&] { load(path, true, {}, {}); }, "server.listen");
  const auto typo = write_temp(R"({"sesion": {"ttl_seconds": 5}})");
  expect_error_naming([&] { load(typo, true, {}, {}); }, "sesion.ttl_seconds");
  std::filesystem::remove(path);
}

TEST(Config, HardeningKeysAreValidated) {
  const auto c = load("/nonexistent", false,
                      {{"SWITCHBOARD_SECURITY_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32,127.0.0.1"}}, {});
  EXPECT_EQ(c.security.trusted_proxies.size(), 3u);
  EXPECT_EQ(c.security.max_connections, 20000u);
  EXPECT_EQ(c.security.max_connections_per_ip, 256u);
  for (const char* bad : {"10.0.0.0/33", "proxy.internal", "10.0.0.1/8"}) {
    try {
      load("/nonexistent", false,
           {{"SWITCHBOARD_SECURITY_TRUSTED_PROXIES", std::string("10.0.0.0/8,") + bad}}, {});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("security.trusted_proxies"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  expect_error_naming(
      [] {
        load("/nonexistent", false, {}, {{"security.max_connections_per_ip", "0"}});
      },
      "security.max_connections_per_ip");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {}, {{"server.tls_cert_file", "/etc/hostname"}});
      },
      "server.tls_key_file");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {},
             {{"server.tls_cert_file", "/nonexistent/cert.pem"},
              {"server.tls_key_file", "/nonexistent/key.pem"}});
      },
      "server.tls_cert_file");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {}, {{"turnstile.timeout_ms", "0"}});
      },
      "turnstile.timeout_ms");
  expect_error_naming(
      [] {
        load("/nonexistent", false, {}, {{"turnstile.verify_url", "ftp://x"}});
      },
      "turnstile.verify_url");
}

TEST(Config, MissingFileIsAnErrorOnlyWhenRequired) {
  EXPECT_NO_THROW(load("/nonexistent", false, {}, {}));
  EXPECT_THROW(load("/nonexistent", true, {}, {}), ConfigError);
}

TEST(Config, EnvNames) {
  EXPECT_EQ(env_name("redis.url"), "SWITCHBOARD_REDIS_URL");
  EXPECT_EQ(env_name("security.login_per_10s"), "SWITCHBOARD_SECURITY_LOGIN_PER_10S");
}

}  // namespace
}  // namespace switchboard::config
