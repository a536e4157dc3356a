#include "core/crypto/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/crypto/encoding.h"
#include "core/crypto/native.h"
#include "core/crypto/parse_memo.h"

namespace hansa::crypto {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE-----";

// Certificates already parsed, by DER (see parse_memo.h): peers' chains, signers' certificates and
// CA certificates come back with every message.
constexpr std::size_t kParsedCertificatesKept = 1024;
// Issuers remembered per certificate by is_issued_by() (a certificate has one issuer; a CA
// re-keyed under the same name may add one more).
constexpr std::size_t kVerifiedIssuersKept = 4;

ParseMemo<Certificate::Impl>& parsed_certificates() {
  static ParseMemo<Certificate::Impl> memo(kParsedCertificatesKept);
  return memo;
}

Error bad_cert(std::string message) {
  return Error(FaultCode::kIncorrectCertificate, std::move(message), drain_openssl_errors());
}

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // RFC 2253, but keep UTF-8 as is instead of escaping every non-ASCII byte.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_contents(bio.get());
}

DistinguishedName name_entries(const X509_NAME* name) {
  DistinguishedName out;
  int n = X509_NAME_entry_count(name);
  for (int i = 0; i < n; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    NameEntry entry;
    int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef) {
      entry.type = OBJ_nid2sn(nid);
    } else {
      char buf[128];
      int len = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
      entry.type = len > 0 ? std::string(buf, std::min<std::size_t>(len, sizeof(buf) - 1)) : "?";
    }
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len >= 0 && utf8 != nullptr) {
      entry.value.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
    } else {
      ERR_clear_error();
    }
    out.push_back(std::move(entry));
  }
  return out;
}

TimePoint to_time_point(const ASN1_TIME* t) noexcept {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return TimePoint{};
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

TimePoint time_from_asn1(const ASN1_TIME* t) noexcept { return to_time_point(t); }

Result<Certificate> certificate_from_native(X509Ptr x509) {
  if (!x509) return Error(FaultCode::kIncorrectCertificate, "no certificate");
  unsigned char* der = nullptr;
  int len = i2d_X509(x509.get(), &der);
  if (len <= 0) return bad_cert("cannot encode certificate");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return Certificate::from_der(bytes);
}

Result<Certificate> Certificate::from_der(std::string_view der, const CertificateLimits& limits) {
  if (der.size() > limits.max_der_size) {
    return Error(FaultCode::kLimitExceeded, "certificate exceeds the size limit",
                 std::to_string(der.size()) + " > " + std::to_string(limits.max_der_size));
  }
  if (der.empty()) return Error(FaultCode::kIncorrectCertificate, "empty certificate");
  if (auto known = parsed_certificates().find(der)) {
    return Certificate(std::move(known));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) return bad_cert("malformed DER certificate");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return Error(FaultCode::kIncorrectCertificate, "trailing bytes after DER certificate");
  }
  // Parse and cache the extensions now: later reads from many threads then only read.
  X509_check_purpose(x509.get(), -1, 0);
  if ((X509_get_extension_flags(x509.get()) & EXFLAG_INVALID) != 0) {
    return bad_cert("certificate has invalid extensions");
  }
  ERR_clear_error();
  auto impl = std::make_shared<Impl>();
  impl->x509 = std::move(x509);
  impl->der.assign(der);
  parsed_certificates().insert(der, impl);
  return Certificate(std::move(impl));
}

Result<std::vector<Certificate>> Certificate::bundle_from_pem(std::string_view pem,
                                                              const CertificateLimits& limits) {
  if (pem.size() > limits.max_pem_size) {
    return Error(FaultCode::kLimitExceeded, "PEM text exceeds the size limit",
                 std::to_string(pem.size()) + " > " + std::to_string(limits.max_pem_size));
  }
  std::vector<Certificate> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t begin = pem.find(kPemBegin, pos);
    if (begin == std::string_view::npos) break;
    std::size_t body = begin + kPemBegin.size();
    std::size_t end = pem.find(kPemEnd, body);
    if (end == std::string_view::npos) {
      return Error(FaultCode::kIncorrectCertificate, "PEM certificate block has no END line");
    }
    if (out.size() >= limits.max_bundle_certs) {
      return Error(FaultCode::kLimitExceeded, "too many certificates in PEM bundle",
                   std::to_string(limits.max_bundle_certs));
    }
    auto der = base64_decode(pem.substr(body, end - body));
    if (!der.ok()) {
      return Error(FaultCode::kIncorrectCertificate, "PEM certificate body is not base64");
    }
    HANSA_ASSIGN_OR_RETURN(auto cert, from_der(*der, limits));
    out.push_back(std::move(cert));
    pos = end + kPemEnd.size();
  }
  if (out.empty()) return Error(FaultCode::kIncorrectCertificate, "no PEM certificate found");
  return out;
}

