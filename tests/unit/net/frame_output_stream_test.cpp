// FrameOutputStream under a real Beast server stream on loopback, read by a real Beast client: every frame
// arrives whole and in order, whatever was queued while a write was in flight, with Beast's pongs and close
// frames in between.
#include "switchboard/net/frame_output_stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace switchboard::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

using ServerWs = websocket::stream<FrameOutputStream<beast::tcp_stream>>;
using ClientWs = websocket::stream<beast::tcp_stream>;

// Payload i: its size cycles through every header length class and its edges, its bytes name it.
std::string payload(std::size_t i) {
  static constexpr std::size_t kSizes[] = {0, 1, 125, 126, 300, 65535, 65536, 70001, 20, 40};
  std::string s = "frame " + std::to_string(i) + ":";
  const std::size_t size = std::max(s.size(), kSizes[i % std::size(kSizes)]);
  s.resize(size, static_cast<char>('a' + i % 26));
  return s;
}

class FrameOutputStreamTest : public ::testing::Test {
 protected:
  static constexpr int kSocketBuffer = 64 * 1024;  // the kernel doubles it for its bookkeeping

  void SetUp() override {
    tcp::acceptor acceptor(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket accepted(ioc_);
    client_.next_layer().connect(acceptor.local_endpoint());
    acceptor.accept(accepted);
    accepted.set_option(tcp::no_delay(true));  // as the listener sets it
    client_.next_layer().socket().set_option(tcp::no_delay(true));
    // Fixed, small socket buffers: the tests below need the server's writes to stall while the client does
    // not read, and left to autotuning how much the kernel takes depends on the machine (the send buffer
    // grows to net.ipv4.tcp_wmem's maximum, 4 MiB on Debian 12 and more elsewhere). Setting them turns
    // autotuning off.
    accepted.set_option(asio::socket_base::send_buffer_size(kSocketBuffer));
    client_.next_layer().socket().set_option(asio::socket_base::receive_buffer_size(kSocketBuffer));
    server_ = std::make_unique<ServerWs>(beast::tcp_stream(std::move(accepted)));
    server_->next_layer().set_owner(owner_);
    server_->read_message_max(1 << 20);
    client_.read_message_max(1 << 20);

    bool accepted_ok = false, handshake_ok = false;
    server_->async_accept([&](beast::error_code ec) { accepted_ok = !ec; });
    client_.async_handshake("127.0.0.1", "/", [&](beast::error_code ec) { handshake_ok = !ec; });
    run_until([&] { return accepted_ok && handshake_ok; });
    ASSERT_TRUE(accepted_ok && handshake_ok);
  }

  template <class Done>
  void run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_for(std::chrono::milliseconds(5));
      if (ioc_.stopped()) ioc_.restart();
    }
  }

  FrameOutputStream<beast::tcp_stream>& output() { return server_->next_layer(); }

  asio::io_context ioc_;
  std::shared_ptr<int> owner_ = std::make_shared<int>(0);
  ClientWs client_{ioc_};
  std::unique_ptr<ServerWs> server_;
};

TEST_F(FrameOutputStreamTest, FramesQueuedDuringWritesArriveWholeAndInOrderAroundPongs) {
  constexpr std::size_t kFrames = 2000;
  // The server reads all along, as a session does, so Beast answers the client's pings through our queue.
  beast::flat_buffer server_buffer;
  beast::error_code server_read_ec;
  bool server_read_done = false;
  server_->async_read(server_buffer, [&](beast::error_code ec, std::size_t) {
    server_read_ec = ec;
    server_read_done = true;
  });

  std::size_t pongs = 0;
  client_.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) ++pongs;
  });

  std::size_t received = 0, pings = 0;
  bool ping_in_flight = false;  // Beast takes one ping at a time
  std::string mismatch;
  beast::error_code client_read_ec;
  beast::flat_buffer client_buffer;
  // The client keeps reading after the last frame: the pongs come behind everything queued before them.
  std::function<void()> read_next = [&] {
    client_.async_read(client_buffer, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        client_read_ec = ec;
        if (received < kFrames) mismatch = "client read failed at frame " + std::to_string(received);
        return;
      }
      const std::string got = beast::buffers_to_string(client_buffer.data());
      client_buffer.consume(client_buffer.size());
      if (!client_.got_text() || received >= kFrames || got != payload(received)) {
        mismatch =
            "frame " + std::to_string(received) + " differs (" + std::to_string(got.size()) + " bytes)";
        return;
      }
      if (++received % 97 == 0 && !ping_in_flight) {
        ++pings;
        ping_in_flight = true;
        client_.async_ping("p", [&](beast::error_code) { ping_in_flight = false; });
      }
      read_next();
    });
  };

  // Queue in bursts between turns of the loop while the client does not read yet. The 40 MB of frames are
  // far more than the socket buffers hold, so writes stall and new frames arrive while earlier ones are
  // in flight; then the client reads everything.
  std::size_t queued = 0;
  while (queued < kFrames) {
    for (std::size_t burst = 0; burst < 37 && queued < kFrames; ++burst)
      output().write_text(make_frame(payload(queued++)));
    ioc_.poll();
  }
  EXPECT_GT(output().queued_frames(), 1000u) << "the client reads nothing yet, so most frames wait";
  read_next();
  run_until([&] { return received == kFrames || !mismatch.empty(); });
  ASSERT_EQ(mismatch, "");
  EXPECT_EQ(received, kFrames);
  run_until([&] { return pongs == pings; });
  EXPECT_GT(pings, 10u);
  EXPECT_EQ(pongs, pings);
  EXPECT_EQ(output().queued_frames(), 0u);
  EXPECT_EQ(output().queued_bytes(), 0u);

  // A client-initiated close: Beast answers through the queue and tears down only after it drained. The
  // client's close completes once the server's close frame has arrived (Beast then aborts its pending read).
  bool client_closed = false;
  beast::error_code close_ec;
  client_.async_close(websocket::close_code::normal, [&](beast::error_code ec) {
    close_ec = ec;
    client_closed = true;
  });
  run_until([&] { return client_closed && server_read_done && client_read_ec; });
  EXPECT_TRUE(client_closed);
  EXPECT_FALSE(close_ec) << close_ec.message();
  EXPECT_TRUE(client_read_ec == websocket::error::closed || client_read_ec == asio::error::operation_aborted)
      << client_read_ec.message();
  EXPECT_EQ(server_read_ec, websocket::error::closed);
  EXPECT_EQ(mismatch, "");
}

