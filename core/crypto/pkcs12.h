#pragma once

// PKCS#12 key stores: a private key, its certificate and the chain, under a passphrase.
// Threading: free functions, thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

struct Pkcs12Contents {
  PrivateKey key;
  Certificate certificate;         // the certificate matching `key`
  std::vector<Certificate> chain;  // the other certificates, as stored
};

// Parse a DER PKCS#12 (at most kMaxKeyInputSize bytes). Fails with InvalidKey for a wrong
// passphrase or garbage, KeyNotFound / CertNotFound when the store lacks a key or certificate.
[[nodiscard]] Result<Pkcs12Contents> load_pkcs12(std::string_view der, std::string_view passphrase);

// DER PKCS#12 with AES-256 (PBES2) encryption and a SHA-256 MAC. `friendly_name` may be empty.
[[nodiscard]] Result<std::string> write_pkcs12(const PrivateKey& key, const Certificate& cert,
                                               const std::vector<Certificate>& chain,
                                               std::string_view passphrase,
                                               std::string_view friendly_name = {});

}  // namespace hansa::crypto
