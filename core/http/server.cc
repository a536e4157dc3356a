#include "core/http/server.h"

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <openssl/err.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/http/socket_io.h"
#include "core/http/tls_internal.h"

namespace hansa::http {
namespace {

const httplib::Request& lib(const void* impl) {
  return *static_cast<const httplib::Request*>(impl);
}

// httplib's ThreadPool has an unbounded queue; this one makes the accept loop wait instead.
// Threading: thread-safe: guarded by mu_.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) {
          return;  // shut down and drained
        }
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

using internal::Clock;
using internal::wait_for;

// Connections the kernel completes and queues before the accept loop takes them.
constexpr int kListenBacklog = 1024;

// One accepted connection, plain or TLS, as the byte stream httplib parses. Enforces the
// per-read/write timeouts; while a request's header block is being read, an overall deadline and a
// byte budget; while its body is read, a budget and a deadline that each received byte extends
// (ServerOptions::body_timeout, min_body_rate); while the answer is sent, the same pace for the
// time spent blocked on a client that reads slowly. Threading: one owner (the worker serving the
// connection).
class Connection final : public httplib::Stream {
 public:
  Connection(int fd, const ServerOptions& options, SSL* ssl)
      : fd_(fd), options_(options), ssl_(ssl), out_(fd, ssl, options.write_timeout) {
    out_.set_pace(options.body_timeout, options.min_body_rate);
  }

  // Starts the header phase of a new request.
  void begin_request() {
    in_headers_ = true;
    in_body_ = false;
    body_exceeded_ = false;
    body_timed_out_ = false;
    answered_ = false;
    header_bytes_ = 0;
    out_.begin_message();
    header_deadline_ = Clock::now() + options_.header_timeout;
  }
  // The header block is complete: at most `body_budget` bytes of the body are read from the wire
  // (httplib does not cap chunked bodies), at no less than the minimum rate.
  void end_headers(std::size_t body_budget) {
    in_headers_ = false;
    in_body_ = true;
    body_bytes_ = 0;
    body_budget_ = body_budget;
    body_started_ = Clock::now();
  }
  // True when the current request's body went over its budget.
  [[nodiscard]] bool body_exceeded() const { return body_exceeded_; }
  // True when the current request's body arrived too slowly (its deadline passed).
  [[nodiscard]] bool body_timed_out() const { return body_timed_out_; }
  // A route's handler or a refusal made the current request's answer, which is then sent as it
  // is (the library's error handler leaves it alone).
  void mark_answered() { answered_ = true; }
  [[nodiscard]] bool answered() const { return answered_; }

  void set_close() { close_ = true; }
  [[nodiscard]] bool must_close() const { return close_ || failed_ || out_.failed(); }
  [[nodiscard]] bool has_buffered() const {
    return pos_ < buf_.size() || (ssl_ != nullptr && SSL_pending(ssl_) > 0);
  }
  CertChain& peer_chain() { return chain_; }

  bool is_readable() const override {
    return has_buffered() || (flush() && wait_for(fd_, POLLIN, read_deadline()));
  }
  bool is_writable() const override { return out_.wait_writable(); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ >= buf_.size()) {
      if (!flush() || !fill()) {
        failed_ = true;
        body_timed_out_ = in_body_ && Clock::now() >= body_deadline();
        return -1;
      }
      if (buf_.empty()) {
        return 0;  // orderly close
      }
    }
    size_t n = std::min(size, buf_.size() - pos_);
    if (in_headers_) {
      header_bytes_ += n;
      if (header_bytes_ > header_budget()) {
        failed_ = true;
        return -1;
      }
    } else if (in_body_) {
      body_bytes_ += n;
      if (body_bytes_ > body_budget_) {
        body_exceeded_ = true;
        failed_ = true;
        return -1;
      }
    }
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  // Writes are gathered (internal::WriteGatherer) until the connection next waits for input or
  // the answer is complete (flush()).
  ssize_t write(const char* ptr, size_t size) override { return out_.write(ptr, size); }

