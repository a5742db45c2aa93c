// switchboard-loadgen: drives a Switchboard server (or the Node baseline in bench/peers) with real guest
// logins and real WebSocket connections, and prints one JSON summary line per run. Scenarios: fanout, idle,
// churn, login. Single-threaded on purpose: the runner pins it to one core (taskset) next to the server on
// the other. See docs/performance.md for the method and bench/run.sh for the command lines.
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr
      << "switchboard-loadgen: " << msg << "\n"
      << "usage: switchboard-loadgen --scenario fanout|idle|churn|login --port N [options]\n"
         "  --host H (127.0.0.1)  --server-pid PID  --sources N (4: bind to 127.0.0.1..N)\n"
         "  --ramp N (connections/s, 0 = as fast as --max-inflight allows; default 500)\n"
         "  --max-inflight N (200)  --room-prefix P (bench: rooms P0..P{R-1})  --room-ids a,b (instead)\n"
         "    --rooms R (1)  --members M (1000)\n"
         "  --senders S (per room, 10)  --rate N (chats/s in all, 200)  --duration SECONDS (10)\n"
         "  --payload BYTES (100)  --users N (idle/login/churn pool)  --presence 0|1 (idle, 1)\n"
         "  --churn-rate N (connect+close cycles/s, 0 = max; 500)  --concurrency N (login, 16)\n"
         "  --label TEXT (free text copied into the summary, e.g. the session store)\n";
  std::exit(2);
}

struct Options {
  std::map<std::string, std::string> raw;
  std::string get(const std::string& k, const std::string& def) const {
    const auto it = raw.find(k);
    return it == raw.end() ? def : it->second;
  }
  long long num(const std::string& k, long long def) const {
    const auto it = raw.find(k);
    if (it == raw.end()) return def;
    try {
      std::size_t pos = 0;
      const long long v = std::stoll(it->second, &pos);
      if (pos != it->second.size() || v < 0) throw std::invalid_argument("x");
      return v;
    } catch (const std::exception&) {
      usage_error("--" + k + " must be a non-negative integer, got '" + it->second + "'");
    }
  }
};

// ---- /proc readers (server CPU, RSS, kernel socket memory)
// ----------------------------------------------------

double proc_cpu_seconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  const auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Fields after "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  for (int field = 3; field <= 15 && rest >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long long proc_rss_kb(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

json sockstat() {
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  json out = json::object();
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream ss(line.substr(4));
    std::string key;
    long long v;
    while (ss >> key >> v) out[key] = v;
  }
  out["page_bytes"] = sysconf(_SC_PAGESIZE);
  return out;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

json load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  return json::array({a, b, c});
}

json percentiles_ms(std::vector<std::uint32_t>& us) {
  json out = {{"samples", us.size()}, {"p50", 0.0}, {"p90", 0.0}, {"p99", 0.0}, {"max", 0.0}};
  if (us.empty()) return out;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    const auto i = std::min(us.size() - 1, static_cast<std::size_t>(q * static_cast<double>(us.size())));
    return us[i] / 1000.0;
  };
  out["p50"] = at(0.50);
  out["p90"] = at(0.90);
  out["p99"] = at(0.99);
  out["max"] = us.back() / 1000.0;
  return out;
}

// ---- the run context
// -----------------------------------------------------------------------------------------

using Ws = websocket::stream<beast::tcp_stream>;

struct Member {
  std::unique_ptr<Ws> ws;
  std::string session;
  std::string room;
  bool open = false;
};

struct Run {
  asio::io_context ioc{1};
  Options opt;
  std::string host;
  tcp::endpoint server;
  long server_pid = -1;
  int sources = 4;
  unsigned next_source = 0;
  Clock::time_point t0 = Clock::now();
  std::string prefix;

