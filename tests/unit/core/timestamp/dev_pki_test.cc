// Time-stamp tokens of the development PKI's TSA (certs/make-dev-pki.sh) verify against its
// certificate.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/timestamp/timestamp.h"
#include "tests/unit/core/ocsp/dev_pki_env.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::timestamp {
namespace {

TEST(DevPkiTimestampTest, DevTsaTokensVerify) {
  auto env = ocsp::testing::read_pki_env(HANSA_TEST_PKI_DIR);
  if (env.empty()) {
    GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
  }
  ocsp::testing::TempDir tmp;
  // A private copy of the TSA configuration, so the serial file of the shared PKI is untouched.
  std::string config = ocsp::testing::read_file(env["TSA_CONFIG"]);
  std::size_t serial = config.find("serial = $dir/serial");
  ASSERT_NE(serial, std::string::npos);
  config.replace(serial, 20, "serial = " + (tmp.path() / "serial").string());
  ocsp::testing::write_file(tmp.path() / "tsa.cnf", config);
  ocsp::testing::write_file(tmp.path() / "serial", "01\n");

  auto req = build_request("dev batch");
  ASSERT_TRUE(req.ok());
  ocsp::testing::write_file(tmp.path() / "q.tsq", req->der);
  ASSERT_TRUE(ocsp::testing::run_in(
      tmp.path(), "openssl ts -reply -config tsa.cnf -queryfile q.tsq -out r.tsr"));
  auto token = parse_reply(ocsp::testing::read_file(tmp.path() / "r.tsr"));
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  VerifyOptions options;
  options.tsa_certs.push_back(ocsp::testing::read_file(env["TSA_CERT"]));
  options.nonce = req->nonce;
  options.required_policy = "1.3.6.1.4.1.99999.1.1";
  auto verified = verify(*token, "dev batch", options);
  EXPECT_TRUE(verified.ok()) << verified.error().to_string();
}

}  // namespace
}  // namespace hansa::timestamp
