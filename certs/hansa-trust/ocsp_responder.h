#pragma once

// Development OCSP responder (RFC 6960): answers for the certificates of one issuing CA, signing
// with a delegated responder certificate (id-kp-OCSPSigning, RFC 6960 4.2.2.2).
// Threading: immutable after create(), share freely; respond() may run concurrently.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "certs/hansa-trust/revocation_store.h"
#include "core/errors/errors.h"

namespace hansa::trust {

struct OcspResponderConfig {
  std::filesystem::path issuer_cert;     // the CA whose certificates are answered for (PEM)
  std::filesystem::path responder_cert;  // PEM, issued by that CA with id-kp-OCSPSigning
  std::filesystem::path responder_key;   // PEM
  std::filesystem::path index_file;      // optional `openssl ca` index.txt of the CA
  std::filesystem::path state_file;      // revocations made with `hansa-trust revoke`
  // nextUpdate = thisUpdate + next_update; zero omits nextUpdate (RFC 6960 4.2.2.1).
  std::chrono::seconds next_update{3600};
  // Most single requests (certificates) accepted in one OCSP request.
  std::size_t max_request_entries = 16;
};

class OcspResponder final {
 public:
  // Loads the certificates and key; fails with InvalidConfiguration / InvalidCertificate /
  // InvalidKey.
  [[nodiscard]] static Result<std::unique_ptr<OcspResponder>> create(OcspResponderConfig config);
  ~OcspResponder();

  // The DER OCSPResponse for a DER OCSPRequest (RFC 6960 4.1, 4.2). Never fails: bad input
  // gives malformedRequest, a store failure internalError (RFC 6960 4.2.1). A nonce in the
  // request is echoed (RFC 8954); none is required.
  [[nodiscard]] std::string respond(std::string_view request_der) const;

 private:
  struct Impl;
  explicit OcspResponder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::trust
