// Hansa's OCSP client and cache against a running hansa-trust (certs/hansa-trust) over HTTP,
// with the development PKI.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <string>

#include "certs/hansa-trust/revocation_store.h"
#include "certs/hansa-trust/trust_server.h"
#include "core/ocsp/cache.h"
#include "core/ocsp/client.h"
#include "tests/unit/core/ocsp/dev_pki_env.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::ocsp {
namespace {

using namespace std::chrono_literals;

class HansaTrustOcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = testing::read_pki_env(HANSA_TEST_PKI_DIR);
    if (env_.empty()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
    config_ = trust::dev_pki_config(HANSA_TEST_PKI_DIR, tmp_.path() / "state.json");
    auto server = trust::TrustServer::create(config_);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->ocsp_port()) + "/ocsp";
    issuer_ = testing::read_file(env_["INTERMEDIATE_CA_CERT"]);
    member_ = testing::read_file(env_["MEMBER_1_SIGN_CERT"]);
    revoked_ = testing::read_file(env_["SIGN_REVOKED_CERT"]);
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  std::map<std::string, std::string> env_;
  testing::TempDir tmp_;
  trust::TrustConfig config_;
  std::unique_ptr<trust::TrustServer> server_;
  std::string url_;
  std::string issuer_;
  std::string member_;
  std::string revoked_;
};

TEST_F(HansaTrustOcspTest, GoodAndRevokedOverPostAndGet) {
  for (bool use_get : {false, true}) {
    ClientOptions options;
    options.use_get = use_get;
    options.max_get_url_bytes = 4096;
    OcspClient client(options);
    auto good = client.fetch_verified(url_, member_, issuer_, Clock::now(), {});
    ASSERT_TRUE(good.ok()) << (use_get ? "GET: " : "POST: ") << good.error().to_string();
    EXPECT_EQ(good->status(), CertStatus::kGood);
    EXPECT_NE(good->responder().find("OCSP"), std::string::npos) << good->responder();

    auto revoked = client.fetch(url_, revoked_, issuer_);
    ASSERT_TRUE(revoked.ok()) << revoked.error().to_string();
    EXPECT_EQ(revoked->status(), CertStatus::kRevoked);
    EXPECT_EQ(revoked->revocation_reason(), RevocationReason::kKeyCompromise);
    Status st = verify(*revoked, revoked_, issuer_, Clock::now());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  }
}

// `hansa-trust revoke` takes effect for a cached certificate at the next refresh.
TEST_F(HansaTrustOcspTest, CacheSeesRevocationOnRefresh) {
  std::atomic<std::int64_t> offset_s{0};
  OcspCache cache(OcspClient(), CacheOptions{},
                  [&] { return Clock::now() + std::chrono::seconds(offset_s.load()); });
  auto hash = cache.track({member_, issuer_, url_});
  ASSERT_TRUE(hash.ok());
  auto first = cache.get_or_fetch(*hash);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->status(), CertStatus::kGood);

  trust::RevocationStore store(config_.ocsp.state_file, config_.ocsp.index_file);
  ASSERT_TRUE(
      store.revoke(first->serial_hex(), trust::RevocationReason::kSuperseded, std::time(nullptr))
          .ok());
  // Still served until the refresh margin is reached.
  EXPECT_EQ(cache.refresh_due(), 0u);
  EXPECT_EQ(cache.get(*hash)->status(), CertStatus::kGood);
  offset_s = 3100;  // within 600 s of the 3600 s freshness limit
  EXPECT_EQ(cache.refresh_due(), 1u);
  auto now = cache.get(*hash);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->status(), CertStatus::kRevoked);
  EXPECT_EQ(now->revocation_reason(), RevocationReason::kSuperseded);
}

}  // namespace
}  // namespace hansa::ocsp
