#pragma once

// Test-only network helpers: free loopback ports, a child process with a bounded lifetime, a
// server that accepts and never answers, and a server that sends one canned HTTP answer.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/core/ocsp/openssl_pki.h"

extern char** environ;

namespace hansa::ocsp::testing {

// A listening loopback socket on an ephemeral port; closed by the destructor.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port that was free a moment ago (bind port 0, read it, close).
inline int free_port() {
  Listener l;
  return l.port();
}

// True once `file` contains `text` (polls up to `wait`). Used to wait for a child server to
// report that it listens: probing its port would consume one of its single-threaded accepts.
inline bool wait_for_text(const std::string& file, const std::string& text,
                          std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_file(file).find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A child process started with posix_spawnp; killed (SIGKILL) and reaped by the destructor.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& dir) {
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawn_file_actions_addopen(&actions, 1, (dir + "/child.log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  [[nodiscard]] bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Answers each connection, after reading the request head and its Content-Length body, with
// what `handler` returns for the body (a complete HTTP response), until destroyed. An empty
// answer means: stay silent and hold the connection open.
class CannedServer {
 public:
  using Handler = std::function<std::string(const std::string& body)>;
  explicit CannedServer(std::string answer)
      : CannedServer(Handler([answer](const std::string&) { return answer; })) {}
  explicit CannedServer(Handler handler) : handler_(std::move(handler)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    thread_.join();
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;
  [[nodiscard]] std::string url() const { return listener_.url(); }
  [[nodiscard]] std::string last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int fd = ::accept(listener_.fd(), nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      std::string request;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (!stop_ && (need == std::string::npos || request.size() < need)) {
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 20) <= 0) {
          continue;
        }
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        request.append(buf, static_cast<std::size_t>(n));
        std::size_t head_end = request.find("\r\n\r\n");
        if (need == std::string::npos && head_end != std::string::npos) {
          std::size_t body = 0;
          std::size_t cl = request.find("Content-Length: ");
          if (cl != std::string::npos && cl < head_end) {
            body = std::stoul(request.substr(cl + 16));
          }
          need = head_end + 4 + body;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_request_ = request;
      }
      std::size_t head_end = request.find("\r\n\r\n");
      std::string answer =
          handler_(head_end == std::string::npos ? std::string() : request.substr(head_end + 4));
      if (answer.empty()) {
        while (!stop_) {  // silent: hold the connection open until the test ends
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      } else {
        std::size_t off = 0;
        while (off < answer.size()) {
          ssize_t n = ::send(fd, answer.data() + off, answer.size() - off, MSG_NOSIGNAL);
          if (n <= 0) {
            break;
          }
          off += static_cast<std::size_t>(n);
        }
      }
      ::close(fd);
    }
  }

  Listener listener_;
  Handler handler_;
  mutable std::mutex mu_;
  std::string last_request_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// An HTTP/1.1 200 answer with `content_type` and `body`.
inline std::string http_answer(const std::string& content_type, const std::string& body,
                               int status = 200) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace hansa::ocsp::testing
