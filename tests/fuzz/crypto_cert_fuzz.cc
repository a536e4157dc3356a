// Fuzz target: certificates and certificate requests (core/crypto Certificate::from_der,
// from_pem, bundle_from_pem, from_base64; CertificateRequest::from_der, from_pem).
// Invariant: a parsed certificate or CSR re-parses from its own DER and PEM to an equal value,
// and reading its fields never fails.

#include <cstddef>
#include <cstdint>

#include "core/crypto/certificate.h"
#include "core/crypto/csr.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace crypto = hansa::crypto;

void check_certificate(const crypto::Certificate& cert) {
  auto from_der = crypto::Certificate::from_der(cert.der());
  invariant(from_der.ok() && *from_der == cert, "certificate DER round-trips");
  auto from_pem = crypto::Certificate::from_pem(cert.pem());
  invariant(from_pem.ok() && *from_pem == cert, "certificate PEM round-trips");
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.subject_entries();
  (void)cert.issuer_entries();
  (void)cert.subject_field("CN");
  (void)cert.serial_hex();
  (void)cert.serial_decimal();
  invariant(cert.valid_at(cert.not_before()) == (cert.not_before() <= cert.not_after()),
            "valid_at agrees with the validity period");
  (void)cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256);
  (void)cert.public_key();
  (void)cert.is_ca();
  (void)cert.key_usage_bits();
  (void)cert.has_extended_key_usage(crypto::ExtendedKeyUsage::kOcspSigning);
  (void)cert.ocsp_urls();
  (void)cert.is_self_signed();
  (void)cert.is_issued_by(cert);
}

void check_request(const crypto::CertificateRequest& csr) {
  auto from_der = crypto::CertificateRequest::from_der(csr.der());
  invariant(from_der.ok() && from_der->der() == csr.der(), "CSR DER round-trips");
  auto from_pem = crypto::CertificateRequest::from_pem(csr.pem());
  invariant(from_pem.ok() && from_pem->der() == csr.der(), "CSR PEM round-trips");
  (void)csr.subject();
  (void)csr.subject_entries();
  (void)csr.public_key();
  (void)csr.verify_signature();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = hansa::fuzz::as_view(data, size);
  const crypto::CertificateLimits limits{
      .max_der_size = 64 * 1024, .max_pem_size = 128 * 1024, .max_bundle_certs = 4};

  if (auto cert = crypto::Certificate::from_der(input, limits); cert.ok()) {
    invariant(cert->der() == input, "a DER certificate keeps its bytes");
    check_certificate(*cert);
  }
  if (auto cert = crypto::Certificate::from_pem(input, limits); cert.ok()) {
    check_certificate(*cert);
  }
  if (auto bundle = crypto::Certificate::bundle_from_pem(input, limits); bundle.ok()) {
    invariant(!bundle->empty() && bundle->size() <= limits.max_bundle_certs, "bundle limits");
  }
  if (auto cert = crypto::Certificate::from_base64(input, limits); cert.ok()) {
    check_certificate(*cert);
  }
  if (auto csr = crypto::CertificateRequest::from_der(input); csr.ok()) {
    check_request(*csr);
  }
  if (auto csr = crypto::CertificateRequest::from_pem(input); csr.ok()) {
    check_request(*csr);
  }
  return 0;
}
