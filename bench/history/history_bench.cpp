// Chat throughput with the durable SQLite history store versus the in-memory one (issue 8: the SQLite store
// should keep at least 70% of the memory store's throughput).
//
// Mode "room" (the default) drives real ChatRoom actors the way the REST send path does: many rooms, several
// senders per room, each sender keeping `window` messages in flight and sending the next one as soon as one
// is acknowledged. An acknowledgement is the room's completion callback, which runs after the store reported
// the message durable and the room broadcast it to its members, so the figure covers append -> commit ->
// broadcast. Mode "store" calls HistoryStore::append directly (no room, no broadcast).
//
// Prints one JSON object on stdout; logs go to stderr. fsync on tmpfs costs nothing, so run it on the disk
// the server's data directory would live on (the output names the file system type).
#include <pthread.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/auth/user_directory.hpp"
#include "switchboard/chat/chat_room.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/presence/user_profiles.hpp"
#include "switchboard/store/history_store_factory.hpp"
#include "switchboard/store/sqlite_history_store.hpp"

namespace {

using namespace switchboard;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode = "room";
  std::string backend = "both";  // both | memory | sqlite
  std::size_t messages = 200000;
  std::size_t rooms = 64;
  std::size_t senders = 8;  // per room
  std::size_t window = 8;   // messages in flight per sender
  std::size_t members = 8;  // sockets per room receiving every broadcast
  std::size_t payload = 100;
  std::size_t threads = 2;    // I/O threads running the rooms
  std::size_t repeat = 1;     // runs per backend, alternating; the median is reported
  std::size_t max_batch = 0;  // 0: the config default
  std::string data_dir = "./history-bench-data";
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "history_bench: " << why << "\n"
            << "usage: switchboard_history_bench [--mode room|store] [--backend both|memory|sqlite]\n"
               "  [--messages N] [--rooms R] [--senders S] [--window W] [--members M] [--payload BYTES]\n"
               "  [--threads T] [--repeat K] [--max-batch B] [--data-dir DIR]\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  const auto number = [&](int& i, const std::string& name) -> std::size_t {
    if (i + 1 >= argc) usage(name + " needs a value");
    const std::string v = argv[++i];
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') usage(name + " expects a non-negative integer, got '" + v + "'");
    return static_cast<std::size_t>(n);
  };
  const std::map<std::string, std::size_t Args::*> counts = {
      {"--messages", &Args::messages}, {"--rooms", &Args::rooms},     {"--senders", &Args::senders},
      {"--window", &Args::window},     {"--members", &Args::members}, {"--payload", &Args::payload},
      {"--threads", &Args::threads},   {"--repeat", &Args::repeat},   {"--max-batch", &Args::max_batch}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) {
      a.mode = argv[++i];
    } else if (arg == "--backend" && i + 1 < argc) {
      a.backend = argv[++i];
    } else if (arg == "--data-dir" && i + 1 < argc) {
      a.data_dir = argv[++i];
    } else if (const auto field = counts.find(arg); field != counts.end()) {
      a.*(field->second) = number(i, arg);
    } else if (arg == "--help" || arg == "-h") {
      usage("chat throughput, SQLite history store versus memory");
    } else {
      usage("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (a.mode != "room" && a.mode != "store") usage("--mode is room or store");
  if (a.backend != "both" && a.backend != "memory" && a.backend != "sqlite")
    usage("--backend is both, memory or sqlite");
  if (a.messages == 0 || a.rooms == 0 || a.senders == 0 || a.window == 0 || a.threads == 0 || a.repeat == 0)
    usage("--messages, --rooms, --senders, --window, --threads and --repeat must be at least 1");
  if (a.payload == 0 || a.payload > 2048) usage("--payload is 1 to 2048 bytes (the chat content limit)");
  return a;
}

std::string fs_type(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0x01021994UL:
      return "tmpfs";  // fsync is free here: the figures overstate a real disk
    case 0xEF53UL:
      return "ext4";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x794C7630UL:
      return "overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(s.f_type));
      return buf;
    }
  }
}

// A member socket. It does the in-process part of the server's WebSocket send (a hop to the connection's
// strand and a bounded write queue) and counts what it would write; only the socket write itself is left out.
class MemberConnection final : public net::ClientConnection {
 public:
  MemberConnection(boost::asio::io_context& ioc, std::uint64_t id)
      : strand_(boost::asio::make_strand(ioc)), id_(id) {}
  void send(net::SharedFrame frame) override {
    boost::asio::dispatch(strand_, [this, frame = std::move(frame)]() mutable {
      if (queue_.size() >= kMaxQueued) return;  // the server would close a client this far behind
      queue_.push_back(std::move(frame));
      // The write completes at once: account for it and free the slot.
      bytes.fetch_add(queue_.front()->size(), std::memory_order_relaxed);
      queue_.pop_front();
      frames.fetch_add(1, std::memory_order_relaxed);
    });
  }
  void close(std::uint16_t, std::string) override {}
  std::uint64_t connection_id() const override { return id_; }

  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> bytes{0};