  // Sends what write() gathered; false when the connection failed.
  bool flush() const { return out_.flush() && !failed_; }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    internal::socket_address(fd_, false, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    internal::socket_address(fd_, true, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // Waits up to `timeout` for the next request's first byte, checking `running` every 100 ms.
  bool wait_next_request(const std::function<bool()>& running, std::chrono::milliseconds timeout) {
    if (has_buffered()) {
      return true;
    }
    if (!flush()) {
      return false;
    }
    auto deadline = Clock::now() + timeout;
    while (running()) {
      auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
      if (wait_for(fd_, POLLIN, slice)) {
        return true;
      }
      if (Clock::now() >= deadline) {
        return false;
      }
    }
    return false;
  }

 private:
  Clock::time_point read_deadline() const {
    auto deadline = Clock::now() + options_.read_timeout;
    if (in_headers_) {
      return std::min(deadline, header_deadline_);
    }
    return in_body_ ? std::min(deadline, body_deadline()) : deadline;
  }

  // body_timeout after the header block, plus a second for each min_body_rate bytes read since.
  Clock::time_point body_deadline() const {
    if (options_.min_body_rate == 0) {
      return Clock::time_point::max();
    }
    return body_started_ + options_.body_timeout +
           internal::earned_time(body_bytes_, options_.min_body_rate);
  }

  std::size_t header_budget() const {
    // Request line, header names and values, and the separators around them.
    return options_.max_request_target_bytes + 64 + options_.max_header_bytes +
           options_.max_header_count * 4 + 4 * 1024;
  }

  // Refills the buffer; false on timeout or error, true with an empty buffer on orderly close.
  bool fill() {
    buf_.resize(16 * 1024);
    pos_ = 0;
    auto deadline = read_deadline();
    while (true) {
      ssize_t n;
      if (ssl_ != nullptr) {
        n = SSL_read(ssl_, buf_.data(), static_cast<int>(buf_.size()));
        if (n <= 0) {
          int err = SSL_get_error(ssl_, static_cast<int>(n));
          if (err == SSL_ERROR_ZERO_RETURN) {
            buf_.clear();
            return true;
          }
          short ev = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
          if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
              wait_for(fd_, ev, deadline)) {
            continue;
          }
          buf_.clear();
          return false;
        }
      } else {
        n = ::recv(fd_, buf_.data(), buf_.size(), 0);
        if (n < 0) {
          if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
              wait_for(fd_, POLLIN, deadline)) {
            continue;
          }
          buf_.clear();
          return false;
        }
      }
      buf_.resize(static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  const ServerOptions& options_;
  SSL* ssl_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool in_headers_ = false;
  std::size_t header_bytes_ = 0;
  bool in_body_ = false;
  bool body_exceeded_ = false;
  std::size_t body_bytes_ = 0;
  std::size_t body_budget_ = 0;
  bool body_timed_out_ = false;
  bool answered_ = false;
  Clock::time_point body_started_;
  Clock::time_point header_deadline_;
  bool close_ = false;
  bool failed_ = false;
  // Sent by the const paths that must send gathered output before waiting for input.
  mutable internal::WriteGatherer out_;
  CertChain chain_;
};

// The connection the current worker thread serves; lets the routing callbacks, which only see
// httplib's Request, reach it.
thread_local Connection* tl_connection = nullptr;

// Ends the current connection after this answer, and says so in it: the stream is in an unknown
// state (an unread or oversized body), and a client that reused the connection would lose its
// next request.
void close_after(httplib::Response& res) {
  if (tl_connection != nullptr) {
    tl_connection->set_close();
    res.set_header("Connection", "close");
  }
}

struct Route {
  std::string method;
  std::string path;
  bool prefix = false;
  Handler handler;
};

FaultCode fault_for_status(int status) {
  switch (status) {
    case 404:
      return FaultCode::kNotFound;
    case 408:
      return FaultCode::kTimeout;
    case 413:
    case 414:
    case 431:
      return FaultCode::kLimitExceeded;
    case 415:
      return FaultCode::kInvalidContentType;
    default:
      return status < 500 ? FaultCode::kBadRequest : FaultCode::kInternalError;
  }
}

void answer_error(httplib::Response& res, int status, const Error& error) {
  res.status = status;
  res.set_content(error_json(error), "application/json");
}

// httplib's server with Hansa's connection handling: the accept loop and the HTTP parser are
// httplib's; each accepted socket is served by process_and_close_socket below.
// Threading: as httplib::Server; process_and_close_socket runs on the pool's workers.
class LibServer final : public httplib::Server {
 public:
  LibServer(const ServerOptions& options, SSL_CTX* ctx) : options_(options), ctx_(ctx) {}

  // httplib listens with a backlog of 5. Under a burst of new connections the kernel's accept
  // queue overflows and drops handshakes, which clients see as stalls and reset connections.
  // Calling listen() again on the bound socket sets the backlog (capped by net.core.somaxconn).
  bool widen_backlog(int backlog) {
    return svr_sock_ != INVALID_SOCKET && ::listen(svr_sock_, backlog) == 0;
  }

 private:
  bool accepting() const { return svr_sock_ != INVALID_SOCKET; }

  bool process_and_close_socket(socket_t sock) override {
    int flags = ::fcntl(sock, F_GETFL, 0);
    ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    crypto::SslPtr ssl;
    bool ok = true;
    if (ctx_ != nullptr) {
      ssl.reset(SSL_new(ctx_));
      ok = ssl != nullptr && SSL_set_fd(ssl.get(), sock) == 1 && handshake(ssl.get(), sock);
    }
    if (ok) {
      Connection conn(sock, options_, ssl.get());
      if (ssl) {
        conn.peer_chain() = peer_chain_of(ssl.get());
      }
      tl_connection = &conn;
      for (std::size_t left = options_.keep_alive_max_requests; left > 0; --left) {
        bool first = left == options_.keep_alive_max_requests;
        auto idle = first ? std::min(options_.read_timeout, options_.header_timeout)
                          : std::chrono::milliseconds(options_.keep_alive_timeout);
        if (!conn.wait_next_request([this] { return accepting(); }, idle)) {
          break;
        }
        conn.begin_request();
        bool closed = false;
        ok = process_request(conn, left == 1 || !accepting(), closed,
                             [&](httplib::Request& req) { req.ssl = ssl.get(); });
        ok = conn.flush() && ok;
        if (!ok || closed || conn.must_close()) {
          break;
        }
      }
      tl_connection = nullptr;
      if (ssl && !conn.must_close()) {
        SSL_shutdown(ssl.get());  // best effort: the socket is non-blocking
      }
      if (conn.must_close()) {
        linger(sock);
      }
    }
    ssl.reset();
    ERR_clear_error();
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  // After an error answer with request bytes still unread, closing at once would make the kernel
  // send a reset that can destroy the answer in flight. Half-close, then discard input for a
  // short, bounded time so the client reads the answer (the "lingering close" of web servers).
  static void linger(int sock) {
    ::shutdown(sock, SHUT_WR);
    auto deadline = Clock::now() + std::chrono::milliseconds(200);
    std::size_t drained = 0;
    char buf[16 * 1024];
    while (drained < 1024 * 1024 && wait_for(sock, POLLIN, deadline)) {
      ssize_t n = ::recv(sock, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      drained += static_cast<std::size_t>(n);
    }
  }

  bool handshake(SSL* ssl, int sock) const {
    auto deadline = Clock::now() + options_.tls_handshake_timeout;
    while (true) {
      int r = SSL_accept(ssl);
      if (r == 1) {
        return true;
      }
      int err = SSL_get_error(ssl, r);
      short ev = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
      if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
          !wait_for(sock, ev, deadline)) {
        return false;
      }
    }
  }

  static CertChain peer_chain_of(SSL* ssl) {
    CertChain chain;
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) {
      return chain;
    }
    chain.push_back(internal::to_der(leaf));
    // On the server side the stack excludes the leaf.
    STACK_OF(X509)* rest = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; rest != nullptr && i < sk_X509_num(rest); ++i) {
      chain.push_back(internal::to_der(sk_X509_value(rest, i)));
    }
    return chain;
  }

  const ServerOptions& options_;
  SSL_CTX* ctx_;
};

}  // namespace

std::string_view Request::method() const noexcept { return lib(impl_).method; }
std::string_view Request::path() const noexcept { return lib(impl_).path; }
std::string_view Request::target() const noexcept { return lib(impl_).target; }
bool Request::is_tls() const noexcept { return lib(impl_).ssl != nullptr; }
std::string_view Request::body() const noexcept { return lib(impl_).body; }
std::string_view Request::peer_address() const noexcept { return lib(impl_).remote_addr; }
int Request::peer_port() const noexcept { return lib(impl_).remote_port; }

std::optional<std::string> Request::query(std::string_view name) const {
  std::string key(name);
  if (!lib(impl_).has_param(key.c_str())) {
    return std::nullopt;
  }
  return lib(impl_).get_param_value(key.c_str());
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  const auto& headers = lib(impl_).headers;
  auto it = headers.find(std::string(name));
  if (it == headers.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

Headers Request::headers() const {
  const auto& headers = lib(impl_).headers;
  return Headers(headers.begin(), headers.end());
}

struct Server::Impl {
  ServerOptions options;
  std::vector<Route> routes;
  internal::VerifyPolicy policy;  // referenced by ctx: declared before it
  crypto::SslCtxPtr ctx;
  std::unique_ptr<LibServer> svr;
  std::mutex mu;  // guards thread and running
  std::thread thread;
  bool running = false;
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> loop_done{false};
  mutable std::mutex refusal_mu;
  mutable std::map<int, std::uint64_t> refusal_counts;  // by status

  void dispatch(const httplib::Request& req, httplib::Response& res) const;
  httplib::Server::HandlerResponse check_limits(const httplib::Request& req,
                                                httplib::Response& res) const;
  // Answers a request refused before any handler: options.render_reject's rendering, or the JSON
  // error.
  void refuse(const httplib::Request& req, httplib::Response& res, int status,
              const Error& error) const;
  void configure();
};

namespace {

// A handler's answer in the library's response.
void fill(httplib::Response& res, Response&& out) {
  res.status = out.status;
  std::string content_type = "application/octet-stream";
  for (const auto& [name, value] : out.headers) {
    if (iequals(name, "Content-Type")) {
      content_type = value;
    } else if (!iequals(name, "Content-Length")) {
      res.set_header(name.c_str(), value);
    }
  }
  if (!out.body.empty()) {
    res.set_content(std::move(out.body), content_type.c_str());
  } else if (find_header(out.headers, "Content-Type")) {
    res.set_header("Content-Type", content_type);
  }
}

}  // namespace

void Server::Impl::refuse(const httplib::Request& req, httplib::Response& res, int status,
                          const Error& error) const {
  {
    std::lock_guard lock(refusal_mu);
    ++refusal_counts[status];
  }
  if (!options.render_reject) {
    answer_error(res, status, error);
    if (tl_connection != nullptr) {
      tl_connection->mark_answered();
    }
    return;
  }
  Response out;
  out.status = status;
  try {
    options.render_reject(
        Request(&req, tl_connection != nullptr ? tl_connection->peer_chain() : CertChain{}), status,
        error, out);
  } catch (const std::exception&) {
    out = Response{};
    out.status = status;
    out.set_body(error_json(error), "application/json");
  }
  fill(res, std::move(out));
  if (tl_connection != nullptr) {
    tl_connection->mark_answered();
  }
}

httplib::Server::HandlerResponse Server::Impl::check_limits(const httplib::Request& req,
                                                            httplib::Response& res) const {
  if (tl_connection != nullptr) {
    // Chunk framing adds a few bytes per chunk; the decoded size is checked exactly in dispatch.
    tl_connection->end_headers(options.max_body_bytes + options.max_body_bytes / 2 + 64 * 1024);
  }
  auto reject = [&](int status, Error error) {
    refuse(req, res, status, error);
    close_after(res);  // any body is left unread
    return httplib::Server::HandlerResponse::Handled;
  };
  if (req.target.size() > options.max_request_target_bytes) {
    return reject(414, Error(FaultCode::kLimitExceeded, "request target too long"));
  }
  if (req.headers.size() > options.max_header_count) {
    return reject(431, Error(FaultCode::kLimitExceeded, "too many header fields",
                             "limit " + std::to_string(options.max_header_count)));
  }
  std::size_t header_bytes = 0;
  for (const auto& [name, value] : req.headers) {
    header_bytes += name.size() + value.size();
  }
  if (header_bytes > options.max_header_bytes) {
    return reject(431, Error(FaultCode::kLimitExceeded, "header fields too large",
                             "limit " + std::to_string(options.max_header_bytes) + " bytes"));
  }
  if (auto it = req.headers.find("Content-Length"); it != req.headers.end()) {
    std::uint64_t length = 0;
    auto [end, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), length);
    if (ec != std::errc() || end != it->second.data() + it->second.size()) {
      return reject(400, Error(FaultCode::kBadRequest, "bad Content-Length", it->second));
    }
    if (length > options.max_body_bytes) {
      return reject(413, Error(FaultCode::kLimitExceeded, "request body too large",
                               "limit " + std::to_string(options.max_body_bytes) + " bytes"));
    }
  }
  // httplib would inflate compressed bodies without a bound on the inflated size.
  if (auto it = req.headers.find("Content-Encoding");
      it != req.headers.end() && !iequals(it->second, "identity")) {
    return reject(415, Error(FaultCode::kInvalidContentType, "content encodings are not accepted",
                             it->second));
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

void Server::Impl::dispatch(const httplib::Request& req, httplib::Response& res) const {
  const Route* match = nullptr;
  bool path_known = false;
  for (const auto& route : routes) {
    bool path_ok = route.prefix ? req.path.compare(0, route.path.size(), route.path) == 0
                                : req.path == route.path;
    if (!path_ok) {
      continue;
    }
    path_known = true;
    if (route.method == req.method || (req.method == "HEAD" && route.method == "GET")) {
      match = &route;
      break;
    }
  }
  if (match == nullptr) {
    if (path_known) {
      refuse(req, res, 405, Error(FaultCode::kBadRequest, "method not allowed", req.method));
    } else {
      refuse(req, res, 404, Error(FaultCode::kNotFound, "no such resource"));
    }
    return;
  }
  if (req.body.size() > options.max_body_bytes) {  // a chunked body: no Content-Length to check
    refuse(req, res, 413, Error(FaultCode::kLimitExceeded, "request body too large"));
    close_after(res);
    return;
  }
  Request view(&req, tl_connection != nullptr ? tl_connection->peer_chain() : CertChain{});
  Response out;
  try {
    match->handler(view, out);
  } catch (const std::exception& e) {
    out = Response{};
    out.set_error(Error(FaultCode::kInternalError, "request handler failed", e.what()));
  } catch (...) {
    out = Response{};
    out.set_error(Error(FaultCode::kInternalError, "request handler failed"));
  }
  if (tl_connection != nullptr) {
    tl_connection->mark_answered();
  }
  fill(res, std::move(out));
}

void Server::Impl::configure() {
  const ServerOptions& o = options;
  svr->new_task_queue = [threads = o.worker_threads, queued = o.max_queued_connections] {
    return new BoundedPool(threads, queued);
  };
  auto seconds_and_micros = [](std::chrono::milliseconds ms) {
    return std::pair<time_t, time_t>(ms.count() / 1000, (ms.count() % 1000) * 1000);
  };
  auto [rs, ru] = seconds_and_micros(o.read_timeout);
  auto [ws, wu] = seconds_and_micros(o.write_timeout);
  svr->set_read_timeout(rs, ru);
  svr->set_write_timeout(ws, wu);
  svr->set_keep_alive_timeout(static_cast<time_t>(o.keep_alive_timeout.count()));
  svr->set_keep_alive_max_count(o.keep_alive_max_requests);
  // Workers waiting on idle connections look up this often, so stop() is prompt.
  svr->set_idle_interval(0, 100'000);
  svr->set_payload_max_length(o.max_body_bytes);
  svr->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return check_limits(req, res);
  });
  svr->set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (tl_connection != nullptr && tl_connection->body_exceeded()) {
          res.status = 413;
          res.body.clear();
        } else if (tl_connection != nullptr && tl_connection->body_timed_out()) {
          res.status = 408;
          res.body.clear();
        }
        if (tl_connection == nullptr || tl_connection->answered()) {
          // A handler's own answer (an error it rendered, or an empty one it passes on: a REST
          // provider's 404 without a body), or a refusal already rendered.
          return httplib::Server::HandlerResponse::Unhandled;
        }
        // Errors that leave the stream in an unknown state end the connection.
        if (res.status == 400 || res.status == 408 || res.status == 413 || res.status == 414 ||
            res.status == 431) {
          close_after(res);
        }
        std::string message = res.status == 413   ? "request body too large"
                              : res.status == 408 ? "request body arrived too slowly"
                              : res.status == 414 ? "request target too long"
                              : res.status == 404 ? "no such resource"
                                                  : "request rejected";
        const int status = res.status;
        refuse(req, res, status,
               Error(fault_for_status(status), message, "HTTP " + std::to_string(status)));
        return httplib::Server::HandlerResponse::Handled;
      }));
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // process bind the same port.
  svr->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // httplib writes a response's head and body with separate send() calls; with Nagle's algorithm
  // the body waits for the peer's delayed ACK of the head (40 ms on Linux) on kept-alive
  // connections. Accepted sockets inherit TCP_NODELAY from the listening socket.
  svr->set_tcp_nodelay(true);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    dispatch(req, res);
  };
  const std::string any = ".*";
  svr->Get(any, handler);
  svr->Post(any, handler);
  svr->Put(any, handler);
  svr->Patch(any, handler);
  svr->Delete(any, handler);
  svr->Options(any, handler);
}

