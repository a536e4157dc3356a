#pragma once

// Test helpers: reading X-Road vectors, the development PKI and the repository's schemas.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"

namespace hansa::globalconf::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string vector_file(const std::string& name) {
  return read_file(std::string(HANSA_VECTORS_DIR) + "/" + name);
}

inline std::string schema_path(const std::string& name) {
  return std::string(HANSA_SOURCE_DIR) + "/schemas/globalconf/" + name;
}

inline crypto::Certificate pki_cert(const std::string& rel) {
  auto cert = crypto::Certificate::from_pem(read_file(std::string(HANSA_TEST_PKI_DIR) + "/" + rel));
  EXPECT_TRUE(cert.ok()) << rel;
  return std::move(cert).value();
}

inline crypto::PrivateKey pki_key(const std::string& rel) {
  auto key = crypto::PrivateKey::from_pem(read_file(std::string(HANSA_TEST_PKI_DIR) + "/" + rel));
  EXPECT_TRUE(key.ok()) << rel;
  return std::move(key).value();
}

}  // namespace hansa::globalconf::testing