 private:
  static constexpr std::size_t kMaxQueued = 1024;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::deque<net::SharedFrame> queue_;  // strand only
  std::uint64_t id_;
};

// Counts acknowledged messages and wakes the main thread when all are in.
class Completion {
 public:
  explicit Completion(std::size_t total) : total_(total) {}
  void one(bool ok) {
    if (!ok) errors_.fetch_add(1, std::memory_order_relaxed);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == total_) {
      std::lock_guard lock(mutex_);
      finished_ = true;
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return finished_; });
  }
  std::size_t errors() const { return errors_.load(); }

 private:
  const std::size_t total_;
  std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> errors_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
};

struct RunResult {
  double seconds = 0;
  std::size_t messages = 0;
  std::size_t errors = 0;
  std::uint64_t frames = 0;  // chat frames delivered to member sockets
  std::vector<double> latencies_ms;
  std::optional<std::uint64_t> commits;

  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// A client id shaped like the web UI's (random, so the store's id index sees random keys, as in production).
std::string client_id() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "c";
  for (int i = 0; i < 18; ++i) id += kAlphabet[rng() % 36];
  return id;
}

std::vector<std::string> user_ids(const Args& a) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < a.senders; ++i) ids.push_back("bench" + std::to_string(i));
  return ids;
}

config::Config make_config(const Args& a, const std::string& backend, const std::string& file) {
  config::Config c;
  c.history.backend = backend;
  c.data.dir = a.data_dir;
  c.history.sqlite_file = file;
  if (a.max_batch > 0) c.history.max_batch = a.max_batch;
  // The rate limits protect a server from one user; here every sender sends as fast as it is acknowledged.
  c.chat.min_chat_interval_ms = 0;
  c.chat.rate_limit_messages = 1 << 30;
  c.chat.rate_limit_window_seconds = 1;
  // Participants lists go out during the joins, before counting starts, not as a late coalesced list inside
  // the measured run.
  c.chat.participants_interval_ms = 0;
  return c;
}

std::optional<std::uint64_t> commits_of(const store::HistoryStore& s) {
  if (const auto* sq = dynamic_cast<const store::SqliteHistoryStore*>(&s)) return sq->commit_count();
  return std::nullopt;
}

// Splits `total` over `parts` as evenly as possible.
std::vector<std::size_t> split(std::size_t total, std::size_t parts) {
  std::vector<std::size_t> out(parts, total / parts);
  for (std::size_t i = 0; i < total % parts; ++i) ++out[i];
  return out;
}

