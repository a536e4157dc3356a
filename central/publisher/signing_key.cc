// Configuration-signing keys and self-signed certificates for the central server.

#include <fcntl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "central/publisher/publisher.h"
#include "core/crypto/native.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/random.h"

namespace hansa::central {

namespace {

Status write_file(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Error(FaultCode::kIoError, "cannot create directory",
                   path.parent_path().string() + ": " + ec.message());
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return Error(FaultCode::kIoError, "cannot create file",
                 path.string() + ": " + std::strerror(errno));
  }
  // An existing file keeps its mode through O_CREAT; tighten it explicitly.
  (void)::fchmod(fd, mode);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Error(FaultCode::kIoError, "cannot write file", path.string() + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Error(FaultCode::kIoError, "cannot write file", path.string());
  }
  return ok_status();
}

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot add certificate extension");
  }
  return ok_status();
}

}  // namespace

Result<crypto::Certificate> make_self_signed_certificate(const crypto::PrivateKey& key,
                                                         std::string_view common_name,
                                                         std::chrono::seconds validity,
                                                         std::string_view dns_name) {
  if (common_name.empty() || common_name.size() > 64) {
    return Error(FaultCode::kInvalidRequest, "common name must be 1 to 64 characters");
  }
  crypto::X509Ptr cert(X509_new());
  if (!cert) {
    return crypto::openssl_error(FaultCode::kCryptoError, "X509_new failed");
  }
  X509_set_version(cert.get(), 2);
  // A positive 120-bit random serial number.
  std::string serial = crypto::random_bytes(15);
  serial[0] = static_cast<char>(serial[0] & 0x7f);
  crypto::BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                                 static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot set serial number");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot set certificate name");
  }
  // Valid from a minute ago, to tolerate small clock differences.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(validity.count() / 86400),
                       static_cast<long>(validity.count() % 86400), nullptr) == nullptr) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot set validity");
  }
  EVP_PKEY* pkey = crypto::native_pkey(key);
  if (X509_set_pubkey(cert.get(), pkey) != 1) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot set public key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  HANSA_RETURN_IF_ERROR(
      add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  HANSA_RETURN_IF_ERROR(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (dns_name.empty()) {
    HANSA_RETURN_IF_ERROR(
        add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  } else {
    if (dns_name.find_first_of(",\r\n") != std::string_view::npos) {
      return Error(FaultCode::kInvalidRequest, "bad DNS name for subjectAltName");
    }
    HANSA_RETURN_IF_ERROR(add_extension(cert.get(), &ctx, NID_key_usage,
                                        "critical,digitalSignature,keyEncipherment"));
    HANSA_RETURN_IF_ERROR(add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
    const bool is_ip =
        dns_name.find_first_not_of("0123456789.:abcdefABCDEF") == std::string_view::npos &&
        (dns_name.find('.') != std::string_view::npos ||
         dns_name.find(':') != std::string_view::npos);
    const std::string san = (is_ip ? "IP:" : "DNS:") + std::string(dns_name);
    HANSA_RETURN_IF_ERROR(add_extension(cert.get(), &ctx, NID_subject_alt_name, san.c_str()));
  }
  const EVP_MD* md = EVP_sha256();
  if (X509_sign(cert.get(), pkey, md) <= 0) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot sign certificate");
  }
  return crypto::certificate_from_native(std::move(cert));
}

Result<GeneratedSigningKey> generate_signing_key(const std::filesystem::path& key_file,
                                                 const std::filesystem::path& cert_file,
                                                 std::string_view common_name, SigningKeyType type,
                                                 std::chrono::seconds validity) {
  Result<crypto::PrivateKey> key = [&] {
    switch (type) {
      case SigningKeyType::kRsa2048:
        return crypto::PrivateKey::generate_rsa(2048);
      case SigningKeyType::kEcP256:
        return crypto::PrivateKey::generate_ec(crypto::EcCurve::kP256);
      case SigningKeyType::kRsa3072:
        break;
    }
    return crypto::PrivateKey::generate_rsa(3072);
  }();
  if (!key.ok()) {
    return std::move(key).error();
  }
  HANSA_ASSIGN_OR_RETURN(auto cert, make_self_signed_certificate(*key, common_name, validity));
  HANSA_ASSIGN_OR_RETURN(auto pem, key->to_pem());
  HANSA_RETURN_IF_ERROR(write_file(key_file, pem, 0600));
  HANSA_RETURN_IF_ERROR(write_file(cert_file, cert.pem(), 0644));
  return GeneratedSigningKey{.key = std::move(key).value(), .cert = std::move(cert)};
}

Result<GeneratedSigningKey> generate_tls_key(const std::filesystem::path& key_file,
                                             const std::filesystem::path& cert_file,
                                             std::string_view host, std::chrono::seconds validity) {
  HANSA_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::generate_ec(crypto::EcCurve::kP256));
  HANSA_ASSIGN_OR_RETURN(auto cert, make_self_signed_certificate(
                                        key, host.empty() ? "central" : host, validity, host));
  HANSA_ASSIGN_OR_RETURN(auto pem, key.to_pem());
  HANSA_RETURN_IF_ERROR(write_file(key_file, pem, 0600));
  HANSA_RETURN_IF_ERROR(write_file(cert_file, cert.pem(), 0644));
  return GeneratedSigningKey{.key = std::move(key), .cert = std::move(cert)};
}

}  // namespace hansa::central