Result<std::unique_ptr<Server>> Server::create(ServerOptions options) {
  if (options.worker_threads == 0 || options.max_queued_connections == 0 ||
      options.max_body_bytes == 0 || options.read_timeout.count() <= 0 ||
      options.write_timeout.count() <= 0 || options.header_timeout.count() <= 0 ||
      options.body_timeout.count() <= 0 || options.tls_handshake_timeout.count() <= 0 ||
      options.keep_alive_max_requests == 0) {
    return Error(FaultCode::kInvalidConfiguration, "server limits must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.tls) {
    const ServerTlsConfig& tls = *impl->options.tls;
    if (tls.require_client_cert) {
      if (tls.client_ca_pem.empty() && !tls.verify_peer) {
        return Error(FaultCode::kInvalidConfiguration,
                     "client certificates required but neither client_ca_pem nor verify_peer set");
      }
      impl->policy.server_side = true;
    }
    bool ask_client = tls.require_client_cert || tls.request_client_cert;
    if (ask_client) {
      impl->policy.hook = tls.verify_peer;
      if (!tls.client_ca_pem.empty()) {
        HANSA_ASSIGN_OR_RETURN(impl->policy.store, internal::make_store(tls.client_ca_pem));
      }
    }
    impl->ctx.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = impl->ctx.get();
    HANSA_CHECK(ctx != nullptr);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!tls.cert_chain_pem.empty() || !tls.key_pem.empty() || !tls.configure_context) {
      HANSA_RETURN_IF_ERROR(internal::use_cert_chain_and_key(ctx, tls.cert_chain_pem, tls.key_pem));
    }
    if (ask_client) {
      internal::install_verify_policy(ctx, &impl->policy);
    }
    // Sessions are resumable only within this context (OpenSSL refuses resumption on a server
    // that verifies peers without a session id context).
    static constexpr unsigned char kSessionContext[] = "hansa-http";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    if (tls.session_lifetime.count() > 0) {
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
      SSL_CTX_set_timeout(ctx, static_cast<long>(tls.session_lifetime.count()));
    } else {
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (tls.configure_context) {
      HANSA_RETURN_IF_ERROR(tls.configure_context(ctx));
      if (SSL_CTX_check_private_key(ctx) != 1) {
        return crypto::openssl_error(FaultCode::kInvalidKey,
                                     "TLS context has no certificate with a matching key");
      }
    }
  }
  impl->svr = std::make_unique<LibServer>(impl->options, impl->ctx.get());
  impl->configure();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

void Server::route(std::string_view method, std::string_view path, Handler handler) {
  {
    std::lock_guard lock(impl_->mu);
    HANSA_CHECK(!impl_->running);  // routes are read without locks while serving
  }
  Route route;
  route.method = std::string(method);
  route.prefix = !path.empty() && path.back() == '*';
  route.path = std::string(route.prefix ? path.substr(0, path.size() - 1) : path);
  route.handler = std::move(handler);
  impl_->routes.push_back(std::move(route));
}

Status Server::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->running) {
    return Error(FaultCode::kInternalError, "server already started");
  }
  const std::string& host = impl_->options.host;
  int port = impl_->options.port;
  if (port == 0) {
    port = impl_->svr->bind_to_any_port(host);
    if (port <= 0) {
      return Error(FaultCode::kNetworkError, "cannot bind", host + ":0");
    }
  } else if (!impl_->svr->bind_to_port(host, port)) {
    return Error(FaultCode::kNetworkError, "cannot bind", host + ":" + std::to_string(port));
  }
  if (!impl_->svr->widen_backlog(kListenBacklog)) {
    return Error(FaultCode::kNetworkError, "cannot listen", host + ":" + std::to_string(port));
  }
  impl_->port = static_cast<std::uint16_t>(port);
  // The socket listens already: connections wait in the backlog until the loop accepts them.
  impl_->loop_done = false;
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->svr->listen_after_bind();
    impl->loop_done = true;
  });
  // httplib's stop() only acts once the accept loop runs: wait for it.
  while (!impl_->svr->is_running() && !impl_->loop_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->running = true;
  return ok_status();
}

std::uint16_t Server::port() const noexcept { return impl_->port; }

std::vector<RefusalCount> Server::refusals() const {
  std::lock_guard lock(impl_->refusal_mu);
  std::vector<RefusalCount> out;
  out.reserve(impl_->refusal_counts.size());
  for (const auto& [status, count] : impl_->refusal_counts) {
    out.push_back({status, count});
  }
  return out;
}

void Server::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->running) {
    return;
  }
  impl_->svr->stop();
  impl_->thread.join();
  impl_->running = false;
}

}  // namespace hansa::http