RunResult run_rooms(const Args& a, store::HistoryStore& store_ref, std::shared_ptr<store::HistoryStore> store,
                    const config::Config& cfg) {
  std::vector<auth::Account> accounts;
  for (const auto& id : user_ids(a))
    accounts.push_back({id, id + "@bench.invalid", "Bench " + id, "duck", ""});
  const auth::UserDirectory directory(accounts, {});
  auto profiles = std::make_shared<presence::UserProfiles>(directory, 50, false, "");

  boost::asio::io_context ioc(static_cast<int>(a.threads));
  auto work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < a.threads; ++i)
    threads.emplace_back([&ioc] {
      pthread_setname_np(pthread_self(), "bench-io");
      ioc.run();
    });

  std::vector<std::shared_ptr<chat::ChatRoom>> rooms;
  std::vector<std::shared_ptr<MemberConnection>> members;
  std::uint64_t next_conn = 1;
  for (std::size_t r = 0; r < a.rooms; ++r) {
    auto room = std::make_shared<chat::ChatRoom>(
        ioc.get_executor(), chat::RoomInfo{"bench-" + std::to_string(r), false, {}},
        chat::ChatRoom::Dependencies{cfg, chat::FrameLimits{}, store, profiles, nullptr, {}});
    for (std::size_t m = 0; m < a.members; ++m) {
      auto conn = std::make_shared<MemberConnection>(ioc, next_conn++);
      room->join(conn, {user_ids(a)[m % a.senders], std::nullopt});
      members.push_back(conn);
    }
    rooms.push_back(std::move(room));
  }
  // Joins load each room from the store and greet the socket; wait for them before the clock starts.
  for (const auto& m : members) {
    while (m->frames.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the joined/participants lines settle
  std::uint64_t frames_before = 0;
  for (const auto& m : members) frames_before += m->frames.load();

  const std::size_t total = a.messages;
  Completion completion(total);
  const std::string payload(a.payload, 'x');
  struct Sender {
    std::shared_ptr<chat::ChatRoom> room;
    std::string user;
    std::size_t quota = 0;
    std::atomic<std::size_t> issued{0};
    std::vector<double> latencies_ms;  // touched only on the room's strand (the send callbacks)
  };
  std::vector<std::unique_ptr<Sender>> senders;
  const auto quotas = split(total, a.rooms * a.senders);
  for (std::size_t r = 0; r < a.rooms; ++r) {
    for (std::size_t s = 0; s < a.senders; ++s) {
      auto sender = std::make_unique<Sender>();
      sender->room = rooms[r];
      sender->user = user_ids(a)[s];
      sender->quota = quotas[r * a.senders + s];
      sender->latencies_ms.reserve(sender->quota);
      senders.push_back(std::move(sender));
    }
  }

  // Sends the sender's next message, if its quota is not used up; the callback sends the one after. Posted
  // rather than called inline, because the memory store completes inside append and would recurse.
  std::function<void(Sender*)> send_next = [&](Sender* s) {
    const std::size_t n = s->issued.fetch_add(1, std::memory_order_relaxed);
    if (n >= s->quota) return;
    const auto start = Clock::now();
    s->room->post_message(
        s->user, payload, client_id(), [&, s, start](std::variant<chat::Message, chat::SendError> result) {
          s->latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
          completion.one(std::holds_alternative<chat::Message>(result));
          boost::asio::post(ioc, [&, s] { send_next(s); });
        });
  };

  const auto t0 = Clock::now();
  for (auto& s : senders) {
    for (std::size_t w = 0; w < a.window; ++w) boost::asio::post(ioc, [&, p = s.get()] { send_next(p); });
  }
  completion.wait();
  const auto t1 = Clock::now();

  RunResult out;
  out.seconds = std::chrono::duration<double>(t1 - t0).count();
  out.messages = total;
  out.errors = completion.errors();
  out.commits = commits_of(store_ref);

  // Let the last broadcasts reach their members (nothing else is left to run), then count them.
  work.reset();
  for (auto& t : threads) t.join();
  for (const auto& m : members) out.frames += m->frames.load();
  out.frames -= frames_before;
  for (auto& s : senders)
    out.latencies_ms.insert(out.latencies_ms.end(), s->latencies_ms.begin(), s->latencies_ms.end());
  return out;
}

// HistoryStore::append alone: per room, `senders * window` appends in flight, each completion queueing the
// room's next one (seqs must rise per room, so a strand per room issues them).
RunResult run_store(const Args& a, store::HistoryStore& store) {
  boost::asio::io_context ioc(static_cast<int>(a.threads));
  auto work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < a.threads; ++i)
    threads.emplace_back([&ioc] {
      pthread_setname_np(pthread_self(), "bench-io");
      ioc.run();
    });

  const std::size_t total = a.messages;
  Completion completion(total);
  const std::string payload(a.payload, 'x');
  struct Room {
    explicit Room(boost::asio::io_context& ioc) : strand(boost::asio::make_strand(ioc)) {}
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    std::string id;
    std::size_t quota = 0;
    std::uint64_t next_seq = 1;        // strand only
    std::vector<double> latencies_ms;  // completions of one room run in order, each posted to the strand
  };
  std::vector<std::unique_ptr<Room>> rooms;
  const auto quotas = split(total, a.rooms);
  for (std::size_t r = 0; r < a.rooms; ++r) {
    auto room = std::make_unique<Room>(ioc);
    room->id = "bench-" + std::to_string(r);
    room->quota = quotas[r];
    room->latencies_ms.reserve(room->quota);
    rooms.push_back(std::move(room));
  }
  std::function<void(Room*)> append_next = [&](Room* room) {
    if (room->next_seq > room->quota) return;
    chat::Message m;
    m.seq = room->next_seq++;
    m.room_id = room->id;
    m.id = client_id();
    m.sender_id = "bench" + std::to_string(m.seq % a.senders);
    m.display_name = "Bench";
    m.content = payload;
    m.timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    const auto start = Clock::now();
    store.append(m, [&, room, start](std::error_code ec) {
      boost::asio::post(room->strand, [&, room, start, ec] {
        room->latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        completion.one(!ec);
        append_next(room);
      });
    });
  };

  const auto t0 = Clock::now();
  for (auto& room : rooms) {
    boost::asio::post(room->strand, [&, p = room.get()] {
      for (std::size_t i = 0; i < a.senders * a.window; ++i) append_next(p);
    });
  }
  completion.wait();
  const auto t1 = Clock::now();

  RunResult out;
  out.seconds = std::chrono::duration<double>(t1 - t0).count();
  out.messages = total;
  out.errors = completion.errors();
  out.commits = commits_of(store);
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  for (auto& room : rooms)
    out.latencies_ms.insert(out.latencies_ms.end(), room->latencies_ms.begin(), room->latencies_ms.end());
  return out;
}

