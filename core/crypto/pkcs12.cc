#include "core/crypto/pkcs12.h"

#include <openssl/err.h>

#include <climits>

#include "core/crypto/native.h"

namespace hansa::crypto {

Result<Pkcs12Contents> load_pkcs12(std::string_view der, std::string_view passphrase) {
  if (der.size() > kMaxKeyInputSize) {
    return Error(FaultCode::kLimitExceeded, "PKCS#12 exceeds the size limit");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12) return openssl_error(FaultCode::kInvalidKey, "malformed PKCS#12");
  std::string pass(passphrase);
  // Some producers write an empty password as "no password" (NULL), so try both for "".
  const char* pass_arg = pass.c_str();
  if (PKCS12_mac_present(p12.get()) == 1) {
    bool mac_ok = PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) == 1;
    if (!mac_ok && pass.empty() && PKCS12_verify_mac(p12.get(), nullptr, 0) == 1) {
      mac_ok = true;
      pass_arg = nullptr;
    }
    if (!mac_ok) {
      OPENSSL_cleanse(pass.data(), pass.size());
      return openssl_error(FaultCode::kInvalidKey, "cannot open PKCS#12: wrong passphrase");
    }
  }
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  int rc = PKCS12_parse(p12.get(), pass_arg, &raw_key, &raw_cert, &raw_ca);
  OPENSSL_cleanse(pass.data(), pass.size());
  EvpPkeyPtr key(raw_key);
  X509Ptr cert(raw_cert);
  X509StackPtr ca(raw_ca);
  if (rc != 1) return openssl_error(FaultCode::kInvalidKey, "cannot parse PKCS#12");
  ERR_clear_error();
  if (!key) return Error(FaultCode::kKeyNotFound, "PKCS#12 holds no private key");
  if (!cert) return Error(FaultCode::kCertNotFound, "PKCS#12 holds no certificate for its key");
  HANSA_ASSIGN_OR_RETURN(auto certificate, certificate_from_native(std::move(cert)));
  std::vector<Certificate> chain;
  for (int i = 0; ca && i < sk_X509_num(ca.get()); ++i) {
    X509* x = sk_X509_value(ca.get(), i);
    X509_up_ref(x);
    HANSA_ASSIGN_OR_RETURN(auto c, certificate_from_native(X509Ptr(x)));
    chain.push_back(std::move(c));
  }
  return Pkcs12Contents{private_key_from_native(std::move(key)), std::move(certificate),
                        std::move(chain)};
}

Result<std::string> write_pkcs12(const PrivateKey& key, const Certificate& cert,
                                 const std::vector<Certificate>& chain, std::string_view passphrase,
                                 std::string_view friendly_name) {
  if (!(cert.public_key() == key.public_key())) {
    return Error(FaultCode::kInvalidKey, "certificate does not match the private key");
  }
  X509StackPtr ca = to_x509_stack(chain);
  std::string pass(passphrase);
  std::string name(friendly_name);
  Pkcs12Ptr p12(PKCS12_create(pass.c_str(), name.empty() ? nullptr : name.c_str(), native_pkey(key),
                              native_x509(cert), ca.get(), NID_aes_256_cbc, NID_aes_256_cbc,
                              PKCS12_DEFAULT_ITER, -1, 0));
  if (p12 && PKCS12_set_mac(p12.get(), pass.c_str(), -1, nullptr, 0, PKCS12_DEFAULT_ITER,
                            EVP_sha256()) != 1) {
    p12.reset();
  }
  OPENSSL_cleanse(pass.data(), pass.size());
  if (!p12) return openssl_error(FaultCode::kCryptoError, "cannot build PKCS#12");
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return openssl_error(FaultCode::kCryptoError, "cannot encode PKCS#12");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace hansa::crypto