// Bad input next to the good of the first test: a peer that pings without ever reading. Its pongs queue
// behind stalled frames until Beast's control output passes kMaxControlBacklog; then the pong write fails and
// the server's read ends, instead of the queue growing.
TEST_F(FrameOutputStreamTest, APeerThatPingsWithoutReadingIsCutOff) {
  for (int i = 0; i < 200; ++i) output().write_text(make_frame(std::string(200000, 'x')));  // 40 MB, unread
  ioc_.poll();

  beast::error_code server_read_ec;
  bool server_read_done = false;
  beast::flat_buffer server_buffer;
  server_->async_read(server_buffer, [&](beast::error_code ec, std::size_t) {
    server_read_ec = ec;
    server_read_done = true;
  });

  std::size_t pings = 0;
  bool client_failed = false;
  const std::string payload(125, 'p');  // the largest a control frame may carry
  std::function<void()> ping_next = [&] {
    if (server_read_done || pings >= 5000) return;
    ++pings;
    client_.async_ping(websocket::ping_data(payload.c_str()), [&](beast::error_code ec) {
      if (ec) {
        client_failed = true;
        return;
      }
      ping_next();
    });
  };
  ping_next();
  run_until([&] { return server_read_done || client_failed; });

  ASSERT_TRUE(server_read_done) << "after " << pings << " pings";
  EXPECT_EQ(server_read_ec, boost::asio::error::no_buffer_space) << server_read_ec.message();
  // 64 KiB of 127-byte pongs: the cap holds at about 516 of them (plus the pings already in flight when the
  // read ended, and pongs that left in an early write), not at the flood's length of 5000.
  const std::size_t pong_bytes = 2 + payload.size();
  EXPECT_LE(pings, 2 * FrameOutputStream<beast::tcp_stream>::kMaxControlBacklog / pong_bytes);
  EXPECT_GE(pings, FrameOutputStream<beast::tcp_stream>::kMaxControlBacklog / pong_bytes);
}

TEST_F(FrameOutputStreamTest, CountsQueuedFramesAndDiscardsWhatIsNotInFlight) {
  for (std::size_t i = 0; i < 10; ++i) output().write_text(make_frame(std::string(100, 'x')));
  EXPECT_EQ(output().queued_frames(), 10u);
  EXPECT_EQ(output().queued_bytes(), 1000u);
  EXPECT_EQ(output().discard_unsent(), 10u);
  EXPECT_EQ(output().queued_frames(), 0u);
  EXPECT_EQ(output().queued_bytes(), 0u);

  // What is queued afterwards still goes out, and nothing of the discarded frames does.
  output().write_text(make_frame("after"));
  beast::flat_buffer buffer;
  std::string got;
  client_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
    if (!ec) got = beast::buffers_to_string(buffer.data());
  });
  run_until([&] { return !got.empty(); });
  EXPECT_EQ(got, "after");
  EXPECT_EQ(output().write_started_ms(), 0);
}

TEST(FrameOutputStreamHeader, EncodesEachLengthClass) {
  using Header = FrameOutputStream<beast::tcp_stream>;
  EXPECT_EQ(Header::text_frame_header(0), std::string("\x81\x00", 2));
  EXPECT_EQ(Header::text_frame_header(125), std::string("\x81\x7d", 2));
  EXPECT_EQ(Header::text_frame_header(126), std::string("\x81\x7e\x00\x7e", 4));
  EXPECT_EQ(Header::text_frame_header(65535), std::string("\x81\x7e\xff\xff", 4));
  EXPECT_EQ(Header::text_frame_header(65536), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

}  // namespace
}  // namespace switchboard::net
