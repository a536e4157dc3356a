#pragma once

// Asymmetric keys (RSA, EC P-256/P-384) and signatures: RSA PKCS#1 v1.5, RSA-PSS and ECDSA with
// SHA-256/384/512, named by their XML-DSig URIs and X-Road's Java-style ids.
// Threading: PublicKey and PrivateKey are immutable values sharing one OpenSSL key; copy and share
// them freely across threads (every operation makes its own OpenSSL context).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

enum class KeyType { kRsa, kEc };
enum class EcCurve { kP256, kP384 };

// Signature algorithms. RSA-PSS uses MGF1 with the same digest and a salt as long as the digest
// (what Java's "SHA512withRSAandMGF1" and XML-DSig's sha512-rsa-MGF1 mean).
enum class SignatureAlgorithm {
  kRsaSha256,
  kRsaSha384,
  kRsaSha512,
  kRsaPssSha256,
  kRsaPssSha384,
  kRsaPssSha512,
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
};

// XML-DSig URI, e.g. "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
// "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1".
[[nodiscard]] std::string_view signature_uri(SignatureAlgorithm alg) noexcept;
[[nodiscard]] std::optional<SignatureAlgorithm> signature_from_uri(std::string_view uri) noexcept;

// X-Road's Java-style id, e.g. "SHA512withRSA", "SHA256withECDSA", "SHA512withRSAandMGF1"
// (management requests, global configuration signatures).
[[nodiscard]] std::string_view signature_id(SignatureAlgorithm alg) noexcept;
[[nodiscard]] std::optional<SignatureAlgorithm> signature_from_id(std::string_view id) noexcept;

// The digest an algorithm hashes with, and the key type it needs.
[[nodiscard]] DigestAlgorithm signature_digest(SignatureAlgorithm alg) noexcept;
[[nodiscard]] KeyType signature_key_type(SignatureAlgorithm alg) noexcept;

// ECDSA signatures are DER SEQUENCE{r, s} here (Java, OpenSSL); XML-DSig wants r||s with each half
// `field_size` bytes (32 for P-256, 48 for P-384). Fail with InvalidSignatureValue on bad input.
[[nodiscard]] Result<std::string> ecdsa_der_to_plain(std::string_view der, std::size_t field_size);
[[nodiscard]] Result<std::string> ecdsa_plain_to_der(std::string_view plain);

// Upper bound on any key or signature input accepted by the parsers below.
inline constexpr std::size_t kMaxKeyInputSize = 1 << 20;

// A public key (SubjectPublicKeyInfo).
class PublicKey final {
 public:
  // Parse a SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----" / DER). Fail with InvalidKey.
  [[nodiscard]] static Result<PublicKey> from_pem(std::string_view pem);
  [[nodiscard]] static Result<PublicKey> from_der(std::string_view der);

  [[nodiscard]] std::string to_pem() const;
  [[nodiscard]] std::string to_der() const;

  [[nodiscard]] KeyType type() const noexcept;
  // Modulus size for RSA, field size for EC, in bits.
  [[nodiscard]] int bits() const noexcept;
  // The curve of an EC key; nullopt for RSA.
  [[nodiscard]] std::optional<EcCurve> curve() const noexcept;

  // Verifies `signature` over `data`. Fails with InvalidSignatureValue when it does not verify,
  // UnsupportedSignAlgorithm when `alg` does not fit the key type.
  [[nodiscard]] Status verify(SignatureAlgorithm alg, std::string_view data,
                              std::string_view signature) const;
  // Same, over a precomputed digest (length must match the algorithm's digest).
  [[nodiscard]] Status verify_digest(SignatureAlgorithm alg, std::string_view digest,
                                     std::string_view signature) const;

  // Same key material (compares the DER encodings).
  [[nodiscard]] bool operator==(const PublicKey& other) const;

  struct Impl;
  explicit PublicKey(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// A private key. Passphrases: an empty passphrase means "not encrypted".
class PrivateKey final {
 public:
  // New keys. RSA bits in [2048, 8192]; fail with CryptoError.
  [[nodiscard]] static Result<PrivateKey> generate_rsa(int bits = 2048);
  [[nodiscard]] static Result<PrivateKey> generate_ec(EcCurve curve = EcCurve::kP256);

  // Load PEM: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY") or traditional ("RSA PRIVATE KEY",
  // "EC PRIVATE KEY", possibly Proc-Type encrypted). Fails with InvalidKey (also for a wrong
  // passphrase; the message says so when OpenSSL can tell).
  [[nodiscard]] static Result<PrivateKey> from_pem(std::string_view pem,
                                                   std::string_view passphrase = {});
  // Load DER PKCS#8 (unencrypted, or encrypted with `passphrase`) or traditional DER.
  [[nodiscard]] static Result<PrivateKey> from_der(std::string_view der,
                                                   std::string_view passphrase = {});

  // PKCS#8 PEM; encrypted (PBES2, AES-256-CBC) when `passphrase` is not empty.
  [[nodiscard]] Result<std::string> to_pem(std::string_view passphrase = {}) const;
  // Unencrypted PKCS#8 DER.
  [[nodiscard]] Result<std::string> to_der() const;

  [[nodiscard]] PublicKey public_key() const;
  [[nodiscard]] KeyType type() const noexcept;
  [[nodiscard]] int bits() const noexcept;

  // Signs `data`. Fails with UnsupportedSignAlgorithm when `alg` does not fit the key type,
  // CryptoError otherwise. ECDSA signatures are DER (see ecdsa_der_to_plain).
  [[nodiscard]] Result<std::string> sign(SignatureAlgorithm alg, std::string_view data) const;
  // Signs a precomputed digest (hash-chain batch signing, HSM-style flows). The digest length must
  // match signature_digest(alg); the result equals sign() over the original data.
  [[nodiscard]] Result<std::string> sign_digest(SignatureAlgorithm alg,
                                                std::string_view digest) const;

  struct Impl;
  explicit PrivateKey(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace hansa::crypto
