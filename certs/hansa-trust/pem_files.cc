#include "certs/hansa-trust/pem_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace hansa::trust::internal {
namespace {

constexpr std::size_t kMaxPemFileBytes = 1024 * 1024;

Result<std::string> read_pem(const std::filesystem::path& file) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    return Error(FaultCode::kIoError, "cannot read file", file.string() + ": " + ec.message());
  }
  if (size > kMaxPemFileBytes) {
    return Error(FaultCode::kLimitExceeded, "PEM file too large", file.string());
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<std::vector<crypto::X509Ptr>> load_certs(const std::filesystem::path& file) {
  HANSA_ASSIGN_OR_RETURN(std::string pem, read_pem(file));
  crypto::BioPtr bio = crypto::memory_bio(pem);
  std::vector<crypto::X509Ptr> certs;
  while (true) {
    crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();
  if (certs.empty()) {
    return Error(FaultCode::kInvalidCertificate, "no PEM certificate in file", file.string());
  }
  return certs;
}

Result<crypto::EvpPkeyPtr> load_key(const std::filesystem::path& file) {
  HANSA_ASSIGN_OR_RETURN(std::string pem, read_pem(file));
  crypto::BioPtr bio = crypto::memory_bio(pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return crypto::openssl_error(FaultCode::kInvalidKey,
                                 "cannot read private key " + file.string());
  }
  return key;
}

}  // namespace hansa::trust::internal
