#include "switchboard/http_client/http_client.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "loopback_server.hpp"

namespace switchboard::http_client {
namespace {

using namespace std::chrono_literals;

// Runs an io_context on two threads (so the client's strand is really exercised) for the test's lifetime.
class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() : guard_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~HttpClientTest() override {
    client_.reset();
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  HttpClient& client(HttpClientOptions options = {}) {
    if (!client_) client_ = std::make_unique<HttpClient>(io_, std::move(options));
    return *client_;
  }

  Response get(const std::string& url, std::chrono::milliseconds timeout = 5000ms) {
    Request r;
    r.url = url;
    r.total_timeout = timeout;
    std::promise<Response> done;
    client().request(std::move(r), [&done](Response resp) { done.set_value(std::move(resp)); });
    return done.get_future().get();
  }

  // A port nobody listens on: bind one, then close it.
  static unsigned short closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  test::LoopbackServer server_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpClientTest, Returns200WithBodyAndLowerCasedHeaders) {
  const Response r = get(server_.url("/ok"));
  EXPECT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  ASSERT_NE(r.header("X-REPLY"), nullptr);
  EXPECT_EQ(*r.header("x-reply"), "yes");
  EXPECT_EQ(r.header("nope"), nullptr);
}

TEST_F(HttpClientTest, ServerErrorIsAStatusNotATransportError) {
  const Response r = get(server_.url("/status/500"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "status 500");
}

TEST_F(HttpClientTest, PostsBodyAndHeaders) {
  Request req;
  req.method = "POST";
  req.url = server_.url("/echo");
  req.headers = {{"X-Test", "42"}, {"Authorization", "Bearer sekrit"}, {"Content-Type", "application/json"}};
  req.body = R"({"a":1})";
  std::promise<Response> done;
  client().request(req, [&done](Response r) { done.set_value(std::move(r)); });
  const Response r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.body, "POST\n42\nBearer sekrit\n{\"a\":1}");
}

TEST_F(HttpClientTest, RefusedConnectionIsAConnectError) {
  const Response r = get("http://127.0.0.1:" + std::to_string(closed_port()) + "/ok");
  EXPECT_EQ(r.error, HttpError::kConnect) << r.error_message;
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error_message.empty());
}

// A name other than "localhost" goes through libcurl's threaded resolver, whose socketpair the client must
// watch without owning it. The machine's own host name usually maps to 127.0.0.1 in /etc/hosts.
TEST_F(HttpClientTest, HostNamesGoThroughTheResolver) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  bool loopback = false;
  if (::getaddrinfo(host, nullptr, &hints, &found) == 0) {
    for (addrinfo* a = found; a != nullptr; a = a->ai_next)
      loopback =
          loopback || reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    ::freeaddrinfo(found);
  }
  if (!loopback) GTEST_SKIP() << "the host name '" << host << "' does not resolve to 127.0.0.1 here";
  for (int i = 0; i < 5; ++i) {
    const Response r = get("http://" + std::string(host) + ":" + std::to_string(server_.port()) + "/ok");
    ASSERT_EQ(r.status, 200) << r.error_message;
  }
  EXPECT_EQ(get("http://localhost:" + std::to_string(server_.port()) + "/ok").status, 200);
}

