#pragma once

// Types shared by the Hansa HTTP server and client: header lists, certificate chains, peer
// verification hooks, and the common mapping from hansa::Error to an HTTP error answer.
// Threading: plain values and pure functions, share freely.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::http {

// Header fields in the order they appear. Names compare case-insensitively (RFC 9110 5.1).
using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name` (case-insensitive), or nullopt.
[[nodiscard]] std::optional<std::string_view> find_header(const Headers& headers,
                                                          std::string_view name);

// True when a and b are equal ignoring ASCII case.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// Whether a kept-alive connection that sat idle (no request in flight) can carry the next
// request: false when the peer closed it or sent anything unasked since the last answer (a TLS
// close_notify, a FIN, stray bytes). Servers close idle connections after their keep-alive
// timeout; a request written into such a connection is lost, so pools check before reuse and
// open a new connection instead.
[[nodiscard]] bool idle_connection_usable(int fd) noexcept;

// A TLS peer's certificate chain as DER, leaf first, in the order the peer sent it.
using CertChain = std::vector<std::string>;

// Called during the TLS handshake with the peer's chain (after the optional CA check passed).
// Returning an error aborts the handshake: the connection is refused. Must be thread-safe: it
// runs on the connection's thread.
using PeerVerifier = std::function<Status(const CertChain& chain)>;

// Called once while a server or client is created, with its OpenSSL `SSL_CTX*` passed as void*
// (OpenSSL stays out of public headers), after Hansa's own settings are applied. Lets the caller
// install a key that never leaves its token (node/signer/internal.h use_auth_key) or tune the
// context. An error fails the create() call.
using TlsContextHook = std::function<Status(void* ssl_ctx)>;

// The HTTP status used to answer an error with this code (404 NotFound, 413 LimitExceeded,
// 504 Timeout, 500 for internal faults, ...).
[[nodiscard]] int status_for(FaultCode code) noexcept;

// The JSON error body X-Road's REST interfaces use: {"type","message","detail"}. `type` is
// error.render(origin), e.g. "Server.ClientProxy.UnknownService".
[[nodiscard]] std::string error_json(const Error& error, Origin origin = Origin::kNone);

}  // namespace hansa::http
