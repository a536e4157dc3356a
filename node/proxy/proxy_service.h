#pragma once

// The node's message exchange in one object (DESIGN.md "Data flow of one call"): the client proxy
// (IS side), the server proxy (peer side) and what they share: the batch signer, the peer
// verifier, the peer connection pool, node selection, the provider client and the metaservices.
// NodeServer (node/daemon) builds it from the node's components and starts and stops it.
// The node's authentication key is installed into every TLS context through node/signer's
// use_auth_key (it may live on a PKCS#11 token).
// Threading: start()/stop() from one owner thread; the proxies serve on their own threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/errors/errors.h"
#include "node/messagelog/record.h"
#include "node/opmonitor/call_record.h"
#include "node/proxy/client_proxy.h"
#include "node/proxy/metaservices.h"
#include "node/proxy/peer_verifier.h"

namespace hansa::signer {
class Signer;
}  // namespace hansa::signer

namespace hansa::proxy {

// The [proxy] settings of the node configuration.
struct ProxyServiceOptions {
  // Client proxy listeners for information systems (X-Road: 8080 and 8443); port 0 picks a free
  // port, an empty host disables the listener.
  std::string client_http_host = "127.0.0.1";
  std::uint16_t client_http_port = 8080;
  std::string client_https_host = "127.0.0.1";
  std::uint16_t client_https_port = 8443;
  // Server proxy listener for peer nodes (X-Road: 5500 on every interface).
  std::string server_host = "0.0.0.0";
  std::uint16_t server_port = 5500;
  // The port of peers' server proxies when their address in global configuration names none.
  std::uint16_t peer_port = 5500;
  // Worker threads: one per concurrently served connection (IS connections on the client side,
  // peer connections on the server side).
  std::size_t client_worker_threads = 256;
  std::size_t server_worker_threads = 256;
  // Accepted connections waiting for a worker.
  std::size_t max_queued_connections = 1024;
  // Largest IS request and transport message.
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  // IS and peer connections: per read / write, and the header deadline (slowloris).
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds header_timeout{20'000};
  // A request body, and an answer's blocked sends: body_timeout plus a second per min_body_rate
  // bytes received or sent (0: no rate; http::ServerOptions).
  std::chrono::milliseconds body_timeout{20'000};
  std::size_t min_body_rate = 4096;
  std::chrono::seconds keep_alive_timeout{60};
  // Calls to peer nodes: connect, whole call.
  std::chrono::milliseconds peer_connect_timeout{5'000};
  std::chrono::milliseconds peer_total_timeout{120'000};
  // Node selection: race deadline and how long a winner is kept (X-Road: 3600 s).
  std::chrono::milliseconds node_race_deadline{2'000};
  std::chrono::seconds node_cache_ttl{3'600};
  // Pooled connections per peer node.
  std::size_t peer_pool_size = 64;
  // Calls to provider information systems (server proxy): connect, and the whole call unless the
  // service's own timeout is longer (ProviderClientOptions::total_timeout).
  std::chrono::milliseconds provider_connect_timeout{5'000};
  std::chrono::milliseconds provider_timeout{120'000};
  // Batch signer limits.
  std::size_t max_signing_queue = 10'000;
  std::size_t max_batch = 1'000;
  // Under load, how long a signing turn waits for more messages (BatchSignerOptions::linger).
  std::chrono::milliseconds sign_batch_linger{2};
  // Server proxy replay protection (ServerProxyOptions): how long an accepted message is
  // remembered, how far a signing time may lie ahead, and how many messages are remembered.
  std::chrono::seconds replay_window{600};
  std::chrono::seconds max_clock_skew{300};
  std::size_t max_replay_entries = 500'000;
};

// The node's components the proxies use. Pointers must outlive the ProxyService.
struct ProxyServiceDeps {
  signer::Signer* signer = nullptr;
  GlobalConfSource globalconf;
  ServerConfSource serverconf;
  DescriptionDocumentSource documents;
  messagelog::MessageLogWriter* message_log = nullptr;
  std::vector<opmonitor::CallObserver*> observers;
};

// Counters since the proxies were built.
struct ProxyServiceStats {
  std::uint64_t signed_messages = 0;  // messages signed (requests and responses)
  std::uint64_t signing_batches = 0;  // private-key operations: one per batch
  std::uint64_t largest_batch = 0;
  std::uint64_t peer_connections = 0;  // connections opened to other nodes
  std::uint64_t peer_calls = 0;
  std::uint64_t peer_tls_handshakes = 0;
  std::uint64_t peer_tls_resumed = 0;
  // Requests refused before the proxy read them (over a limit, too slow, malformed), by HTTP
  // status: from information systems (client proxy) and from other nodes (server proxy).
  std::vector<http::RefusalCount> client_refusals;
  std::vector<http::RefusalCount> server_refusals;
};

class ProxyService final {
 public:
  // Builds both proxies (nothing listens yet). InvalidConfiguration when a dependency is missing
  // (the message log is required); KeyNotAvailable / CertNotFound / TokenNotActive when the
  // node's authentication key cannot be installed.
  [[nodiscard]] static Result<std::unique_ptr<ProxyService>> create(ProxyServiceOptions options,
                                                                    ProxyServiceDeps deps);
  ~ProxyService();
  ProxyService(const ProxyService&) = delete;
  ProxyService& operator=(const ProxyService&) = delete;

  // Starts the listeners. NetworkError when a port is taken (nothing keeps listening then).
  [[nodiscard]] Status start();
  // Stops every listener, waiting for running calls. Idempotent.
  void stop();

  [[nodiscard]] std::uint16_t client_http_port() const noexcept;
  [[nodiscard]] std::uint16_t client_https_port() const noexcept;
  [[nodiscard]] std::uint16_t server_port() const noexcept;
  [[nodiscard]] ProxyServiceStats stats() const;

 private:
  struct Impl;
  explicit ProxyService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::proxy