  // Counters fed by the readers.
  std::uint64_t frames = 0, frame_bytes = 0, error_frames = 0, deliveries = 0, closed_unexpectedly = 0;
  std::string first_error;
  bool measuring = false;
  std::int64_t phase_start_ns = 0;
  std::vector<std::uint32_t> latency_us;
  std::map<std::string, std::uint64_t> errors;  // by kind, for the summary

  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  }
  void error(const std::string& kind, const std::string& detail) {
    if (errors[kind]++ == 0 && first_error.empty()) first_error = kind + ": " + detail;
  }
  std::uint64_t error_total() const {
    std::uint64_t n = 0;
    for (const auto& [k, v] : errors) n += v;
    return n;
  }
};

// Binds the client socket to the next of 127.0.0.1..N before connecting, so one run can exceed the ~28k
// ephemeral ports of one source address (and the server's per-IP limits see several clients).
asio::awaitable<void> connect_from(Run& r, tcp::socket& s) {
  s.open(tcp::v4());
  const int one = 1;
  // Pick the port at connect time, not at bind time, so ports are only unique per 4-tuple.
  ::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  const auto idx = r.next_source++ % static_cast<unsigned>(r.sources);
  s.bind(tcp::endpoint(asio::ip::address_v4((127u << 24) | (idx + 1)), 0));
  s.set_option(tcp::no_delay(true));
  co_await s.async_connect(r.server, asio::use_awaitable);
}

// Logs in guest `name` over a keep-alive HTTP connection (reconnecting it when needed); returns the session
// id.
struct HttpConn {
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buf;
};

