#include "core/http/gathering_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace hansa::http {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or `timeout` passes.
bool wait_ready(int fd, short events, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30)));
    if (r > 0) {
      return true;
    }
    if (r == 0 || errno != EINTR) {
      return false;
    }
  }
}

void address_of(int fd, bool local, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int r = local ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ip.clear();
  port = 0;
  if (r != 0) {
    return;
  }
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  ip = host;
}

}  // namespace

bool GatheringStream::is_readable() const {
  if (pos_ < in_.size()) {
    return true;
  }
  if (!flush()) {
    return false;
  }
  return (ssl_ != nullptr && SSL_pending(ssl_) > 0) || wait_ready(fd_, POLLIN, read_timeout_);
}

bool GatheringStream::is_writable() const { return wait_ready(fd_, POLLOUT, write_timeout_); }

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
      if (SSL_pending(ssl_) == 0 && !wait_ready(fd_, POLLIN, read_timeout_)) {
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
    while (wait_ready(fd_, POLLIN, read_timeout_)) {
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

ssize_t GatheringStream::write(const char* ptr, size_t size) {
  if (out_.size() + size <= kMaxGathered) {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  if (!flush() || !send_all(ptr, size)) {
    return -1;
  }
  return static_cast<ssize_t>(size);
}

bool GatheringStream::flush() const {
  if (out_.empty()) {
    return !failed_;
  }
  bool sent = send_all(out_.data(), out_.size());
  out_.clear();
  return sent;
}

void GatheringStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  address_of(fd_, false, ip, port);
}

void GatheringStream::get_local_ip_and_port(std::string& ip, int& port) const {
  address_of(fd_, true, ip, port);
}

bool GatheringStream::send_all(const char* ptr, size_t size) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n;
    if (ssl_ != nullptr) {
      n = SSL_write(ssl_, ptr + done, static_cast<int>(std::min<size_t>(size - done, 1 << 20)));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, static_cast<int>(n));
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
            wait_ready(fd_, ev, write_timeout_)) {
          continue;
        }
        failed_ = true;
        return false;
      }
    } else {
      n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
      if (n < 0) {
        if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
            wait_ready(fd_, POLLOUT, write_timeout_)) {
          continue;
        }
        failed_ = true;
        return false;
      }
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace hansa::http
