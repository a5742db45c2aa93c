#include "switchboard/http_client/http_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cctype>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "switchboard/util/log.hpp"

#ifndef SWITCHBOARD_VERSION
#define SWITCHBOARD_VERSION "dev"
#endif

namespace switchboard::http_client {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr util::AreaLogger log{"http_client"};

void global_init_once() {
  // curl_global_init is not guaranteed thread-safe on every build; the first client pays for it once.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpError classify(CURLcode rc) {
  switch (rc) {
    case CURLE_OK:
      return HttpError::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpError::kTimeout;
    case CURLE_COULDNT_CONNECT:
      return HttpError::kConnect;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return HttpError::kResolve;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return HttpError::kTls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return HttpError::kInvalidRequest;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
      return HttpError::kNetwork;
    default:
      return HttpError::kOther;
  }
}

bool valid_method(const std::string& m) {
  static const char* const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
  for (const char* k : kMethods)
    if (m == k) return true;
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// One request from submission to completion. Owned by the Impl (queue or active map) until its handler runs.
struct Transfer {
  RequestId id = 0;
  Request request;
  ChunkHandler on_chunk;  // empty: collect the whole body
  ResponseHandler on_response;
  Response response;
  Clock::time_point created;
  CURL* easy = nullptr;  // set while the transfer is in the multi handle
  curl_slist* header_list = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::size_t max_body = 0;
  std::size_t received = 0;
  bool status_known = false;  // set at the first body byte of the final response
  bool stream_body = false;   // body goes to on_chunk (a 2xx to a streamed request)
  bool too_large = false;
  bool aborted = false;  // on_chunk returned false
  bool chunk_threw = false;

  ~Transfer() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
  }
};

// One socket libcurl asked us to watch. Owned sockets were opened by our open-socket callback and are closed
// only by our close-socket callback, so their descriptor number cannot be reused behind Asio's back. Foreign
// ones (the threaded resolver's socketpair) are watched without ownership: curl reports CURL_POLL_REMOVE
// before closing them, and we release() the descriptor then.
struct Socket {
  Socket(asio::posix::stream_descriptor d, curl_socket_t f, bool own)
      : descriptor(std::move(d)), fd(f), owned(own) {}
  ~Socket() {
    if (!owned && descriptor.is_open()) descriptor.release();
  }
  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  bool owned;
  int wanted = 0;        // the CURL_POLL_* bits curl asked for last
  bool reading = false;  // an async_wait(wait_read) is outstanding
  bool writing = false;
  bool closed = false;
};

}  // namespace

const char* to_string(HttpError e) {
  switch (e) {
    case HttpError::kNone:
      return "none";
    case HttpError::kTimeout:
      return "timeout";
    case HttpError::kConnect:
      return "connect";
    case HttpError::kResolve:
      return "resolve";
    case HttpError::kTls:
      return "tls";
    case HttpError::kNetwork:
      return "network";
    case HttpError::kTooLarge:
      return "too_large";
    case HttpError::kAborted:
      return "aborted";
    case HttpError::kCancelled:
      return "cancelled";
    case HttpError::kOverloaded:
      return "overloaded";
    case HttpError::kShutdown:
      return "shutdown";
    case HttpError::kInvalidRequest:
      return "invalid_request";
    case HttpError::kOther:
      return "other";
  }
  return "other";
}

const std::string* Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(h.name[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return &h.value;
  }
  return nullptr;
}

// All state lives here and is touched only on strand_, except the atomics. Async handlers hold a weak_ptr, so
// a destroyed client simply stops; the destructor removes every transfer and closes every socket itself.
class HttpClient::Impl final : public std::enable_shared_from_this<HttpClient::Impl> {
 public:
  Impl(asio::io_context& io, HttpClientOptions options)
      : strand_(asio::make_strand(io)), timer_(strand_), options_(std::move(options)) {
    global_init_once();
    if (options_.user_agent.empty()) options_.user_agent = std::string("switchboard/") + SWITCHBOARD_VERSION;
    if (options_.max_concurrent == 0) options_.max_concurrent = 1;
    multi_ = curl_multi_init();
    if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }

  ~Impl() {
    destroying_ = true;
    for (auto& [id, t] : active_) {
      curl_multi_remove_handle(multi_, t->easy);
      curl_easy_cleanup(t->easy);
    }
    active_.clear();
    queue_.clear();
    // Closes cached connections through on_close_socket, which still needs sockets_.
    curl_multi_cleanup(multi_);
    for (auto& [fd, s] : sockets_) {
      s->closed = true;
      boost::system::error_code ec;
      if (s->owned) {
        s->descriptor.close(ec);
      } else if (s->descriptor.is_open()) {
        s->descriptor.release();
      }
    }
    sockets_.clear();
  }

