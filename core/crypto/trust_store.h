#pragma once

// Certificate chain verification against trust anchors at a chosen time, with a purpose check.
// Threading: build a TrustStore with one owner, then share it (const) freely; verify() is const and
// thread-safe (each call builds its own OpenSSL store and context).

#include <vector>

#include "core/crypto/certificate.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

// What the end-entity certificate must be usable for. Checked on the leaf only:
// - kAny:            no usage check.
// - kSigning:        keyUsage present with nonRepudiation or digitalSignature (X-Road sign certs).
// - kAuthentication: keyUsage present with digitalSignature; if extendedKeyUsage is present it
//                    must list clientAuth (node authentication certificates, TLS client side).
// - kTlsServer:      keyUsage present with digitalSignature or keyEncipherment; if
//                    extendedKeyUsage is present it must list serverAuth.
// - kOcspSigning:    extendedKeyUsage lists OCSPSigning (RFC 6960 4.2.2.2 delegated responder).
// - kTimeStamping:   extendedKeyUsage lists timeStamping (RFC 3161 2.3; criticality not enforced
//                    here).
// - kCa:             basicConstraints cA=TRUE, keyUsage (if present) with keyCertSign.
enum class CertPurpose {
  kAny,
  kSigning,
  kAuthentication,
  kTlsServer,
  kOcspSigning,
  kTimeStamping,
  kCa
};

// Limits for verification.
struct TrustStoreLimits {
  int max_chain_depth = 8;  // certificates between leaf and anchor
};

class TrustStore final {
 public:
  TrustStore() = default;
  explicit TrustStore(TrustStoreLimits limits) : limits_(limits) {}

  // Anchors are trusted as given (any anchor may be an intermediate CA: partial chains are
  // accepted). Intermediates are untrusted helpers for chain building.
  void add_anchor(Certificate cert);
  void add_intermediate(Certificate cert);

  [[nodiscard]] const std::vector<Certificate>& anchors() const noexcept { return anchors_; }
  [[nodiscard]] const std::vector<Certificate>& intermediates() const noexcept {
    return intermediates_;
  }

  // Verifies `leaf` at time `at` (never the wall clock) for `purpose`, building the chain from
  // `extra` (e.g. certificates sent by a peer), the intermediates and the anchors.
  // Returns the chain leaf first, anchor last. Fails with
  // - CertValidation: expired / not yet valid / untrusted issuer / bad signature / not a CA,
  //   the message names the certificate's subject;
  // - WrongCertUsage: the leaf does not fit `purpose`.
  [[nodiscard]] Result<std::vector<Certificate>> verify(
      const Certificate& leaf, TimePoint at, CertPurpose purpose,
      const std::vector<Certificate>& extra = {}) const;

  // Checks only the leaf's usage against `purpose` (WrongCertUsage on mismatch).
  [[nodiscard]] static Status check_purpose(const Certificate& leaf, CertPurpose purpose);

  // The anchor or intermediate that issued `cert` (name and signature match), if any.
  [[nodiscard]] std::optional<Certificate> find_issuer(const Certificate& cert) const;

 private:
  TrustStoreLimits limits_;
  std::vector<Certificate> anchors_;
  std::vector<Certificate> intermediates_;
};

}  // namespace hansa::crypto
