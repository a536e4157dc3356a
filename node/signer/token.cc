#include "node/signer/token.h"

#include "node/signer/internal.h"

namespace hansa::signer {

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kSoftware:
      return "software";
    case TokenKind::kPkcs11:
      return "pkcs11";
  }
  return "unknown";
}

std::string_view key_algorithm_name(KeyAlgorithm alg) noexcept {
  switch (alg) {
    case KeyAlgorithm::kRsa2048:
      return "RSA-2048";
    case KeyAlgorithm::kRsa3072:
      return "RSA-3072";
    case KeyAlgorithm::kEcP256:
      return "EC-P256";
  }
  return "unknown";
}

Result<KeyAlgorithm> key_algorithm_from_name(std::string_view name) {
  for (KeyAlgorithm a : {KeyAlgorithm::kRsa2048, KeyAlgorithm::kRsa3072, KeyAlgorithm::kEcP256}) {
    if (key_algorithm_name(a) == name) {
      return a;
    }
  }
  return Error(FaultCode::kInvalidRequest, "unknown key algorithm (RSA-2048, RSA-3072, EC-P256)",
               std::string(name));
}

Result<crypto::PrivateKey> token_key_handle(const Token& token, std::string_view key_id) {
  return token.key_handle(key_id);
}

Result<std::string> sign_with_handle(const crypto::PrivateKey& key, crypto::SignatureAlgorithm alg,
                                     std::string_view bytes, bool is_digest) {
  if (crypto::signature_key_type(alg) != key.type()) {
    return Error(FaultCode::kUnsupportedSignAlgorithm,
                 "the signature algorithm does not fit the key type",
                 std::string(crypto::signature_id(alg)));
  }
  return is_digest ? key.sign_digest(alg, bytes) : key.sign(alg, bytes);
}

}  // namespace hansa::signer
