#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "switchboard/analytics/metrics.hpp"
#include "switchboard/net/client_connection.hpp"

namespace switchboard::net {

// Every open WebSocket, weakly, so shutdown can close them all; and live counts for metrics.
// Thread-safety: all methods are safe from any thread.
class ConnectionRegistry final {
 public:
  void add(const std::shared_ptr<ClientConnection>& conn) {
    std::lock_guard lock(mutex_);
    sockets_[conn->connection_id()] = conn;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sockets_.erase(id);
  }
  void close_all(std::uint16_t code, const std::string& reason) {
    std::vector<std::shared_ptr<ClientConnection>> live;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, w] : sockets_)
        if (auto c = w.lock()) live.push_back(std::move(c));
    }
    for (const auto& c : live) c->close(code, reason);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return sockets_.size();
  }

  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
  }

  std::atomic<std::size_t> http_connections{0};
  // Set once by the Server before it accepts; may be null.
  std::shared_ptr<analytics::Metrics> metrics;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<ClientConnection>> sockets_;
};

}  // namespace switchboard::net
