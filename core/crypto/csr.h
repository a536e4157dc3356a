#pragma once

// PKCS#10 certificate signing requests: build one for a chosen subject and key, parse and check
// one. Threading: CertificateRequest is an immutable value; copy and share freely.

#include <memory>
#include <string>
#include <string_view>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

class CertificateRequest final {
 public:
  // Builds and signs a CSR for `subject` (attributes in the given order, short names such as
  // "C", "O", "CN", "serialNumber"). Digest SHA-256 by default; RSA keys sign PKCS#1 v1.5.
  // Fails with InvalidRequest (unknown attribute name) or CryptoError.
  [[nodiscard]] static Result<CertificateRequest> create(
      const DistinguishedName& subject, const PrivateKey& key,
      DigestAlgorithm digest = DigestAlgorithm::kSha256);

  // Parse a CSR (DER, or PEM "CERTIFICATE REQUEST"); at most kMaxKeyInputSize bytes.
  // Fails with InvalidRequest. The signature is not checked here: call verify_signature().
  [[nodiscard]] static Result<CertificateRequest> from_der(std::string_view der);
  [[nodiscard]] static Result<CertificateRequest> from_pem(std::string_view pem);

  [[nodiscard]] const std::string& der() const noexcept;
  [[nodiscard]] std::string pem() const;

  [[nodiscard]] std::string subject() const;  // RFC 2253
  [[nodiscard]] DistinguishedName subject_entries() const;
  [[nodiscard]] PublicKey public_key() const;
  // The self-signature verifies with the enclosed key (InvalidSignatureValue otherwise).
  [[nodiscard]] Status verify_signature() const;

  struct Impl;
  explicit CertificateRequest(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hansa::crypto