Result<Certificate> Certificate::from_pem(std::string_view pem, const CertificateLimits& limits) {
  if (pem.size() > limits.max_pem_size) {
    return Error(FaultCode::kLimitExceeded, "PEM text exceeds the size limit");
  }
  std::size_t begin = pem.find(kPemBegin);
  if (begin == std::string_view::npos) {
    return Error(FaultCode::kIncorrectCertificate, "no PEM certificate found");
  }
  std::size_t end = pem.find(kPemEnd, begin);
  if (end == std::string_view::npos) {
    return Error(FaultCode::kIncorrectCertificate, "PEM certificate block has no END line");
  }
  CertificateLimits one = limits;
  one.max_bundle_certs = 1;
  HANSA_ASSIGN_OR_RETURN(auto certs,
                         bundle_from_pem(pem.substr(begin, end + kPemEnd.size() - begin), one));
  return std::move(certs.front());
}

Result<Certificate> Certificate::from_base64(std::string_view b64,
                                             const CertificateLimits& limits) {
  if (b64.size() > limits.max_pem_size) {
    return Error(FaultCode::kLimitExceeded, "base64 certificate exceeds the size limit");
  }
  auto der = base64_decode(b64);
  if (!der.ok()) return Error(FaultCode::kIncorrectCertificate, "certificate is not base64");
  return from_der(*der, limits);
}

const std::string& Certificate::der() const noexcept { return impl_->der; }

std::string Certificate::pem() const {
  std::string b64 = base64_encode(impl_->der);
  std::string out(kPemBegin);
  out += '\n';
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += kPemEnd;
  out += '\n';
  return out;
}

std::string Certificate::subject() const {
  return name_to_string(X509_get_subject_name(impl_->x509.get()));
}
std::string Certificate::issuer() const {
  return name_to_string(X509_get_issuer_name(impl_->x509.get()));
}
DistinguishedName Certificate::subject_entries() const {
  return name_entries(X509_get_subject_name(impl_->x509.get()));
}
DistinguishedName Certificate::issuer_entries() const {
  return name_entries(X509_get_issuer_name(impl_->x509.get()));
}

std::optional<std::string> Certificate::subject_field(std::string_view short_name) const {
  for (auto& e : subject_entries()) {
    if (e.type == short_name) return std::move(e.value);
  }
  return std::nullopt;
}

std::string Certificate::serial_hex() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(impl_->x509.get()), nullptr));
  HANSA_CHECK(bn != nullptr);
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // BN_bn2hex pads to whole bytes; X-Road and `openssl ca` compare without leading zeros.
  std::size_t start = out.front() == '-' ? 1 : 0;
  while (out.size() > start + 1 && out[start] == '0') out.erase(start, 1);
  return out;
}

std::string Certificate::serial_decimal() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(impl_->x509.get()), nullptr));
  HANSA_CHECK(bn != nullptr);
  char* dec = BN_bn2dec(bn.get());
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

TimePoint Certificate::not_before() const noexcept {
  return to_time_point(X509_get0_notBefore(impl_->x509.get()));
}
TimePoint Certificate::not_after() const noexcept {
  return to_time_point(X509_get0_notAfter(impl_->x509.get()));
}
bool Certificate::valid_at(TimePoint at) const noexcept {
  return not_before() <= at && at <= not_after();
}

std::string Certificate::fingerprint(DigestAlgorithm alg) const { return digest(alg, impl_->der); }
std::string Certificate::fingerprint_hex(DigestAlgorithm alg) const {
  return hex_encode(fingerprint(alg));
}
std::string Certificate::fingerprint_base64(DigestAlgorithm alg) const {
  return base64_encode(fingerprint(alg));
}

PublicKey Certificate::public_key() const {
  EvpPkeyPtr pkey(X509_get_pubkey(impl_->x509.get()));
  HANSA_CHECK(pkey != nullptr);  // d2i_X509 succeeded, so the key decoded
  return public_key_from_native(std::move(pkey));
}

bool Certificate::is_ca() const noexcept {
  uint32_t flags = X509_get_extension_flags(impl_->x509.get());
  return (flags & EXFLAG_BCONS) != 0 && (flags & EXFLAG_CA) != 0;
}

