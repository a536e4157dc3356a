#pragma once

// FOR node/signer's OWN .cc FILES AND THE NODE'S TLS SETUP ONLY: never include this from a header.
// Gives OpenSSL access to a token key without exporting key material (a PKCS#11 key's EVP_PKEY
// forwards every private-key operation to the token).

#include <openssl/ssl.h>

#include <string>
#include <string_view>

#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "node/signer/token.h"

namespace hansa::signer {

class Signer;

// The OpenSSL-usable handle of `key_id` on `token` (TokenNotActive when logged out, KeyNotFound).
// A PKCS#11 handle refers to the token's module: it (and any SSL_CTX holding it) must not outlive
// the token.
[[nodiscard]] Result<crypto::PrivateKey> token_key_handle(const Token& token,
                                                          std::string_view key_id);

// Signs with a key handle, mapping OpenSSL failures to token fault codes.
[[nodiscard]] Result<std::string> sign_with_handle(const crypto::PrivateKey& key,
                                                   crypto::SignatureAlgorithm alg,
                                                   std::string_view bytes, bool is_digest);

// Installs the node's active authentication key and certificate chain into `ctx`
// (SSL_CTX_use_certificate, chain certificates, SSL_CTX_use_PrivateKey). Fails with
// KeyNotAvailable / CertNotFound when there is no active registered-or-saved auth certificate with
// a usable key, TokenNotActive when its token is logged out, CryptoError when OpenSSL refuses.
[[nodiscard]] Status use_auth_key(const Signer& signer, SSL_CTX* ctx);

}  // namespace hansa::signer
