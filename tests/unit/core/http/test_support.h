#pragma once

// Test helpers shared by the core/http and certs tests: a throw-away PKI made by
// make_test_certs.sh, file reading and a raw TCP socket for hostile clients.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace hansa::testing {

// A fresh temporary directory, removed on destruction.
class TempDir final {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "hansa-test-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Generates the test PKI into `dir`; returns false on failure.
inline bool make_test_pki(const std::filesystem::path& dir) {
  std::string cmd = std::string(HANSA_SOURCE_DIR) + "/tests/unit/core/http/make_test_certs.sh '" +
                    dir.string() + "'";
  return std::system(cmd.c_str()) == 0;
}

// A blocking TCP client socket to 127.0.0.1:port with a receive timeout.
class RawSocket final {
 public:
  explicit RawSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] int fd() const { return fd_; }
  bool send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until the peer closes or `timeout` passes; returns what arrived.
  std::string read_all(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        break;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        break;
      }
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed != nullptr) {
          *closed = true;
        }
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// A listening socket on 127.0.0.1 that accepts nothing and answers nothing.
class SilentListener final {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A server on 127.0.0.1 that accepts one connection and then sends a response one byte every
// `interval`, forever (until destroyed): each read succeeds well within any read timeout.
class TricklingServer final {
 public:
  explicit TricklingServer(std::chrono::milliseconds interval) {
    thread_ = std::thread([this, interval] {
      int conn = ::accept(listener_.fd(), nullptr, nullptr);
      if (conn < 0) {
        return;
      }
      const std::string head = "HTTP/1.1 200 OK\r\nX-Slow: ";
      std::size_t i = 0;
      while (!stop_) {
        char c = i < head.size() ? head[i] : 'a';
        ++i;
        if (::send(conn, &c, 1, MSG_NOSIGNAL) != 1) {
          break;
        }
        std::this_thread::sleep_for(interval);
      }
      ::close(conn);
    });
  }
  ~TricklingServer() {
    stop_ = true;
    ::shutdown(listener_.fd(), SHUT_RDWR);
    thread_.join();
  }
  TricklingServer(const TricklingServer&) = delete;
  TricklingServer& operator=(const TricklingServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return listener_.port(); }

 private:
  SilentListener listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hansa::testing
