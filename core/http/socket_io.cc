#include "core/http/socket_io.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace hansa::http::internal {

bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    // Rounded up: a wait never ends before the deadline (a caller may take "the deadline
    // passed" from how long the wait took).
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30)));
    if (r > 0) {
      return true;
    }
    if (r < 0 && errno != EINTR) {
      return false;
    }
    if (r == 0 && Clock::now() >= deadline) {
      return false;
    }
  }
}

Clock::time_point wait_end(std::chrono::milliseconds timeout, Clock::time_point deadline) {
  const auto now = Clock::now();
  // Compared as what is left, so that a far deadline (time_point::max()) cannot overflow.
  return deadline - now < timeout ? deadline : now + timeout;
}

std::chrono::milliseconds earned_time(std::size_t bytes, std::size_t min_rate) {
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(bytes / min_rate * 1000 + bytes % min_rate * 1000 / min_rate));
}

bool send_all(int fd, SSL* ssl, const char* data, std::size_t size,
              std::chrono::milliseconds stall_timeout, Clock::time_point deadline) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n;
    if (ssl != nullptr) {
      n = SSL_write(ssl, data + done,
                    static_cast<int>(std::min<std::size_t>(size - done, 1 << 20)));
      if (n <= 0) {
        int err = SSL_get_error(ssl, static_cast<int>(n));
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
            wait_for(fd, ev, wait_end(stall_timeout, deadline))) {
          continue;
        }
        return false;
      }
    } else {
      n = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
      if (n < 0) {
        if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
            wait_for(fd, POLLOUT, wait_end(stall_timeout, deadline))) {
          continue;
        }
        return false;
      }
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void socket_address(int fd, bool local, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int r = local ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) {
    return;
  }
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

ssize_t WriteGatherer::write(const char* data, std::size_t size) {
  if (pending_.size() + size <= kMaxBytes) {
    pending_.append(data, size);
    return static_cast<ssize_t>(size);
  }
  if (!flush() || !send(data, size)) {
    return -1;
  }
  return static_cast<ssize_t>(size);
}

bool WriteGatherer::flush() {
  if (!pending_.empty()) {
    send(pending_.data(), pending_.size());
    pending_.clear();
  }
  return !failed_;
}

bool WriteGatherer::wait_writable() {
  const auto started = Clock::now();
  const bool ready =
      wait_for(fd_, POLLOUT, std::min(wait_end(stall_timeout_, deadline_), paced_end()));
  message_blocked_ += Clock::now() - started;
  return ready;
}

Clock::time_point WriteGatherer::paced_end() const {
  if (pace_rate_ == 0) {
    return Clock::time_point::max();
  }
  return Clock::now() + (pace_grace_ + earned_time(message_sent_, pace_rate_) - message_blocked_);
}

bool WriteGatherer::send(const char* data, std::size_t size) {
  // Sent in pieces under a pace, so that the bytes each piece earns extend the next one's time.
  const std::size_t piece = pace_rate_ == 0 ? size : kMaxBytes;
  for (std::size_t done = 0; done < size && !failed_;) {
    const std::size_t n = std::min(piece, size - done);
    const auto started = Clock::now();
    if (!send_all(fd_, ssl_, data + done, n, stall_timeout_, std::min(deadline_, paced_end()))) {
      failed_ = true;
    }
    message_blocked_ += Clock::now() - started;
    message_sent_ += n;
    done += n;
  }
  return !failed_;
}

}  // namespace hansa::http::internal
