#include "core/ocsp/response.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/native.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/parse_memo.h"

namespace hansa::ocsp {

using crypto::BioPtr;
using crypto::OcspBasicRespPtr;
using crypto::OcspCertIdPtr;
using crypto::OcspRequestPtr;
using crypto::OcspResponsePtr;
using crypto::X509Ptr;
using crypto::X509StackPtr;

namespace {

// Reads one certificate from DER or PEM.
Result<X509Ptr> read_cert(std::string_view bytes, std::string_view what) {
  X509Ptr cert;
  if (bytes.substr(0, 11) == "-----BEGIN ") {
    BioPtr bio = crypto::memory_bio(bytes);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  } else {
    // Through Certificate's memo of parsed certificates: the same CA, responder and node
    // certificates are checked for every message.
    auto parsed = crypto::Certificate::from_der(bytes);
    if (!parsed.ok()) {
      return Error(FaultCode::kIncorrectCertificate,
                   std::string("cannot parse ") + std::string(what) + " certificate",
                   parsed.error().to_string());
    }
    X509* x = crypto::native_x509(*parsed);
    if (X509_up_ref(x) == 1) {
      cert.reset(x);
    }
  }
  if (!cert) {
    return crypto::openssl_error(FaultCode::kIncorrectCertificate,
                                 std::string("cannot parse ") + std::string(what) + " certificate");
  }
  return cert;
}

std::string cert_der(X509* cert) {
  unsigned char* out = nullptr;
  int len = i2d_X509(cert, &out);
  if (len <= 0) {
    return {};
  }
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

std::optional<TimePoint> to_time_point(const ASN1_TIME* t) {
  if (t == nullptr) {
    return std::nullopt;
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return std::nullopt;
  }
  return Clock::from_time_t(timegm(&tm));
}

std::string format_time(TimePoint t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return crypto::bio_contents(bio.get());
}

std::string asn1_string_bytes(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string serial_to_hex(const ASN1_INTEGER* serial) {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

const char* reason_name(RevocationReason reason) {
  switch (reason) {
    case RevocationReason::kNone:
      return "none given";
    case RevocationReason::kUnspecified:
      return "unspecified";
    case RevocationReason::kKeyCompromise:
      return "keyCompromise";
    case RevocationReason::kCaCompromise:
      return "cACompromise";
    case RevocationReason::kAffiliationChanged:
      return "affiliationChanged";
    case RevocationReason::kSuperseded:
      return "superseded";
    case RevocationReason::kCessationOfOperation:
      return "cessationOfOperation";
    case RevocationReason::kCertificateHold:
      return "certificateHold";
    case RevocationReason::kRemoveFromCrl:
      return "removeFromCRL";
    case RevocationReason::kPrivilegeWithdrawn:
      return "privilegeWithdrawn";
    case RevocationReason::kAaCompromise:
      return "aACompromise";
  }
  return "other";
}

// True when `responder` may sign for certificates of `issuer` by delegation (RFC 6960 4.2.2.2):
// issued and signed by the CA and carrying id-kp-OCSPSigning.
bool is_delegated_responder(X509* responder, X509* issuer) {
  if (X509_check_issued(issuer, responder) != X509_V_OK) {
    return false;
  }
  EVP_PKEY* ca_key = X509_get0_pubkey(issuer);
  if (ca_key == nullptr || X509_verify(responder, ca_key) != 1) {
    ERR_clear_error();
    return false;
  }
  if ((X509_get_extension_flags(responder) & EXFLAG_XKUSAGE) == 0) {
    return false;
  }
  return (X509_get_extended_key_usage(responder) & XKU_OCSP_SIGN) != 0;
}

bool within_validity(X509* cert, TimePoint at) {
  std::time_t t = Clock::to_time_t(at);
  return X509_cmp_time(X509_get0_notBefore(cert), &t) <= 0 &&
         X509_cmp_time(X509_get0_notAfter(cert), &t) >= 0;
}

}  // namespace

struct OcspResponse::Impl {
  std::string der;
  OcspResponsePtr response;
  OcspBasicRespPtr basic;
  OCSP_SINGLERESP* single = nullptr;  // owned by `basic`
  CertStatus status = CertStatus::kUnknown;
  TimePoint this_update;
  std::optional<TimePoint> next_update;
  TimePoint produced_at;
  std::optional<TimePoint> revocation_time;
  RevocationReason reason = RevocationReason::kNone;
  std::string responder;
  std::string serial_hex;
};

std::string_view cert_status_name(CertStatus status) noexcept {
  switch (status) {
    case CertStatus::kGood:
      return "good";
    case CertStatus::kRevoked:
      return "revoked";
    case CertStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Result<std::string> build_request(std::string_view cert, std::string_view issuer) {
  HANSA_ASSIGN_OR_RETURN(X509Ptr subject, read_cert(cert, "subject"));
  HANSA_ASSIGN_OR_RETURN(X509Ptr ca, read_cert(issuer, "issuer"));
  OcspRequestPtr req(OCSP_REQUEST_new());
  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), subject.get(), ca.get()));
  if (!req || !id) {
    return crypto::openssl_error(FaultCode::kOcspFailed, "cannot build OCSP CertID");
  }
  // OCSP_request_add0_id takes ownership of the CertID on success.
  if (OCSP_request_add0_id(req.get(), id.get()) == nullptr) {
    return crypto::openssl_error(FaultCode::kOcspFailed, "cannot build OCSP request");
  }
  id.release();
  unsigned char* out = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &out);
  if (len <= 0) {
    return crypto::openssl_error(FaultCode::kOcspFailed, "cannot encode OCSP request");
  }
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

Result<std::string> cert_hash(std::string_view cert) {
  HANSA_ASSIGN_OR_RETURN(X509Ptr x, read_cert(cert, "subject"));
  return crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha1, cert_der(x.get())));
}

namespace {

// Responses already parsed, by DER (see core/crypto/parse_memo.h): a node attaches the same
// response to every message until it fetches a new one.
constexpr std::size_t kParsedResponsesKept = 1024;

crypto::ParseMemo<OcspResponse::Impl>& parsed_responses() {
  static crypto::ParseMemo<OcspResponse::Impl> memo(kParsedResponsesKept);
  return memo;
}

}  // namespace

Result<OcspResponse> OcspResponse::parse(std::string_view der, std::size_t max_bytes) {
  if (der.size() > max_bytes) {
    return Error(FaultCode::kLimitExceeded, "OCSP response too large",
                 std::to_string(der.size()) + " bytes, limit " + std::to_string(max_bytes));
  }
  if (auto known = parsed_responses().find(der)) {
    return OcspResponse(std::move(known));
  }
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der);
  const auto* p = reinterpret_cast<const unsigned char*>(impl->der.data());
  const unsigned char* end = p + impl->der.size();
  impl->response.reset(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(impl->der.size())));
  if (!impl->response || p != end) {
    return crypto::openssl_error(FaultCode::kOcspFailed, "malformed OCSP response");
  }
  int rs = OCSP_response_status(impl->response.get());
  if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Error(FaultCode::kOcspFailed, "OCSP responder refused the request",
                 std::string("responseStatus ") + OCSP_response_status_str(rs));
  }
  impl->basic.reset(OCSP_response_get1_basic(impl->response.get()));
  if (!impl->basic) {
    return crypto::openssl_error(FaultCode::kOcspFailed, "OCSP response is not a basic response");
  }
  if (OCSP_resp_count(impl->basic.get()) < 1) {
    return Error(FaultCode::kOcspFailed, "OCSP response holds no SingleResponse");
  }
  impl->single = OCSP_resp_get0(impl->basic.get(), 0);
  int reason = -1;
  ASN1_GENERALIZEDTIME* revtime = nullptr;
  ASN1_GENERALIZEDTIME* thisupd = nullptr;
  ASN1_GENERALIZEDTIME* nextupd = nullptr;
  int st = OCSP_single_get0_status(impl->single, &reason, &revtime, &thisupd, &nextupd);
  switch (st) {
    case V_OCSP_CERTSTATUS_GOOD:
      impl->status = CertStatus::kGood;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      impl->status = CertStatus::kRevoked;
      impl->reason = static_cast<RevocationReason>(reason);
      impl->revocation_time = to_time_point(revtime);
      if (!impl->revocation_time) {
        return Error(FaultCode::kOcspFailed, "OCSP response has a bad revocationTime");
      }
      break;
    case V_OCSP_CERTSTATUS_UNKNOWN:
      impl->status = CertStatus::kUnknown;
      break;
    default:
      return Error(FaultCode::kOcspFailed, "OCSP response has no certificate status");
  }
  auto tu = to_time_point(thisupd);
  auto pa = to_time_point(OCSP_resp_get0_produced_at(impl->basic.get()));
  if (!tu || !pa) {
    return Error(FaultCode::kOcspFailed, "OCSP response has a bad thisUpdate or producedAt");
  }
  impl->this_update = *tu;
  impl->produced_at = *pa;
  if (nextupd != nullptr) {
    impl->next_update = to_time_point(nextupd);
    if (!impl->next_update) {
      return Error(FaultCode::kOcspFailed, "OCSP response has a bad nextUpdate");
    }
  }
  const ASN1_OCTET_STRING* key_hash = nullptr;
  const X509_NAME* name = nullptr;
  if (OCSP_resp_get0_id(impl->basic.get(), &key_hash, &name) != 1) {
    return Error(FaultCode::kOcspFailed, "OCSP response has no ResponderID");
  }
  impl->responder = name != nullptr ? "name:" + name_to_string(name)
                                    : "key:" + crypto::hex_encode(asn1_string_bytes(key_hash));
  ASN1_INTEGER* serial = nullptr;
  OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial,
                    const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(impl->single)));
  if (serial != nullptr) {
    impl->serial_hex = serial_to_hex(serial);
  }
  parsed_responses().insert(impl->der, impl);
  return OcspResponse(std::move(impl));
}

