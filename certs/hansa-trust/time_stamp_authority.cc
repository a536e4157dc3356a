#include "certs/hansa-trust/time_stamp_authority.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "certs/hansa-trust/pem_files.h"
#include "core/crypto/openssl_ptr.h"

namespace hansa::trust {

struct TimeStampAuthority::Impl {
  TsaConfig config;
  crypto::X509Ptr cert;
  crypto::EvpPkeyPtr key;
  crypto::X509StackPtr chain;  // added to the token when certReq is set
  crypto::Asn1ObjectPtr policy;
};

namespace {

// RFC 3161 2.4.2 serialNumber: unique per TSA; 128 random bits make collisions negligible.
ASN1_INTEGER* random_serial(TS_RESP_CTX* ctx, void*) {
  crypto::BignumPtr bn(BN_new());
  ASN1_INTEGER* serial = nullptr;
  if (bn && BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1) {
    serial = BN_to_ASN1_INTEGER(bn.get(), nullptr);
  }
  if (serial == nullptr) {
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
  }
  return serial;
}

std::string to_der(TS_RESP* resp) {
  unsigned char* out = nullptr;
  int len = i2d_TS_RESP(resp, &out);
  if (len <= 0) {
    return {};
  }
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

}  // namespace

Result<std::unique_ptr<TimeStampAuthority>> TimeStampAuthority::create(TsaConfig config) {
  auto impl = std::make_unique<Impl>();
  HANSA_ASSIGN_OR_RETURN(auto certs, internal::load_certs(config.cert));
  HANSA_ASSIGN_OR_RETURN(impl->key, internal::load_key(config.key));
  impl->cert = std::move(certs[0]);
  if (X509_check_private_key(impl->cert.get(), impl->key.get()) != 1) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidKey, "TSA key does not match its certificate",
                 config.key.string());
  }
  // RFC 3161 2.3: the only extended key usage, critical.
  if (X509_check_purpose(impl->cert.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidCertificate,
                 "TSA certificate needs a critical extendedKeyUsage of timeStamping only",
                 config.cert.string());
  }
  impl->chain.reset(sk_X509_new_null());
  if (!config.chain.empty()) {
    HANSA_ASSIGN_OR_RETURN(auto chain, internal::load_certs(config.chain));
    for (auto& cert : chain) {
      if (X509_cmp(cert.get(), impl->cert.get()) == 0) {
        continue;  // the signer certificate is added anyway
      }
      sk_X509_push(impl->chain.get(), cert.release());
    }
  }
  impl->policy.reset(OBJ_txt2obj(config.policy.c_str(), 1));
  if (!impl->policy) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidConfiguration, "TSA policy is not an OID", config.policy);
  }
  impl->config = std::move(config);
  return std::unique_ptr<TimeStampAuthority>(new TimeStampAuthority(std::move(impl)));
}

TimeStampAuthority::TimeStampAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TimeStampAuthority::~TimeStampAuthority() = default;

std::string TimeStampAuthority::respond(std::string_view query_der) const {
  crypto::TsRespCtxPtr ctx(TS_RESP_CTX_new());
  if (!ctx || TS_RESP_CTX_set_signer_cert(ctx.get(), impl_->cert.get()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx.get(), impl_->key.get()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||  // ESSCertIDv2
      TS_RESP_CTX_set_def_policy(ctx.get(), impl_->policy.get()) != 1 ||
      TS_RESP_CTX_set_certs(ctx.get(), impl_->chain.get()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha384()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha512()) != 1 ||
      TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) != 1) {
    ERR_clear_error();
    return {};
  }
  TS_RESP_CTX_set_serial_cb(ctx.get(), random_serial, nullptr);
  // TS_RESP_create_response answers malformed queries, unknown digests and policies itself with
  // status rejection (RFC 3161 2.4.2 PKIFailureInfo badDataFormat / badAlg / unacceptedPolicy).
  crypto::BioPtr bio = crypto::memory_bio(query_der);
  crypto::TsRespPtr resp(TS_RESP_create_response(ctx.get(), bio.get()));
  ERR_clear_error();
  return resp ? to_der(resp.get()) : std::string();
}

}  // namespace hansa::trust
