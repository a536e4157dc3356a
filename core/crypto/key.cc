#include "core/crypto/key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <climits>
#include <cstring>

#include "core/crypto/native.h"

namespace hansa::crypto {
namespace {

struct SignatureInfo {
  SignatureAlgorithm alg;
  std::string_view uri;
  std::string_view id;
  DigestAlgorithm digest;
  KeyType key_type;
  bool pss;
};

constexpr std::array kSignatures{
    SignatureInfo{SignatureAlgorithm::kRsaSha256,
                  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "SHA256withRSA",
                  DigestAlgorithm::kSha256, KeyType::kRsa, false},
    SignatureInfo{SignatureAlgorithm::kRsaSha384,
                  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "SHA384withRSA",
                  DigestAlgorithm::kSha384, KeyType::kRsa, false},
    SignatureInfo{SignatureAlgorithm::kRsaSha512,
                  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "SHA512withRSA",
                  DigestAlgorithm::kSha512, KeyType::kRsa, false},
    SignatureInfo{SignatureAlgorithm::kRsaPssSha256,
                  "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", "SHA256withRSAandMGF1",
                  DigestAlgorithm::kSha256, KeyType::kRsa, true},
    SignatureInfo{SignatureAlgorithm::kRsaPssSha384,
                  "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1", "SHA384withRSAandMGF1",
                  DigestAlgorithm::kSha384, KeyType::kRsa, true},
    SignatureInfo{SignatureAlgorithm::kRsaPssSha512,
                  "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", "SHA512withRSAandMGF1",
                  DigestAlgorithm::kSha512, KeyType::kRsa, true},
    SignatureInfo{SignatureAlgorithm::kEcdsaSha256,
                  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "SHA256withECDSA",
                  DigestAlgorithm::kSha256, KeyType::kEc, false},
    SignatureInfo{SignatureAlgorithm::kEcdsaSha384,
                  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "SHA384withECDSA",
                  DigestAlgorithm::kSha384, KeyType::kEc, false},
    SignatureInfo{SignatureAlgorithm::kEcdsaSha512,
                  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "SHA512withECDSA",
                  DigestAlgorithm::kSha512, KeyType::kEc, false},
};

const SignatureInfo& info(SignatureAlgorithm alg) {
  return kSignatures[static_cast<std::size_t>(alg)];
}

KeyType type_of(const EVP_PKEY* pkey) {
  return EVP_PKEY_is_a(pkey, "EC") ? KeyType::kEc : KeyType::kRsa;
}

Status check_key_fits(const EVP_PKEY* pkey, SignatureAlgorithm alg) {
  bool rsa = EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS");
  bool ec = EVP_PKEY_is_a(pkey, "EC");
  if ((info(alg).key_type == KeyType::kRsa && !rsa) ||
      (info(alg).key_type == KeyType::kEc && !ec)) {
    return Error(FaultCode::kUnsupportedSignAlgorithm,
                 "signature algorithm does not fit the key type", std::string(signature_id(alg)));
  }
  return ok_status();
}

// Sets RSA-PSS padding (salt = digest length, MGF1 with the same digest) on a sign/verify context.
bool configure_padding(EVP_PKEY_CTX* ctx, SignatureAlgorithm alg) {
  const auto& i = info(alg);
  if (i.key_type != KeyType::kRsa) return true;
  if (!i.pss) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, fetched_md(i.digest)) > 0;
}

// A password callback source for the PEM/DER decoders: OpenSSL asks only when the input is
// encrypted, so an unencrypted key with a passphrase given still loads.
struct Passphrase {
  std::string_view value;
  bool asked = false;
};

int passphrase_cb(char* buf, int size, int /*rwflag*/, void* u) {
  auto* p = static_cast<Passphrase*>(u);
  p->asked = true;
  if (p->value.empty() || p->value.size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buf, p->value.data(), p->value.size());
  return static_cast<int>(p->value.size());
}

Error key_load_error(const Passphrase& p, std::string_view what) {
  std::string detail = drain_openssl_errors();
  if (p.asked && p.value.empty()) {
    return Error(FaultCode::kInvalidKey, "private key is encrypted and no passphrase was given",
                 std::move(detail));
  }
  if (p.asked) {
    return Error(FaultCode::kInvalidKey, "cannot decrypt private key: wrong passphrase",
                 std::move(detail));
  }
  return Error(FaultCode::kInvalidKey, std::string(what), std::move(detail));
}

Error too_large(std::string_view what) {
  return Error(FaultCode::kLimitExceeded, std::string(what) + " exceeds the size limit",
               std::to_string(kMaxKeyInputSize) + " bytes");
}

}  // namespace

std::string_view signature_uri(SignatureAlgorithm alg) noexcept { return info(alg).uri; }

std::optional<SignatureAlgorithm> signature_from_uri(std::string_view uri) noexcept {
  for (const auto& s : kSignatures) {
    if (s.uri == uri) return s.alg;
  }
  return std::nullopt;
}

std::string_view signature_id(SignatureAlgorithm alg) noexcept { return info(alg).id; }

