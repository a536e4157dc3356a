#pragma once

// Helpers for the core/crypto tests: reading files, the dev PKI summary (pki.env), and minting
// ad-hoc certificates with arbitrary subjects through OpenSSL.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/crypto/native.h"

namespace hansa::crypto::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The dev PKI's pki.env as a map (KEY=VALUE lines).
inline std::map<std::string, std::string> load_pki_env() {
  std::map<std::string, std::string> env;
  std::istringstream in(read_file(std::string(HANSA_TEST_PKI_DIR) + "/pki.env"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

inline Certificate load_cert(const std::string& path) {
  auto c = Certificate::from_pem(read_file(path));
  EXPECT_TRUE(c.ok()) << path << ": " << (c.ok() ? "" : c.error().to_string());
  return std::move(c).value();
}

inline PrivateKey load_key(const std::string& path) {
  auto k = PrivateKey::from_pem(read_file(path));
  EXPECT_TRUE(k.ok()) << path;
  return std::move(k).value();
}

struct CertSpec {
  DistinguishedName subject;
  // Extensions as openssl config values, e.g. {"keyUsage", "critical,nonRepudiation"}.
  std::vector<std::pair<std::string, std::string>> extensions;
  TimePoint not_before = std::chrono::system_clock::now() - std::chrono::hours(24);
  TimePoint not_after = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
  long serial = 1;
};

// A certificate for `key`'s public key, signed by `issuer_key` with issuer name taken from
// `issuer` (self-signed when issuer is null).
inline Certificate mint_cert(const CertSpec& spec, const PrivateKey& key,
                             const PrivateKey& issuer_key, const Certificate* issuer = nullptr) {
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), spec.serial);
  X509NamePtr name(X509_NAME_new());
  for (const auto& e : spec.subject) {
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name.get(), e.type.c_str(), MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(e.value.data()),
                                         static_cast<int>(e.value.size()), -1, 0),
              1)
        << e.type;
  }
  X509_set_subject_name(x.get(), name.get());
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(native_x509(*issuer)) : name.get());
  ASN1_TIME_set(X509_getm_notBefore(x.get()),
                std::chrono::system_clock::to_time_t(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), std::chrono::system_clock::to_time_t(spec.not_after));
  X509_set_pubkey(x.get(), native_pkey(key));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? native_x509(*issuer) : x.get(), x.get(), nullptr, nullptr, 0);
  for (const auto& [ext_name, value] : spec.extensions) {
    X509ExtensionPtr ext(X509V3_EXT_nconf(nullptr, &ctx, ext_name.c_str(), value.c_str()));
    EXPECT_TRUE(ext != nullptr) << ext_name << "=" << value;
    if (ext) X509_add_ext(x.get(), ext.get(), -1);
  }
  EXPECT_GT(X509_sign(x.get(), native_pkey(issuer_key), EVP_sha256()), 0);
  auto cert = certificate_from_native(std::move(x));
  EXPECT_TRUE(cert.ok());
  return std::move(cert).value();
}

inline PrivateKey ec_key() { return PrivateKey::generate_ec(EcCurve::kP256).value(); }

}  // namespace hansa::crypto::testing
