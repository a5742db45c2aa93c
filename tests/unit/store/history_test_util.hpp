#pragma once
// Helpers shared by the history store tests: temporary directories, message builders and blocking wrappers
// around the asynchronous HistoryStore calls.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "switchboard/chat/message.hpp"
#include "switchboard/store/history_store.hpp"

namespace switchboard::store::testing {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "store";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() /
            ("sb-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline chat::Message msg(const std::string& room, std::uint64_t seq, const std::string& sender = "alice",
                         std::string content = {}) {
  chat::Message m;
  m.room_id = room;
  m.seq = seq;
  m.id = "m" + std::to_string(seq);
  m.sender_id = sender;
  m.display_name = "Name of " + sender;
  m.content = content.empty() ? "hello " + std::to_string(seq) : std::move(content);
  m.timestamp = 1'700'000'000'000 + static_cast<std::int64_t>(seq);
  return m;
}

inline std::error_code append_sync(HistoryStore& s, const chat::Message& m) {
  std::promise<std::error_code> p;
  auto f = p.get_future();
  s.append(m, [&p](std::error_code ec) { p.set_value(ec); });
  return f.get();
}

inline std::error_code delete_sync(HistoryStore& s, const std::string& user) {
  std::promise<std::error_code> p;
  auto f = p.get_future();
  s.delete_by_sender(user, [&p](std::error_code ec) { p.set_value(ec); });
  return f.get();
}

// Waits until every write queued before it has been applied (the write queue is FIFO).
inline void barrier(HistoryStore& s) {
  ASSERT_FALSE(delete_sync(s, "__nobody__"));
}

inline HistoryStore::RoomState load_sync(HistoryStore& s, const std::string& room, std::size_t limit,
                                         std::error_code* ec_out = nullptr) {
  std::promise<std::pair<std::error_code, HistoryStore::RoomState>> p;
  auto f = p.get_future();
  s.load_room(room, limit, [&p](std::error_code ec, HistoryStore::RoomState st) {
    p.set_value({ec, std::move(st)});
  });
  auto [ec, st] = f.get();
  if (ec_out) {
    *ec_out = ec;
  } else {
    EXPECT_FALSE(ec) << ec.message();
  }
  return st;
}

inline HistoryStore::Page before_sync(HistoryStore& s, const std::string& room, const std::string& id,
                                      std::size_t limit, std::error_code* ec_out = nullptr) {
  std::promise<std::pair<std::error_code, HistoryStore::Page>> p;
  auto f = p.get_future();
  s.before(room, id, limit, [&p](std::error_code ec, HistoryStore::Page pg) {
    p.set_value({ec, std::move(pg)});
  });
  auto [ec, page] = f.get();
  if (ec_out) {
    *ec_out = ec;
  } else {
    EXPECT_FALSE(ec) << ec.message();
  }
  return page;
}

inline HistoryStore::Page after_sync(HistoryStore& s, const std::string& room, const std::string& id,
                                     std::size_t limit, std::error_code* ec_out = nullptr) {
  std::promise<std::pair<std::error_code, HistoryStore::Page>> p;
  auto f = p.get_future();
  s.after(room, id, limit, [&p](std::error_code ec, HistoryStore::Page pg) {
    p.set_value({ec, std::move(pg)});
  });
  auto [ec, page] = f.get();
  if (ec_out) {
    *ec_out = ec;
  } else {
    EXPECT_FALSE(ec) << ec.message();
  }
  return page;
}

inline std::optional<chat::Message> find_sync(HistoryStore& s, const std::string& room, const std::string& id,
                                              std::error_code* ec_out = nullptr) {
  std::promise<std::pair<std::error_code, std::optional<chat::Message>>> p;
  auto f = p.get_future();
  s.find(room, id, [&p](std::error_code ec, std::optional<chat::Message> m) {
    p.set_value({ec, std::move(m)});
  });
  auto [ec, found] = f.get();
  if (ec_out) {
    *ec_out = ec;
  } else {
    EXPECT_FALSE(ec) << ec.message();
  }
  return found;
}

inline std::vector<std::uint64_t> seqs(const std::vector<chat::Message>& ms) {
  std::vector<std::uint64_t> out;
  for (const auto& m : ms) out.push_back(m.seq);
  return out;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace switchboard::store::testing
