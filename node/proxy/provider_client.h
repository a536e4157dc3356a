#pragma once

// Calls from the provider's node to its information system (the service's URL in the server
// configuration): HTTP or HTTPS, any method, with the service's timeout, a response size cap and
// kept-alive connections pooled per (scheme, host, port, TLS verification). Redirects are not
// followed (PR-REST 4.2). A connection is owned by one call at a time and returned to the pool
// when the call completed cleanly; the calling thread does the I/O (no hand-off).
//
// Two time limits apply to a call: the service's timeout bounds each wait for the answer (as in
// X-Road), and ProviderClientOptions::total_timeout, or the service's timeout when that is longer,
// bounds the whole call however the provider paces its bytes.
//
// Failures as X-Road reports a provider that misbehaves (the server proxy wraps them as
// ServiceFailed.<code>): Timeout (no connection or no answer within a timeout), NetworkError
// (refused, reset, closed early, not HTTP), LimitExceeded (response over max_response_bytes),
// SslAuthenticationFailed (HTTPS handshake or certificate), ServiceMissingUrl (bad URL).
//
// Threading: thread-safe: the pool is guarded by mu_; calls run concurrently.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/http/http.h"

namespace hansa::proxy {

struct ProviderClientOptions {
  // Bound on connecting (TCP and TLS) to the provider.
  std::chrono::milliseconds connect_timeout{5'000};
  // Bound on sending the request (each write).
  std::chrono::milliseconds write_timeout{30'000};
  // Bound on a whole call, from its start to the answer's last byte, for services whose own
  // timeout is shorter: a provider that trickles its answer, each byte within the service's
  // timeout, still ends here. The client proxy gives up on the call after its peer_total_timeout.
  std::chrono::milliseconds total_timeout{120'000};
  // Largest response body accepted from a provider.
  std::size_t max_response_bytes = 50 * 1024 * 1024;
  // Idle kept-alive connections kept per target; more are closed after their call.
  std::size_t max_idle_per_target = 32;
  // Most distinct targets with idle connections; beyond it, connections are not pooled.
  std::size_t max_targets = 256;
  // Trust anchors (PEM) for https:// providers whose service has ssl_verify set; when empty the
  // system's default trust store is used.
  std::string ca_pem;
  // The node's certificate chain and key (PEM) presented to https:// providers that ask for a
  // client certificate (X-Road's internal TLS certificate); optional.
  std::string client_cert_chain_pem;
  std::string client_key_pem;
};

// One call to the provider.
struct ProviderRequest {
  std::string method = "POST";
  // "http[s]://host[:port]/path[?query]": the service URL (SOAP) or the service's base URL with
  // the REST path and query appended.
  std::string url;
  http::Headers headers;  // sent as given (Host and Content-Length are set by the client)
  std::string body;
  // X-Road's service timeout: bound on waiting for each read of the answer, and on the whole call
  // when longer than ProviderClientOptions::total_timeout.
  std::chrono::milliseconds timeout{60'000};
  bool ssl_verify = true;  // verify the provider's certificate (https only)
};

struct ProviderResponse {
  int status = 0;
  std::string reason;
  http::Headers headers;
  std::string body;

  // The first value of header `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return http::find_header(headers, name);
  }
};

class ProviderClient final {
 public:
  // InvalidConfiguration (zero limits), InvalidCertificate / InvalidKey (TLS material).
  [[nodiscard]] static Result<std::unique_ptr<ProviderClient>> create(
      ProviderClientOptions options = {});
  ~ProviderClient();
  ProviderClient(const ProviderClient&) = delete;
  ProviderClient& operator=(const ProviderClient&) = delete;

  // Sends `request` and reads the whole answer; any HTTP status is a success. Fails as described
  // at the top of this file.
  [[nodiscard]] Result<ProviderResponse> call(const ProviderRequest& request);

  // Idle connections currently pooled (all targets), for tests and metrics.
  [[nodiscard]] std::size_t idle_connections() const;
  // Connections opened so far (a pooled connection reused does not count again).
  [[nodiscard]] std::uint64_t connections_created() const;

 private:
  struct Impl;
  explicit ProviderClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::proxy
