#pragma once
// Starts tests/fakes/fake_llm.mjs as a child process and reads its port ("listening <port>").
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace switchboard::ai::test {

class FakeLlmProcess {
 public:
  FakeLlmProcess() {
    // Built before fork(): other threads may hold the allocator's lock.
    const std::string script = std::string(SWITCHBOARD_SOURCE_DIR) + "/tests/fakes/fake_llm.mjs";
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execlp("node", "node", script.c_str(), "--port", "0", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    if (pid_ < 0) {
      ::close(fds[0]);
      return;
    }
    FILE* out = ::fdopen(fds[0], "r");
    char line[128] = {};
    if (out != nullptr && std::fgets(line, sizeof line, out) != nullptr)
      std::sscanf(line, "listening %d", &port_);
    if (out != nullptr) std::fclose(out);
  }
  ~FakeLlmProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  FakeLlmProcess(const FakeLlmProcess&) = delete;
  FakeLlmProcess& operator=(const FakeLlmProcess&) = delete;

  bool running() const { return port_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace switchboard::ai::test
