#include "core/http/gathering_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/http/socket_io.h"

namespace hansa::http {

bool GatheringStream::wait_readable() const {
  return internal::wait_for(fd_, POLLIN, internal::wait_end(read_timeout_, deadline_));
}

bool GatheringStream::is_readable() const {
  if (pos_ < in_.size()) {
    return true;
  }
  if (!flush()) {
    return false;
  }
  return (ssl_ != nullptr && SSL_pending(ssl_) > 0) || wait_readable();
}

bool GatheringStream::is_writable() const { return out_.wait_writable(); }

ssize_t GatheringStream::read(char* ptr, size_t size) {
  if (pos_ >= in_.size()) {
    ssize_t n = fill();
    if (n <= 0) {
      return n;
    }
  }
  const size_t n = std::min(size, in_.size() - pos_);
  std::memcpy(ptr, in_.data() + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t GatheringStream::fill() {
  if (!flush()) {
    return -1;
  }
  in_.resize(kReadBuffer);
  pos_ = 0;
  ssize_t got = -1;
  if (ssl_ != nullptr) {
    while (true) {
      if (SSL_pending(ssl_) == 0 && !wait_readable()) {
        break;
      }
      int n = SSL_read(ssl_, in_.data(), static_cast<int>(in_.size()));
      if (n > 0) {
        got = n;
        break;
      }
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN) {
        got = 0;
        break;
      }
      if (err != SSL_ERROR_WANT_READ) {
        break;
      }
      // A record that held no application data (a session ticket): wait for the next.
    }
  } else {
    while (wait_readable()) {
      ssize_t n = ::recv(fd_, in_.data(), in_.size(), 0);
      if (n >= 0 || (errno != EINTR && errno != EAGAIN)) {
        got = n;
        break;
      }
    }
  }
  in_.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return got;
}

void collect_body(httplib::Request& req, std::string& body, std::size_t max, bool& too_big) {
  req.response_handler = [&body, max, &too_big](const httplib::Response& res) {
    auto it = res.headers.find("Content-Length");
    if (it == res.headers.end()) {
      return true;
    }
    std::uint64_t length = 0;
    auto [end, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), length);
    if (ec != std::errc()) {
      return true;  // httplib itself rejects a malformed length
    }
    if (length > max) {
      too_big = true;
      return false;
    }
    // Received in blocks: without this, a large body is copied again each time it grows.
    // Untouched pages of the reservation cost no memory, and `length` is at most `max`.
    body.reserve(static_cast<std::size_t>(length));
    return true;
  };
  req.content_receiver = [&body, max, &too_big](const char* data, std::size_t len, std::uint64_t,
                                                std::uint64_t) {
    if (body.size() + len > max) {
      too_big = true;
      return false;
    }
    body.append(data, len);
    return true;
  };
}

void GatheringStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  internal::socket_address(fd_, false, ip, port);
}

void GatheringStream::get_local_ip_and_port(std::string& ip, int& port) const {
  internal::socket_address(fd_, true, ip, port);
}

}  // namespace hansa::http
