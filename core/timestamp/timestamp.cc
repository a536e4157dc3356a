#include "core/timestamp/timestamp.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cctype>
#include <ctime>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/random.h"

namespace hansa::timestamp {

using crypto::BignumPtr;
using crypto::BioPtr;
using crypto::Pkcs7Ptr;
using crypto::TsReqPtr;
using crypto::TsRespPtr;
using crypto::TsTstInfoPtr;
using crypto::X509Ptr;
using crypto::X509StackPtr;
using crypto::X509StorePtr;

namespace {

// Size of the random nonce (RFC 3161 recommends at least 64 bits).
constexpr std::size_t kNonceBytes = 8;

int digest_nid(crypto::DigestAlgorithm alg) {
  switch (alg) {
    case crypto::DigestAlgorithm::kSha1:
      return NID_sha1;
    case crypto::DigestAlgorithm::kSha224:
      return NID_sha224;
    case crypto::DigestAlgorithm::kSha256:
      return NID_sha256;
    case crypto::DigestAlgorithm::kSha384:
      return NID_sha384;
    case crypto::DigestAlgorithm::kSha512:
      return NID_sha512;
  }
  return NID_undef;
}

std::optional<crypto::DigestAlgorithm> digest_from_nid(int nid) {
  switch (nid) {
    case NID_sha1:
      return crypto::DigestAlgorithm::kSha1;
    case NID_sha224:
      return crypto::DigestAlgorithm::kSha224;
    case NID_sha256:
      return crypto::DigestAlgorithm::kSha256;
    case NID_sha384:
      return crypto::DigestAlgorithm::kSha384;
    case NID_sha512:
      return crypto::DigestAlgorithm::kSha512;
    default:
      return std::nullopt;
  }
}

Result<X509Ptr> read_cert(std::string_view bytes) {
  X509Ptr cert;
  if (bytes.substr(0, 11) == "-----BEGIN ") {
    BioPtr bio = crypto::memory_bio(bytes);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const unsigned char* end = p + bytes.size();
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    if (cert && p != end) {
      cert.reset();
    }
  }
  if (!cert) {
    return crypto::openssl_error(FaultCode::kIncorrectCertificate,
                                 "cannot parse approved TSA certificate");
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

std::string integer_bytes(const ASN1_INTEGER* i) {
  if (i == nullptr) {
    return {};
  }
  BignumPtr bn(ASN1_INTEGER_to_BN(i, nullptr));
  if (!bn) {
    return {};
  }
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string oid_text(const ASN1_OBJECT* obj) {
  if (obj == nullptr) {
    return {};
  }
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return n > 0 && static_cast<std::size_t>(n) < sizeof buf ? std::string(buf, n) : std::string();
}

std::optional<TimePoint> to_time_point(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) {
    return std::nullopt;
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return std::nullopt;
  }
  return Clock::from_time_t(timegm(&tm));
}

// Reads one DER tag-length header at `pos`; returns the header length and sets `content_len`.
// Only definite lengths below 2^32 (what RFC 3161 replies use).
std::optional<std::size_t> der_header(std::string_view der, std::size_t pos,
                                      std::size_t& content_len) {
  if (pos + 2 > der.size()) {
    return std::nullopt;
  }
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(der[i]); };
  std::size_t len_byte = byte(pos + 1);
  if (len_byte < 0x80) {
    content_len = len_byte;
    return 2;
  }
  std::size_t n = len_byte & 0x7f;
  if (n == 0 || n > 4 || pos + 2 + n > der.size()) {
    return std::nullopt;
  }
  content_len = 0;
  for (std::size_t i = 0; i < n; ++i) {
    content_len = (content_len << 8) | byte(pos + 2 + i);
  }
  return 2 + n;
}

// The OpenSSL error queue including each error's data text ("Verify error:certificate has
// expired"), which names the actual reason of a failed token verification.
std::string drain_errors_with_data() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
  }
  return out;
}

Result<TimestampRequest> make_request(std::string_view imprint, const RequestOptions& options) {
  int nid = digest_nid(options.digest);
  if (imprint.size() != crypto::digest_size(options.digest)) {
    return Error(FaultCode::kInvalidRequest, "message imprint has the wrong length for its digest");
  }
  TsReqPtr req(TS_REQ_new());
  crypto::TsMsgImprintPtr mi(TS_MSG_IMPRINT_new());
  crypto::OpenSslPtr<X509_ALGOR, X509_ALGOR_free> algo(X509_ALGOR_new());
  if (!req || !mi || !algo || TS_REQ_set_version(req.get(), 1) != 1 ||
      X509_ALGOR_set0(algo.get(), OBJ_nid2obj(nid), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(mi.get(), algo.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(mi.get(),
                             reinterpret_cast<unsigned char*>(const_cast<char*>(imprint.data())),
                             static_cast<int>(imprint.size())) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), mi.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), options.cert_req ? 1 : 0) != 1) {
    return crypto::openssl_error(FaultCode::kTimestamperFailed, "cannot build time-stamp request");
  }
  if (!options.policy_oid.empty()) {
    crypto::Asn1ObjectPtr policy(OBJ_txt2obj(options.policy_oid.c_str(), 1));
    if (!policy || TS_REQ_set_policy_id(req.get(), policy.get()) != 1) {
      return crypto::openssl_error(FaultCode::kInvalidConfiguration,
                                   "bad time-stamp policy OID " + options.policy_oid);
    }
  }
  TimestampRequest out;
  out.digest = options.digest;
  out.imprint.assign(imprint);
  if (options.nonce) {
    std::string raw = crypto::random_bytes(kNonceBytes);
    raw[0] = static_cast<char>(raw[0] | 0x01);  // never a leading zero byte
    BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()),
                           static_cast<int>(raw.size()), nullptr));
    crypto::Asn1IntegerPtr nonce(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!nonce || TS_REQ_set_nonce(req.get(), nonce.get()) != 1) {
      return crypto::openssl_error(FaultCode::kTimestamperFailed, "cannot set nonce");
    }
    out.nonce = integer_bytes(nonce.get());
  }
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) {
    return crypto::openssl_error(FaultCode::kTimestamperFailed, "cannot encode request");
  }
  out.der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

