#pragma once

// Tokens hold private keys and sign with them; the private key never leaves the token through this
// interface (reference section 1: xroad-signer's software and PKCS#11 tokens).
// Threading: implementations are thread-safe (guarded by their own mutex).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/key.h"
#include "core/errors/errors.h"

namespace hansa::signer {

enum class TokenKind { kSoftware, kPkcs11 };

// "software", "pkcs11".
[[nodiscard]] std::string_view token_kind_name(TokenKind kind) noexcept;

// Key types a token can generate.
enum class KeyAlgorithm { kRsa2048, kRsa3072, kEcP256 };

// "RSA-2048", "RSA-3072", "EC-P256"; parse fails with InvalidRequest.
[[nodiscard]] std::string_view key_algorithm_name(KeyAlgorithm alg) noexcept;
[[nodiscard]] Result<KeyAlgorithm> key_algorithm_from_name(std::string_view name);

struct TokenStatus {
  bool active = false;     // the token is present and usable (module loaded, files readable)
  bool logged_in = false;  // keys are usable
};

// A key held by a token.
struct TokenKey {
  std::string id;     // unique on the token (lower-case hex)
  std::string label;  // friendly name given at generation
  crypto::PublicKey public_key;
};

class Token {
 public:
  virtual ~Token() = default;

  [[nodiscard]] virtual const std::string& id() const noexcept = 0;
  [[nodiscard]] virtual TokenKind kind() const noexcept = 0;
  [[nodiscard]] virtual std::string label() const = 0;
  [[nodiscard]] virtual TokenStatus status() const = 0;

  // Logs in with the user PIN. Fails with PinIncorrect, TokenNotAvailable (token gone),
  // HsmNonOperational (PKCS#11 module failure).
  [[nodiscard]] virtual Status login(std::string_view pin) = 0;
  // Logs out; keys become unusable (TokenNotActive) until the next login. Idempotent.
  virtual void logout() = 0;

  // Generates a key on the token. Needs a login (TokenNotActive).
  [[nodiscard]] virtual Result<TokenKey> generate_key(KeyAlgorithm alg, std::string_view label) = 0;
  // The keys on the token (public parts). Needs a login for PKCS#11 tokens whose keys are private.
  [[nodiscard]] virtual Result<std::vector<TokenKey>> list_keys() const = 0;
  // The public key of `key_id` (KeyNotFound).
  [[nodiscard]] virtual Result<crypto::PublicKey> public_key(std::string_view key_id) const = 0;
  // Deletes a key (KeyNotFound; TokenNotActive when logged out).
  [[nodiscard]] virtual Status delete_key(std::string_view key_id) = 0;

  // Signs `data` / a precomputed digest with `key_id` inside the token. Fails with TokenNotActive
  // (logged out), KeyNotFound, UnsupportedSignAlgorithm (algorithm does not fit the key),
  // CryptoError / HsmNonOperational.
  [[nodiscard]] virtual Result<std::string> sign(std::string_view key_id,
                                                 crypto::SignatureAlgorithm alg,
                                                 std::string_view data) const = 0;
  [[nodiscard]] virtual Result<std::string> sign_digest(std::string_view key_id,
                                                        crypto::SignatureAlgorithm alg,
                                                        std::string_view digest) const = 0;

 protected:
  // A handle on the key usable by OpenSSL (for a PKCS#11 key, an EVP_PKEY that forwards every
  // operation to the token). Only node/signer/internal.h exposes it (TLS and CSR signing).
  [[nodiscard]] virtual Result<crypto::PrivateKey> key_handle(std::string_view key_id) const = 0;
  friend Result<crypto::PrivateKey> token_key_handle(const Token& token, std::string_view key_id);
};

}  // namespace hansa::signer