bool Certificate::has_key_usage_extension() const noexcept {
  return (X509_get_extension_flags(impl_->x509.get()) & EXFLAG_KUSAGE) != 0;
}

std::uint16_t Certificate::key_usage_bits() const noexcept {
  if (!has_key_usage_extension()) return 0;
  uint32_t ku = X509_get_key_usage(impl_->x509.get());
  std::uint16_t out = 0;
  auto map = [&](uint32_t bit, KeyUsage usage) {
    if ((ku & bit) != 0) out |= static_cast<std::uint16_t>(usage);
  };
  map(KU_DIGITAL_SIGNATURE, KeyUsage::kDigitalSignature);
  map(KU_NON_REPUDIATION, KeyUsage::kNonRepudiation);
  map(KU_KEY_ENCIPHERMENT, KeyUsage::kKeyEncipherment);
  map(KU_DATA_ENCIPHERMENT, KeyUsage::kDataEncipherment);
  map(KU_KEY_AGREEMENT, KeyUsage::kKeyAgreement);
  map(KU_KEY_CERT_SIGN, KeyUsage::kKeyCertSign);
  map(KU_CRL_SIGN, KeyUsage::kCrlSign);
  map(KU_ENCIPHER_ONLY, KeyUsage::kEncipherOnly);
  map(KU_DECIPHER_ONLY, KeyUsage::kDecipherOnly);
  return out;
}

bool Certificate::has_key_usage(KeyUsage usage) const noexcept {
  return (key_usage_bits() & static_cast<std::uint16_t>(usage)) != 0;
}

bool Certificate::has_extended_key_usage_extension() const noexcept {
  return (X509_get_extension_flags(impl_->x509.get()) & EXFLAG_XKUSAGE) != 0;
}

bool Certificate::has_extended_key_usage(ExtendedKeyUsage usage) const noexcept {
  if (!has_extended_key_usage_extension()) return false;
  uint32_t xku = X509_get_extended_key_usage(impl_->x509.get());
  switch (usage) {
    case ExtendedKeyUsage::kServerAuth:
      return (xku & XKU_SSL_SERVER) != 0;
    case ExtendedKeyUsage::kClientAuth:
      return (xku & XKU_SSL_CLIENT) != 0;
    case ExtendedKeyUsage::kCodeSigning:
      return (xku & XKU_CODE_SIGN) != 0;
    case ExtendedKeyUsage::kEmailProtection:
      return (xku & XKU_SMIME) != 0;
    case ExtendedKeyUsage::kTimeStamping:
      return (xku & XKU_TIMESTAMP) != 0;
    case ExtendedKeyUsage::kOcspSigning:
      return (xku & XKU_OCSP_SIGN) != 0;
  }
  return false;
}

std::vector<std::string> Certificate::ocsp_urls() const {
  std::vector<std::string> out;
  STACK_OF(OPENSSL_STRING)* urls = X509_get1_ocsp(impl_->x509.get());
  if (urls == nullptr) return out;
  for (int i = 0; i < sk_OPENSSL_STRING_num(urls); ++i) {
    out.emplace_back(sk_OPENSSL_STRING_value(urls, i));
  }
  X509_email_free(urls);
  return out;
}

bool Certificate::is_self_signed() const {
  int known = impl_->self_signed.load(std::memory_order_acquire);
  if (known >= 0) {
    return known == 1;
  }
  bool self = X509_self_signed(impl_->x509.get(), 1) == 1;
  ERR_clear_error();
  impl_->self_signed.store(self ? 1 : 0, std::memory_order_release);
  return self;
}

bool Certificate::is_issued_by(const Certificate& issuer) const {
  if (X509_NAME_cmp(X509_get_issuer_name(impl_->x509.get()),
                    X509_get_subject_name(issuer.impl_->x509.get())) != 0) {
    return false;
  }
  {
    std::lock_guard lock(impl_->issuers_mu);
    for (const auto& der : impl_->verified_issuers) {
      if (der == issuer.impl_->der) {
        return true;
      }
    }
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer.impl_->x509.get());
  bool ok = key != nullptr && X509_verify(impl_->x509.get(), key) == 1;
  ERR_clear_error();
  if (ok) {
    std::lock_guard lock(impl_->issuers_mu);
    if (impl_->verified_issuers.size() < kVerifiedIssuersKept) {
      impl_->verified_issuers.push_back(issuer.impl_->der);
    }
  }
  return ok;
}

bool Certificate::operator==(const Certificate& other) const noexcept {
  return impl_->der == other.impl_->der;
}

}  // namespace hansa::crypto
