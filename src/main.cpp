// switchboard: a real-time messenger server. See README.md.
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>

#include "switchboard/app/app.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/util/log.hpp"

namespace {

void print_usage() {
  std::cout
      << "Usage: switchboard [options]\n"
         "\n"
         "Options:\n"
         "  --config PATH       config file (default config/switchboard.json; missing is fine)\n"
         "  --listen HOST:PORT  where to listen (port 0 picks a free port); key server.listen\n"
         "  --web-root DIR      serve the web UI from DIR instead of the embedded copy; key server.web_root\n"
         "  --set KEY=VALUE     set any config key, e.g. --set session.ttl_seconds=60\n"
         "  --help              show this help\n"
         "  --version           show the version\n"
         "\n"
         "Every config key KEY (section.key) can also be set with the environment variable\n"
         "SWITCHBOARD_SECTION_KEY, e.g. redis.url -> SWITCHBOARD_REDIS_URL. Precedence: flags, then\n"
         "environment, then the config file, then built-in defaults.\n"
         "\n"
         "Config keys:\n";
  for (const auto& key : switchboard::config::known_keys())
    std::cout << "  " << key << "  (" << switchboard::config::env_name(key) << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "config/switchboard.json";
  bool config_given = false;
  std::map<std::string, std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "switchboard: " << flag << " needs a value (see --help)\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      print_usage();
      return 0;
    } else if (arg == "--version") {
      std::cout << "switchboard " << SWITCHBOARD_VERSION << "\n";
      return 0;
    } else if (arg == "--config") {
      config_path = value("--config");
      config_given = true;
    } else if (arg == "--listen") {
      overrides["server.listen"] = value("--listen");
    } else if (arg == "--web-root") {
      overrides["server.web_root"] = value("--web-root");
    } else if (arg == "--set") {
      const std::string kv = value("--set");
      const auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "switchboard: --set expects KEY=VALUE, got '" << kv << "'\n";
        return 2;
      }
      overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else {
      std::cerr << "switchboard: unknown option '" << arg << "' (see --help)\n";
      return 2;
    }
  }

  switchboard::config::Config config;
  try {
    config = switchboard::config::load(config_path, config_given, switchboard::config::process_environment(),
                                       overrides);
  } catch (const switchboard::config::ConfigError& e) {
    std::cerr << "switchboard: bad configuration: " << e.what() << "\n";
    return 2;
  }
  switchboard::app::init_logging(config.log);
  try {
    switchboard::app::App app(std::move(config));
    return app.run();
  } catch (const std::exception& e) {
    switchboard::util::logger("app")->critical("start-up failed: {}", e.what());
    spdlog::shutdown();
    std::cerr << "switchboard: start-up failed: " << e.what() << "\n";
    return 1;
  }
}
