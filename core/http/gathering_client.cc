#include "core/http/gathering_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
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

void GatheringStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  internal::socket_address(fd_, false, ip, port);
}

void GatheringStream::get_local_ip_and_port(std::string& ip, int& port) const {
  internal::socket_address(fd_, true, ip, port);
}

}  // namespace hansa::http
