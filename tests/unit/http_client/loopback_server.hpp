#pragma once
// A scripted HTTP/1.1 server on 127.0.0.1:<ephemeral> for HttpClient tests, on its own io_context and thread.
// Paths:
//   /ok                 200 "hello" (keep-alive)
//   /status/<n>         <n> with body "status <n>"
//   /echo               200, body = "<METHOD>\n<x-test header>\n<authorization header>\n<body>"
//   /stall              reads the request, never answers
//   /slow?ms=<n>        200 "slow" after n ms; counts how many are being served at once
//   /stream?n=<k>&ms=<d> 200 chunked, k chunks "chunk<i>\n" d ms apart
//   /stream-forever     200 chunked, a chunk every 20 ms until the client goes away
//   /cut                200 chunked, one chunk, then the connection is closed mid-body
//   /big?bytes=<n>      200 with n bytes of 'x'
// A TLS ClientHello gets a plain-text 400, as from any HTTP-only server.
#include <atomic>
#include <boost/asio.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace switchboard::test {

class LoopbackServer {
 public:
  LoopbackServer() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackServer() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  int max_parallel() const { return max_parallel_.load(); }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }

 private:
  using tcp = boost::asio::ip::tcp;
  template <typename T>
  using awaitable = boost::asio::awaitable<T>;

  static std::string query_value(const std::string& target, const std::string& key,
                                 const std::string& fallback) {
    const auto q = target.find('?');
    if (q == std::string::npos) return fallback;
    const std::string needle = key + "=";
    auto pos = target.find(needle, q);
    if (pos == std::string::npos) return fallback;
    pos += needle.size();
    return target.substr(pos, target.find('&', pos) - pos);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
      ++connections_;
      boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
    }
  }

  awaitable<void> sleep_ms(int ms) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    t.expires_after(std::chrono::milliseconds(ms));
    co_await t.async_wait(boost::asio::use_awaitable);
  }

  awaitable<void> write(tcp::socket& s, const std::string& data) {
    co_await boost::asio::async_write(s, boost::asio::buffer(data), boost::asio::use_awaitable);
  }

  static std::string response(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Type: text/plain\r\nX-Reply: yes\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  static std::string chunk(const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", data.size());
    return std::string(size) + "\r\n" + data + "\r\n";
  }

  awaitable<void> serve(tcp::socket socket) {
    std::string buf;
    try {
      for (;;) {
        if (buf.empty()) {
          char first[4096];
          const std::size_t n =
              co_await socket.async_read_some(boost::asio::buffer(first), boost::asio::use_awaitable);
          buf.append(first, n);
          if (static_cast<unsigned char>(buf[0]) ==
              0x16) {  // a TLS ClientHello: answer like a plain server would
            co_await write(socket,
                           "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            co_return;
          }
        }
        const std::size_t head_len = co_await boost::asio::async_read_until(
            socket, boost::asio::dynamic_buffer(buf), "\r\n\r\n", boost::asio::use_awaitable);
        const std::string head = buf.substr(0, head_len);
        buf.erase(0, head_len);
        std::map<std::string, std::string> headers;
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        for (std::size_t pos = line_end + 2; pos < head.size();) {
          const auto e = head.find("\r\n", pos);
          const std::string line = head.substr(pos, e - pos);
          const auto colon = line.find(':');
          if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
          }
          pos = e + 2;
        }
        const std::size_t length =
            headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
        while (buf.size() < length) {
          char tmp[4096];
          const std::size_t n =
              co_await socket.async_read_some(boost::asio::buffer(tmp), boost::asio::use_awaitable);
          buf.append(tmp, n);
        }
        const std::string body = buf.substr(0, length);
        buf.erase(0, length);
        ++requests_;
        const auto sp1 = request_line.find(' ');
        const auto sp2 = request_line.find(' ', sp1 + 1);
        const std::string method = request_line.substr(0, sp1);
        const std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        const std::string path = target.substr(0, target.find('?'));

        if (path == "/ok") {
          co_await write(socket, response(200, "hello"));
        } else if (path.rfind("/status/", 0) == 0) {
          const int status = std::stoi(path.substr(8));
          co_await write(socket, response(status, "status " + std::to_string(status)));
        } else if (path == "/echo") {
          co_await write(socket, response(200, method + "\n" + headers["x-test"] + "\n" +
                                                   headers["authorization"] + "\n" + body));
        } else if (path == "/stall") {
          co_await sleep_ms(60'000);
          co_return;
        } else if (path == "/slow") {
          const int now = ++parallel_;
          for (int seen = max_parallel_.load();
               now > seen && !max_parallel_.compare_exchange_weak(seen, now);) {
          }
          co_await sleep_ms(std::stoi(query_value(target, "ms", "100")));
          --parallel_;
          co_await write(socket, response(200, "slow"));
        } else if (path == "/stream" || path == "/stream-forever" || path == "/cut") {
          co_await write(
              socket,
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
          const bool forever = path == "/stream-forever";
          const int n = path == "/cut" ? 1 : std::stoi(query_value(target, "n", "5"));
          const int ms = std::stoi(query_value(target, "ms", forever ? "20" : "30"));
          for (int i = 0; forever || i < n; ++i) {
            co_await write(socket, chunk("chunk" + std::to_string(i) + "\n"));
            co_await sleep_ms(ms);
          }
          if (path == "/cut") {
            socket.close();
            co_return;
          }
          co_await write(socket, "0\r\n\r\n");
        } else if (path == "/big") {
          co_await write(socket,
                         response(200, std::string(std::stoul(query_value(target, "bytes", "1000")), 'x')));
        } else {
          co_await write(socket, response(404, "no such path"));
        }
      }
    } catch (const std::exception&) {
      // the client went away; nothing to do
    }
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> parallel_{0};
  std::atomic<int> max_parallel_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
};

}  // namespace switchboard::test