asio::awaitable<std::string> login(Run& r, HttpConn& c, const std::string& name) {
  for (int attempt = 0;; ++attempt) {
    try {
      if (!c.stream) {
        c.stream.emplace(r.ioc);
        co_await connect_from(r, c.stream->socket());
      }
      http::request<http::string_body> req{http::verb::post, "/api/auth/login", 11};
      req.set(http::field::host, r.host);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = json{{"username", name}}.dump();
      req.prepare_payload();
      c.stream->expires_after(30s);
      co_await http::async_write(*c.stream, req, asio::use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(*c.stream, c.buf, res, asio::use_awaitable);
      c.stream->expires_never();
      if (!res.keep_alive()) c.stream.reset();
      if (res.result() != http::status::ok) {
        std::string code = std::to_string(res.result_int());
        try {
          code += " " + json::parse(res.body()).at("error").at("code").get<std::string>();
        } catch (const std::exception&) {
        }
        throw std::runtime_error("login HTTP " + code);
      }
      co_return json::parse(res.body()).at("data").at("sessionId").get<std::string>();
    } catch (const boost::system::system_error&) {
      // A keep-alive connection the server closed between requests: reconnect once.
      c.stream.reset();
      c.buf.clear();
      if (attempt >= 1) throw;
    }
  }
}

std::string guest_name(const Run& r, std::size_t i) {
  return r.prefix + "n" + std::to_string(i);
}

// Logs in `n` guests with `workers` keep-alive connections; returns the session ids (empty for a failed
// login).
asio::awaitable<void> login_worker(Run& r, std::vector<std::string>& out, std::size_t& next,
                                   std::vector<std::uint32_t>* latency) {
  HttpConn c;
  while (next < out.size()) {
    const auto i = next++;
    const auto start = Clock::now();
    try {
      out[i] = co_await login(r, c, guest_name(r, i));
      if (latency)
        latency->push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
    } catch (const std::exception& e) {
      r.error("login", e.what());
    }
  }
}

asio::awaitable<void> wait_for(Run& r, std::chrono::milliseconds d) {
  asio::steady_timer t(r.ioc, d);
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<std::vector<std::string>> login_many(Run& r, std::size_t n, std::size_t workers,
                                                     std::vector<std::uint32_t>* latency = nullptr) {
  std::vector<std::string> sessions(n);
  std::size_t next = 0;
  std::size_t done = 0;
  for (std::size_t w = 0; w < std::max<std::size_t>(1, workers); ++w)
    asio::co_spawn(r.ioc, login_worker(r, sessions, next, latency), [&done](std::exception_ptr) { ++done; });
  while (done < std::max<std::size_t>(1, workers)) co_await wait_for(r, 5ms);
  co_return sessions;
}

// One WebSocket upgrade; throws on refusal or timeout.
asio::awaitable<std::unique_ptr<Ws>> ws_connect(Run& r, const std::string& target) {
  auto ws = std::make_unique<Ws>(r.ioc);
  auto& layer = beast::get_lowest_layer(*ws);
  layer.expires_after(30s);
  co_await connect_from(r, layer.socket());
  co_await ws->async_handshake(r.host, target, asio::use_awaitable);
  layer.expires_never();
  ws->read_message_max(64u << 20);
  co_return ws;
}

// The chat content carries "LG" + the send time (ns since the generator started, 16 hex digits), padded.
std::string chat_frame(const Run& r, std::size_t payload) {
  char ts[32];
  std::snprintf(ts, sizeof ts, "LG%016llx ", static_cast<unsigned long long>(r.now_ns()));
  std::string content(ts);
  if (content.size() < payload) content.append(payload - content.size(), 'x');
  return R"({"type":"chat","content":")" + content + R"("})";
}

void on_frame(Run& r, std::string_view f) {
  ++r.frames;
  r.frame_bytes += f.size();
  static constexpr std::string_view marker = R"("content":"LG)";
  if (const auto p = f.find(marker); p != std::string_view::npos && p + marker.size() + 16 <= f.size()) {
    const auto hex = f.substr(p + marker.size(), 16);
    std::int64_t sent = 0;
    for (char ch : hex) sent = sent * 16 + (ch <= '9' ? ch - '0' : ch - 'a' + 10);
    if (r.measuring && sent >= r.phase_start_ns) {
      ++r.deliveries;
      r.latency_us.push_back(static_cast<std::uint32_t>((r.now_ns() - sent) / 1000));
    }
    return;
  }
  if (f.find(R"("type":"error")") != std::string_view::npos) {
    ++r.error_frames;
    r.error("error_frame", std::string(f.substr(0, 200)));
  }
}

asio::awaitable<void> reader(Run& r, Member& m) {
  beast::flat_buffer buf;
  try {
    for (;;) {
      co_await m.ws->async_read(buf, asio::use_awaitable);
      const auto d = buf.cdata();
      on_frame(r, std::string_view(static_cast<const char*>(d.data()), d.size()));
      buf.consume(buf.size());
      // Big participants/full-sync frames should not pin their size in every idle reader.
      if (buf.capacity() > 16384) buf.shrink_to_fit();
    }
  } catch (const boost::system::system_error& e) {
    if (m.open) {
      ++r.closed_unexpectedly;
      r.error("socket_closed", e.code().message());
    }
  }
  m.open = false;
}

struct Ramp {
  std::size_t attempted = 0, connected = 0, failed = 0;
  double seconds = 0;
  std::vector<std::uint32_t> handshake_us;
};

// Opens members[i] to targets[i] at `rate` per second (0 = as fast as `max_inflight` allows), starting
// readers.
asio::awaitable<void> ramp_connect(Run& r, std::vector<Member>& members,
                                   const std::vector<std::string>& targets, Ramp& ramp) {
  const auto rate = static_cast<double>(r.opt.num("ramp", 500));
  const auto max_inflight = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("max-inflight", 200)));
  std::size_t inflight = 0;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i].session.empty()) continue;  // its login failed (already counted)
    if (rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
      if (due > Clock::now()) {
        asio::steady_timer t(r.ioc, due);
        co_await t.async_wait(asio::use_awaitable);
      }
    }
    while (inflight >= max_inflight) co_await wait_for(r, 1ms);
    ++inflight;
    ++ramp.attempted;
    asio::co_spawn(
        r.ioc,
        [&r, &m = members[i], &target = targets[i], &ramp, &inflight]() -> asio::awaitable<void> {
          const auto t = Clock::now();
          try {
            m.ws = co_await ws_connect(r, target);
            m.open = true;
            ++ramp.connected;
            ramp.handshake_us.push_back(static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count()));
          } catch (const std::exception& e) {
            ++ramp.failed;
            r.error("connect", e.what());
          }
          --inflight;
          if (m.open) co_await reader(r, m);
        },
        asio::detached);
  }
  while (inflight > 0) co_await wait_for(r, 2ms);
  ramp.seconds = std::chrono::duration<double>(Clock::now() - start).count();
}

