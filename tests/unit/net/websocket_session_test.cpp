// A WebSocketSession whose handler throws: that one connection is closed with 1011 and the exception is
// counted, while the io_context (and every other connection on it) goes on. Real sockets on loopback, a real
// Beast client.
#include "net/websocket_session.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "switchboard/util/handler_guard.hpp"

namespace switchboard::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ClientWs = websocket::stream<beast::tcp_stream>;

// Echoes text frames; throws on "boom" (or at open, when asked), as a handler with a bug would.
class ThrowingHandler final : public WsHandler {
 public:
  explicit ThrowingHandler(bool throw_on_open) : throw_on_open_(throw_on_open) {}
  void on_open(const std::shared_ptr<ClientConnection>& conn) override {
    if (throw_on_open_) throw std::logic_error("on_open bug");
    conn_ = conn;
  }
  void on_text(std::string text) override {
    if (text == "boom") throw std::runtime_error("a handler bug");
    if (auto c = conn_.lock()) c->send(make_frame("echo:" + text));
  }
  void on_binary() override {}
  void on_close(std::uint16_t code) override { closed_with = code; }

  std::uint16_t closed_with = 0;

 private:
  bool throw_on_open_;
  std::weak_ptr<ClientConnection> conn_;
};

class WebSocketSessionTest : public ::testing::Test {
 protected:
  struct Client {
    std::unique_ptr<ClientWs> ws;
    std::shared_ptr<ThrowingHandler> handler;
  };

  // Accepts one connection, reads its upgrade request and hands it to a WebSocketSession with `handler`.
  Client connect(bool throw_on_open) {
    Client c{std::make_unique<ClientWs>(ioc_), std::make_shared<ThrowingHandler>(throw_on_open)};
    tcp::socket accepted(ioc_);
    c.ws->next_layer().connect(acceptor_.local_endpoint());
    acceptor_.accept(accepted);
    auto stream = std::make_shared<beast::tcp_stream>(std::move(accepted));
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto request = std::make_shared<http::request<http::string_body>>();
    http::async_read(
        *stream, *buffer, *request, [&, stream, buffer, request](beast::error_code ec, std::size_t) {
          ASSERT_FALSE(ec) << ec.message();
          std::make_shared<WebSocketSession<PlainStream>>(std::move(*stream), c.handler, config_, registry_,
                                                          security::ConnectionLimiter::Lease{})
              ->run(std::move(*request));
        });
    bool done = false;
    c.ws->async_handshake("127.0.0.1", "/api/ws/test", [&](beast::error_code ec) {
      EXPECT_FALSE(ec) << ec.message();
      done = true;
    });
    run_until([&] { return done; });
    return c;
  }

  template <class Done>
  void run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds(5));
    }
  }

  void send(Client& c, const std::string& text) {
    bool done = false;
    c.ws->async_write(asio::buffer(text), [&](beast::error_code ec, std::size_t) {
      EXPECT_FALSE(ec) << ec.message();
      done = true;
    });
    run_until([&] { return done; });
  }

  // The next message, or the error that ended the read (`closed` once the close handshake is done).
  std::pair<beast::error_code, std::string> read(Client& c) {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    c.ws->async_read(buffer, [&](beast::error_code ec, std::size_t) { result = ec; });
    run_until([&] { return result.has_value(); });
    EXPECT_TRUE(result.has_value()) << "no answer in time";
    return {result.value_or(beast::error_code{}), beast::buffers_to_string(buffer.data())};
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
  config::Config config_;
  std::shared_ptr<ConnectionRegistry> registry_ = std::make_shared<ConnectionRegistry>();
};

TEST_F(WebSocketSessionTest, AHandlerThatThrowsCostsItsConnectionA1011AndNothingElse) {
  auto healthy = connect(false);
  auto victim = connect(false);
  send(victim, "hello");
  EXPECT_EQ(read(victim).second, "echo:hello");

  const auto before = util::handler_exception_count(util::HandlerSite::kWebSocket);
  send(victim, "boom");
  const auto [ec, text] = read(victim);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(victim.ws->reason().code, websocket::close_code::internal_error);
  EXPECT_EQ(util::handler_exception_count(util::HandlerSite::kWebSocket), before + 1);
  run_until([&] { return victim.handler->closed_with != 0; });
  EXPECT_EQ(victim.handler->closed_with, 1011) << "the handler still hears how its connection ended";

  // The other connection on the same io_context goes on, and so do new ones.
  send(healthy, "still here");
  EXPECT_EQ(read(healthy).second, "echo:still here");
  auto later = connect(false);
  send(later, "after");
  EXPECT_EQ(read(later).second, "echo:after");
}

TEST_F(WebSocketSessionTest, AHandlerThatThrowsAtOpenClosesThatConnectionWith1011) {
  const auto before = util::handler_exception_count(util::HandlerSite::kWebSocket);
  auto c = connect(true);
  const auto [ec, text] = read(c);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(c.ws->reason().code, websocket::close_code::internal_error);
  EXPECT_EQ(util::handler_exception_count(util::HandlerSite::kWebSocket), before + 1);
}

}  // namespace
}  // namespace switchboard::net
