// Hansa's TSA client and batch helper against a running hansa-trust (certs/hansa-trust) over
// HTTP, with the development PKI.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "certs/hansa-trust/trust_server.h"
#include "core/crypto/digest.h"
#include "core/timestamp/batch.h"
#include "core/timestamp/client.h"
#include "tests/unit/core/ocsp/dev_pki_env.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::timestamp {
namespace {

class HansaTrustTsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ocsp::testing::read_pki_env(HANSA_TEST_PKI_DIR);
    if (env_.empty()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
    auto server =
        trust::TrustServer::create(trust::dev_pki_config(HANSA_TEST_PKI_DIR, tmp_.path() / "s"));
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->tsa_port()) + "/tsa";
    options_.tsa_certs.push_back(ocsp::testing::read_file(env_["TSA_CERT"]));
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  std::map<std::string, std::string> env_;
  ocsp::testing::TempDir tmp_;
  std::unique_ptr<trust::TrustServer> server_;
  std::string url_;
  VerifyOptions options_;
};

TEST_F(HansaTrustTsaTest, TokensVerifyWithAndWithoutEmbeddedCertificate) {
  for (bool cert_req : {true, false}) {
    ClientOptions client_options;
    client_options.request.cert_req = cert_req;
    auto token = TimestampClient(client_options).stamp(url_, "records", options_);
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    EXPECT_FALSE(token->policy_oid().empty());
    auto verified = verify(*token, "records", options_);
    ASSERT_TRUE(verified.ok()) << verified.error().to_string();
    EXPECT_EQ(verify(*token, "other records", options_).error().code,
              FaultCode::kTimestampValidation);
  }
}

TEST_F(HansaTrustTsaTest, BatchOverHansaTrust) {
  std::vector<std::string> digests;
  for (int i = 0; i < 3; ++i) {
    digests.push_back(crypto::digest(crypto::DigestAlgorithm::kSha512, std::to_string(i)));
  }
  auto batch = stamp_batch(digests, TimestampClient(), url_, options_);
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  EXPECT_EQ(batch->chain_xmls.size(), 3u);
  EXPECT_TRUE(verify(batch->token, batch->result_xml, options_).ok());
}

}  // namespace
}  // namespace hansa::timestamp