json ramp_json(Run& r, Ramp& ramp) {
  return {{"target_per_s", r.opt.num("ramp", 500)},
          {"achieved_per_s", ramp.seconds > 0 ? ramp.connected / ramp.seconds : 0.0},
          {"attempted", ramp.attempted},
          {"connected", ramp.connected},
          {"failed", ramp.failed},
          {"seconds", ramp.seconds},
          {"handshake_ms", percentiles_ms(ramp.handshake_us)}};
}

// Waits until no frame has arrived for `quiet`, at most `limit`; returns the seconds waited.
asio::awaitable<double> settle(Run& r, std::chrono::milliseconds quiet, std::chrono::seconds limit) {
  const auto start = Clock::now();
  auto last = r.frames;
  auto last_change = Clock::now();
  while (Clock::now() - start < limit) {
    co_await wait_for(r, 50ms);
    if (r.frames != last) {
      last = r.frames;
      last_change = Clock::now();
    } else if (Clock::now() - last_change >= quiet) {
      break;
    }
  }
  co_return std::chrono::duration<double>(Clock::now() - start).count();
}

// Room i: the i-th (cyclically) of --room-ids when given, else <room-prefix><i> (bench/run.sh configures
// bench0..).
std::string room_id(const Run& r, std::size_t i) {
  if (const auto ids = r.opt.get("room-ids", ""); !ids.empty()) {
    std::vector<std::string> list;
    std::stringstream ss(ids);
    for (std::string id; std::getline(ss, id, ',');)
      if (!id.empty()) list.push_back(id);
    if (!list.empty()) return list[i % list.size()];
  }
  return r.opt.get("room-prefix", "bench") + std::to_string(i);
}

// Sends chats from `m` every `interval` from `first` until `end`; counts what was written.
asio::awaitable<void> sender(Run& r, Member& m, Clock::duration interval, Clock::time_point first,
                             Clock::time_point end, std::uint64_t& sent, std::size_t payload) {
  asio::steady_timer t(r.ioc);
  auto next = first;
  while (next < end && m.open) {
    t.expires_at(next);
    co_await t.async_wait(asio::use_awaitable);
    try {
      co_await m.ws->async_write(asio::buffer(chat_frame(r, payload)), asio::use_awaitable);
      ++sent;
    } catch (const std::exception& e) {
      r.error("send", e.what());
      co_return;
    }
    next += interval;
  }
}

// Rooms of members that chat: logs in, connects, settles, then runs senders for --duration. Shared by fanout
// and churn (whose background room is a small fanout).
struct ChatRun {
  std::vector<Member> members;
  Ramp ramp;
  std::uint64_t sent = 0;
  double join_settle_s = 0, join_server_cpu_s = 0, phase_s = 0, server_cpu_s = 0, drain_s = 0;
  std::size_t rooms = 0, per_room = 0, senders = 0;
  double rate = 0;
};

asio::awaitable<void> chat_setup(Run& r, ChatRun& c, std::size_t rooms, std::size_t per_room,
                                 std::size_t name_base) {
  c.rooms = rooms;
  c.per_room = per_room;
  const auto n = rooms * per_room;
  auto saved = r.prefix;
  r.prefix += "c" + std::to_string(name_base);
  auto sessions = co_await login_many(r, n, 8);
  r.prefix = saved;
  c.members.resize(n);
  std::vector<std::string> targets(n);
  for (std::size_t i = 0; i < n; ++i) {
    c.members[i].session = sessions[i];
    c.members[i].room = room_id(r, i % rooms);
    targets[i] = "/api/ws/room/" + c.members[i].room + "?sessionId=" + sessions[i];
  }
  const double cpu0 = proc_cpu_seconds(r.server_pid);
  co_await ramp_connect(r, c.members, targets, c.ramp);
  c.join_settle_s = co_await settle(r, 700ms, 300s);
  c.join_server_cpu_s = proc_cpu_seconds(r.server_pid) - cpu0;
}

