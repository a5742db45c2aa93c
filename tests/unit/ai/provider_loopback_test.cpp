// Both providers through the real HttpClient and libcurl against tests/fakes/fake_llm.mjs on loopback.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_llm_process.hpp"
#include "switchboard/ai/openai_provider.hpp"
#include "switchboard/ai/workers_ai_provider.hpp"

namespace switchboard::ai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = switchboard::http_client;

struct Outcome {
  std::vector<std::string> deltas;
  LlmResult result;
  std::string joined() const {
    std::string s;
    for (const auto& d : deltas) s += d;
    return s;
  }
};

class AiProviderLoopback : public ::testing::Test {
 protected:
  AiProviderLoopback() : guard_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~AiProviderLoopback() override {
    http_.reset();
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  void SetUp() override {
    if (!fake_.running()) GTEST_SKIP() << "node is not available to run tests/fakes/fake_llm.mjs";
  }

  http::Response call(const std::string& method, const std::string& path, const std::string& body = "") {
    http::Request r;
    r.method = method;
    r.url = fake_.url() + path;
    r.body = body;
    r.headers = {{"Content-Type", "application/json"}};
    std::promise<http::Response> p;
    http_->request(r, [&p](http::Response resp) { p.set_value(std::move(resp)); });
    return p.get_future().get();
  }
  void set_mode(const std::string& mode, json extra = json::object()) {
    extra["mode"] = mode;
    ASSERT_EQ(call("POST", "/_control/mode", extra.dump()).status, 200);
  }
  json requests() { return json::parse(call("GET", "/_control/requests").body); }

  std::shared_ptr<HttpLlmProvider> workers(std::chrono::milliseconds timeout = 5s) {
    return std::make_shared<WorkersAiProvider>(
        *http_, ProviderSettings{fake_.url() + "/client/v4", "test-key", "@cf/meta/llama-3.2-1b-instruct",
                                 "acc1", timeout});
  }
  std::shared_ptr<HttpLlmProvider> openai(std::chrono::milliseconds timeout = 5s) {
    return std::make_shared<OpenAiProvider>(*http_,
                                            ProviderSettings{fake_.url(), "", "llama3.2:1b", "", timeout});
  }

  static Outcome complete(LlmProvider& p, bool stream, LlmCallId* id_out = nullptr) {
    auto outcome = std::make_shared<Outcome>();
    auto done = std::make_shared<std::promise<void>>();
    LlmRequest req{{{"system", "be a fake"}, {"user", "Alex: hi"}}, stream, 64};
    const LlmCallId id = p.complete(
        req, [outcome](std::string_view d) { outcome->deltas.emplace_back(d); },
        [outcome, done](LlmResult r) {
          outcome->result = std::move(r);
          done->set_value();
        });
    if (id_out != nullptr) *id_out = id;
    done->get_future().wait();
    return *outcome;
  }

  test::FakeLlmProcess fake_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::unique_ptr<http::HttpClient> http_ = std::make_unique<http::HttpClient>(io_);
};

constexpr const char* kExpected = "Fake model here. You said: Alex: hi";

TEST_F(AiProviderLoopback, WorkersAiStreamsAndSendsTheKey) {
  set_mode("ok");
  const Outcome o = complete(*workers(), true);
  ASSERT_TRUE(o.result.ok()) << o.result.detail;
  EXPECT_EQ(o.result.text, kExpected);
  EXPECT_GT(o.deltas.size(), 3u);
  EXPECT_EQ(o.joined(), kExpected);
  const json reqs = requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0]["path"], "/client/v4/accounts/acc1/ai/run/@cf/meta/llama-3.2-1b-instruct");
  EXPECT_EQ(reqs[0]["headers"]["authorization"], "Bearer test-key");
  EXPECT_EQ(reqs[0]["body"]["stream"], true);
  EXPECT_EQ(reqs[0]["body"]["messages"][1]["content"], "Alex: hi");
}

TEST_F(AiProviderLoopback, WorkersAiWithoutStreaming) {
  set_mode("ok");
  const Outcome o = complete(*workers(), false);
  ASSERT_TRUE(o.result.ok()) << o.result.detail;
  EXPECT_EQ(o.result.text, kExpected);
  EXPECT_TRUE(o.deltas.empty());
}

TEST_F(AiProviderLoopback, OpenAiStreamingAndNot) {
  set_mode("ok");
  const Outcome streamed = complete(*openai(), true);
  ASSERT_TRUE(streamed.result.ok()) << streamed.result.detail;
  EXPECT_EQ(streamed.joined(), kExpected);
  const Outcome whole = complete(*openai(), false);
  ASSERT_TRUE(whole.result.ok()) << whole.result.detail;
  EXPECT_EQ(whole.result.text, kExpected);
  const json reqs = requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(reqs[0]["body"]["model"], "llama3.2:1b");
  EXPECT_FALSE(reqs[0]["headers"].contains("authorization"));
}

TEST_F(AiProviderLoopback, EveryFailureModeMapsToItsKind) {
  struct Case {
    const char* mode;
    LlmErrorKind expected;
  };
  const Case cases[] = {{"http_500", LlmErrorKind::kHttpStatus},
                        {"http_429", LlmErrorKind::kHttpStatus},
                        {"malformed_json", LlmErrorKind::kMalformed},
                        {"empty_reply", LlmErrorKind::kEmpty},
                        {"cut_stream", LlmErrorKind::kCut}};
  for (const auto& c : cases) {
    set_mode(c.mode);
    for (const bool stream : {true, false}) {
      for (const auto& provider : {workers(), openai()}) {
        const Outcome o = complete(*provider, stream);
        // Without streaming, a body cut short is a transfer broken after the status line: also a cut answer.
        EXPECT_EQ(o.result.error, c.expected)
            << c.mode << " stream=" << stream << " " << provider->name() << ": " << o.result.detail;
        if (std::string(c.mode) == "http_429") {
          EXPECT_EQ(o.result.http_status, 429);
        }
      }
    }
  }
}

TEST_F(AiProviderLoopback, StallEndsInATimeout) {
  set_mode("stall", {{"stallMs", 5000}});
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = complete(*openai(300ms), true);
  EXPECT_EQ(o.result.error, LlmErrorKind::kTimeout) << o.result.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(AiProviderLoopback, RefusedConnection) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  auto p = std::make_shared<OpenAiProvider>(
      *http_, ProviderSettings{"http://127.0.0.1:" + std::to_string(port), "", "m", "", 2s});
  EXPECT_EQ(complete(*p, true).result.error, LlmErrorKind::kConnect);
}

TEST_F(AiProviderLoopback, CancelStopsASlowStream) {
  set_mode("slow", {{"slowChunkDelayMs", 300}});
  auto p = workers();
  auto first = std::make_shared<std::promise<void>>();
  auto got_first = std::make_shared<std::atomic<bool>>(false);
  auto done = std::make_shared<std::promise<LlmResult>>();
  const LlmCallId id = p->complete(
      {{{"user", "Alex: hi"}}, true, 64},
      [first, got_first](std::string_view) {
        if (!got_first->exchange(true)) first->set_value();
      },
      [done](LlmResult r) { done->set_value(std::move(r)); });
  first->get_future().wait();
  p->cancel(id);
  auto f = done->get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get().error, LlmErrorKind::kCancelled);
}

}  // namespace
}  // namespace switchboard::ai