struct TimestampToken::Impl {
  std::string der;
  Pkcs7Ptr pkcs7;
  TimePoint gen_time;
  std::string policy;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha512;
  std::string imprint;
  std::string nonce;
  std::string serial_hex;
};

// Gives the verifier access to the parsed token.
struct TokenAccess {
  static const TimestampToken::Impl& impl(const TimestampToken& t) { return *t.impl_; }
};

Result<TimestampRequest> build_request(std::string_view data, const RequestOptions& options) {
  return make_request(crypto::digest(options.digest, data), options);
}

Result<TimestampRequest> build_request_for_imprint(std::string_view imprint,
                                                   const RequestOptions& options) {
  return make_request(imprint, options);
}

Result<TimestampToken> TimestampToken::parse(std::string_view der, std::size_t max_bytes) {
  if (der.size() > max_bytes) {
    return Error(FaultCode::kLimitExceeded, "time-stamp token too large",
                 std::to_string(der.size()) + " bytes, limit " + std::to_string(max_bytes));
  }
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der);
  const auto* p = reinterpret_cast<const unsigned char*>(impl->der.data());
  const unsigned char* end = p + impl->der.size();
  impl->pkcs7.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(impl->der.size())));
  if (!impl->pkcs7 || p != end) {
    return crypto::openssl_error(FaultCode::kTimestampValidation, "malformed time-stamp token");
  }
  // RFC 3161 2.4.2: SignedData whose eContentType is id-ct-TSTInfo.
  TsTstInfoPtr info(PKCS7_to_TS_TST_INFO(impl->pkcs7.get()));
  if (!info) {
    return crypto::openssl_error(FaultCode::kTimestampValidation,
                                 "time-stamp token does not hold a TSTInfo");
  }
  auto gen = to_time_point(TS_TST_INFO_get_time(info.get()));
  if (!gen) {
    return Error(FaultCode::kTimestampValidation, "time-stamp token has a bad genTime");
  }
  impl->gen_time = *gen;
  impl->policy = oid_text(TS_TST_INFO_get_policy_id(info.get()));
  TS_MSG_IMPRINT* mi = TS_TST_INFO_get_msg_imprint(info.get());
  const X509_ALGOR* algo = TS_MSG_IMPRINT_get_algo(mi);
  const ASN1_OBJECT* algo_obj = nullptr;
  X509_ALGOR_get0(&algo_obj, nullptr, nullptr, algo);
  auto digest = digest_from_nid(OBJ_obj2nid(algo_obj));
  if (!digest) {
    return Error(FaultCode::kTimestampValidation,
                 "time-stamp token uses an unsupported imprint algorithm", oid_text(algo_obj));
  }
  impl->digest = *digest;
  const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(mi);
  impl->imprint.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(msg)),
                       static_cast<std::size_t>(ASN1_STRING_length(msg)));
  impl->nonce = integer_bytes(TS_TST_INFO_get_nonce(info.get()));
  impl->serial_hex = crypto::hex_encode(integer_bytes(TS_TST_INFO_get_serial(info.get())));
  for (char& c : impl->serial_hex) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return TimestampToken(std::move(impl));
}

