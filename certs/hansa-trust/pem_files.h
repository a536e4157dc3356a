#pragma once

// Internal to hansa-trust: loading PEM certificates and keys from files (OpenSSL handles).

#include <filesystem>
#include <vector>

#include "core/crypto/openssl_ptr.h"
#include "core/errors/errors.h"

namespace hansa::trust::internal {

// Every certificate in a PEM file (at least one): InvalidCertificate / IoError.
[[nodiscard]] Result<std::vector<crypto::X509Ptr>> load_certs(const std::filesystem::path& file);
// A private key from a PEM file: InvalidKey / IoError.
[[nodiscard]] Result<crypto::EvpPkeyPtr> load_key(const std::filesystem::path& file);

}  // namespace hansa::trust::internal
