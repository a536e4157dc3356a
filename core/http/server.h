#pragma once

// HTTP/1.1 server for every Hansa daemon: plain HTTP, HTTPS and HTTPS with client certificates
// (mTLS), bounded by named limits. Built on cpp-httplib, which stays inside server.cc.
// Threading: Server is thread-safe: start()/stop() may be called from any thread; handlers run on
// the pool's worker threads concurrently and must be thread-safe themselves.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/http/http.h"

namespace hansa::http {

// TLS settings of a server. TLS 1.2 is the minimum protocol version.
struct ServerTlsConfig {
  // The server's certificate (leaf first, then intermediates) and private key, PEM. Both may be
  // empty when `configure_context` installs them (a key on a PKCS#11 token).
  std::string cert_chain_pem;
  std::string key_pem;
  // mTLS: ask for a client certificate and refuse connections without one.
  bool require_client_cert = false;
  // Ask for a client certificate but also accept connections without one (X-Road's client proxy:
  // which certificate an information system must present depends on the client it calls as).
  // A presented certificate passes unless client_ca_pem / verify_peer reject it; handlers see it
  // in Request::peer_cert_chain(). Ignored when require_client_cert is set.
  bool request_client_cert = false;
  // mTLS: when non-empty, the client chain must verify against these PEM CA certificates.
  // When empty, only `verify_peer` decides (X-Road checks auth certs against global conf); one of
  // the two is required.
  std::string client_ca_pem;
  // mTLS: called with the client's chain during the handshake; an error refuses the connection.
  PeerVerifier verify_peer;
  // Called with the SSL_CTX after the settings above (see TlsContextHook), e.g. to install the
  // node's authentication key from its token.
  TlsContextHook configure_context;
  // How long a TLS session may be resumed by a returning client (abbreviated handshake); zero
  // disables resumption.
  std::chrono::seconds session_lifetime{300};
};

class Request;
struct Response;

// How a server answers a request it refuses before any handler runs: `status` (400, 404, 405,
// 408, 413, 414, 415 or 431) and `error` say why; `answer` comes filled with that status and
// nothing else. `request` has the request line and the header fields that arrived; its body may
// be missing or partial. Called on the connection's worker thread; must not block.
using RejectRenderer =
    std::function<void(const Request& request, int status, const Error& error, Response& answer)>;

// Every limit of a server. Defaults are safe for an Internet-facing port.
struct ServerOptions {
  // Address to bind; loopback unless configured otherwise. Port 0 picks a free port.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  // Worker threads serving connections (one connection per worker at a time).
  std::size_t worker_threads = 8;
  // Accepted connections waiting for a worker; when full, accepting pauses (backpressure).
  std::size_t max_queued_connections = 64;
  // Longest request target (path and query) in bytes; longer is answered 414. The library caps
  // this at 8192 regardless.
  std::size_t max_request_target_bytes = 8192;
  // Header fields per request; more is answered 431.
  std::size_t max_header_count = 100;
  // Total bytes of all header names and values; more is answered 431, and a client that keeps
  // sending header bytes far beyond it is disconnected. (Each header line is also capped at 8192
  // bytes by the library.)
  std::size_t max_header_bytes = 64 * 1024;
  // Request body; a larger Content-Length is answered 413 before any of the body is read, and the
  // connection is closed.
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  // Longest wait for each read from / write to a client; a client that stalls longer is
  // disconnected.
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  // The request line and all headers of one request must arrive within this time, however the
  // client paces its bytes (slowloris): a slower client is disconnected.
  std::chrono::milliseconds header_timeout{20'000};
  // A request body must arrive within body_timeout plus one second for every min_body_rate
  // bytes received so far (Apache's mod_reqtimeout rule): a client that paces its body slower,
  // each byte within read_timeout, is answered 408 and disconnected. The answer is held to the
  // same pace: the time its sends spend blocked on a client that reads slowly may not exceed
  // body_timeout plus a second per min_body_rate bytes sent, or the connection is closed. A
  // min_body_rate of 0 leaves only the per-read and per-write timeouts.
  std::chrono::milliseconds body_timeout{20'000};
  std::size_t min_body_rate = 4096;
  // The TLS handshake must complete within this time.
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  // Idle connections: how long a kept-alive connection may wait for its next request, and how
  // many requests one connection may carry before it is closed.
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max_requests = 100;
  // HTTPS when set.
  std::optional<ServerTlsConfig> tls;
  // Refusals (a limit above, an unknown path or method) are answered with the JSON error body
  // unless this is set: a proxy renders them as its protocol's fault. The server still closes the
  // connection after a refusal that leaves the stream in an unknown state.
  RejectRenderer render_reject;
};

// A read-only view of one request, valid only while the handler runs. Threading: one owner (the
// handler's thread).
class Request final {
 public:
  [[nodiscard]] std::string_view method() const noexcept;
  // The decoded path without the query string.
  [[nodiscard]] std::string_view path() const noexcept;
  // The request target exactly as received (path and query, still percent-encoded).
  [[nodiscard]] std::string_view target() const noexcept;
  // Whether the request arrived over TLS.
  [[nodiscard]] bool is_tls() const noexcept;
  // The first value of query parameter `name`, decoded; nullopt when absent.
  [[nodiscard]] std::optional<std::string> query(std::string_view name) const;
  // The first value of header `name` (case-insensitive); nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  // All header fields.
  [[nodiscard]] Headers headers() const;
  [[nodiscard]] std::string_view body() const noexcept;
  // The peer's IP address and port.
  [[nodiscard]] std::string_view peer_address() const noexcept;
  [[nodiscard]] int peer_port() const noexcept;
  // The client's certificate chain (DER, leaf first) on an mTLS connection; empty otherwise.
  [[nodiscard]] const CertChain& peer_cert_chain() const noexcept { return peer_chain_; }

  // Internal: built by the server around the library's request object.
  Request(const void* impl, CertChain peer_chain)
      : impl_(impl), peer_chain_(std::move(peer_chain)) {}

 private:
  const void* impl_;
  CertChain peer_chain_;
};

// What a handler fills in. Defaults to 200 with an empty body. Threading: plain value.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // Replaces (or adds) header `name`.
  void set_header(std::string_view name, std::string_view value);
  // Sets the body and its Content-Type.
  void set_body(std::string body_bytes, std::string_view content_type);
  // Answers with `error`: status_for(error.code), JSON body {"type","message","detail"}.
  void set_error(const Error& error, Origin origin = Origin::kNone);
};

using Handler = std::function<void(const Request&, Response&)>;

// Requests refused before any handler ran, by the status they were answered with.
struct RefusalCount {
  int status = 0;
  std::uint64_t count = 0;
};

class Server final {
 public:
  // Validates the options (TLS material parses, limits are non-zero); fails with
  // InvalidConfiguration, InvalidCertificate or InvalidKey.
  [[nodiscard]] static Result<std::unique_ptr<Server>> create(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a handler for `method` ("GET", "POST", ...) and `path`. A path ending in '*' matches
  // every path with that prefix. Unmatched paths get 404, known paths with another method 405
  // (both as error JSON). A handler that throws produces a 500. Call before start().
  void route(std::string_view method, std::string_view path, Handler handler);

  // Binds and starts serving on background threads. Fails with NetworkError when the address
  // cannot be bound. Returns once the server accepts connections.
  [[nodiscard]] Status start();

  // The bound port (useful with port 0); 0 before start().
  [[nodiscard]] std::uint16_t port() const noexcept;

  // Requests refused before any handler (a limit, a body too slow, an unknown path or method,
  // a malformed request) since create(), by status, in ascending order of status.
  [[nodiscard]] std::vector<RefusalCount> refusals() const;

  // Stops accepting, waits for running requests to finish and joins every thread. Idempotent;
  // the destructor calls it. Never call it from a handler (it would wait for itself).
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::http