  RequestId submit(Request request, ChunkHandler on_chunk, ResponseHandler on_response) {
    auto t = std::make_unique<Transfer>();
    t->id = next_id_.fetch_add(1, std::memory_order_relaxed);
    t->request = std::move(request);
    t->on_chunk = std::move(on_chunk);
    t->on_response = std::move(on_response);
    t->created = Clock::now();
    const RequestId id = t->id;
    asio::post(strand_, [weak = weak_from_this(), t = std::move(t)]() mutable {
      if (auto self = weak.lock()) self->start(std::move(t));
    });
    return id;
  }

  void post_cancel(RequestId id) {
    asio::post(strand_, [weak = weak_from_this(), id] {
      if (auto self = weak.lock()) self->cancel(id);
    });
  }

  void post_shutdown() {
    asio::post(strand_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->shutdown();
    });
  }

  HttpClient::Stats stats() const { return {in_flight_count_.load(), queued_count_.load()}; }

 private:
  // ---- curl callbacks (called from inside curl_multi_* on the strand) ----

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    static_cast<Impl*>(userp)->socket_changed(fd, what);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    static_cast<Impl*>(userp)->timer_changed(timeout_ms);
    return 0;
  }

  static curl_socket_t on_open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    return static_cast<Impl*>(clientp)->open_socket(purpose, address);
  }

  static int on_close_socket(void* clientp, curl_socket_t fd) {
    static_cast<Impl*>(clientp)->close_socket(fd);
    return 0;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::size_t n = size * count;
    std::string_view line = trim(std::string_view(data, n));
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response begins (after a 1xx): only the final one's headers count.
      t->response.headers.clear();
      t->status_known = false;
      return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || t->response.headers.size() >= 200) return n;
    t->response.headers.push_back(
        {lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    return n;
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::size_t n = size * count;
    if (!t->status_known) {
      long code = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
      t->status_known = true;
      t->stream_body = static_cast<bool>(t->on_chunk) && code >= 200 && code < 300;
    }
    t->received += n;
    if (t->received > t->max_body) {
      t->too_large = true;
      return CURL_WRITEFUNC_ERROR;
    }
    if (!t->stream_body) {
      t->response.body.append(data, n);
      return n;
    }
    try {
      if (!t->on_chunk(std::string_view(data, n))) {
        t->aborted = true;
        return CURL_WRITEFUNC_ERROR;
      }
    } catch (const std::exception& e) {
      log()->error("chunk handler of request {} threw: {}", t->id, e.what());
      t->chunk_threw = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }

  // ---- socket and timer plumbing ----

  curl_socket_t open_socket(curlsocktype purpose, curl_sockaddr* address) {
    if (purpose != CURLSOCKTYPE_IPCXN || destroying_) return CURL_SOCKET_BAD;
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    if (auto stale = sockets_.find(fd); stale != sockets_.end()) {
      auto old = stale->second;  // a view curl never removed; keep it alive while we drop it
      forget(old);
    }
    try {
      asio::posix::stream_descriptor d(strand_, fd);  // registers fd with the reactor; throws on failure
      sockets_[fd] = std::make_shared<Socket>(std::move(d), fd, true);
    } catch (const std::exception& e) {
      log()->error("cannot watch a new socket: {}", e.what());
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    return fd;
  }

  void close_socket(curl_socket_t fd) {
    const auto it = sockets_.find(fd);
    if (it == sockets_.end() || !it->second->owned) {
      ::close(fd);
      return;
    }
    auto s = it->second;
    sockets_.erase(it);
    s->closed = true;
    s->wanted = 0;
    boost::system::error_code ec;
    s->descriptor.close(ec);  // deregisters before closing; outstanding waits complete as aborted
  }

  // Drops our view of a foreign socket (without closing it) or of a stale entry.
  void forget(const std::shared_ptr<Socket>& s) {
    s->closed = true;
    s->wanted = 0;
    if (s->owned) {
      boost::system::error_code ec;
      s->descriptor.close(ec);
    } else if (s->descriptor.is_open()) {
      s->descriptor.release();
    }
    sockets_.erase(s->fd);
  }

  void socket_changed(curl_socket_t fd, int what) {
    const auto it = sockets_.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it == sockets_.end()) return;
      auto s = it->second;
      if (!s->owned) {
        forget(s);  // curl is about to close it
        return;
      }
      // Owned sockets stay registered until on_close_socket (an idle connection may be reused); stop
      // watching.
      s->wanted = 0;
      boost::system::error_code ec;
      s->descriptor.cancel(ec);
      return;
    }
    std::shared_ptr<Socket> s;
    if (it != sockets_.end()) {
      s = it->second;
    } else {
      asio::posix::stream_descriptor d(strand_);
      boost::system::error_code ec;
      d.assign(fd, ec);
      if (ec) {
        log()->error("cannot watch curl socket {}: {}", fd, ec.message());
        return;
      }
      s = std::make_shared<Socket>(std::move(d), fd, false);
      sockets_[fd] = s;
    }
    s->wanted = what;
    arm(s);
  }

  void arm(const std::shared_ptr<Socket>& s) {
    if (s->closed || destroying_) return;
    if ((s->wanted & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [weak = weak_from_this(), s](const boost::system::error_code& ec) {
                                 if (auto self = weak.lock()) self->on_ready(s, CURL_CSELECT_IN, ec);
                               });
    }
    if ((s->wanted & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [weak = weak_from_this(), s](const boost::system::error_code& ec) {
                                 if (auto self = weak.lock()) self->on_ready(s, CURL_CSELECT_OUT, ec);
                               });
    }
  }

  void on_ready(const std::shared_ptr<Socket>& s, int direction, const boost::system::error_code& ec) {
    (direction == CURL_CSELECT_IN ? s->reading : s->writing) = false;
    if (s->closed || destroying_) return;
    const int wanted_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    // An aborted wait (curl stopped watching, then maybe asked again) only needs re-arming below.
    if (ec != asio::error::operation_aborted && (s->wanted & wanted_bit)) {
      int running = 0;
      curl_multi_socket_action(multi_, s->fd, ec ? CURL_CSELECT_ERR : direction, &running);
      drain_completed();
      if (ec) return;  // curl has been told; do not spin on a broken descriptor
    }
    arm(s);  // the socket may have been closed or re-targeted inside socket_action; arm() checks
  }

  void timer_changed(long timeout_ms) {
    if (destroying_) return;
    if (timeout_ms < 0) {
      timer_.cancel();
      return;
    }
    // curl asks not to be called back from inside its own callback, so even 0 goes through the timer.
    timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->on_timeout();
    });
  }

  void on_timeout() {
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_completed();
  }

  // ---- transfers ----

  void start(std::unique_ptr<Transfer> t) {
    if (shut_down_) return fail(std::move(t), HttpError::kShutdown, "the HTTP client is shutting down");
    if (active_.size() < options_.max_concurrent) return launch(std::move(t));
    if (queue_.size() >= options_.max_queued) {
      log()->warn("outside request refused: {} in flight and {} queued", active_.size(), queue_.size());
      return fail(std::move(t), HttpError::kOverloaded, "too many outside requests at once");
    }
    queue_.push_back(std::move(t));
    queued_count_ = queue_.size();
  }

  void launch(std::unique_ptr<Transfer> t) {
    const Request& r = t->request;
    const auto total = r.total_timeout.count() > 0 ? r.total_timeout : options_.total_timeout;
    const auto connect = r.connect_timeout.count() > 0 ? r.connect_timeout : options_.connect_timeout;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t->created);
    if (waited >= total)
      return fail(std::move(t), HttpError::kTimeout, "timed out while waiting for a free slot");
    if (!valid_method(r.method)) return fail(std::move(t), HttpError::kInvalidRequest, "unsupported method");
    t->max_body = r.max_response_bytes > 0 ? r.max_response_bytes : options_.max_response_bytes;

    CURL* easy = curl_easy_init();
    if (easy == nullptr) return fail(std::move(t), HttpError::kOther, "curl_easy_init failed");
    t->easy = easy;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(connect, total).count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>((total - waited).count()));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);

    for (const auto& h : r.headers)
      t->header_list = curl_slist_append(t->header_list, (h.name + ": " + h.value).c_str());
    t->header_list = curl_slist_append(t->header_list, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->header_list);

    if (r.method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (r.method == "POST" || !r.body.empty()) {
        // The body lives in the Transfer, which outlives the easy handle.
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.c_str());
      }
    }

    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
      curl_easy_cleanup(easy);
      t->easy = nullptr;
      return fail(std::move(t), HttpError::kOther, "curl_multi_add_handle failed");
    }
    log()->debug("request {} started: {} {}", t->id, r.method, redact_url(r.url));
    active_.emplace(t->id, std::move(t));
    in_flight_count_ = active_.size();
  }

  void drain_completed() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode rc = msg->data.result;  // msg is invalid after remove_handle
      Transfer* raw = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
      auto node = active_.extract(raw->id);
      curl_multi_remove_handle(multi_, easy);
      in_flight_count_ = active_.size();  // before the handler runs, so it sees current stats
      finish(std::move(node.mapped()), rc);
    }
    in_flight_count_ = active_.size();
    start_queued();
  }

  void start_queued() {
    while (!shut_down_ && !queue_.empty() && active_.size() < options_.max_concurrent) {
      auto t = std::move(queue_.front());
      queue_.pop_front();
      launch(std::move(t));
    }
    queued_count_ = queue_.size();
  }

  // Completes a transfer that was in the multi handle (already removed from it).
  void finish(std::unique_ptr<Transfer> t, CURLcode rc) {
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    Response r = std::move(t->response);
    r.status = static_cast<int>(code);
    if (t->too_large) {
      r.error = HttpError::kTooLarge;
      r.error_message = "response body larger than " + std::to_string(t->max_body) + " bytes";
    } else if (t->aborted) {
      r.error = HttpError::kAborted;
      r.error_message = "stopped by the chunk handler";
    } else if (t->chunk_threw) {
      r.error = HttpError::kOther;
      r.error_message = "the chunk handler threw";
    } else if (rc != CURLE_OK) {
      r.error = classify(rc);
      r.error_message = t->error_buffer[0] != '\0' ? std::string(t->error_buffer) : curl_easy_strerror(rc);
    }
    deliver(std::move(t), std::move(r));
  }

  // Completes a transfer that never reached, or was taken out of, the multi handle.
  void fail(std::unique_ptr<Transfer> t, HttpError error, std::string message) {
    if (t->easy != nullptr) {
      curl_easy_cleanup(t->easy);
      t->easy = nullptr;
    }
    Response r = std::move(t->response);
    r.status = 0;
    r.headers.clear();
    r.body.clear();
    r.error = error;
    r.error_message = std::move(message);
    deliver(std::move(t), std::move(r));
  }

  void deliver(std::unique_ptr<Transfer> t, Response r) {
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t->created);
    if (r.ok()) {
      log()->debug("request {} done: {} {} -> {} in {} ms", t->id, t->request.method,
                   redact_url(t->request.url), r.status, r.elapsed.count());
    } else {
      log()->debug("request {} failed: {} {} -> {} ({}) after {} ms", t->id, t->request.method,
                   redact_url(t->request.url), to_string(r.error), r.error_message, r.elapsed.count());
    }
    auto handler = std::move(t->on_response);
    t.reset();
    if (!handler) return;
    try {
      handler(std::move(r));
    } catch (const std::exception& e) {
      log()->error("response handler threw: {}", e.what());
    }
  }

  void cancel(RequestId id) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if ((*it)->id != id) continue;
      auto t = std::move(*it);
      queue_.erase(it);
      queued_count_ = queue_.size();
      return fail(std::move(t), HttpError::kCancelled, "cancelled");
    }
    auto node = active_.extract(id);
    if (node.empty()) return;
    curl_multi_remove_handle(multi_, node.mapped()->easy);
    in_flight_count_ = active_.size();
    fail(std::move(node.mapped()), HttpError::kCancelled, "cancelled");
    start_queued();
  }

  void shutdown() {
    shut_down_ = true;
    while (!queue_.empty()) {
      auto t = std::move(queue_.front());
      queue_.pop_front();
      fail(std::move(t), HttpError::kShutdown, "the HTTP client is shutting down");
    }
    while (!active_.empty()) {
      auto node = active_.extract(active_.begin());
      curl_multi_remove_handle(multi_, node.mapped()->easy);
      fail(std::move(node.mapped()), HttpError::kShutdown, "the HTTP client is shutting down");
    }
    queued_count_ = 0;
    in_flight_count_ = 0;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  HttpClientOptions options_;
  CURLM* multi_ = nullptr;
  std::unordered_map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::unordered_map<RequestId, std::unique_ptr<Transfer>> active_;
  std::deque<std::unique_ptr<Transfer>> queue_;
  bool shut_down_ = false;
  bool destroying_ = false;
  std::atomic<RequestId> next_id_{1};
  std::atomic<std::size_t> in_flight_count_{0};
  std::atomic<std::size_t> queued_count_{0};
};

HttpClient::HttpClient(boost::asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() = default;

RequestId HttpClient::request(Request request, ResponseHandler on_response) {
  return impl_->submit(std::move(request), nullptr, std::move(on_response));
}

RequestId HttpClient::request_stream(Request request, ChunkHandler on_chunk, ResponseHandler on_response) {
  return impl_->submit(std::move(request), std::move(on_chunk), std::move(on_response));
}

void HttpClient::cancel(RequestId id) {
  impl_->post_cancel(id);
}

void HttpClient::shutdown() {
  impl_->post_shutdown();
}

HttpClient::Stats HttpClient::stats() const {
  return impl_->stats();
}

std::string form_urlencode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  auto encode = [&out](std::string_view s) {
    for (const unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else if (c == ' ') {
        out.push_back('+');
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
  };
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    encode(name);
    out.push_back('=');
    encode(value);
  }
  return out;
}

std::string redact_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  std::string out(url);
  // user:password@host would leak credentials.
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto host_start = scheme + 3;
    const auto path = out.find('/', host_start);
    const auto at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at >= host_start) out.replace(host_start, at - host_start, "***");
  }
  return out;
}

}  // namespace switchboard::http_client
