#pragma once
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "switchboard/net/client_connection.hpp"
#include "switchboard/util/clock.hpp"

namespace switchboard::net {

// The layer under Beast's websocket::stream that owns everything the server writes on one connection.
//
// Why: Beast writes one WebSocket message per call, so a socket that has n frames waiting costs n syscalls,
// and a syscall on loopback costs more than everything else a delivery does. Here every output waits in one
// ordered queue, and a single gather write at a time drains it: frames that arrive while a write is in
// flight, or within the same turn of the event loop, leave together.
//
// - Text frames are queued by reference (`write_text`): the payload is the broadcast's shared buffer, and
//   only the 2-10 byte frame header is ours. The server's frames are never masked, fragmented or compressed
//   (permessage-deflate is not offered), so the header is all there is to encode.
// - Beast's own writes (the 101 response, pongs, close frames) arrive through async_write_some. They are
//   copied into the same queue and complete at once, so a control frame can never land inside a data frame.
// - A failed write closes the socket, which ends the session's pending read; what was queued is dropped.
//
// Not thread-safe: every call runs on the connection's strand, the executor of `Next`. The session hands over
// a weak owner (`set_owner`) that pending writes keep alive.
template <class Next>
class FrameOutputStream {
 public:
  using executor_type = typename Next::executor_type;
  using next_layer_type = Next;

  // Beast's control output may reach this many bytes beyond the data frames before its writes fail: a peer
  // that sends pings without reading our pongs is cut off instead of growing the queue.
  static constexpr std::size_t kMaxControlBacklog = 64 * 1024;
  // Asio hands at most 64 buffers to one sendmsg; a text frame takes two (header, payload).
  static constexpr std::size_t kMaxBuffersPerWrite = 64;
  // A plain TCP socket can be written directly; TLS must go through the stream, which encrypts.
  static constexpr bool kDirectWrites = std::is_same_v<Next, boost::beast::tcp_stream>;