const std::string& TimestampToken::der() const noexcept { return impl_->der; }
TimePoint TimestampToken::gen_time() const noexcept { return impl_->gen_time; }
const std::string& TimestampToken::policy_oid() const noexcept { return impl_->policy; }
crypto::DigestAlgorithm TimestampToken::imprint_digest() const noexcept { return impl_->digest; }
const std::string& TimestampToken::imprint() const noexcept { return impl_->imprint; }
const std::string& TimestampToken::nonce() const noexcept { return impl_->nonce; }
const std::string& TimestampToken::serial_hex() const noexcept { return impl_->serial_hex; }

// RFC 3161 2.4.2 TimeStampResp.
Result<TimestampToken> parse_reply(std::string_view der, std::size_t max_bytes) {
  if (der.size() > max_bytes) {
    return Error(FaultCode::kLimitExceeded, "time-stamp reply too large",
                 std::to_string(der.size()) + " bytes, limit " + std::to_string(max_bytes));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp || p != end) {
    return crypto::openssl_error(FaultCode::kTimestamperFailed, "malformed time-stamp reply");
  }
  TS_STATUS_INFO* si = TS_RESP_get_status_info(resp.get());
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  if (status != 0 && status != 1) {  // granted, grantedWithMods
    static constexpr const char* kNames[] = {"granted",           "grantedWithMods",
                                             "rejection",         "waiting",
                                             "revocationWarning", "revocationNotification"};
    std::string detail =
        "status " + std::string(status >= 0 && status <= 5 ? kNames[status] : "invalid");
    const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(si);
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(text); ++i) {
      const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(text, i);
      detail += ": ";
      detail.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    const ASN1_BIT_STRING* fail = TS_STATUS_INFO_get0_failure_info(si);
    if (fail != nullptr) {
      static constexpr const char* kFailures[] = {"badAlg",
                                                  "",
                                                  "badRequest",
                                                  "",
                                                  "",
                                                  "badDataFormat",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "timeNotAvailable",
                                                  "unacceptedPolicy",
                                                  "unacceptedExtension",
                                                  "addInfoNotAvailable",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "",
                                                  "systemFailure"};
      for (int bit = 0; bit < 26; ++bit) {
        if (ASN1_BIT_STRING_get_bit(fail, bit) && kFailures[bit][0] != '\0') {
          detail += std::string(" (") + kFailures[bit] + ")";
        }
      }
    }
    return Error(FaultCode::kTimestamperFailed, "TSA did not grant the time-stamp", detail);
  }
  if (TS_RESP_get_token(resp.get()) == nullptr) {
    return Error(FaultCode::kTimestamperFailed, "TSA granted the time-stamp but sent no token");
  }
  // Keep the token's bytes exactly as sent: the reply is SEQUENCE { status, token }.
  std::size_t outer_len = 0;
  std::size_t status_len = 0;
  auto outer = der_header(der, 0, outer_len);
  auto status_hdr = outer ? der_header(der, *outer, status_len) : std::nullopt;
  if (!outer || !status_hdr) {
    return Error(FaultCode::kTimestamperFailed, "malformed time-stamp reply");
  }
  std::size_t token_pos = *outer + *status_hdr + status_len;
  if (token_pos > der.size()) {
    return Error(FaultCode::kTimestamperFailed, "malformed time-stamp reply");
  }
  auto token = TimestampToken::parse(der.substr(token_pos), max_bytes);
  if (!token.ok()) {
    return Error(FaultCode::kTimestamperFailed, "TSA sent a malformed token",
                 token.error().to_string());
  }
  return token;
}