TEST_F(HttpClientTest, StalledServerTimesOut) {
  const auto start = std::chrono::steady_clock::now();
  const Response r = get(server_.url("/stall"), 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.error, HttpError::kTimeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST_F(HttpClientTest, HttpsToAPlainServerIsATlsError) {
  const Response r = get("https://127.0.0.1:" + std::to_string(server_.port()) + "/ok", 3000ms);
  EXPECT_EQ(r.error, HttpError::kTls) << r.error_message;
}

// Verification is always on: a self-signed certificate (served by `openssl s_server`) is refused.
TEST_F(HttpClientTest, SelfSignedCertificateIsRejected) {
  char dir_template[] = "/tmp/sb_tls_XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  ASSERT_NE(dir, nullptr);
  const std::string d(dir);
  const std::string keygen =
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/key.pem -out " + d +
      "/cert.pem -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
  if (std::system(keygen.c_str()) != 0) GTEST_SKIP() << "the openssl command is not available";
  const unsigned short port = closed_port();
  // Everything the child needs is built before fork(): other threads may hold the allocator's lock.
  const std::string accept = "127.0.0.1:" + std::to_string(port);
  const std::string cert = d + "/cert.pem";
  const std::string key = d + "/key.pem";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", cert.c_str(), "-key",
             key.c_str(), "-www", "-quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  // Wait until it accepts connections.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    up = !ec;
    if (!up) std::this_thread::sleep_for(30ms);
  }
  const Response r = up ? get("https://127.0.0.1:" + std::to_string(port) + "/", 3000ms) : Response{};
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  std::system(("rm -rf " + d).c_str());
  ASSERT_TRUE(up) << "openssl s_server did not start";
  EXPECT_EQ(r.error, HttpError::kTls) << r.error_message;
  EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
}

TEST_F(HttpClientTest, BadUrlIsAnInvalidRequest) {
  EXPECT_EQ(get("ftp://127.0.0.1/x").error, HttpError::kInvalidRequest);
  EXPECT_EQ(get("not a url").error, HttpError::kInvalidRequest);
}

TEST_F(HttpClientTest, StreamsChunksAsTheyArrive) {
  Request req;
  req.url = server_.url("/stream?n=5&ms=40");
  std::mutex m;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> chunks;
  std::promise<Response> done;
  client().request_stream(
      req,
      [&](std::string_view c) {
        std::lock_guard lock(m);
        chunks.emplace_back(std::string(c), std::chrono::steady_clock::now());
        return true;
      },
      [&done](Response r) { done.set_value(std::move(r)); });
  const Response r = done.get_future().get();
  const auto finished = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());  // a 2xx streamed body goes to the chunk handler only
  std::string all;
  for (const auto& [c, at] : chunks) all += c;
  EXPECT_EQ(all, "chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n");
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_GE(finished - chunks.front().second, 100ms);  // the first chunk came well before the end
}

TEST_F(HttpClientTest, StreamedErrorBodyIsCollectedNotStreamed) {
  Request req;
  req.url = server_.url("/status/503");
  int chunk_calls = 0;
  std::promise<Response> done;
  client().request_stream(
      req,
      [&](std::string_view) {
        ++chunk_calls;
        return true;
      },
      [&done](Response r) { done.set_value(std::move(r)); });
  const Response r = done.get_future().get();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "status 503");
  EXPECT_EQ(chunk_calls, 0);
}

TEST_F(HttpClientTest, ChunkHandlerCanAbort) {
  Request req;
  req.url = server_.url("/stream-forever");
  std::promise<Response> done;
  client().request_stream(
      req, [](std::string_view) { return false; }, [&done](Response r) { done.set_value(std::move(r)); });
  EXPECT_EQ(done.get_future().get().error, HttpError::kAborted);
}

TEST_F(HttpClientTest, CancelStopsAnInFlightStream) {
  Request req;
  req.url = server_.url("/stream-forever");
  std::promise<void> first_chunk;
  std::atomic<bool> signalled{false};
  std::promise<Response> done;
  const RequestId id = client().request_stream(
      req,
      [&](std::string_view) {
        if (!signalled.exchange(true)) first_chunk.set_value();
        return true;
      },
      [&done](Response r) { done.set_value(std::move(r)); });
  first_chunk.get_future().wait();
  client().cancel(id);
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get().error, HttpError::kCancelled);
  client().cancel(id);                             // a finished id is ignored
  EXPECT_EQ(get(server_.url("/ok")).status, 200);  // the client carries on
}

TEST_F(HttpClientTest, CutStreamIsANetworkError) {
  Request req;
  req.url = server_.url("/cut");
  std::string got;
  std::promise<Response> done;
  client().request_stream(
      req,
      [&](std::string_view c) {
        got += c;
        return true;
      },
      [&done](Response r) { done.set_value(std::move(r)); });
  const Response r = done.get_future().get();
  EXPECT_EQ(r.error, HttpError::kNetwork) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(got, "chunk0\n");
}

TEST_F(HttpClientTest, BodyOverTheLimitIsTooLarge) {
  Request req;
  req.url = server_.url("/big?bytes=200000");
  req.max_response_bytes = 1000;
  std::promise<Response> done;
  client().request(req, [&done](Response r) { done.set_value(std::move(r)); });
  EXPECT_EQ(done.get_future().get().error, HttpError::kTooLarge);
  EXPECT_EQ(get(server_.url("/big?bytes=200000")).body.size(), 200000u);  // the default limit is larger
}

TEST_F(HttpClientTest, ConcurrencyCapQueuesTheRest) {
  HttpClientOptions o;
  o.max_concurrent = 2;
  o.max_queued = 10;
  client(o);
  const int n = 6;
  std::vector<std::promise<Response>> done(n);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Request req;
    req.url = server_.url("/slow?ms=150");
    client().request(req, [&done, i](Response r) { done[i].set_value(std::move(r)); });
  }
  for (auto& d : done) {
    const Response r = d.get_future().get();
    EXPECT_EQ(r.status, 200) << r.error_message;
  }
  EXPECT_EQ(server_.max_parallel(), 2);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 420ms);  // three waves of 150 ms
}

