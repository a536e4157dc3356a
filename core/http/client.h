#pragma once

// Synchronous HTTP/1.1 client with bounded connect, read and write times and a response size cap;
// HTTPS with CA or pinned-certificate verification and client certificates. Built on cpp-httplib,
// which stays inside client.cc.
// Threading: thread-safe; calls on one Client are serialized (it holds one kept-alive connection).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/http/http.h"

namespace hansa::http {

// Remembers the TLS session of the last connection made through it, so the next connection
// (a reconnect, or another Client sharing the cache) resumes it with an abbreviated handshake.
// Share one cache only between Clients to the same server with the same trust settings: a resumed
// session is not verified again (the server was verified when the session was made).
// Threading: thread-safe: guarded by an internal mutex.
class TlsSessionCache final {
 public:
  TlsSessionCache();
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache&) = delete;
  TlsSessionCache& operator=(const TlsSessionCache&) = delete;

  // Forgets the remembered session (the next connection makes a full handshake).
  void clear();

  struct Impl;
  [[nodiscard]] Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// How a client authenticates HTTPS servers and itself. TLS 1.2 is the minimum.
struct ClientTlsConfig {
  // Trust anchors (PEM, one or more certificates). The server's chain must verify against them.
  std::string ca_pem;
  // Alternatively (or additionally), the exact server certificate (PEM) the server must present.
  std::string pinned_cert_pem;
  // With ca_pem: the certificate must also match the host name or IP address connected to.
  bool verify_hostname = true;
  // Optional hook called with the server's chain after the checks above; an error aborts. When
  // ca_pem and pinned_cert_pem are both empty, this hook alone decides (X-Road checks a peer's
  // auth certificate against global configuration, not against a fixed CA list).
  PeerVerifier verify_server;
  // mTLS: the client's certificate (leaf first, then intermediates) and key, PEM.
  std::string client_cert_chain_pem;
  std::string client_key_pem;
  // Called with the SSL_CTX after the settings above (see TlsContextHook), e.g. to install the
  // node's authentication key from its token.
  TlsContextHook configure_context;
  // When set, sessions are resumed through this cache (see TlsSessionCache); otherwise each
  // Client still resumes its own previous session when it reconnects.
  std::shared_ptr<TlsSessionCache> session_cache;
};

// Connection counters of one Client. Threading: plain value.
struct ClientStats {
  std::uint64_t tls_handshakes = 0;  // completed TLS handshakes (full and resumed)
  std::uint64_t tls_resumed = 0;     // of which resumed a previous session
  // Times the total_timeout watchdog's thread woke (a deadline passed or a call armed it while
  // it slept past that call's deadline); about once per total_timeout on a busy client.
  std::uint64_t watchdog_wakeups = 0;
};

struct ClientOptions {
  // Bound on establishing the TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout{5'000};
  // Longest wait for each read or write; a server that never answers fails within read_timeout.
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Bound on a whole call (connect, send, receive), however the server paces its bytes; the
  // connection is cut when it passes. Zero disables it (then only the per-read/write timeouts
  // apply). A non-zero value costs one watchdog thread per Client.
  std::chrono::milliseconds total_timeout{120'000};
  // Largest response body accepted; more fails with LimitExceeded.
  std::size_t max_response_body_bytes = 10 * 1024 * 1024;
  // Reuse one connection for consecutive calls.
  bool keep_alive = true;
  // Required for https:// URLs. Without ca_pem, pinned_cert_pem and verify_server the client
  // refuses to start.
  ClientTlsConfig tls;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // First value of header `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// Error::message of a call that failed before a connection was made (refused, unreachable,
// connect timeout): nothing was sent, so another server may be tried.
inline constexpr std::string_view kConnectFailedMessage = "cannot connect";

class Client final {
 public:
  // `base_url` is "http://host[:port]" or "https://host[:port]" (no path). Fails with
  // InvalidConfiguration (bad URL, https without trust settings), InvalidCertificate, InvalidKey.
  [[nodiscard]] static Result<std::unique_ptr<Client>> create(std::string_view base_url,
                                                              ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET `target` (path with optional query; sent as given, so percent-encode it yourself). Any
  // HTTP status is a success; failures: Timeout (connect/read/write/total timeout), NetworkError
  // (refused, reset, protocol error), SslAuthenticationFailed (server certificate rejected or TLS
  // handshake failed), LimitExceeded (response body larger than max_response_body_bytes).
  [[nodiscard]] Result<ClientResponse> get(std::string_view target, const Headers& headers = {});

  // POST `body` with `content_type` to `target`. Fails like get().
  [[nodiscard]] Result<ClientResponse> post(std::string_view target, std::string_view body,
                                            std::string_view content_type,
                                            const Headers& headers = {});

  // Sends `method` (any token, e.g. "PUT", "DELETE") with an optional body (content_type may be
  // empty when there is no body). Fails like get().
  [[nodiscard]] Result<ClientResponse> send(std::string_view method, std::string_view target,
                                            std::string_view body, std::string_view content_type,
                                            const Headers& headers = {});

  [[nodiscard]] ClientStats stats() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::http