Result<VerifiedTimestamp> verify_imprint(const TimestampToken& token, std::string_view imprint,
                                         const VerifyOptions& options) {
  const TimestampToken::Impl& t = TokenAccess::impl(token);
  if (options.tsa_certs.empty()) {
    return Error(FaultCode::kTimestampValidation, "no approved TSA certificates configured");
  }
  X509StorePtr store(X509_STORE_new());
  X509StackPtr approved(sk_X509_new_null());
  if (!store || !approved) {
    return crypto::openssl_error(FaultCode::kInternalError, "out of memory");
  }
  for (const std::string& c : options.tsa_certs) {
    HANSA_ASSIGN_OR_RETURN(X509Ptr cert, read_cert(c));
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
      ERR_clear_error();  // duplicates are harmless
    }
    if (sk_X509_push(approved.get(), cert.get()) <= 0) {
      return crypto::openssl_error(FaultCode::kInternalError, "out of memory");
    }
    cert.release();
  }
  // The approved TSA certificates are the trust anchors themselves (X-Road trusts approvedTSA/cert
  // directly), and validity is judged at genTime.
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(t.gen_time));

  // RFC 3161 2.4.2 / RFC 5035: CMS signature, signer certificate with the critical
  // timeStamping extended key usage, and ESSCertID or ESSCertIDv2 naming that certificate.
  X509* signer_raw = nullptr;
  int ok = TS_RESP_verify_signature(t.pkcs7.get(), approved.get(), store.get(), &signer_raw);
  X509Ptr signer(signer_raw);
  if (ok != 1) {
    return Error(FaultCode::kTimestampValidation,
                 "time-stamp token signature does not verify against an approved TSA certificate",
                 drain_errors_with_data());
  }
  ERR_clear_error();
  X509* matched = nullptr;
  for (int i = 0; i < sk_X509_num(approved.get()); ++i) {
    if (X509_cmp(sk_X509_value(approved.get(), i), signer.get()) == 0) {
      matched = sk_X509_value(approved.get(), i);
    }
  }
  if (matched == nullptr) {
    return Error(FaultCode::kTimestampValidation,
                 "time-stamp token is not signed by an approved TSA certificate");
  }
  if (imprint.size() != t.imprint.size() || imprint != t.imprint) {
    return Error(
        FaultCode::kTimestampValidation, "time-stamp token is over another message imprint",
        "token " + crypto::hex_encode(t.imprint) + ", expected " + crypto::hex_encode(imprint));
  }
  if (options.nonce && *options.nonce != t.nonce) {
    return Error(FaultCode::kTimestampValidation, "time-stamp token nonce does not match",
                 "token " + crypto::hex_encode(t.nonce) + ", expected " +
                     crypto::hex_encode(*options.nonce));
  }
  if (!options.required_policy.empty() && options.required_policy != t.policy) {
    return Error(FaultCode::kTimestampValidation, "time-stamp token has another policy",
                 "token " + t.policy + ", required " + options.required_policy);
  }
  return VerifiedTimestamp{t.gen_time, t.policy, cert_der(matched)};
}

Result<VerifiedTimestamp> verify(const TimestampToken& token, std::string_view data,
                                 const VerifyOptions& options) {
  return verify_imprint(token, crypto::digest(token.imprint_digest(), data), options);
}

}  // namespace hansa::timestamp
