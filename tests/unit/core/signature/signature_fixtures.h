#pragma once

// Test-only helpers shared by the signature, ASiC and hansa-verify tests: the X-Road vectors and
// their verification configuration, and a signer over the development PKI (member 1's sign key,
// OCSP responses from `openssl ocsp`, time-stamps from `openssl ts -reply`, a global
// configuration snapshot approving the dev CA and TSA).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/crypto/cert_profile.h"
#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/globalconf/snapshot.h"
#include "core/globalconf/xml_codec.h"
#include "core/hashchain/hashchain.h"
#include "core/ocsp/response.h"
#include "core/timestamp/timestamp.h"
#include "tests/unit/core/ocsp/dev_pki_env.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::signature::testing {

using ocsp::testing::read_file;
using ocsp::testing::TempDir;
using ocsp::testing::write_file;

// Runs `cmd` in `dir` through the shell; true on exit status 0 (no test failure otherwise).
inline bool run_quiet(const std::filesystem::path& dir, const std::string& cmd) {
  return std::system(("cd '" + dir.string() + "' && " + cmd).c_str()) == 0;
}

inline std::filesystem::path vector_path(const std::string& name) {
  return std::filesystem::path(HANSA_VECTORS_DIR) / name;
}

inline std::string read_vector(const std::string& name) { return read_file(vector_path(name)); }

// The shared-params vector X-Road's verifier tests use, as a snapshot.
inline std::shared_ptr<const globalconf::GlobalConfSnapshot> vector_conf() {
  auto shared = globalconf::parse_shared_parameters(
      read_vector("asic-verification-globalconf-DEV-shared-params.xml"));
  EXPECT_TRUE(shared.ok()) << shared.error().to_string();
  auto snap = globalconf::GlobalConfSnapshot::create(
      std::nullopt, {std::move(shared).value()},
      std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100));
  EXPECT_TRUE(snap.ok()) << snap.error().to_string();
  return std::move(snap).value();
}

// Member 1 of the dev PKI signing, with OCSP and TSA answers made by the openssl command.
class DevPki {
 public:
  // False (and the test should skip) when the dev PKI has not been generated.
  bool load() {
    env_ = ocsp::testing::read_pki_env(HANSA_TEST_PKI_DIR);
    if (env_.empty()) {
      return false;
    }
    auto key = crypto::PrivateKey::from_pem(read_file(env_["MEMBER_1_SIGN_KEY"]));
    auto cert = crypto::Certificate::from_pem(read_file(env_["MEMBER_1_SIGN_CERT"]));
    EXPECT_TRUE(key.ok() && cert.ok());
    key_ = std::make_unique<crypto::PrivateKey>(*key);
    cert_ = std::make_unique<crypto::Certificate>(*cert);
    // A private copy of the TSA configuration so the shared PKI's serial file is untouched.
    std::string config = read_file(env_["TSA_CONFIG"]);
    std::size_t serial = config.find("serial = $dir/serial");
    EXPECT_NE(serial, std::string::npos);
    config.replace(serial, 20, "serial = " + (tmp_.path() / "serial").string());
    write_file(tmp_.path() / "tsa.cnf", config);
    write_file(tmp_.path() / "serial", "01\n");
    return true;
  }

  const crypto::Certificate& cert() const { return *cert_; }
  const crypto::PrivateKey& key() const { return *key_; }
  std::string member_id() { return env_["MEMBER_1_ID"]; }
  std::map<std::string, std::string>& env() { return env_; }
  const std::filesystem::path& dir() const { return tmp_.path(); }

  // A Signer over member 1's key that counts its calls.
  std::function<Result<std::string>(crypto::SignatureAlgorithm, std::string_view)> signer() {
    return [this](crypto::SignatureAlgorithm alg, std::string_view data) {
      ++sign_calls_;
      return key_->sign(alg, data);
    };
  }
  int sign_calls() const { return sign_calls_; }

  // A fresh OCSP response for `cert_pem` (default: member 1's sign certificate).
  std::string ocsp(const std::string& cert_pem = {}) {
    std::string pem = cert_pem.empty() ? cert_->pem() : cert_pem;
    auto req = ocsp::build_request(pem, read_file(env_["INTERMEDIATE_CA_CERT"]));
    EXPECT_TRUE(req.ok());
    write_file(tmp_.path() / "req.der", *req);
    EXPECT_TRUE(ocsp::testing::run_in(
        tmp_.path(), "openssl ocsp -index '" + env_["INTERMEDIATE_CA_INDEX"] + "' -CA '" +
                         env_["INTERMEDIATE_CA_CERT"] + "' -rsigner '" + env_["OCSP_CERT"] +
                         "' -rkey '" + env_["OCSP_KEY"] +
                         "' -reqin req.der -respout resp.der -ndays 1 2>/dev/null"));
    return read_file(tmp_.path() / "resp.der");
  }

  // An RFC 3161 token (SHA-512 imprint) over `data` from the dev TSA.
  std::string timestamp(std::string_view data) {
    timestamp::RequestOptions opts;
    opts.nonce = false;
    auto req = timestamp::build_request(data, opts);
    EXPECT_TRUE(req.ok());
    write_file(tmp_.path() / "q.tsq", req->der);
    EXPECT_TRUE(ocsp::testing::run_in(
        tmp_.path(), "openssl ts -reply -config tsa.cnf -queryfile q.tsq -out r.tsr 2>/dev/null"));
    auto token = timestamp::parse_reply(read_file(tmp_.path() / "r.tsr"));
    EXPECT_TRUE(token.ok()) << token.error().to_string();
    return token->der();
  }

  // A configuration approving the dev PKI's CAs (Hansa's default profile), OCSP responder, TSA.
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf() {
    auto root = crypto::Certificate::from_pem(read_file(env_["ROOT_CA_CERT"]));
    auto inter = crypto::Certificate::from_pem(read_file(env_["INTERMEDIATE_CA_CERT"]));
    auto ocsp_cert = crypto::Certificate::from_pem(read_file(env_["OCSP_CERT"]));
    auto tsa = crypto::Certificate::from_pem(read_file(env_["TSA_CERT"]));
    EXPECT_TRUE(root.ok() && inter.ok() && ocsp_cert.ok() && tsa.ok());
    globalconf::SharedParameters shared;
    shared.instance_identifier = "DEV";
    globalconf::OcspResponder responder{env_["OCSP_URL"], *ocsp_cert, std::nullopt};
    globalconf::ApprovedCa ca{"Dev CA",
                              std::nullopt,
                              globalconf::CaInfo{*root, {}},
                              {globalconf::CaInfo{*inter, {responder}}},
                              std::string(crypto::kHansaDefaultProfileName),
                              std::nullopt,
                              std::nullopt};
    shared.approved_cas.push_back(ca);
    shared.approved_tsas.push_back(
        globalconf::ApprovedTsa{"Dev TSA", "http://127.0.0.1/tsa", *tsa, std::nullopt});
    auto snap = globalconf::GlobalConfSnapshot::create(
        std::nullopt, {shared}, std::chrono::system_clock::now() + std::chrono::hours(24));
    EXPECT_TRUE(snap.ok()) << snap.error().to_string();
    return std::move(snap).value();
  }

 private:
  std::map<std::string, std::string> env_;
  std::unique_ptr<crypto::PrivateKey> key_;
  std::unique_ptr<crypto::Certificate> cert_;
  TempDir tmp_;
  int sign_calls_ = 0;
};

}  // namespace hansa::signature::testing