  explicit FrameOutputStream(Next&& next) : next_(std::move(next)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  // Beast's writes: copied into the queue, completed (posted) with every byte taken.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          const std::size_t size = boost::asio::buffer_size(buffers);
          boost::system::error_code ec = failed_;
          if (!ec && control_bytes_ + size > kMaxControlBacklog) ec = boost::asio::error::no_buffer_space;
          if (!ec) {
            std::string bytes(size, '\0');
            boost::asio::buffer_copy(boost::asio::buffer(bytes), buffers);
            control_bytes_ += size;
            push(Entry{nullptr, std::move(bytes)});
          }
          boost::asio::post(get_executor(),
                            boost::beast::bind_front_handler(std::move(handler), ec, ec ? 0 : size));
        },
        token, buffers);
  }

  // Queues one text frame (FIN set, unmasked) carrying `payload`, written at the end of this turn of the
  // loop.
  void write_text(SharedFrame payload) {
    queue_text(std::move(payload));
    schedule_flush();
  }

  // Queues one text frame without scheduling a write: for a caller that queues a batch, then calls
  // flush_now().
  void queue_text(SharedFrame payload) {
    if (failed_) return;
    data_bytes_ += payload->size();
    ++data_frames_;
    std::string header = text_frame_header(payload->size());
    pending_.push_back(Entry{std::move(payload), std::move(header)});
  }

  // Writes what is queued now, unless a write is in flight (its completion writes the rest).
  void flush_now() {
    if (!writing_) flush(owner_.lock());
  }

  // Text frames queued and not yet fully written (the write in flight included), and their payload bytes.
  std::size_t queued_frames() const { return data_frames_; }
  std::size_t queued_bytes() const { return data_bytes_; }
  // When the write in flight started (util::steady_ms), 0 when idle: for the session's write timeout.
  std::int64_t write_started_ms() const { return write_started_ms_; }

  // Drops the text frames that are not yet in flight; returns how many. Beast's control output stays queued.
  std::size_t discard_unsent() {
    std::size_t dropped = 0;
    std::vector<Entry> kept;
    for (Entry& e : pending_) {
      if (!e.payload) {
        kept.push_back(std::move(e));
        continue;
      }
      data_bytes_ -= e.payload->size();
      --data_frames_;
      ++dropped;
    }
    pending_ = std::move(kept);
    return dropped;
  }

  // The frame header RFC 6455 §5.2 gives an unmasked, final text frame of `size` payload bytes.
  static std::string text_frame_header(std::size_t size) {
    std::string h;
    h.push_back(static_cast<char>(0x81));
    if (size < 126) {
      h.push_back(static_cast<char>(size));
    } else if (size <= 0xFFFF) {
      h.push_back(static_cast<char>(126));
      for (int shift = 8; shift >= 0; shift -= 8) h.push_back(static_cast<char>((size >> shift) & 0xFF));
    } else {
      h.push_back(static_cast<char>(127));
      for (int shift = 56; shift >= 0; shift -= 8)
        h.push_back(static_cast<char>((static_cast<std::uint64_t>(size) >> shift) & 0xFF));
    }
    return h;
  }

  // Beast tears the connection down after the close handshake; our queue (the close frame itself, perhaps)
  // must reach the wire first.
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, FrameOutputStream& stream, Handler&& handler) {
    // Beast's handler is move-only; std::function wants a copyable callable.
    auto shared = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    stream.teardown_ = [&stream, role, shared] {
      using boost::beast::websocket::async_teardown;
      async_teardown(role, stream.next_, std::move(*shared));
    };
    if (!stream.flush_scheduled_) stream.teardown_if_drained();
  }

  friend void teardown(boost::beast::role_type role, FrameOutputStream& stream,
                       boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_, ec);
  }

 private:
  struct Entry {
    // A text frame's payload, shared with the broadcast's other recipients; null for a write of Beast's.
    SharedFrame payload;
    std::string bytes;  // the text frame's header, or the whole of a write Beast made
  };

  void push(Entry entry) {
    pending_.push_back(std::move(entry));
    schedule_flush();
  }

  void schedule_flush() {
    if (writing_ || flush_scheduled_ || pending_.empty()) return;
    // Deferred to the end of this turn of the event loop, so that a burst of frames leaves in one write.
    flush_scheduled_ = true;
    boost::asio::post(get_executor(), [this, keep = owner_.lock()] {
      flush_scheduled_ = false;
      flush(keep);
    });
  }

  // Writes what fits in one sendmsg. On a plain TCP socket it first tries a non-blocking write: most writes
  // fit the socket buffer and then need no completion handler at all. What does not fit moves from pending_
  // to writing_entries_, which stays untouched until the asynchronous write completes: a header lives inside
  // its std::string (small-string buffer), so the entries the buffers point into must not move.
  void flush(const std::shared_ptr<void>& keep) {
    while (!writing_ && !pending_.empty()) {
      std::size_t count = 0, buffer_count = 0;
      for (const Entry& e : pending_) {
        const std::size_t needed = e.payload ? 2 : 1;
        if (buffer_count + needed > kMaxBuffersPerWrite) break;
        buffer_count += needed;
        ++count;
      }
      std::size_t written = 0;
      if constexpr (kDirectWrites) {
        thread_local std::vector<boost::asio::const_buffer> scratch;
        scratch.clear();
        append_buffers(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count), scratch);
        auto& socket = boost::beast::get_lowest_layer(next_).socket();
        boost::system::error_code ec;
        if (!socket.non_blocking()) socket.non_blocking(true, ec);
        if (!ec) written = socket.write_some(scratch, ec);
        if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again)
          ec = {}, written = 0;
        if (ec) return fail(ec);
        if (written == boost::asio::buffer_size(scratch)) {
          account_written(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
          pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
          continue;
        }
      }
      if (count == pending_.size()) {
        writing_entries_.swap(pending_);
      } else {
        std::move(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count),
                  std::back_inserter(writing_entries_));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
      }
      buffers_.clear();
      append_buffers(writing_entries_.begin(), writing_entries_.end(), buffers_);
      skip_prefix(buffers_, written);
      writing_ = true;
      write_started_ms_ = util::steady_ms();
      boost::asio::async_write(
          next_, buffers_, [this, keep](boost::system::error_code ec, std::size_t) { on_written(ec, keep); });
      return;
    }
    if (!writing_) release_idle_buffers();
    teardown_if_drained();
  }

  template <class It>
  static void append_buffers(It first, It last, std::vector<boost::asio::const_buffer>& out) {
    for (; first != last; ++first) {
      out.emplace_back(first->bytes.data(), first->bytes.size());
      if (first->payload) out.emplace_back(first->payload->data(), first->payload->size());
    }
  }

  // Drops the first `bytes` bytes of `buffers` (what a partial write already sent).
  static void skip_prefix(std::vector<boost::asio::const_buffer>& buffers, std::size_t bytes) {
    auto it = buffers.begin();
    while (it != buffers.end() && bytes >= it->size()) bytes -= (it++)->size();
    buffers.erase(buffers.begin(), it);
    if (bytes) buffers.front() += bytes;
  }

  template <class It>
  void account_written(It first, It last) {
    for (; first != last; ++first) {
      if (first->payload) {
        data_bytes_ -= first->payload->size();
        --data_frames_;
      } else {
        control_bytes_ -= first->bytes.size();
      }
    }
  }

  void fail(boost::system::error_code ec) {
    failed_ = ec;
    pending_.clear();
    writing_entries_.clear();
    data_frames_ = data_bytes_ = control_bytes_ = 0;
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(next_).socket().close(ignored);
    teardown_if_drained();
  }

  // An idle connection keeps no write buffers: most sockets are idle most of the time, and their memory
  // caps how many one server holds. Allocating again for the next burst costs less than a syscall.
  void release_idle_buffers() {
    if (pending_.capacity()) std::vector<Entry>().swap(pending_);
    if (writing_entries_.capacity()) std::vector<Entry>().swap(writing_entries_);
    if (buffers_.capacity()) std::vector<boost::asio::const_buffer>().swap(buffers_);
  }

  void on_written(boost::system::error_code ec, const std::shared_ptr<void>& keep) {
    writing_ = false;
    write_started_ms_ = 0;
    account_written(writing_entries_.begin(), writing_entries_.end());
    writing_entries_.clear();
    if (ec) return fail(ec);
    flush(keep);
  }

  void teardown_if_drained() {
    if (!teardown_ || writing_ || !pending_.empty()) return;
    auto teardown = std::move(teardown_);
    teardown_ = nullptr;
    teardown();
  }

  Next next_;
  std::weak_ptr<void> owner_;
  std::vector<Entry> pending_;          // waiting for the next write
  std::vector<Entry> writing_entries_;  // in the write in flight
  std::vector<boost::asio::const_buffer> buffers_;
  std::size_t data_frames_ = 0;
  std::size_t data_bytes_ = 0;
  std::size_t control_bytes_ = 0;
  std::int64_t write_started_ms_ = 0;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  boost::system::error_code failed_;
  std::function<void()> teardown_;  // set while Beast's teardown waits for the queue to drain
};

}  // namespace switchboard::net
