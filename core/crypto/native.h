#pragma once

// Access to the OpenSSL handles behind Hansa's crypto types. FOR HANSA'S OWN .cc FILES ONLY (OCSP,
// time-stamp, TLS and xmlsec glue): never include this from a header. Borrowed pointers stay valid
// as long as the owning Hansa value (or a copy of it) lives; treat them as read-only, they are
// shared between copies and threads.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/csr.h"
#include "core/crypto/key.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/trust_store.h"

namespace hansa::crypto {

struct PublicKey::Impl {
  EvpPkeyPtr pkey;
};
struct PrivateKey::Impl {
  EvpPkeyPtr pkey;
};
struct Certificate::Impl {
  X509Ptr x509;
  std::string der;
  // Memo of the signature checks (the same certificates are checked for every message):
  // is_self_signed() (-1 not yet known) and the issuers whose signature on this certificate
  // verified (their DER; a few at most).
  mutable std::atomic<int> self_signed{-1};
  mutable std::mutex issuers_mu;
  mutable std::vector<std::string> verified_issuers;
};
struct CertificateRequest::Impl {
  X509ReqPtr req;
  std::string der;
};

// Borrowed handles.
[[nodiscard]] inline X509* native_x509(const Certificate& cert) noexcept {
  return cert.impl().x509.get();
}
[[nodiscard]] inline EVP_PKEY* native_pkey(const PrivateKey& key) noexcept {
  return key.impl().pkey.get();
}
[[nodiscard]] inline EVP_PKEY* native_pkey(const PublicKey& key) noexcept {
  return key.impl().pkey.get();
}
[[nodiscard]] inline X509_REQ* native_req(const CertificateRequest& req) noexcept {
  return req.impl().req.get();
}

// The digest implementation for `alg`, fetched once per process (shared, never freed).
[[nodiscard]] const EVP_MD* fetched_md(DigestAlgorithm alg);

// Wrap OpenSSL objects (takes ownership). A certificate is re-encoded to fill der().
[[nodiscard]] Result<Certificate> certificate_from_native(X509Ptr x509);
[[nodiscard]] PrivateKey private_key_from_native(EvpPkeyPtr pkey);
[[nodiscard]] PublicKey public_key_from_native(EvpPkeyPtr pkey);

// A new STACK_OF(X509) holding references to `certs` (e.g. for OCSP_basic_verify, TS_VERIFY_CTX,
// SSL_CTX chains).
[[nodiscard]] X509StackPtr to_x509_stack(const std::vector<Certificate>& certs);

// A new X509_STORE with the store's anchors as trusted certificates (partial chains allowed);
// the intermediates are not added (pass them as untrusted via to_x509_stack).
[[nodiscard]] X509StorePtr to_x509_store(const TrustStore& store);

// Time point <-> ASN1_TIME / time_t helpers used across the OCSP and TSA code.
[[nodiscard]] TimePoint time_from_asn1(const ASN1_TIME* t) noexcept;

}  // namespace hansa::crypto
