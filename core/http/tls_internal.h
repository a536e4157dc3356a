#pragma once

// Internal to core/http (include only from its .cc files): PEM loading and TLS context setup shared
// by the server and the client. OpenSSL types appear here, never in the public headers.

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/openssl_ptr.h"
#include "core/errors/errors.h"
#include "core/http/http.h"

namespace hansa::http::internal {

// Every certificate in a PEM text, in order; fails with InvalidCertificate when none parses.
[[nodiscard]] Result<std::vector<crypto::X509Ptr>> parse_pem_certs(std::string_view pem);

// A private key from PEM; fails with InvalidKey.
[[nodiscard]] Result<crypto::EvpPkeyPtr> parse_pem_key(std::string_view pem);

// A store holding the given trust anchors.
[[nodiscard]] Result<crypto::X509StorePtr> make_store(std::string_view ca_pem);

// Sets certificate chain and key on `ctx`; checks they match.
[[nodiscard]] Status use_cert_chain_and_key(SSL_CTX* ctx, std::string_view chain_pem,
                                            std::string_view key_pem);

// DER of one certificate.
[[nodiscard]] std::string to_der(X509* cert);

// What the certificate verification callback checks (owned by the server or client; must outlive
// every connection).
struct VerifyPolicy {
  crypto::X509StorePtr store;           // chain must verify when set
  std::vector<std::string> pinned_der;  // leaf must equal one of these when non-empty
  std::string host;                     // when set, the leaf must match this name or IP
  PeerVerifier hook;                    // called last when set
  bool server_side = false;             // purpose sslclient (server checking clients) vs sslserver
};

// Installs `policy` as the complete certificate verification of `ctx` (replacing OpenSSL's
// default), asking the peer for a certificate and failing the handshake when it is missing.
void install_verify_policy(SSL_CTX* ctx, VerifyPolicy* policy);

}  // namespace hansa::http::internal
