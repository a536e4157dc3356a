#pragma once

// httplib's client with a byte stream of Hansa's own, for the code that drives httplib clients
// directly (core/http's Client, node/proxy's provider client). Includes <httplib.h>: keep it out
// of headers.
//
// httplib writes a request's header block and body as two writes; with TCP_NODELAY each leaves as
// its own TCP segment, and over TLS as its own record. GatheringStream gathers writes
// (internal::WriteGatherer) and sends them when the stream first reads: the request is complete.
// Reads are buffered, as in httplib's own stream.

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/http/socket_io.h"

namespace hansa::http {

// One client connection, plain (`ssl` null) or TLS, as the stream httplib reads and writes. Each
// wait for the socket is bounded by the read or write timeout, and every wait by `deadline` (the
// whole call's, however the server paces its bytes). Threading: one owner (the thread making the
// call).
class GatheringStream final : public httplib::Stream {
 public:
  // Bytes taken from the socket per read: httplib reads a response's head a byte at a time.
  static constexpr std::size_t kReadBuffer = 16 * 1024;

  GatheringStream(int fd, SSL* ssl, std::chrono::milliseconds read_timeout,
                  std::chrono::milliseconds write_timeout,
                  internal::Clock::time_point deadline = internal::Clock::time_point::max())
      : fd_(fd),
        ssl_(ssl),
        read_timeout_(read_timeout),
        deadline_(deadline),
        out_(fd, ssl, write_timeout) {
    out_.set_deadline(deadline);
    if (ssl_ != nullptr) {
      // SSL_read returns after a record without application data (a session ticket) instead of
      // blocking on the socket for the next one, so each wait stays bounded by read_timeout.
      SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
    }
  }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override { return out_.write(ptr, size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // Sends what write() gathered; false when the connection failed.
  bool flush() const { return out_.flush(); }

 private:
  // Refills in_ from the socket: bytes read, 0 at the peer's orderly close, -1 on error or
  // timeout.
  ssize_t fill();
  // Waits for input up to the read timeout, never past deadline_.
  bool wait_readable() const;

  int fd_;
  SSL* ssl_;
  std::chrono::milliseconds read_timeout_;
  internal::Clock::time_point deadline_;
  // Sent by the const paths that must send gathered output before waiting for input.
  mutable internal::WriteGatherer out_;
  std::string in_;  // read from the socket, not yet handed to httplib from pos_
  std::size_t pos_ = 0;
};

// Makes `req` collect the response body into `body`, at most `max` bytes: a larger Content-Length
// is refused before any of the body is read (and reserved once otherwise), a longer body as soon
// as it passes `max`; either sets `too_big` and fails the call. `body` and `too_big` must outlive
// the call.
void collect_body(httplib::Request& req, std::string& body, std::size_t max, bool& too_big);

// A deadline for the whole of a client's next calls: none of their reads or writes waits past it.
// Threading: set by the thread that then makes the calls.
class CallDeadline {
 public:
  void set_call_deadline(internal::Clock::time_point deadline) { call_deadline_ = deadline; }

 protected:
  internal::Clock::time_point call_deadline_ = internal::Clock::time_point::max();
};

// httplib::ClientImpl or httplib::SSLClient serving each request through a GatheringStream, with
// the client's read and write timeouts and its CallDeadline. httplib calls process_socket once per
// request on the connection it keeps.
template <class Base>
class GatheringClient final : public Base, public CallDeadline {
 public:
  using Base::Base;

 private:
  bool process_socket(const httplib::ClientImpl::Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override {
    GatheringStream stream(
        socket.sock, socket.ssl, to_ms(this->read_timeout_sec_, this->read_timeout_usec_),
        to_ms(this->write_timeout_sec_, this->write_timeout_usec_), call_deadline_);
    bool ok = callback(stream);
    return stream.flush() && ok;
  }

  static std::chrono::milliseconds to_ms(time_t sec, time_t usec) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(sec) * 1000 + usec / 1000);
  }
};

}  // namespace hansa::http
