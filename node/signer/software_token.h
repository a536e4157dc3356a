#pragma once

// The software token: keys in files under one directory, encrypted at rest with a key derived
// from the token PIN (reference section 1: X-Road's soft token).
//
// On disk (directory mode 0700, files 0600):
//   token.json               id, label, PIN salt and verifier, key generation, key list (ids,
//                            labels, public keys)
//   keys/<id>.<gen>.p8.pem   each private key as encrypted PKCS#8 PEM (PBES2, AES-256-CBC)
// Two values are derived from the PIN with PBKDF2-HMAC-SHA256 (salt from token.json,
// `kdf_iterations` rounds, distinct context labels): a verifier, compared in constant time so a
// wrong PIN fails with PinIncorrect without touching key files, and the passphrase that encrypts
// the key files. Changing the PIN writes every key under a new generation, then replaces token.json
// with one rename, then removes the old generation: a crash leaves either the old or the new PIN
// working, never a mix. Files not named by token.json (left by an interrupted operation) are
// removed when the token is opened. Decrypted keys live only in memory while logged in.
// Threading: thread-safe: guarded by mu_.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "node/signer/token.h"

namespace hansa::signer {

struct SoftwareTokenOptions {
  std::string id = "soft-0";  // token id in the signer (X-Road names its soft token "0")
  std::filesystem::path dir;  // the token directory
  // Shortest PIN accepted at initialization and PIN change (TokenPinPolicyFailure).
  std::size_t min_pin_length = 10;
  // Longest PIN accepted (bounds the KDF input).
  std::size_t max_pin_length = 256;
  // PBKDF2 rounds for the verifier and the key passphrase; stored per token at initialization
  // and PIN change. Lower it only in tests.
  int kdf_iterations = 310'000;
  // Most keys on the token (LimitExceeded).
  std::size_t max_keys = 256;
};

class SoftwareToken final : public Token {
 public:
  // Creates a new token in options.dir (created, must be empty or missing) protected by `pin`.
  // Fails with TokenPinPolicyFailure, Conflict (a token already exists there), IoError. The new
  // token is logged out.
  [[nodiscard]] static Result<std::unique_ptr<SoftwareToken>> initialize(
      const SoftwareTokenOptions& options, std::string_view pin, std::string_view label);
  // Opens an existing token (logged out). TokenNotFound when options.dir holds none;
  // TokenNotAvailable when its files are unreadable or corrupt.
  [[nodiscard]] static Result<std::unique_ptr<SoftwareToken>> open(
      const SoftwareTokenOptions& options);

  ~SoftwareToken() override;

  const std::string& id() const noexcept override { return options_.id; }
  TokenKind kind() const noexcept override { return TokenKind::kSoftware; }
  std::string label() const override;
  TokenStatus status() const override;

  Status login(std::string_view pin) override;
  void logout() override;

  Result<TokenKey> generate_key(KeyAlgorithm alg, std::string_view label) override;
  Result<std::vector<TokenKey>> list_keys() const override;
  Result<crypto::PublicKey> public_key(std::string_view key_id) const override;
  Status delete_key(std::string_view key_id) override;
  Result<std::string> sign(std::string_view key_id, crypto::SignatureAlgorithm alg,
                           std::string_view data) const override;
  Result<std::string> sign_digest(std::string_view key_id, crypto::SignatureAlgorithm alg,
                                  std::string_view digest) const override;

  // Changes the PIN, re-encrypting every key (see the file comment). Fails with PinIncorrect
  // (old PIN), TokenPinPolicyFailure (new PIN), IoError (nothing changed).
  [[nodiscard]] Status change_pin(std::string_view old_pin, std::string_view new_pin);

  // Stores an existing key on the token (e.g. the development PKI's member keys). Needs a login.
  [[nodiscard]] Result<TokenKey> import_key(const crypto::PrivateKey& key, std::string_view label);

 protected:
  Result<crypto::PrivateKey> key_handle(std::string_view key_id) const override;

 private:
  struct Meta;
  SoftwareToken(SoftwareTokenOptions options, std::unique_ptr<Meta> meta);

  Status check_pin(std::string_view pin) const;  // needs mu_
  Result<TokenKey> store_key(const crypto::PrivateKey& key, std::string_view label);
  Result<crypto::PrivateKey> loaded_key(std::string_view key_id) const;

  SoftwareTokenOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<Meta> meta_;
  // Set while logged in: the key-file passphrase and the decrypted keys.
  std::optional<std::string> passphrase_;
  std::map<std::string, crypto::PrivateKey, std::less<>> keys_;
};

}  // namespace hansa::signer
