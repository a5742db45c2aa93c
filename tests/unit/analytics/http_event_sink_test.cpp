#include "switchboard/analytics/http_event_sink.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "switchboard/analytics/event_recorder.hpp"
#include "switchboard/analytics/events.hpp"
#include "switchboard/http_client/http_client.hpp"

namespace switchboard::analytics {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

// A loopback collector: answers each POST with the next scripted status (200 once the script is used up) and
// keeps the bodies and the Authorization headers it received.
class Collector {
 public:
  explicit Collector(std::deque<int> statuses)
      : statuses_(std::move(statuses)), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Collector() {
    io_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/ingest";
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> auth() {
    std::lock_guard lock(mutex_);
    return auth_;
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
      boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
    }
  }
  boost::asio::awaitable<void> serve(tcp::socket socket) {
    std::string buf;
    try {
      for (;;) {
        const std::size_t head_len = co_await boost::asio::async_read_until(
            socket, boost::asio::dynamic_buffer(buf), "\r\n\r\n", boost::asio::use_awaitable);
        std::string head = buf.substr(0, head_len);
        buf.erase(0, head_len);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t length = 0;
        if (const auto p = head.find("content-length:"); p != std::string::npos)
          length = std::stoul(head.substr(p + 15));
        std::string authorization;
        if (const auto p = head.find("authorization:"); p != std::string::npos)
          authorization = head.substr(p + 15, head.find("\r\n", p) - p - 15);
        while (buf.size() < length) {
          char tmp[4096];
          const auto n =
              co_await socket.async_read_some(boost::asio::buffer(tmp), boost::asio::use_awaitable);
          buf.append(tmp, n);
        }
        int status = 200;
        {
          std::lock_guard lock(mutex_);
          bodies_.push_back(buf.substr(0, length));
          auth_.push_back(authorization);
          if (!statuses_.empty()) {
            status = statuses_.front();
            statuses_.pop_front();
          }
        }
        buf.erase(0, length);
        const std::string res = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
        co_await boost::asio::async_write(socket, boost::asio::buffer(res), boost::asio::use_awaitable);
      }
    } catch (const std::exception&) {
    }
  }

  std::mutex mutex_;
  std::deque<int> statuses_;
  std::vector<std::string> bodies_;
  std::vector<std::string> auth_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

class HttpEventSinkTest : public ::testing::Test {
 protected:
  HttpEventSinkTest() : guard_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    http_ = std::make_unique<http_client::HttpClient>(io_);
  }
  ~HttpEventSinkTest() override {
    http_.reset();
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  HttpEventSink::Options options(const std::string& url, int retries) {
    return {url, "collector-secret", 2000ms, retries, 20ms, 80ms};
  }
  // Writes one batch and waits for the sink's verdict.
  bool write(HttpEventSink& sink, std::vector<Event> batch) {
    std::promise<bool> done;
    sink.write(std::move(batch), [&](bool ok) { done.set_value(ok); });
    auto f = done.get_future();
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  }
  static Event event(const std::string& user) {
    Event e = events::login_success(user, false);
    e.dataset = "ds";
    e.timestamp = 1'700'000'000'000;
    return e;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::unique_ptr<http_client::HttpClient> http_;
};

TEST_F(HttpEventSinkTest, PostsABatchAsAJsonArrayWithTheToken) {
  Collector collector({});
  HttpEventSink sink(io_, *http_, options(collector.url(), 3));
  ASSERT_TRUE(write(sink, {event("user_1"), event("user_2")}));
  const auto bodies = collector.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  const auto j = nlohmann::json::parse(bodies[0]);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["index"], "user_2");
  EXPECT_EQ(j[0]["blobs"][0], "login_success");
  EXPECT_EQ(collector.auth()[0], "bearer collector-secret");  // the collector lower-cases its headers
}

TEST_F(HttpEventSinkTest, RetriesAfterA500ThenSucceeds) {
  Collector collector({500, 503});
  HttpEventSink sink(io_, *http_, options(collector.url(), 3));
  ASSERT_TRUE(write(sink, {event("user_1")}));
  const auto bodies = collector.bodies();
  ASSERT_EQ(bodies.size(), 3u);     // two failures, then the 200
  EXPECT_EQ(bodies[0], bodies[2]);  // the same batch each time
}

TEST_F(HttpEventSinkTest, GivesUpAfterMaxRetries) {
  Collector collector({500, 500, 500, 500, 500});
  HttpEventSink sink(io_, *http_, options(collector.url(), 2));
  EXPECT_FALSE(write(sink, {event("user_1")}));
  EXPECT_EQ(collector.bodies().size(), 3u);  // the first attempt and two retries
}

TEST_F(HttpEventSinkTest, DoesNotRetryAClientError) {
  Collector collector({400});
  HttpEventSink sink(io_, *http_, options(collector.url(), 3));
  EXPECT_FALSE(write(sink, {event("user_1")}));
  EXPECT_EQ(collector.bodies().size(), 1u);
}

TEST_F(HttpEventSinkTest, RetriesWhenTheCollectorIsDown) {
  std::string url;
  {
    Collector gone({});
    url = gone.url();
  }  // nothing listens on that port now
  HttpEventSink sink(io_, *http_, options(url, 2));
  EXPECT_FALSE(write(sink, {event("user_1")}));
}

// Through the recorder: a collector that fails once still gets every event, and nothing counts as dropped.
TEST_F(HttpEventSinkTest, RecorderDeliversEverythingDespiteA500) {
  Collector collector({500});
  EventRecorderOptions o;
  o.queue_size = 100;
  o.batch_max = 10;
  o.flush_interval = 20ms;
  EventRecorder recorder(std::make_unique<HttpEventSink>(io_, *http_, options(collector.url(), 3)), o);
  recorder.start();
  for (int i = 0; i < 25; ++i) recorder.record(events::login_success("user_" + std::to_string(i), false));
  std::promise<void> flushed;
  recorder.flush([&] { flushed.set_value(); });
  ASSERT_EQ(flushed.get_future().wait_for(10s), std::future_status::ready);
  recorder.stop(1000ms);
  const auto s = recorder.stats();
  EXPECT_EQ(s.written, 25u);
  EXPECT_EQ(s.dropped_sink + s.dropped_queue_full + s.dropped_shutdown, 0u);
  std::set<std::string> users;
  for (const auto& body : collector.bodies())
    for (const auto& e : nlohmann::json::parse(body)) users.insert(e["index"].get<std::string>());
  EXPECT_EQ(users.size(), 25u);
  EXPECT_GE(collector.bodies().size(), 4u);  // at least 3 batches of at most 10, plus the retried one
}

}  // namespace
}  // namespace switchboard::analytics