asio::awaitable<void> chat_phase(Run& r, ChatRun& c, double seconds) {
  const auto senders_per_room =
      std::min<std::size_t>(c.per_room, std::max<long long>(1, r.opt.num("senders", 10)));
  c.rate = static_cast<double>(r.opt.num("rate", 200));
  const auto payload = static_cast<std::size_t>(r.opt.num("payload", 100));
  c.senders = senders_per_room * c.rooms;
  r.latency_us.clear();
  r.deliveries = 0;
  r.phase_start_ns = r.now_ns();
  r.measuring = true;
  const double cpu0 = proc_cpu_seconds(r.server_pid);
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(c.rate > 0 ? static_cast<double>(c.senders) / c.rate : 1e9));
  std::size_t running = 0;
  std::size_t s = 0;
  // Members are laid out room-major modulo: member i is in room i % rooms, so the first senders*rooms members
  // are senders_per_room per room. Start times are staggered over one interval.
  for (std::size_t i = 0; i < c.senders && i < c.members.size(); ++i, ++s) {
    const auto first =
        start + interval * static_cast<long>(s) / static_cast<long>(std::max<std::size_t>(1, c.senders));
    ++running;
    asio::co_spawn(r.ioc, sender(r, c.members[i], interval, first, end, c.sent, payload),
                   [&running](std::exception_ptr) { --running; });
  }
  while (running > 0) co_await wait_for(r, 5ms);
  // Drain: every chat reaches every member of its room, the sender included.
  const auto drain_start = Clock::now();
  const auto expected = c.sent * c.per_room;
  while (r.deliveries < expected && Clock::now() - drain_start < 10s) co_await wait_for(r, 2ms);
  c.drain_s = std::chrono::duration<double>(Clock::now() - drain_start).count();
  c.phase_s = std::chrono::duration<double>(Clock::now() - start).count();
  c.server_cpu_s = proc_cpu_seconds(r.server_pid) - cpu0;
  r.measuring = false;
}

json chat_json(Run& r, ChatRun& c) {
  const double expected = static_cast<double>(c.sent * c.per_room);
  return {{"sent", c.sent},
          {"sent_per_s", c.phase_s > 0 ? c.sent / c.phase_s : 0.0},
          {"deliveries", r.deliveries},
          {"deliveries_expected", static_cast<std::uint64_t>(expected)},
          {"deliveries_per_s", c.phase_s > 0 ? r.deliveries / c.phase_s : 0.0},
          {"server_cpu_s", c.server_cpu_s},
          {"deliveries_per_server_cpu_s", c.server_cpu_s > 0 ? r.deliveries / c.server_cpu_s : 0.0},
          {"latency_ms", percentiles_ms(r.latency_us)},
          {"phase_s", c.phase_s},
          {"drain_s", c.drain_s},
          {"join_settle_s", c.join_settle_s},
          {"join_server_cpu_s", c.join_server_cpu_s}};
}

// ---- scenarios
// -----------------------------------------------------------------------------------------------

asio::awaitable<void> fanout(Run& r, json& out) {
  const auto rooms = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("rooms", 1)));
  const auto members = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("members", 1000)));
  ChatRun c;
  co_await chat_setup(r, c, rooms, members, 0);
  co_await chat_phase(r, c, static_cast<double>(r.opt.num("duration", 10)));
  out["params"] = {{"rooms", rooms},
                   {"members", members},
                   {"senders_per_room", c.senders / rooms},
                   {"rate", c.rate},
                   {"duration_s", r.opt.num("duration", 10)},
                   {"payload", r.opt.num("payload", 100)}};
  out["ramp"] = ramp_json(r, c.ramp);
  out["results"] = chat_json(r, c);
  out["connections"] = c.ramp.connected;
}