TEST_F(HttpClientTest, OverTheQueueBoundFailsAtOnce) {
  HttpClientOptions o;
  o.max_concurrent = 1;
  o.max_queued = 2;
  client(o);
  std::vector<std::promise<Response>> done(5);
  std::vector<RequestId> ids;
  for (int i = 0; i < 5; ++i) {
    Request req;
    req.url = server_.url("/slow?ms=300");
    ids.push_back(client().request(req, [&done, i](Response r) { done[i].set_value(std::move(r)); }));
  }
  // The last two were refused without waiting for the first to finish.
  for (int i = 3; i < 5; ++i) {
    auto f = done[i].get_future();
    ASSERT_EQ(f.wait_for(200ms), std::future_status::ready);
    const Response r = f.get();
    EXPECT_EQ(r.error, HttpError::kOverloaded);
  }
  client().cancel(ids[2]);  // a queued request can be cancelled too
  auto f2 = done[2].get_future();
  ASSERT_EQ(f2.wait_for(200ms), std::future_status::ready);
  EXPECT_EQ(f2.get().error, HttpError::kCancelled);
  EXPECT_EQ(done[0].get_future().get().status, 200);
  EXPECT_EQ(done[1].get_future().get().status, 200);
  EXPECT_EQ(client().stats().in_flight, 0u);
}

TEST_F(HttpClientTest, QueuedTimeCountsTowardsTheTotalTimeout) {
  HttpClientOptions o;
  o.max_concurrent = 1;
  client(o);
  std::promise<Response> first, second;
  Request slow;
  slow.url = server_.url("/slow?ms=400");
  client().request(slow, [&](Response r) { first.set_value(std::move(r)); });
  Request quick;
  quick.url = server_.url("/ok");
  quick.total_timeout = 200ms;
  client().request(quick, [&](Response r) { second.set_value(std::move(r)); });
  EXPECT_EQ(second.get_future().get().error, HttpError::kTimeout);
  EXPECT_EQ(first.get_future().get().status, 200);
}

TEST_F(HttpClientTest, ShutdownFailsPendingAndLaterRequests) {
  std::promise<Response> pending;
  Request req;
  req.url = server_.url("/stall");
  client().request(req, [&](Response r) { pending.set_value(std::move(r)); });
  std::this_thread::sleep_for(50ms);
  client().shutdown();
  EXPECT_EQ(pending.get_future().get().error, HttpError::kShutdown);
  EXPECT_EQ(get(server_.url("/ok")).error, HttpError::kShutdown);
}

TEST_F(HttpClientTest, DestroyingTheClientDropsPendingHandlers) {
  std::atomic<bool> called{false};
  Request req;
  req.url = server_.url("/stall");
  client().request(req, [&](Response) { called = true; });
  std::this_thread::sleep_for(50ms);
  client_.reset();
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(called);
}

TEST_F(HttpClientTest, SequentialRequestsReuseTheConnection) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(get(server_.url("/ok")).status, 200);
  EXPECT_EQ(server_.connections(), 1);
}

TEST_F(HttpClientTest, ManyParallelRequestsAllComplete) {
  const int n = 40;
  std::vector<std::promise<Response>> done(n);
  for (int i = 0; i < n; ++i) {
    Request req;
    req.url = server_.url(i % 2 ? "/ok" : "/stream?n=3&ms=5");
    client().request(req, [&done, i](Response r) { done[i].set_value(std::move(r)); });
  }
  for (auto& d : done) EXPECT_EQ(d.get_future().get().status, 200);
}

TEST(HttpClientUtil, FormUrlencode) {
  EXPECT_EQ(form_urlencode({{"secret", "a b&c=d"}, {"response", "x/y+z~._-"}, {"remoteip", "::1"}}),
            "secret=a+b%26c%3Dd&response=x%2Fy%2Bz~._-&remoteip=%3A%3A1");
  EXPECT_EQ(form_urlencode({}), "");
  EXPECT_EQ(form_urlencode({{"k", "\xC3\xA9"}}), "k=%C3%A9");
}

TEST(HttpClientUtil, RedactUrlDropsQueryAndCredentials) {
  EXPECT_EQ(redact_url("https://api.example.com/v1/x?key=sekrit#frag"), "https://api.example.com/v1/x");
  EXPECT_EQ(redact_url("https://user:pw@host:8080/p"), "https://***@host:8080/p");
  EXPECT_EQ(redact_url("http://127.0.0.1:11434"), "http://127.0.0.1:11434");
}

}  // namespace
}  // namespace switchboard::http_client