std::optional<SignatureAlgorithm> signature_from_id(std::string_view id) noexcept {
  for (const auto& s : kSignatures) {
    if (s.id == id) return s.alg;
  }
  return std::nullopt;
}

DigestAlgorithm signature_digest(SignatureAlgorithm alg) noexcept { return info(alg).digest; }
KeyType signature_key_type(SignatureAlgorithm alg) noexcept { return info(alg).key_type; }

Result<std::string> ecdsa_der_to_plain(std::string_view der, std::size_t field_size) {
  if (field_size == 0 || field_size > 66 || der.size() > 256) {
    return Error(FaultCode::kInvalidSignatureValue, "bad ECDSA signature size");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidSignatureValue, "malformed DER ECDSA signature");
  }
  std::string out(2 * field_size, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, static_cast<int>(field_size)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + field_size, static_cast<int>(field_size)) < 0) {
    ERR_clear_error();
    return Error(FaultCode::kInvalidSignatureValue, "ECDSA signature does not fit the field size");
  }
  return out;
}

Result<std::string> ecdsa_plain_to_der(std::string_view plain) {
  if (plain.empty() || plain.size() % 2 != 0 || plain.size() > 132) {
    return Error(FaultCode::kInvalidSignatureValue, "bad plain ECDSA signature size");
  }
  std::size_t half = plain.size() / 2;
  const auto* b = reinterpret_cast<const unsigned char*>(plain.data());
  BignumPtr r(BN_bin2bn(b, static_cast<int>(half), nullptr));
  BignumPtr s(BN_bin2bn(b + half, static_cast<int>(half), nullptr));
  OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return openssl_error(FaultCode::kCryptoError, "cannot build ECDSA signature");
  }
  r.release();
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return openssl_error(FaultCode::kCryptoError, "cannot encode ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// ---- PublicKey ----

PublicKey public_key_from_native(EvpPkeyPtr pkey) {
  auto impl = std::make_shared<PublicKey::Impl>();
  impl->pkey = std::move(pkey);
  return PublicKey(std::move(impl));
}

PrivateKey private_key_from_native(EvpPkeyPtr pkey) {
  auto impl = std::make_shared<PrivateKey::Impl>();
  impl->pkey = std::move(pkey);
  return PrivateKey(std::move(impl));
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyInputSize) return too_large("public key");
  BioPtr bio = memory_bio(pem);
  EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return openssl_error(FaultCode::kInvalidKey, "malformed PEM public key");
  return public_key_from_native(std::move(pkey));
}

Result<PublicKey> PublicKey::from_der(std::string_view der) {
  if (der.size() > kMaxKeyInputSize) return too_large("public key");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return openssl_error(FaultCode::kInvalidKey, "malformed DER public key");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return Error(FaultCode::kInvalidKey, "trailing bytes after DER public key");
  }
  return public_key_from_native(std::move(pkey));
}

std::string PublicKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  HANSA_CHECK(PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) == 1);
  return bio_contents(bio.get());
}

std::string PublicKey::to_der() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(impl_->pkey.get(), &der);
  HANSA_CHECK(len > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

KeyType PublicKey::type() const noexcept { return type_of(impl_->pkey.get()); }
int PublicKey::bits() const noexcept { return EVP_PKEY_get_bits(impl_->pkey.get()); }

std::optional<EcCurve> PublicKey::curve() const noexcept {
  if (type() != KeyType::kEc) return std::nullopt;
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(impl_->pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, name,
                                     sizeof(name), &len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string_view n(name, len);
  if (n == "prime256v1" || n == "P-256") return EcCurve::kP256;
  if (n == "secp384r1" || n == "P-384") return EcCurve::kP384;
  return std::nullopt;
}

Status PublicKey::verify(SignatureAlgorithm alg, std::string_view data,
                         std::string_view signature) const {
  HANSA_RETURN_IF_ERROR(check_key_fits(impl_->pkey.get(), alg));
  return verify_digest(alg, digest(signature_digest(alg), data), signature);
}

Status PublicKey::verify_digest(SignatureAlgorithm alg, std::string_view dgst,
                                std::string_view signature) const {
  HANSA_RETURN_IF_ERROR(check_key_fits(impl_->pkey.get(), alg));
  if (dgst.size() != digest_size(signature_digest(alg))) {
    return Error(FaultCode::kInvalidSignatureValue, "digest length does not match the algorithm");
  }
  if (signature.empty() || signature.size() > 4096) {
    return Error(FaultCode::kInvalidSignatureValue, "signature has an impossible length");
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) <= 0 || !configure_padding(ctx.get(), alg) ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), fetched_md(signature_digest(alg))) <= 0) {
    return openssl_error(FaultCode::kCryptoError, "cannot set up signature verification");
  }
  int rc = EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                           signature.size(), reinterpret_cast<const unsigned char*>(dgst.data()),
                           dgst.size());
  if (rc != 1) {
    return openssl_error(FaultCode::kInvalidSignatureValue, "signature does not verify");
  }
  return ok_status();
}