asio::awaitable<void> idle(Run& r, json& out) {
  const auto users = static_cast<std::size_t>(r.opt.num("users", 1000));
  const auto rooms = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("rooms", 1)));
  const bool presence = r.opt.num("presence", 1) != 0;
  const auto rss_start = proc_rss_kb(r.server_pid);
  auto sessions = co_await login_many(r, users, 8);
  const auto per_user = presence ? 2u : 1u;
  std::vector<Member> members(users * per_user);
  std::vector<std::string> targets(members.size());
  for (std::size_t u = 0; u < users; ++u) {
    for (std::size_t k = 0; k < per_user; ++k) {
      auto& m = members[u * per_user + k];
      m.session = sessions[u];
      m.room = k == 0 ? room_id(r, u % rooms) : "";
      targets[u * per_user + k] =
          (k == 0 ? "/api/ws/room/" + m.room : std::string("/api/ws/presence")) + "?sessionId=" + sessions[u];
    }
  }
  const auto rss_base = proc_rss_kb(r.server_pid);
  const auto sock_base = sockstat();
  // Ping every open socket every 30 s, as a client would, from the first connection on: a ramp longer than
  // the server's 90 s heartbeat timeout must not lose its first sockets.
  bool holding = true;
  bool pinger_done = false;
  asio::co_spawn(
      r.ioc,
      [&]() -> asio::awaitable<void> {
        auto next_ping = Clock::now() + 30s;
        while (holding) {
          co_await wait_for(r, 100ms);
          if (Clock::now() < next_ping) continue;
          next_ping += 30s;
          for (auto& m : members)
            if (m.open)
              m.ws->async_write(asio::buffer(std::string_view(R"({"type":"ping"})")), [](auto, auto) {});
        }
      },
      [&](std::exception_ptr) { pinger_done = true; });
  Ramp ramp;
  co_await ramp_connect(r, members, targets, ramp);
  const double settle_s = co_await settle(r, 1000ms, 300s);
  // Hold the connections and check that none drops.
  const auto hold = std::chrono::seconds(r.opt.num("duration", 10));
  co_await wait_for(r, std::chrono::duration_cast<std::chrono::milliseconds>(hold));
  holding = false;
  while (!pinger_done) co_await wait_for(r, 10ms);
  const auto rss = proc_rss_kb(r.server_pid);
  const auto sock = sockstat();
  std::size_t open = 0;
  for (const auto& m : members) open += m.open ? 1 : 0;
  const auto conns = static_cast<double>(std::max<std::size_t>(1, ramp.connected));
  const long long page = sock.value("page_bytes", 4096LL);
  out["params"] = {{"users", users}, {"rooms", rooms}, {"presence", presence}, {"duration_s", hold.count()}};
  out["ramp"] = ramp_json(r, ramp);
  out["connections"] = ramp.connected;
  out["results"] = {
      {"open_at_end", open},
      {"closed_unexpectedly", r.closed_unexpectedly},
      {"settle_s", settle_s},
      {"server_rss_kb_start", rss_start},
      {"server_rss_kb_base", rss_base},
      {"server_rss_kb", rss},
      {"rss_per_connection_bytes", (static_cast<double>(rss - rss_base) * 1024.0) / conns},
      {"rss_per_user_incl_session_bytes",
       (static_cast<double>(rss - rss_start) * 1024.0) / std::max<double>(1, users)},
      {"sockstat_base", sock_base},
      {"sockstat", sock},
      // System-wide: both ends of each loopback connection are in here.
      {"kernel_tcp_bytes_per_connection",
       static_cast<double>((sock.value("mem", 0LL) - sock_base.value("mem", 0LL)) * page) / conns}};
}

