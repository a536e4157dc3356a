#include "node/proxy/peer_pool.h"

#include <algorithm>

namespace hansa::proxy {

// One peer (target server at one address): its idle connections and TLS session cache.
struct PeerPool::Peer {
  ids::SecurityServerId target;
  std::string url;
  std::shared_ptr<http::TlsSessionCache> sessions = std::make_shared<http::TlsSessionCache>();
  std::mutex mu;
  std::condition_variable free_cv;
  std::vector<std::unique_ptr<http::Client>> idle;  // guarded by mu
  std::size_t open = 0;                             // busy + idle, guarded by mu
  std::uint64_t last_use = 0;                       // guarded by PeerPool::mu_
  std::uint64_t created = 0;                        // guarded by mu
  std::uint64_t calls = 0;                          // guarded by mu
  // Counters of connections already closed.
  std::uint64_t closed_handshakes = 0;  // guarded by mu
  std::uint64_t closed_resumed = 0;     // guarded by mu

  explicit Peer(ids::SecurityServerId t) : target(std::move(t)) {}

  void retire(std::unique_ptr<http::Client> client) {
    http::ClientStats s = client->stats();
    closed_handshakes += s.tls_handshakes;
    closed_resumed += s.tls_resumed;
  }
};

Result<std::unique_ptr<PeerPool>> PeerPool::create(PeerPoolOptions options, ServerCertCheck check) {
  if (options.max_connections_per_peer == 0 || options.max_peers == 0 ||
      options.connect_timeout.count() <= 0 || options.read_timeout.count() <= 0 ||
      options.write_timeout.count() <= 0 || options.max_response_bytes == 0) {
    return Error(FaultCode::kInvalidConfiguration, "peer pool limits must be positive");
  }
  if (!options.insecure_plain_http && !check) {
    return Error(FaultCode::kInvalidConfiguration, "peer pool needs a server certificate check");
  }
  return std::unique_ptr<PeerPool>(new PeerPool(std::move(options), std::move(check)));
}

PeerPool::PeerPool(PeerPoolOptions options, ServerCertCheck check)
    : options_(std::move(options)), check_(std::move(check)) {}

PeerPool::~PeerPool() = default;

std::string PeerPool::base_url(std::string_view address) const {
  std::string scheme = options_.insecure_plain_http ? "http://" : "https://";
  bool has_port = false;
  if (address.starts_with("[")) {
    has_port = address.find("]:") != std::string_view::npos;
  } else {
    auto colon = address.find(':');
    has_port = colon != std::string_view::npos && address.find(':', colon + 1) == address.npos;
    if (colon != std::string_view::npos && !has_port) {  // a bare IPv6 literal
      return scheme + "[" + std::string(address) + "]:" + std::to_string(options_.default_port);
    }
  }
  if (has_port) {
    return scheme + std::string(address);
  }
  return scheme + std::string(address) + ":" + std::to_string(options_.default_port);
}

std::shared_ptr<PeerPool::Peer> PeerPool::peer_for(const ids::SecurityServerId& target,
                                                   std::string_view address) {
  std::string key = target.to_string() + "|" + std::string(address);
  std::lock_guard lock(mu_);
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    if (peers_.size() >= options_.max_peers) {
      auto oldest = std::min_element(
          peers_.begin(), peers_.end(),
          [](const auto& a, const auto& b) { return a.second->last_use < b.second->last_use; });
      {
        std::lock_guard peer_lock(oldest->second->mu);
        retired_.connections_created += oldest->second->created;
        retired_.calls += oldest->second->calls;
        for (auto& client : oldest->second->idle) {
          oldest->second->retire(std::move(client));
        }
        oldest->second->idle.clear();
        retired_.tls_handshakes += oldest->second->closed_handshakes;
        retired_.tls_resumed += oldest->second->closed_resumed;
        oldest->second->closed_handshakes = oldest->second->closed_resumed = 0;
        oldest->second->created = oldest->second->calls = 0;
      }
      peers_.erase(oldest);  // borrowed connections die with their callers' references
    }
    auto peer = std::make_shared<Peer>(target);
    peer->url = base_url(address);
    it = peers_.emplace(std::move(key), std::move(peer)).first;
  }
  it->second->last_use = ++use_counter_;
  return it->second;
}

Result<http::ClientResponse> PeerPool::post(const ids::SecurityServerId& target,
                                            std::string_view address, std::string_view path,
                                            std::string_view body, std::string_view content_type,
                                            const http::Headers& headers) {
  std::shared_ptr<Peer> peer = peer_for(target, address);
  std::unique_ptr<http::Client> client;
  {
    std::unique_lock lock(peer->mu);
    bool got = peer->free_cv.wait_for(lock, options_.connect_timeout, [&] {
      return !peer->idle.empty() || peer->open < options_.max_connections_per_peer;
    });
    if (!got) {
      return Error(
          FaultCode::kLimitExceeded, "all connections to the peer node are busy",
          peer->url + " (limit " + std::to_string(options_.max_connections_per_peer) + ")");
    }
    if (!peer->idle.empty()) {
      client = std::move(peer->idle.back());
      peer->idle.pop_back();
    } else {
      ++peer->open;  // reserved; created below without holding the lock
    }
    ++peer->calls;
  }
  // A pooled connection the peer closed while it was idle is replaced by core/http's client
  // before the request goes out (http::idle_connection_usable).
  if (!client) {
    HANSA_ASSIGN_OR_RETURN(client, connect(*peer));
  }
  auto response = client->post(path, body, content_type, headers);
  std::lock_guard lock(peer->mu);
  if (response.ok()) {
    peer->idle.push_back(std::move(client));
  } else {
    // The connection's state is unknown: close it (the next call makes a fresh one, resuming
    // the TLS session).
    peer->retire(std::move(client));
    --peer->open;
  }
  peer->free_cv.notify_one();
  return response;
}

Result<std::unique_ptr<http::Client>> PeerPool::connect(Peer& peer) const {
  http::ClientOptions co;
  co.connect_timeout = options_.connect_timeout;
  co.read_timeout = options_.read_timeout;
  co.write_timeout = options_.write_timeout;
  co.total_timeout = options_.total_timeout;
  co.max_response_body_bytes = options_.max_response_bytes;
  co.keep_alive = true;
  if (!options_.insecure_plain_http) {
    co.tls = options_.tls;
    co.tls.ca_pem.clear();
    co.tls.pinned_cert_pem.clear();
    co.tls.verify_hostname = false;
    co.tls.session_cache = peer.sessions;
    co.tls.verify_server = [check = check_, target = peer.target](const http::CertChain& chain) {
      return check(chain, target);
    };
  }
  auto client = http::Client::create(peer.url, std::move(co));
  std::lock_guard lock(peer.mu);
  if (!client.ok()) {
    --peer.open;  // the caller's slot
    peer.free_cv.notify_one();
    return client.error();
  }
  ++peer.created;
  return client;
}

PeerPoolStats PeerPool::stats() const {
  std::lock_guard lock(mu_);
  PeerPoolStats out = retired_;
  for (const auto& [key, peer] : peers_) {
    std::lock_guard peer_lock(peer->mu);
    out.connections_created += peer->created;
    out.calls += peer->calls;
    out.tls_handshakes += peer->closed_handshakes;
    out.tls_resumed += peer->closed_resumed;
    for (const auto& client : peer->idle) {
      auto s = client->stats();
      out.tls_handshakes += s.tls_handshakes;
      out.tls_resumed += s.tls_resumed;
    }
  }
  return out;
}

}  // namespace hansa::proxy