const std::string& OcspResponse::der() const noexcept { return impl_->der; }
CertStatus OcspResponse::status() const noexcept { return impl_->status; }
TimePoint OcspResponse::this_update() const noexcept { return impl_->this_update; }
std::optional<TimePoint> OcspResponse::next_update() const noexcept { return impl_->next_update; }
TimePoint OcspResponse::produced_at() const noexcept { return impl_->produced_at; }
std::optional<TimePoint> OcspResponse::revocation_time() const noexcept {
  return impl_->revocation_time;
}
RevocationReason OcspResponse::revocation_reason() const noexcept { return impl_->reason; }
const std::string& OcspResponse::responder() const noexcept { return impl_->responder; }
const std::string& OcspResponse::serial_hex() const noexcept { return impl_->serial_hex; }

// RFC 6960 3.2 (items 1, 2, 4, 5 and 6).
Result<std::string> verify_validity(const OcspResponse& response, std::string_view cert,
                                    std::string_view issuer, TimePoint at,
                                    const VerifyOptions& options) {
  const OcspResponse::Impl& r = *response.impl_;
  HANSA_ASSIGN_OR_RETURN(X509Ptr subject, read_cert(cert, "subject"));
  HANSA_ASSIGN_OR_RETURN(X509Ptr ca, read_cert(issuer, "issuer"));

  // 1. The response is about this certificate: the CertID, recomputed with the hash the
  //    responder used, matches.
  ASN1_OBJECT* md_obj = nullptr;
  OCSP_id_get0_info(nullptr, &md_obj, nullptr, nullptr,
                    const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(r.single)));
  const EVP_MD* md = md_obj != nullptr ? EVP_get_digestbyobj(md_obj) : nullptr;
  if (md == nullptr) {
    return Error(FaultCode::kCertValidation, "OCSP response uses an unsupported CertID hash");
  }
  OcspCertIdPtr expected(OCSP_cert_to_id(md, subject.get(), ca.get()));
  if (!expected || OCSP_id_cmp(expected.get(), OCSP_SINGLERESP_get0_id(r.single)) != 0) {
    return Error(FaultCode::kCertValidation, "OCSP response does not apply to the certificate",
                 "serial in response " + r.serial_hex);
  }

  // 2 and 4. Find the signer named by the ResponderID among the CA, the configured responders
  //    and the certificates in the response; it must be the CA, a configured responder or a
  //    responder the CA delegated.
  const ASN1_OCTET_STRING* key_hash = nullptr;
  const X509_NAME* name = nullptr;
  OCSP_resp_get0_id(r.basic.get(), &key_hash, &name);
  auto matches_id = [&](X509* c) {
    if (name != nullptr) {
      return X509_NAME_cmp(name, X509_get_subject_name(c)) == 0;
    }
    unsigned char sha1[SHA_DIGEST_LENGTH];
    if (X509_pubkey_digest(c, EVP_sha1(), sha1, nullptr) != 1) {
      return false;
    }
    return ASN1_STRING_length(key_hash) == SHA_DIGEST_LENGTH &&
           std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(key_hash)),
                            SHA_DIGEST_LENGTH) ==
               std::string_view(reinterpret_cast<const char*>(sha1), SHA_DIGEST_LENGTH);
  };

  std::vector<X509Ptr> trusted;
  for (const std::string& t : options.trusted_responders) {
    HANSA_ASSIGN_OR_RETURN(X509Ptr c, read_cert(t, "responder"));
    trusted.push_back(std::move(c));
  }

  X509* signer = nullptr;
  std::string why_rejected = "no certificate matches the ResponderID";
  if (matches_id(ca.get())) {
    signer = ca.get();
  }
  for (std::size_t i = 0; signer == nullptr && i < trusted.size(); ++i) {
    if (matches_id(trusted[i].get())) {
      signer = trusted[i].get();
    }
  }
  const STACK_OF(X509)* included = OCSP_resp_get0_certs(r.basic.get());
  for (int i = 0; signer == nullptr && i < sk_X509_num(included); ++i) {
    X509* c = sk_X509_value(included, i);
    if (!matches_id(c)) {
      continue;
    }
    if (!is_delegated_responder(c, ca.get())) {
      why_rejected = "responder certificate is not an OCSP signer delegated by the issuer";
      continue;
    }
    if (!within_validity(c, at)) {
      why_rejected = "delegated responder certificate is not valid at the verification time";
      continue;
    }
    signer = c;
  }
  if (signer == nullptr) {
    return Error(FaultCode::kCertValidation, "OCSP responder is not authorized for the CA",
                 why_rejected + " (" + r.responder + ")");
  }

  // 2. The signature on the response verifies with the signer's key.
  X509StackPtr signer_stack(sk_X509_new_null());
  if (!signer_stack || sk_X509_push(signer_stack.get(), signer) <= 0) {
    return crypto::openssl_error(FaultCode::kInternalError, "out of memory");
  }
  X509_up_ref(signer);
  if (OCSP_basic_verify(r.basic.get(), signer_stack.get(), nullptr,
                        OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_NOCHECKS) != 1) {
    return crypto::openssl_error(FaultCode::kCertValidation,
                                 "signature on OCSP response is not valid");
  }
  ERR_clear_error();

  // 5. thisUpdate is recent enough (X-Road's ocspFreshnessSeconds).
  if (r.this_update < at - std::chrono::seconds(options.ocsp_freshness_seconds)) {
    return Error(FaultCode::kCertValidation, "OCSP response is too old",
                 "thisUpdate " + format_time(r.this_update) + ", verified at " + format_time(at));
  }
  // A thisUpdate in the future (beyond the allowed clock skew) is not trustworthy either.
  if (r.this_update > at + std::chrono::seconds(options.max_clock_skew_seconds)) {
    return Error(FaultCode::kCertValidation, "OCSP response thisUpdate is in the future",
                 "thisUpdate " + format_time(r.this_update) + ", verified at " + format_time(at));
  }
  // 6. nextUpdate, when present, is not in the past (X-Road's verifyNextUpdate).
  if (options.verify_next_update && r.next_update && *r.next_update < at) {
    return Error(FaultCode::kCertValidation, "OCSP response nextUpdate is in the past",
                 "nextUpdate " + format_time(*r.next_update) + ", verified at " + format_time(at));
  }
  return cert_der(signer);
}

