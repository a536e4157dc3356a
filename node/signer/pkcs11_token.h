#pragma once

// A PKCS#11 token (HSM, smart card, SoftHSM2) through libp11: keys are generated on the token and
// every private-key operation runs inside it (reference section 1: xroad-signer's PKCS#11 tokens).
// Key ids are the CKA_ID (hex); labels the CKA_LABEL. libp11 0.4.12 generates RSA keys only, so
// EC key generation fails with UnsupportedSignAlgorithm (existing EC keys on the token work).
// Threading: thread-safe: guarded by mu_ (libp11 objects are not thread-safe).

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "node/signer/token.h"

namespace hansa::signer {

struct Pkcs11TokenOptions {
  std::string id;  // token id in the signer; "pkcs11:<label>" when empty
  // The PKCS#11 module (shared library).
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  // The token's label (CKA_LABEL of the token, as set at initialization).
  std::string token_label;
  // Most keys listed from the token.
  std::size_t max_keys = 1024;
};

class Pkcs11Token final : public Token {
 public:
  // Loads the module and finds the token by label. Fails with HsmNonOperational (the module does
  // not load or initialize), TokenNotFound (no token with that label).
  [[nodiscard]] static Result<std::unique_ptr<Pkcs11Token>> open(const Pkcs11TokenOptions& options);
  ~Pkcs11Token() override;

  const std::string& id() const noexcept override { return id_; }
  TokenKind kind() const noexcept override { return TokenKind::kPkcs11; }
  std::string label() const override { return options_.token_label; }
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

 protected:
  Result<crypto::PrivateKey> key_handle(std::string_view key_id) const override;

 private:
  struct Impl;
  Pkcs11Token(Pkcs11TokenOptions options, std::unique_ptr<Impl> impl);
  Result<crypto::PrivateKey> handle_locked(std::string_view key_id) const;

  Pkcs11TokenOptions options_;
  std::string id_;
  mutable std::mutex mu_;
  std::unique_ptr<Impl> impl_;
  bool logged_in_ = false;
};

}  // namespace hansa::signer
