// The OCSP verifier against the development PKI (certs/make-dev-pki.sh): its delegated OCSP
// responder certificate is accepted and the revoked variant is reported revoked.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/ocsp/response.h"
#include "tests/unit/core/ocsp/dev_pki_env.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::ocsp {
namespace {

class DevPkiOcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = testing::read_pki_env(HANSA_TEST_PKI_DIR);
    if (env_.empty()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
  }

  // `openssl ocsp` over the intermediate's index, signed by the dev PKI's OCSP responder.
  std::string respond(const std::string& cert_pem) {
    auto req = build_request(cert_pem, testing::read_file(env_["INTERMEDIATE_CA_CERT"]));
    EXPECT_TRUE(req.ok());
    testing::write_file(tmp_.path() / "req.der", *req);
    testing::run_in(tmp_.path(), "openssl ocsp -index '" + env_["INTERMEDIATE_CA_INDEX"] +
                                     "' -CA '" + env_["INTERMEDIATE_CA_CERT"] + "' -rsigner '" +
                                     env_["OCSP_CERT"] + "' -rkey '" + env_["OCSP_KEY"] +
                                     "' -reqin req.der -respout resp.der -ndays 1");
    return testing::read_file(tmp_.path() / "resp.der");
  }

  std::map<std::string, std::string> env_;
  testing::TempDir tmp_;
};

TEST_F(DevPkiOcspTest, MemberSignCertificateIsGoodAndRevokedVariantIsRevoked) {
  std::string issuer = testing::read_file(env_["INTERMEDIATE_CA_CERT"]);
  std::string good = testing::read_file(env_["MEMBER_1_SIGN_CERT"]);
  auto resp = OcspResponse::parse(respond(good));
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  Status st = verify(*resp, good, issuer, Clock::now());
  EXPECT_TRUE(st.ok()) << st.error().to_string();

  std::string revoked = testing::read_file(env_["SIGN_REVOKED_CERT"]);
  auto rresp = OcspResponse::parse(respond(revoked));
  ASSERT_TRUE(rresp.ok());
  EXPECT_EQ(rresp->status(), CertStatus::kRevoked);
  EXPECT_EQ(rresp->revocation_reason(), RevocationReason::kKeyCompromise);
  EXPECT_EQ(verify(*rresp, revoked, issuer, Clock::now()).error().code, FaultCode::kCertValidation);

  // The intermediate does not vouch for certificates of the unrelated root.
  std::string untrusted = testing::read_file(env_["UNTRUSTED_SIGN_CERT"]);
  EXPECT_EQ(verify(*resp, untrusted, issuer, Clock::now()).error().code,
            FaultCode::kCertValidation);
}

}  // namespace
}  // namespace hansa::ocsp