bool PublicKey::operator==(const PublicKey& other) const {
  return EVP_PKEY_eq(impl_->pkey.get(), other.impl_->pkey.get()) == 1;
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::generate_rsa(int bits) {
  if (bits < 2048 || bits > 8192) {
    return Error(FaultCode::kCryptoError, "RSA key size must be 2048..8192 bits",
                 std::to_string(bits));
  }
  EvpPkeyPtr pkey(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!pkey) return openssl_error(FaultCode::kCryptoError, "RSA key generation failed");
  return private_key_from_native(std::move(pkey));
}

Result<PrivateKey> PrivateKey::generate_ec(EcCurve curve) {
  EvpPkeyPtr pkey(EVP_EC_gen(curve == EcCurve::kP256 ? "P-256" : "P-384"));
  if (!pkey) return openssl_error(FaultCode::kCryptoError, "EC key generation failed");
  return private_key_from_native(std::move(pkey));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem, std::string_view passphrase) {
  if (pem.size() > kMaxKeyInputSize) return too_large("private key");
  BioPtr bio = memory_bio(pem);
  Passphrase p{passphrase};
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, &p));
  if (!pkey) return key_load_error(p, "malformed PEM private key");
  ERR_clear_error();
  return private_key_from_native(std::move(pkey));
}

Result<PrivateKey> PrivateKey::from_der(std::string_view der, std::string_view passphrase) {
  if (der.size() > kMaxKeyInputSize) return too_large("private key");
  // Encrypted PKCS#8 first (when a passphrase is given), then plain PKCS#8 / traditional.
  if (!passphrase.empty()) {
    BioPtr bio = memory_bio(der);
    Passphrase p{passphrase};
    EvpPkeyPtr pkey(d2i_PKCS8PrivateKey_bio(bio.get(), nullptr, passphrase_cb, &p));
    if (pkey) {
      ERR_clear_error();
      return private_key_from_native(std::move(pkey));
    }
    ERR_clear_error();
  }
  const auto* ptr = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr pkey(d2i_AutoPrivateKey(nullptr, &ptr, static_cast<long>(der.size())));
  if (!pkey) {
    std::string detail = drain_openssl_errors();
    return Error(FaultCode::kInvalidKey,
                 passphrase.empty() ? "malformed DER private key (or encrypted without passphrase)"
                                    : "malformed DER private key or wrong passphrase",
                 std::move(detail));
  }
  return private_key_from_native(std::move(pkey));
}

Result<std::string> PrivateKey::to_pem(std::string_view passphrase) const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int rc;
  if (passphrase.empty()) {
    rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr);
  } else {
    if (passphrase.size() > static_cast<std::size_t>(INT_MAX)) {
      return Error(FaultCode::kInvalidRequest, "passphrase too long");
    }
    std::string pass(passphrase);
    rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey.get(), EVP_aes_256_cbc(), pass.data(),
                                       static_cast<int>(pass.size()), nullptr, nullptr);
    OPENSSL_cleanse(pass.data(), pass.size());
  }
  if (rc != 1) return openssl_error(FaultCode::kCryptoError, "cannot encode private key");
  return bio_contents(bio.get());
}

Result<std::string> PrivateKey::to_der() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (i2d_PKCS8PrivateKey_bio(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                              nullptr) != 1) {
    return openssl_error(FaultCode::kCryptoError, "cannot encode private key");
  }
  return bio_contents(bio.get());
}

PublicKey PrivateKey::public_key() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(impl_->pkey.get(), &der);
  HANSA_CHECK(len > 0);
  const unsigned char* p = der;
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  HANSA_CHECK(pub != nullptr);
  return public_key_from_native(std::move(pub));
}

KeyType PrivateKey::type() const noexcept { return type_of(impl_->pkey.get()); }
int PrivateKey::bits() const noexcept { return EVP_PKEY_get_bits(impl_->pkey.get()); }

Result<std::string> PrivateKey::sign(SignatureAlgorithm alg, std::string_view data) const {
  HANSA_RETURN_IF_ERROR(check_key_fits(impl_->pkey.get(), alg));
  return sign_digest(alg, digest(signature_digest(alg), data));
}

Result<std::string> PrivateKey::sign_digest(SignatureAlgorithm alg, std::string_view dgst) const {
  HANSA_RETURN_IF_ERROR(check_key_fits(impl_->pkey.get(), alg));
  if (dgst.size() != digest_size(signature_digest(alg))) {
    return Error(FaultCode::kCryptoError, "digest length does not match the algorithm",
                 std::to_string(dgst.size()));
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 || !configure_padding(ctx.get(), alg) ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), fetched_md(signature_digest(alg))) <= 0) {
    return openssl_error(FaultCode::kCryptoError, "cannot set up signing");
  }
  std::size_t len = 0;
  const auto* d = reinterpret_cast<const unsigned char*>(dgst.data());
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, d, dgst.size()) <= 0) {
    return openssl_error(FaultCode::kCryptoError, "signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, d,
                    dgst.size()) <= 0) {
    return openssl_error(FaultCode::kCryptoError, "signing failed");
  }
  sig.resize(len);
  return sig;
}

}  // namespace hansa::crypto