StableWindow stable_window(const OcspResponse& response, const VerifyOptions& options,
                           std::string_view signer_der,
                           const std::vector<crypto::Certificate>& chain) {
  auto signer = crypto::Certificate::from_der(signer_der);
  if (!signer.ok()) {
    return StableWindow{TimePoint::max(), TimePoint::min()};
  }
  StableWindow w{signer->not_before(), signer->not_after()};
  for (const auto& c : chain) {
    w.from = std::max(w.from, c.not_before());
    w.until = std::min(w.until, c.not_after());
  }
  const TimePoint this_update = response.this_update();
  w.from = std::max(w.from, this_update - std::chrono::seconds(options.max_clock_skew_seconds));
  w.until = std::min(w.until, this_update + std::chrono::seconds(options.ocsp_freshness_seconds));
  if (options.verify_next_update && response.next_update()) {
    w.until = std::min(w.until, *response.next_update());
  }
  return w;
}

Status verify(const OcspResponse& response, std::string_view cert, std::string_view issuer,
              TimePoint at, const VerifyOptions& options) {
  HANSA_ASSIGN_OR_RETURN(std::string signer, verify_validity(response, cert, issuer, at, options));
  (void)signer;
  switch (response.status()) {
    case CertStatus::kGood:
      return ok_status();
    case CertStatus::kRevoked:
      return Error(
          FaultCode::kCertValidation, "OCSP response indicates certificate status is revoked",
          "revoked at " + format_time(*response.revocation_time()) + ", reason " +
              reason_name(response.revocation_reason()) + ", serial " + response.serial_hex());
    case CertStatus::kUnknown:
      return Error(FaultCode::kCertValidation,
                   "OCSP response indicates certificate status is unknown",
                   "serial " + response.serial_hex());
  }
  return Error(FaultCode::kCertValidation, "OCSP response has an invalid status");
}

}  // namespace hansa::ocsp
