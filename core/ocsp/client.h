#pragma once

// OCSP over HTTP (RFC 6960 appendix A): POST application/ocsp-request, or GET with the
// base64 request in the path, through hansa::http::Client with bounded connect and read times.
// Threading: thread-safe (each call uses its own connection).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/ocsp/response.h"

namespace hansa::ocsp {

struct ClientOptions {
  // Bound on connecting to the responder.
  std::chrono::milliseconds connect_timeout{5'000};
  // Bound on each read and write; a responder that never answers fails with Timeout.
  std::chrono::milliseconds read_timeout{20'000};
  // Largest response accepted (LimitExceeded beyond it, before parsing).
  std::size_t max_response_bytes = kDefaultMaxResponseBytes;
  // Use GET (RFC 6960 A.1) instead of POST; requests whose GET URL would exceed
  // max_get_url_bytes are POSTed anyway (the RFC suggests POST above 255 bytes).
  bool use_get = false;
  std::size_t max_get_url_bytes = 255;
};

// The RFC 6960 A.1 GET target: `path` + "/" + URL-encoded base64 of `request_der`.
[[nodiscard]] std::string get_target(std::string_view path, std::string_view request_der);

class OcspClient final {
 public:
  explicit OcspClient(ClientOptions options = {}) : options_(options) {}

  // Asks the responder at `responder_url` ("http://host:port[/path]") about `cert` (issued by
  // `issuer`) and parses the answer; the response is NOT verified (see verify()). Fails with
  // Timeout or NetworkError (transport), OcspFailed (HTTP status other than 200, malformed or
  // unsuccessful OCSP response), LimitExceeded, IncorrectCertificate, InvalidConfiguration (URL).
  [[nodiscard]] Result<OcspResponse> fetch(std::string_view responder_url, std::string_view cert,
                                           std::string_view issuer) const;

  // fetch() followed by verify(): a response that is valid at `at` and says "good".
  [[nodiscard]] Result<OcspResponse> fetch_verified(std::string_view responder_url,
                                                    std::string_view cert, std::string_view issuer,
                                                    TimePoint at,
                                                    const VerifyOptions& verify_options) const;

  [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }

 private:
  ClientOptions options_;
};

}  // namespace hansa::ocsp
