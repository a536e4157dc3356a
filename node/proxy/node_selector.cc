#include "node/proxy/node_selector.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cerrno>

namespace hansa::proxy {
namespace {

// Splits "host", "host:port", "[v6]:port" or a bare IPv6 literal.
std::pair<std::string, std::string> split_address(const std::string& address,
                                                  std::uint16_t default_port) {
  std::string port = std::to_string(default_port);
  if (address.starts_with("[")) {
    auto close = address.find(']');
    std::string host =
        address.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < address.size() && address[close + 1] == ':') {
      port = address.substr(close + 2);
    }
    return {host, port};
  }
  auto colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) == std::string::npos) {
    return {address.substr(0, colon), address.substr(colon + 1)};
  }
  return {address, port};
}

// A non-blocking connect in progress; -1 when it could not even start.
int start_connect(const std::string& address, std::uint16_t default_port) {
  auto [host, port] = split_address(address, default_port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return -1;
  }
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    found->ai_protocol);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

}  // namespace

NodeSelector::NodeSelector(NodeSelectorOptions options, std::function<Clock::time_point()> clock)
    : options_(options), clock_(std::move(clock)) {}

Result<std::vector<NodeCandidate>> NodeSelector::resolve(
    const globalconf::GlobalConfSnapshot& conf, const ids::ServiceId& service,
    const std::optional<ids::SecurityServerId>& requested) {
  std::vector<NodeCandidate> out;
  auto hosting = conf.servers_hosting(service.provider());
  if (requested) {
    // PR-MESS 2.2 securityServer: the call goes to that node only; it must serve the provider.
    auto address = conf.server_address(*requested);
    if (!address || address->empty()) {
      return Error(FaultCode::kInvalidSecurityServer,
                   "security server not found in global configuration", requested->to_string());
    }
    if (std::find(hosting.begin(), hosting.end(), *requested) == hosting.end()) {
      return Error(FaultCode::kInvalidSecurityServer,
                   "security server does not serve the service provider",
                   requested->to_string() + " / " + service.provider().to_string());
    }
    out.push_back({*requested, *address});
    return out;
  }
  for (const auto& server : hosting) {
    auto address = conf.server_address(server);
    if (address && !address->empty()) {
      out.push_back({server, *address});
    }
  }
  if (out.empty()) {
    return Error(FaultCode::kUnknownMember, "could not find addresses for the service provider",
                 service.provider().to_string());
  }
  return out;
}

std::string NodeSelector::key_of(const ids::ServiceId& service) {
  return service.without_version().to_string();
}

std::vector<NodeCandidate> NodeSelector::order(const ids::ServiceId& service,
                                               std::vector<NodeCandidate> candidates) {
  if (candidates.size() > options_.max_candidates) {
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(options_.max_candidates),
                     candidates.end());
  }
  if (candidates.size() <= 1) {
    return candidates;
  }
  std::string key = key_of(service);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      auto pos = std::find(candidates.begin(), candidates.end(), it->second.node);
      if (it->second.expires > clock_() && pos != candidates.end()) {
        std::rotate(candidates.begin(), pos, pos + 1);
        return candidates;
      }
      cache_.erase(it);
    }
  }
  auto winner = race(candidates);
  if (!winner) {
    return candidates;  // nobody answered in time: try them in order, the connects will tell
  }
  std::rotate(candidates.begin(), candidates.begin() + *winner, candidates.begin() + *winner + 1);
  report_success(service, candidates.front());
  return candidates;
}

void NodeSelector::report_failure(const ids::ServiceId& service, const NodeCandidate& node) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key_of(service));
  if (it != cache_.end() && it->second.node == node) {
    cache_.erase(it);
  }
}

void NodeSelector::report_success(const ids::ServiceId& service, const NodeCandidate& node) {
  std::lock_guard lock(mu_);
  if (cache_.size() >= options_.max_cached_services) {
    cache_.clear();
  }
  cache_.insert_or_assign(key_of(service), Choice{node, clock_() + options_.cache_ttl});
}

std::optional<std::size_t> NodeSelector::race(const std::vector<NodeCandidate>& candidates) const {
  std::vector<pollfd> fds;
  std::vector<std::size_t> index;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    int fd = start_connect(candidates[i].address, options_.default_port);
    if (fd >= 0) {
      fds.push_back({fd, POLLOUT, 0});
      index.push_back(i);
    }
  }
  std::optional<std::size_t> winner;
  auto deadline = std::chrono::steady_clock::now() + options_.connect_deadline;
  std::size_t pending = fds.size();
  while (!winner && pending > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    int r = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      break;
    }
    for (std::size_t k = 0; k < fds.size() && !winner; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) {
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fds[k].fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0 && (fds[k].revents & (POLLERR | POLLHUP)) == 0) {
        winner = index[k];
      } else {
        ::close(fds[k].fd);
        fds[k].fd = -1;  // poll ignores negative descriptors
        --pending;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) {
      ::close(p.fd);
    }
  }
  return winner;
}

}  // namespace hansa::proxy
