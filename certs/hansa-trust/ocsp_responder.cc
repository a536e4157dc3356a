#include "certs/hansa-trust/ocsp_responder.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "certs/hansa-trust/pem_files.h"
#include "core/crypto/openssl_ptr.h"

namespace hansa::trust {

struct OcspResponder::Impl {
  OcspResponderConfig config;
  crypto::X509Ptr issuer;
  crypto::X509Ptr responder;
  crypto::EvpPkeyPtr key;
  std::unique_ptr<RevocationStore> store;
};

namespace {

std::string to_der(OCSP_RESPONSE* resp) {
  unsigned char* out = nullptr;
  int len = i2d_OCSP_RESPONSE(resp, &out);
  if (len <= 0) {
    return {};
  }
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

// An OCSPResponse carrying only an error status (RFC 6960 4.2.1: no responseBytes).
std::string status_only(int status) {
  crypto::OcspResponsePtr resp(OCSP_response_create(status, nullptr));
  return resp ? to_der(resp.get()) : std::string();
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

}  // namespace

Result<std::unique_ptr<OcspResponder>> OcspResponder::create(OcspResponderConfig config) {
  auto impl = std::make_unique<Impl>();
  HANSA_ASSIGN_OR_RETURN(auto issuer, internal::load_certs(config.issuer_cert));
  HANSA_ASSIGN_OR_RETURN(auto responder, internal::load_certs(config.responder_cert));
  HANSA_ASSIGN_OR_RETURN(impl->key, internal::load_key(config.responder_key));
  impl->issuer = std::move(issuer[0]);
  impl->responder = std::move(responder[0]);
  if (X509_check_private_key(impl->responder.get(), impl->key.get()) != 1) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidKey, "OCSP responder key does not match its certificate",
                 config.responder_key.string());
  }
  // RFC 6960 4.2.2.2: a delegated responder is issued by the CA and carries id-kp-OCSPSigning.
  bool self = X509_cmp(impl->issuer.get(), impl->responder.get()) == 0;
  if (!self && (X509_check_issued(impl->issuer.get(), impl->responder.get()) != X509_V_OK ||
                (X509_get_extended_key_usage(impl->responder.get()) & XKU_OCSP_SIGN) == 0)) {
    return Error(FaultCode::kInvalidCertificate,
                 "OCSP responder certificate is neither the CA nor delegated by it "
                 "(issued by the CA with id-kp-OCSPSigning)",
                 config.responder_cert.string());
  }
  if (config.max_request_entries == 0) {
    return Error(FaultCode::kInvalidConfiguration, "max_request_entries must be positive");
  }
  impl->store = std::make_unique<RevocationStore>(config.state_file, config.index_file);
  impl->config = std::move(config);
  return std::unique_ptr<OcspResponder>(new OcspResponder(std::move(impl)));
}

OcspResponder::OcspResponder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OcspResponder::~OcspResponder() = default;

std::string OcspResponder::respond(std::string_view request_der) const {
  // RFC 6960 4.1.1 OCSPRequest.
  const auto* p = reinterpret_cast<const unsigned char*>(request_der.data());
  crypto::OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
  if (!req ||
      p != reinterpret_cast<const unsigned char*>(request_der.data()) + request_der.size()) {
    ERR_clear_error();
    return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  int count = OCSP_request_onereq_count(req.get());
  if (count <= 0 || static_cast<std::size_t>(count) > impl_->config.max_request_entries) {
    return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  }
  crypto::OcspBasicRespPtr basic(OCSP_BASICRESP_new());
  crypto::Asn1TimePtr this_update(X509_gmtime_adj(nullptr, 0));
  crypto::Asn1TimePtr next_update;
  if (impl_->config.next_update.count() > 0) {
    next_update.reset(
        X509_gmtime_adj(nullptr, static_cast<long>(impl_->config.next_update.count())));
  }
  if (!basic || !this_update) {
    return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    ASN1_OBJECT* md_oid = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (OCSP_id_get0_info(nullptr, &md_oid, nullptr, &serial, cid) != 1) {
      return status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    }
    int status = V_OCSP_CERTSTATUS_UNKNOWN;
    int reason = -1;
    crypto::Asn1TimePtr revoked_at;
    // RFC 6960 4.1.1 CertID: the issuer name and key hashes use the request's hash algorithm.
    const EVP_MD* md = EVP_get_digestbyobj(md_oid);
    crypto::OcspCertIdPtr ca_id(md != nullptr ? OCSP_cert_to_id(md, nullptr, impl_->issuer.get())
                                              : nullptr);
    std::string serial_text = serial_hex(serial);
    bool usable_serial = !serial_text.empty() && serial_text[0] != '-';
    if (ca_id && OCSP_id_issuer_cmp(ca_id.get(), cid) == 0 && usable_serial) {
      auto found = impl_->store->lookup(serial_text);
      if (!found.ok()) {
        return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
      }
      if (found->state == CertState::kGood) {
        status = V_OCSP_CERTSTATUS_GOOD;
      } else if (found->state == CertState::kRevoked) {
        status = V_OCSP_CERTSTATUS_REVOKED;
        reason = static_cast<int>(found->reason);
        revoked_at.reset(ASN1_TIME_set(nullptr, found->revocation_time));
      }
    }
    ERR_clear_error();
    if (OCSP_basic_add1_status(basic.get(), cid, status, reason, revoked_at.get(),
                               this_update.get(), next_update.get()) == nullptr) {
      return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
    }
  }
  // RFC 8954: echo a nonce when the client sent one (returns 2 when there is none).
  if (OCSP_copy_nonce(basic.get(), req.get()) <= 0) {
    return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  // RFC 6960 4.2.1 BasicOCSPResponse, signed by the responder; its certificate is included so
  // clients can check the delegation.
  if (OCSP_basic_sign(basic.get(), impl_->responder.get(), impl_->key.get(), EVP_sha256(), nullptr,
                      0) != 1) {
    ERR_clear_error();
    return status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  crypto::OcspResponsePtr resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  return resp ? to_der(resp.get()) : status_only(OCSP_RESPONSE_STATUS_INTERNALERROR);
}

}  // namespace hansa::trust
