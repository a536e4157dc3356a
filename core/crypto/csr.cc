#include "core/crypto/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/crypto/native.h"

namespace hansa::crypto {
namespace {

Result<CertificateRequest> wrap(X509ReqPtr req) {
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return openssl_error(FaultCode::kCryptoError, "cannot encode CSR");
  auto impl = std::make_shared<CertificateRequest::Impl>();
  impl->der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  impl->req = std::move(req);
  return CertificateRequest(std::move(impl));
}

std::string name_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_contents(bio.get());
}

}  // namespace

Result<CertificateRequest> CertificateRequest::create(const DistinguishedName& subject,
                                                      const PrivateKey& key,
                                                      DigestAlgorithm digest) {
  X509ReqPtr req(X509_REQ_new());
  X509NamePtr name(X509_NAME_new());
  if (!req || !name) return openssl_error(FaultCode::kCryptoError, "out of memory");
  for (const auto& e : subject) {
    if (X509_NAME_add_entry_by_txt(name.get(), e.type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(e.value.data()),
                                   static_cast<int>(e.value.size()), -1, 0) != 1) {
      return openssl_error(FaultCode::kInvalidRequest, "bad subject attribute " + e.type);
    }
  }
  if (X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), native_pkey(key)) != 1 ||
      X509_REQ_sign(req.get(), native_pkey(key), fetched_md(digest)) <= 0) {
    return openssl_error(FaultCode::kCryptoError, "cannot build CSR");
  }
  return wrap(std::move(req));
}

Result<CertificateRequest> CertificateRequest::from_der(std::string_view der) {
  if (der.size() > kMaxKeyInputSize) {
    return Error(FaultCode::kLimitExceeded, "CSR exceeds the size limit");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return openssl_error(FaultCode::kInvalidRequest, "malformed DER CSR");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return Error(FaultCode::kInvalidRequest, "trailing bytes after DER CSR");
  }
  if (X509_REQ_get0_pubkey(req.get()) == nullptr) {
    return openssl_error(FaultCode::kInvalidRequest, "CSR public key cannot be decoded");
  }
  auto impl = std::make_shared<Impl>();
  impl->der.assign(der);
  impl->req = std::move(req);
  return CertificateRequest(std::move(impl));
}

Result<CertificateRequest> CertificateRequest::from_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyInputSize) {
    return Error(FaultCode::kLimitExceeded, "CSR exceeds the size limit");
  }
  BioPtr bio = memory_bio(pem);
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return openssl_error(FaultCode::kInvalidRequest, "malformed PEM CSR");
  // As from_der: public_key() relies on the key decoding.
  if (X509_REQ_get0_pubkey(req.get()) == nullptr) {
    return openssl_error(FaultCode::kInvalidRequest, "CSR public key cannot be decoded");
  }
  return wrap(std::move(req));
}

const std::string& CertificateRequest::der() const noexcept { return impl_->der; }

std::string CertificateRequest::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  HANSA_CHECK(PEM_write_bio_X509_REQ(bio.get(), impl_->req.get()) == 1);
  return bio_contents(bio.get());
}

std::string CertificateRequest::subject() const {
  return name_string(X509_REQ_get_subject_name(impl_->req.get()));
}

DistinguishedName CertificateRequest::subject_entries() const {
  // Reuse the certificate's formatting rules through a throwaway name walk.
  DistinguishedName out;
  const X509_NAME* name = X509_REQ_get_subject_name(impl_->req.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    NameEntry entry;
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (nid != NID_undef) {
      entry.type = OBJ_nid2sn(nid);
    } else {
      char buf[128];
      OBJ_obj2txt(buf, sizeof(buf), X509_NAME_ENTRY_get_object(e), 1);
      entry.type = buf;
    }
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len >= 0 && utf8 != nullptr) {
      entry.value.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
    }
    out.push_back(std::move(entry));
  }
  ERR_clear_error();
  return out;
}

PublicKey CertificateRequest::public_key() const {
  EvpPkeyPtr pkey(X509_REQ_get_pubkey(impl_->req.get()));
  HANSA_CHECK(pkey != nullptr);  // checked when parsed
  return public_key_from_native(std::move(pkey));
}

Status CertificateRequest::verify_signature() const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(impl_->req.get());
  if (key == nullptr || X509_REQ_verify(impl_->req.get(), key) != 1) {
    return openssl_error(FaultCode::kInvalidSignatureValue, "CSR signature does not verify");
  }
  return ok_status();
}

}  // namespace hansa::crypto
