#pragma once

// The client proxy's transport to peer nodes (PR-MESSTRANSP 2.1, 3.2): pooled keep-alive mTLS
// connections to each peer node's server proxy, authenticated with this node's authentication
// certificate (the key may live on a token: ClientTlsConfig::configure_context), the peer's
// certificate checked for the target security server during the handshake, TLS sessions resumed
// across the connections of one peer. One core/http Client is one connection; a peer gets up to
// max_connections_per_peer of them, borrowed for one call at a time.
// Threading: thread-safe: guarded by mu_ (the pool map) and each peer's own mutex.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/http/client.h"
#include "core/http/http.h"
#include "core/ids/ids.h"

namespace hansa::proxy {

// Checks a peer's TLS chain (DER, leaf first) for `target` during the handshake: the auth
// certificate must be registered in global configuration for that security server (and chain to
// an approved CA). SslAuthenticationFailed otherwise.
using ServerCertCheck =
    std::function<Status(const http::CertChain& chain, const ids::SecurityServerId& target)>;

struct PeerPoolOptions {
  // Port of a peer's server proxy when its address (global configuration) names none.
  std::uint16_t default_port = 5500;
  // Connections kept per peer address (busy and idle together); a call waits for a free one up
  // to connect_timeout, then fails with LimitExceeded.
  std::size_t max_connections_per_peer = 64;
  // Peers (target server and address pairs) with pools; least recently used pools are dropped.
  std::size_t max_peers = 1'000;
  std::chrono::milliseconds connect_timeout{5'000};
  // Each read / write, and the whole call (the provider's time included).
  std::chrono::milliseconds read_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds total_timeout{120'000};
  // Largest response accepted from a peer.
  std::size_t max_response_bytes = 80 * 1024 * 1024;
  // This node's authentication certificate and key: PEM fields or configure_context (a token
  // key). ca_pem / pinned_cert_pem / verify_server are ignored: `check` decides.
  http::ClientTlsConfig tls;
  // Plain HTTP to peers instead of mTLS: tests only.
  bool insecure_plain_http = false;
};

// Connection counters, for tests and metrics. Threading: plain value.
struct PeerPoolStats {
  std::uint64_t connections_created = 0;
  std::uint64_t calls = 0;
  std::uint64_t tls_handshakes = 0;
  std::uint64_t tls_resumed = 0;
};

class PeerPool final {
 public:
  // `check` verifies peers (required unless insecure_plain_http). InvalidConfiguration.
  [[nodiscard]] static Result<std::unique_ptr<PeerPool>> create(PeerPoolOptions options,
                                                                ServerCertCheck check);
  ~PeerPool();
  PeerPool(const PeerPool&) = delete;
  PeerPool& operator=(const PeerPool&) = delete;

  // POSTs `body` to `target`'s server proxy at `address` ("host" or "host:port") over a pooled
  // connection (one the peer closed while idle is replaced first). Any HTTP status is a success.
  // Failures as core/http Client::post: Error::message http::kConnectFailedMessage (nothing was
  // sent) or SslAuthenticationFailed (handshake refused) mean another node may be tried;
  // Timeout, NetworkError, LimitExceeded otherwise.
  [[nodiscard]] Result<http::ClientResponse> post(const ids::SecurityServerId& target,
                                                  std::string_view address, std::string_view path,
                                                  std::string_view body,
                                                  std::string_view content_type,
                                                  const http::Headers& headers);

  // "https://host:port" for an address (default_port when it names none).
  [[nodiscard]] std::string base_url(std::string_view address) const;

  [[nodiscard]] PeerPoolStats stats() const;

 private:
  struct Peer;
  PeerPool(PeerPoolOptions options, ServerCertCheck check);
  std::shared_ptr<Peer> peer_for(const ids::SecurityServerId& target, std::string_view address);
  // A new connection to `peer` (counted in its `created`) in the slot the caller holds in
  // `open`; on failure the slot is given back.
  Result<std::unique_ptr<http::Client>> connect(Peer& peer) const;

  PeerPoolOptions options_;
  ServerCertCheck check_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Peer>> peers_;  // by "target|address"
  std::uint64_t use_counter_ = 0;
  PeerPoolStats retired_;  // counters of dropped pools and connections
};

}  // namespace hansa::proxy