asio::awaitable<void> churn(Run& r, json& out) {
  const auto members = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("members", 20)));
  const auto pool = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("users", 50)));
  const double churn_rate = static_cast<double>(r.opt.num("churn-rate", 500));
  const auto max_inflight = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("max-inflight", 200)));
  const double seconds = static_cast<double>(r.opt.num("duration", 10));
  ChatRun c;
  co_await chat_setup(r, c, 1, members, 0);
  auto saved = r.prefix;
  r.prefix += "p";
  const auto sessions = co_await login_many(r, pool, 8);
  r.prefix = saved;

  std::uint64_t ok = 0, failed = 0, launched = 0;
  std::size_t inflight = 0;
  std::vector<std::uint32_t> hs_us;
  bool phase_done = false;
  const double cpu0 = proc_cpu_seconds(r.server_pid);
  const auto start = Clock::now();
  asio::co_spawn(r.ioc, chat_phase(r, c, seconds), [&phase_done](std::exception_ptr) { phase_done = true; });
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (std::size_t i = 0; Clock::now() < end; ++i) {
    if (churn_rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / churn_rate));
      if (due >= end) break;
      if (due > Clock::now()) {
        asio::steady_timer t(r.ioc, due);
        co_await t.async_wait(asio::use_awaitable);
      }
    }
    while (inflight >= max_inflight && Clock::now() < end) co_await wait_for(r, 1ms);
    const auto& session = sessions[i % pool];
    if (session.empty()) continue;
    ++inflight;
    ++launched;
    asio::co_spawn(
        r.ioc,
        [&, target = "/api/ws/room/" + room_id(r, 0) + "?sessionId=" + session]() -> asio::awaitable<void> {
          const auto t = Clock::now();
          try {
            auto ws = co_await ws_connect(r, target);
            hs_us.push_back(static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count()));
            beast::flat_buffer buf;
            co_await ws->async_read(buf, asio::use_awaitable);  // "Connected to ChatRoom"
            beast::get_lowest_layer(*ws).expires_after(10s);
            co_await ws->async_close(websocket::close_code::normal, asio::use_awaitable);
            ++ok;
          } catch (const boost::system::system_error& e) {
            // The server may finish the close before our read of its close frame: that is a completed cycle.
            if (e.code() == websocket::error::closed) {
              ++ok;
            } else {
              ++failed;
              r.error("churn", e.code().message());
            }
          } catch (const std::exception& e) {
            ++failed;
            r.error("churn", e.what());
          }
          --inflight;
        },
        asio::detached);
  }
  const double launch_s = std::chrono::duration<double>(Clock::now() - start).count();
  while (inflight > 0) co_await wait_for(r, 2ms);
  const double cycle_s = std::chrono::duration<double>(Clock::now() - start).count();
  while (!phase_done) co_await wait_for(r, 5ms);
  const double server_cpu = proc_cpu_seconds(r.server_pid) - cpu0;
  out["params"] = {{"members", members},           {"pool_users", pool}, {"churn_rate", churn_rate},
                   {"max_inflight", max_inflight}, {"rate", c.rate},     {"duration_s", seconds}};
  out["ramp"] = ramp_json(r, c.ramp);
  out["connections"] = c.ramp.connected;
  out["results"] = {{"cycles_launched", launched},
                    {"handshakes_ok", ok},
                    {"handshake_errors", failed},
                    {"handshakes_per_s", cycle_s > 0 ? ok / cycle_s : 0.0},
                    {"launch_s", launch_s},
                    {"cycle_s", cycle_s},
                    {"handshake_ms", percentiles_ms(hs_us)},
                    {"server_cpu_s", server_cpu},
                    {"background_chat", chat_json(r, c)}};
}

asio::awaitable<void> login_scenario(Run& r, json& out) {
  const auto users = static_cast<std::size_t>(r.opt.num("users", 2000));
  const auto conc = static_cast<std::size_t>(std::max<long long>(1, r.opt.num("concurrency", 16)));
  std::vector<std::uint32_t> lat;
  const double cpu0 = proc_cpu_seconds(r.server_pid);
  const auto start = Clock::now();
  const auto sessions = co_await login_many(r, users, conc, &lat);
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = proc_cpu_seconds(r.server_pid) - cpu0;
  std::size_t ok = 0;
  for (const auto& x : sessions) ok += x.empty() ? 0 : 1;
  out["params"] = {{"users", users}, {"concurrency", conc}};
  out["connections"] = conc;
  out["ramp"] = {{"target_per_s", 0}, {"achieved_per_s", 0.0}, {"note", "keep-alive HTTP, one per worker"}};
  out["results"] = {{"logins_ok", ok},
                    {"seconds", s},
                    {"logins_per_s", s > 0 ? ok / s : 0.0},
                    {"server_cpu_s", cpu},
                    {"logins_per_server_cpu_s", cpu > 0 ? ok / cpu : 0.0},
                    {"latency_ms", percentiles_ms(lat)}};
}

}  // namespace

