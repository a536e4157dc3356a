#include "core/crypto/trust_store.h"

#include <openssl/err.h>

#include <chrono>

#include "core/crypto/native.h"

namespace hansa::crypto {
namespace {

std::string chain_error_message(int err) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate not yet valid";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "untrusted issuer";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "certificate signature does not verify";
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
      return "issuer is not a valid CA";
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return "certificate chain too long";
    default:
      return std::string("certificate chain invalid: ") + X509_verify_cert_error_string(err);
  }
}

std::string subject_of(X509* cert) {
  if (cert == nullptr) return "(unknown certificate)";
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_contents(bio.get());
}

Error wrong_usage(const Certificate& leaf, std::string_view what) {
  return Error(FaultCode::kWrongCertUsage,
               "certificate not usable " + std::string(what) + ": " + leaf.subject());
}

}  // namespace

X509StackPtr to_x509_stack(const std::vector<Certificate>& certs) {
  X509StackPtr stack(sk_X509_new_null());
  HANSA_CHECK(stack != nullptr);
  for (const auto& c : certs) {
    X509* x = native_x509(c);
    HANSA_CHECK(X509_up_ref(x) == 1);
    if (sk_X509_push(stack.get(), x) <= 0) {
      X509_free(x);
      HANSA_CHECK(false);
    }
  }
  return stack;
}

X509StorePtr to_x509_store(const TrustStore& store) {
  X509StorePtr s(X509_STORE_new());
  HANSA_CHECK(s != nullptr);
  for (const auto& a : store.anchors()) {
    // Adding a duplicate fails harmlessly; OpenSSL keeps the first.
    X509_STORE_add_cert(s.get(), native_x509(a));
  }
  ERR_clear_error();
  X509_STORE_set_flags(s.get(), X509_V_FLAG_PARTIAL_CHAIN);
  return s;
}

void TrustStore::add_anchor(Certificate cert) { anchors_.push_back(std::move(cert)); }
void TrustStore::add_intermediate(Certificate cert) { intermediates_.push_back(std::move(cert)); }

Status TrustStore::check_purpose(const Certificate& leaf, CertPurpose purpose) {
  auto ku = [&](KeyUsage u) { return leaf.has_key_usage(u); };
  auto eku_allows = [&](ExtendedKeyUsage u) {
    return !leaf.has_extended_key_usage_extension() || leaf.has_extended_key_usage(u);
  };
  switch (purpose) {
    case CertPurpose::kAny:
      return ok_status();
    case CertPurpose::kSigning:
      if (!leaf.has_key_usage_extension() ||
          !(ku(KeyUsage::kNonRepudiation) || ku(KeyUsage::kDigitalSignature))) {
        return wrong_usage(leaf, "for signing (needs nonRepudiation or digitalSignature)");
      }
      return ok_status();
    case CertPurpose::kAuthentication:
      if (!leaf.has_key_usage_extension() || !ku(KeyUsage::kDigitalSignature) ||
          !eku_allows(ExtendedKeyUsage::kClientAuth)) {
        return wrong_usage(leaf, "for authentication (needs digitalSignature and clientAuth)");
      }
      return ok_status();
    case CertPurpose::kTlsServer:
      if (!leaf.has_key_usage_extension() ||
          !(ku(KeyUsage::kDigitalSignature) || ku(KeyUsage::kKeyEncipherment)) ||
          !eku_allows(ExtendedKeyUsage::kServerAuth)) {
        return wrong_usage(leaf, "as TLS server (needs digitalSignature and serverAuth)");
      }
      return ok_status();
    case CertPurpose::kOcspSigning:
      if (!leaf.has_extended_key_usage(ExtendedKeyUsage::kOcspSigning)) {
        return wrong_usage(leaf, "for OCSP signing (needs OCSPSigning)");
      }
      return ok_status();
    case CertPurpose::kTimeStamping:
      if (!leaf.has_extended_key_usage(ExtendedKeyUsage::kTimeStamping)) {
        return wrong_usage(leaf, "for time-stamping (needs timeStamping)");
      }
      return ok_status();
    case CertPurpose::kCa:
      if (!leaf.is_ca() || (leaf.has_key_usage_extension() && !ku(KeyUsage::kKeyCertSign))) {
        return wrong_usage(leaf, "as CA (needs cA=TRUE and keyCertSign)");
      }
      return ok_status();
  }
  return wrong_usage(leaf, "for an unknown purpose");
}

Result<std::vector<Certificate>> TrustStore::verify(const Certificate& leaf, TimePoint at,
                                                    CertPurpose purpose,
                                                    const std::vector<Certificate>& extra) const {
  if (anchors_.empty()) {
    return Error(FaultCode::kCertValidation, "untrusted issuer: no trust anchors configured",
                 leaf.subject());
  }
  X509StorePtr store = to_x509_store(*this);
  const std::vector<Certificate> untrusted_certs = [&] {
    std::vector<Certificate> all = extra;
    all.insert(all.end(), intermediates_.begin(), intermediates_.end());
    return all;
  }();
  X509StackPtr untrusted = to_x509_stack(untrusted_certs);

  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  HANSA_CHECK(ctx != nullptr);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), native_x509(leaf), untrusted.get()) != 1) {
    return openssl_error(FaultCode::kCryptoError, "cannot set up chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  X509_VERIFY_PARAM_set_depth(param, limits_.max_chain_depth);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);

  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    ERR_clear_error();
    return Error(
        FaultCode::kCertValidation,
        chain_error_message(err) + ": " + subject_of(bad == nullptr ? native_x509(leaf) : bad),
        std::string(X509_verify_cert_error_string(err)) + " (depth " + std::to_string(depth) + ")");
  }

  std::vector<Certificate> chain;
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* x = sk_X509_value(built, i);
    const Certificate* known = nullptr;
    if (x == native_x509(leaf)) known = &leaf;
    for (const std::vector<Certificate>* list : {&untrusted_certs, &anchors_}) {
      for (const auto& c : *list) {
        if (known == nullptr && native_x509(c) == x) known = &c;
      }
    }
    if (known != nullptr) {
      chain.push_back(*known);
    } else {
      X509_up_ref(x);
      HANSA_ASSIGN_OR_RETURN(auto c, certificate_from_native(X509Ptr(x)));
      chain.push_back(std::move(c));
    }
  }
  HANSA_RETURN_IF_ERROR(check_purpose(leaf, purpose));
  return chain;
}

std::optional<Certificate> TrustStore::find_issuer(const Certificate& cert) const {
  for (const std::vector<Certificate>* list : {&anchors_, &intermediates_}) {
    for (const auto& c : *list) {
      if (cert.is_issued_by(c)) return c;
    }
  }
  return std::nullopt;
}

}  // namespace hansa::crypto
