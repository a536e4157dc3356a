#pragma once

// X.509 certificates: parsing (DER, PEM, PEM bundles) with size limits, and the fields Hansa reads
// (names, serial, validity, fingerprints, key usage, extended key usage, OCSP URLs, issuer links).
// Threading: Certificate is an immutable value sharing one parsed certificate; copy and share
// freely.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

using TimePoint = std::chrono::system_clock::time_point;

// One attribute of a distinguished name: OpenSSL short name ("CN", "O", "C", "serialNumber",
// "OU", "L", "ST", "emailAddress", or a dotted OID for unknown types) and its UTF-8 value.
struct NameEntry {
  std::string type;
  std::string value;
  bool operator==(const NameEntry&) const = default;
};
// In certificate order (most significant first, as encoded: C, O, ..., CN typically).
using DistinguishedName = std::vector<NameEntry>;

// keyUsage bits (RFC 5280 4.2.1.3).
enum class KeyUsage : std::uint16_t {
  kDigitalSignature = 1 << 0,
  kNonRepudiation = 1 << 1,  // contentCommitment
  kKeyEncipherment = 1 << 2,
  kDataEncipherment = 1 << 3,
  kKeyAgreement = 1 << 4,
  kKeyCertSign = 1 << 5,
  kCrlSign = 1 << 6,
  kEncipherOnly = 1 << 7,
  kDecipherOnly = 1 << 8,
};

// extendedKeyUsage purposes Hansa checks (RFC 5280 4.2.1.12).
enum class ExtendedKeyUsage : std::uint8_t {
  kServerAuth = 1 << 0,
  kClientAuth = 1 << 1,
  kCodeSigning = 1 << 2,
  kEmailProtection = 1 << 3,
  kTimeStamping = 1 << 4,
  kOcspSigning = 1 << 5,
};

// Input limits for certificate parsers.
struct CertificateLimits {
  std::size_t max_der_size = 1 << 20;  // one certificate, DER bytes
  std::size_t max_pem_size = 4 << 20;  // a whole PEM text (bundle)
  std::size_t max_bundle_certs = 64;   // certificates in one bundle
};

class Certificate final {
 public:
  // Parse one DER certificate. Fails with IncorrectCertificate (garbage, trailing bytes) or
  // LimitExceeded (too large).
  [[nodiscard]] static Result<Certificate> from_der(std::string_view der,
                                                    const CertificateLimits& limits = {});
  // Parse the first "-----BEGIN CERTIFICATE-----" block of `pem`.
  [[nodiscard]] static Result<Certificate> from_pem(std::string_view pem,
                                                    const CertificateLimits& limits = {});
  // Parse every certificate in a PEM text (at least one). Other PEM blocks are skipped.
  [[nodiscard]] static Result<std::vector<Certificate>> bundle_from_pem(
      std::string_view pem, const CertificateLimits& limits = {});
  // Parse base64 DER (as in XML-DSig X509Certificate, global configuration); whitespace ignored.
  [[nodiscard]] static Result<Certificate> from_base64(std::string_view b64,
                                                       const CertificateLimits& limits = {});

  [[nodiscard]] const std::string& der() const noexcept;
  [[nodiscard]] std::string pem() const;

  // RFC 2253 strings, e.g. "CN=DEV GOV 1234,O=Government,C=EE".
  [[nodiscard]] std::string subject() const;
  [[nodiscard]] std::string issuer() const;
  [[nodiscard]] DistinguishedName subject_entries() const;
  [[nodiscard]] DistinguishedName issuer_entries() const;
  // The value of the first subject attribute named `short_name` ("CN", "O", "serialNumber", ...).
  [[nodiscard]] std::optional<std::string> subject_field(std::string_view short_name) const;

  // Serial number: lower-case hex without leading zeros ("0" for zero), and decimal.
  [[nodiscard]] std::string serial_hex() const;
  [[nodiscard]] std::string serial_decimal() const;

  [[nodiscard]] TimePoint not_before() const noexcept;
  [[nodiscard]] TimePoint not_after() const noexcept;
  // not_before() <= at <= not_after().
  [[nodiscard]] bool valid_at(TimePoint at) const noexcept;

  // Digest of the DER encoding (raw bytes), and its lower-case hex / base64 forms.
  // X-Road: SHA-1 hex for OCSP cert lookups, SHA-256/SHA-512 base64 elsewhere.
  [[nodiscard]] std::string fingerprint(DigestAlgorithm alg) const;
  [[nodiscard]] std::string fingerprint_hex(DigestAlgorithm alg) const;
  [[nodiscard]] std::string fingerprint_base64(DigestAlgorithm alg) const;

  [[nodiscard]] PublicKey public_key() const;

  // basicConstraints cA=TRUE.
  [[nodiscard]] bool is_ca() const noexcept;
  // Whether the keyUsage extension is present, and its bits (all zero when absent).
  [[nodiscard]] bool has_key_usage_extension() const noexcept;
  [[nodiscard]] std::uint16_t key_usage_bits() const noexcept;
  [[nodiscard]] bool has_key_usage(KeyUsage usage) const noexcept;
  // Whether the extendedKeyUsage extension is present, and whether it lists `usage`.
  [[nodiscard]] bool has_extended_key_usage_extension() const noexcept;
  [[nodiscard]] bool has_extended_key_usage(ExtendedKeyUsage usage) const noexcept;

  // OCSP responder URLs from authorityInfoAccess, in certificate order.
  [[nodiscard]] std::vector<std::string> ocsp_urls() const;

  // Subject equals issuer and the signature verifies with the certificate's own key.
  [[nodiscard]] bool is_self_signed() const;
  // This certificate's issuer name equals `issuer`'s subject and its signature verifies with
  // `issuer`'s key.
  [[nodiscard]] bool is_issued_by(const Certificate& issuer) const;

  // Same DER bytes.
  [[nodiscard]] bool operator==(const Certificate& other) const noexcept;

  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hansa::crypto