int main(int argc, char** argv) {
  Run r;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") usage_error("help");
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage_error("expected --key value, got '" + a + "'");
    r.opt.raw[a.substr(2)] = argv[++i];
  }
  static const std::vector<std::string> known = {
      "scenario", "host",       "port",        "server-pid", "sources",     "ramp",     "max-inflight",
      "rooms",    "members",    "senders",     "rate",       "duration",    "payload",  "users",
      "presence", "churn-rate", "concurrency", "label",      "room-prefix", "room-ids", "user-prefix"};
  for (const auto& [k, v] : r.opt.raw)
    if (std::find(known.begin(), known.end(), k) == known.end()) usage_error("unknown option --" + k);
  const auto scenario = r.opt.get("scenario", "");
  if (scenario != "fanout" && scenario != "idle" && scenario != "churn" && scenario != "login")
    usage_error("--scenario must be fanout, idle, churn or login");
  const auto port = r.opt.num("port", 0);
  if (port <= 0 || port > 65535) usage_error("--port is required (1-65535)");
  r.host = r.opt.get("host", "127.0.0.1");
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address_v4(r.host, ec);
  if (ec) usage_error("--host must be an IPv4 address, got '" + r.host + "'");
  r.server = tcp::endpoint(addr, static_cast<unsigned short>(port));
  r.server_pid = static_cast<long>(r.opt.num("server-pid", 0));
  r.sources = static_cast<int>(std::clamp<long long>(r.opt.num("sources", 4), 1, 254));
  // Guest names must be unique among live sessions: a random tag keeps repeated runs apart.
  std::mt19937 rng(std::random_device{}());
  r.prefix = r.opt.get("user-prefix", "");
  if (r.prefix.empty()) {
    const char* al = "abcdefghijklmnopqrstuvwxyz";
    r.prefix = "lg";
    for (int i = 0; i < 4; ++i) r.prefix.push_back(al[rng() % 26]);
  }

  json out = {{"scenario", scenario},
              {"target", r.host + ":" + std::to_string(port)},
              {"label", r.opt.get("label", "")},
              {"server_pid", r.server_pid},
              {"sources", r.sources}};
  out["load_average_start"] = load_average();
  const double gen_cpu0 = self_cpu_seconds();
  const auto started = Clock::now();
  bool failed = false;
  std::string failure;
  auto body = [&]() -> asio::awaitable<void> {
    if (scenario == "fanout") co_await fanout(r, out);
    if (scenario == "idle") co_await idle(r, out);
    if (scenario == "churn") co_await churn(r, out);
    if (scenario == "login") co_await login_scenario(r, out);
    r.ioc.stop();
  };
  asio::co_spawn(r.ioc, body(), [&](std::exception_ptr e) {
    if (e) {
      failed = true;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        failure = ex.what();
      }
      r.ioc.stop();
    }
  });
  r.ioc.run();
  out["wall_s"] = std::chrono::duration<double>(Clock::now() - started).count();
  out["generator_cpu_s"] = self_cpu_seconds() - gen_cpu0;
  out["load_average_end"] = load_average();
  json errors = json::object();
  for (const auto& [k, v] : r.errors) errors[k] = v;
  out["errors"] = {{"total", r.error_total()},
                   {"by_kind", errors},
                   {"first", r.first_error},
                   {"error_frames", r.error_frames}};
  out["frames_received"] = r.frames;
  out["bytes_received"] = r.frame_bytes;
  if (failed) out["failure"] = failure;
  std::cout << out.dump() << std::endl;
  // Skip tearing down thousands of sockets one by one; the kernel closes them.
  std::_Exit(failed ? 1 : 0);
}
