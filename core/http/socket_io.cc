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

bool WriteGatherer::send(const char* data, std::size_t size) {
  if (!failed_ && !send_all(fd_, ssl_, data, size, stall_timeout_, deadline_)) {
    failed_ = true;
  }
  return !failed_;
}

}  // namespace hansa::http::internal
