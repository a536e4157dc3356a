#pragma once

// Sending a management request to the central server (PR-MSERV 2.3: HTTPS POST of the
// multipart/related request; the node pins the central's TLS certificate from private-params
// through the http::Client's ClientTlsConfig). Used by the node's registration component.
// Threading: as the given http::Client (one call at a time per client).

#include <string_view>

#include "core/errors/errors.h"
#include "core/http/client.h"
#include "core/management/request.h"

namespace hansa::management {

// The path central serves management requests on.
inline constexpr std::string_view kDefaultServicePath = "/managementservice/";

// Posts `request` to `path` and returns the parsed response. A SOAP fault comes back as its Error
// (code from the faultcode, e.g. kInvalidSignatureValue); a response whose echoed message id or
// request type differs from the request fails with kInconsistentResponse; an answer that is
// neither a response nor a fault fails with kInvalidSoap (detail: the HTTP status); transport
// failures with the client's codes (Timeout, NetworkError, SslAuthenticationFailed, ...).
[[nodiscard]] Result<ParsedResponse> send_request(http::Client& client, const BuiltRequest& request,
                                                  std::string_view path = kDefaultServicePath,
                                                  const RequestLimits& limits = {});

}  // namespace hansa::management
