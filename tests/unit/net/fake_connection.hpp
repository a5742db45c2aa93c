#pragma once
// A ClientConnection that records what an actor sends it, for driving rooms and presence without sockets.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchboard/net/client_connection.hpp"

namespace switchboard::test {

class FakeConnection final : public net::ClientConnection {
 public:
  explicit FakeConnection(std::uint64_t id) : id_(id) {}
  void send(net::SharedFrame frame) override {
    if (throw_on_send) throw std::runtime_error("fake connection: send failed");
    frames.push_back(nlohmann::json::parse(*frame));
  }
  void close(std::uint16_t code, std::string) override { closed_with = code; }
  std::uint64_t connection_id() const override { return id_; }

  std::vector<nlohmann::json> of_type(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& f : frames)
      if (f["type"] == type) out.push_back(f);
    return out;
  }

  std::vector<nlohmann::json> frames;
  int closed_with = 0;
  bool throw_on_send = false;  // a connection with a bug, for the tests that show an actor survives it

 private:
  std::uint64_t id_;
};

}  // namespace switchboard::test
