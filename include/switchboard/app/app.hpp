#pragma once
#include <memory>

#include "switchboard/config/config.hpp"

namespace switchboard::app {

// The composition root: builds every component from the typed config, wires them, runs the io_context
// threads, and shuts down gracefully on SIGTERM/SIGINT (readiness 503, stop accepting, close sockets with
// 1001, flush).
class App final {
 public:
  explicit App(config::Config config);
  ~App();

  // Runs until a signal ends the server; returns the process exit code. Throws on start-up failure.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets up spdlog: one named logger per concern, text or JSON lines, asynchronous so logging never blocks an
// I/O thread on the terminal or a pipe.
void init_logging(const config::Config::Log& log);

}  // namespace switchboard::app