RunResult run_once(const Args& a, const std::string& backend, int run_index) {
  const std::string file =
      "history-bench-" + std::to_string(::getpid()) + "-" + std::to_string(run_index) + ".db";
  const auto cfg = make_config(a, backend, file);
  auto store = store::make_history_store(cfg);
  RunResult r = a.mode == "room" ? run_rooms(a, *store, store, cfg) : run_store(a, *store);
  store->close();
  store.reset();
  if (backend == "sqlite") {
    std::error_code ec;
    const auto base = std::filesystem::path(a.data_dir) / file;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(base.string() + suffix, ec);
  }
  return r;
}

json summary(const std::vector<RunResult>& runs) {
  // The median run by throughput stands for the backend; every run's rate is listed too.
  std::vector<const RunResult*> sorted;
  for (const auto& r : runs) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->rate() < y->rate(); });
  const RunResult& med = *sorted[sorted.size() / 2];
  json rates = json::array();
  for (const auto& r : runs) rates.push_back(std::round(r.rate()));
  json j = {{"messages_per_s", std::round(med.rate())},
            {"seconds", med.seconds},
            {"errors", med.errors},
            {"frames_delivered", med.frames},
            {"ack_latency_ms",
             {{"p50", percentile(med.latencies_ms, 0.50)},
              {"p99", percentile(med.latencies_ms, 0.99)},
              {"max", percentile(med.latencies_ms, 1.0)}}},
            {"runs_messages_per_s", rates}};
  if (med.commits) {
    j["commits"] = *med.commits;
    j["avg_batch"] =
        *med.commits ? static_cast<double>(med.messages) / static_cast<double>(*med.commits) : 0.0;
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  // Logs (the store's "opened" line, errors) go to stderr so that stdout is only the JSON.
  auto logger = spdlog::stderr_logger_mt("bench");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);

  std::error_code ec;
  std::filesystem::create_directories(a.data_dir, ec);
  if (ec) {
    std::cerr << "history_bench: cannot create data directory '" << a.data_dir << "': " << ec.message()
              << "\n";
    return 1;
  }

  std::vector<std::string> backends;
  if (a.backend == "both" || a.backend == "memory") backends.push_back("memory");
  if (a.backend == "both" || a.backend == "sqlite") backends.push_back("sqlite");
  std::map<std::string, std::vector<RunResult>> runs;
  try {
    int index = 0;
    for (std::size_t rep = 0; rep < a.repeat; ++rep) {
      for (const auto& b : backends) runs[b].push_back(run_once(a, b, index++));
    }
  } catch (const std::exception& e) {
    std::cerr << "history_bench: " << e.what() << "\n";
    return 1;
  }

  json out = {{"mode", a.mode},
              {"messages", a.messages},
              {"rooms", a.rooms},
              {"senders_per_room", a.senders},
              {"window_per_sender", a.window},
              {"in_flight", a.rooms * a.senders * a.window},
              {"members_per_room", a.mode == "room" ? a.members : 0},
              {"payload_bytes", a.payload},
              {"io_threads", a.threads},
              {"repeat", a.repeat},
              {"data_dir", a.data_dir},
              {"fs_type", fs_type(a.data_dir)},
              {"cpus", std::thread::hardware_concurrency()}};
  std::size_t errors = 0;
  for (const auto& [b, r] : runs) {
    out[b] = summary(r);
    errors += out[b]["errors"].get<std::size_t>();
  }
  if (runs.count("memory") && runs.count("sqlite")) {
    const double mem = out["memory"]["messages_per_s"].get<double>();
    const double sql = out["sqlite"]["messages_per_s"].get<double>();
    out["ratio_sqlite_to_memory"] = mem > 0 ? std::round(sql / mem * 1000) / 1000 : 0.0;
  }
  std::cout << out.dump(2) << std::endl;
  return errors == 0 ? 0 : 1;
}
