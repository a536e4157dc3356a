// Chain verification against the generated development PKI (certs/make-dev-pki.sh).

#include "core/crypto/trust_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/crypto/pkcs12.h"
#include "tests/unit/core/crypto/test_support.h"

namespace hansa::crypto {
namespace {

using std::chrono::hours;
using testing::load_cert;

class DevPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = testing::load_pki_env();
    ASSERT_FALSE(env_.empty()) << "no pki.env in " << HANSA_TEST_PKI_DIR;
    root_ = load_cert(env_.at("ROOT_CA_CERT"));
    intermediate_ = load_cert(env_.at("INTERMEDIATE_CA_CERT"));
    store_.add_anchor(*root_);
    store_.add_intermediate(*intermediate_);
  }

  Certificate cert(const std::string& key) { return load_cert(env_.at(key)); }

  static void expect_fault(const Result<std::vector<Certificate>>& r, FaultCode code,
                           const std::string& text) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }

  std::map<std::string, std::string> env_;
  std::optional<Certificate> root_;
  std::optional<Certificate> intermediate_;
  TrustStore store_;
  TimePoint now_ = std::chrono::system_clock::now();
};

TEST_F(DevPkiTest, MemberSignAndNodeAuthChainsVerify) {
  int members = std::stoi(env_.at("MEMBER_COUNT"));
  int nodes = std::stoi(env_.at("NODE_COUNT"));
  EXPECT_GE(members, 2);
  EXPECT_GE(nodes, 2);
  for (int n = 1; n <= members; ++n) {
    Certificate sign = cert("MEMBER_" + std::to_string(n) + "_SIGN_CERT");
    auto chain = store_.verify(sign, now_, CertPurpose::kSigning);
    ASSERT_TRUE(chain.ok()) << chain.error().to_string();
    ASSERT_EQ(chain->size(), 3u);
    EXPECT_TRUE((*chain)[0] == sign);
    EXPECT_TRUE((*chain)[1] == *intermediate_);
    EXPECT_TRUE((*chain)[2] == *root_);
    EXPECT_FALSE(sign.ocsp_urls().empty());
    EXPECT_EQ(sign.ocsp_urls().front(), env_.at("OCSP_URL"));
    // A sign certificate is not an authentication certificate.
    expect_fault(store_.verify(sign, now_, CertPurpose::kAuthentication),
                 FaultCode::kWrongCertUsage, "authentication");
  }
  for (int n = 1; n <= nodes; ++n) {
    Certificate auth = cert("NODE_" + std::to_string(n) + "_AUTH_CERT");
    EXPECT_TRUE(store_.verify(auth, now_, CertPurpose::kAuthentication).ok());
    EXPECT_TRUE(store_.verify(auth, now_, CertPurpose::kTlsServer).ok());
  }
}

TEST_F(DevPkiTest, TrustServiceCertificatesFitTheirPurpose) {
  Certificate ocsp = cert("OCSP_CERT");
  Certificate tsa = cert("TSA_CERT");
  EXPECT_TRUE(store_.verify(ocsp, now_, CertPurpose::kOcspSigning).ok());
  EXPECT_TRUE(store_.verify(tsa, now_, CertPurpose::kTimeStamping).ok());
  expect_fault(store_.verify(tsa, now_, CertPurpose::kOcspSigning), FaultCode::kWrongCertUsage,
               "OCSP");
  expect_fault(store_.verify(ocsp, now_, CertPurpose::kTimeStamping), FaultCode::kWrongCertUsage,
               "time-stamping");
  EXPECT_TRUE(store_.verify(*intermediate_, now_, CertPurpose::kCa).ok());
  Certificate conf = cert("CONF_SIGNING_CERT");
  EXPECT_TRUE(conf.is_self_signed());
  EXPECT_TRUE(conf.has_key_usage(KeyUsage::kDigitalSignature));
}

TEST_F(DevPkiTest, ExpiredAndNotYetValidCertificatesFailAtNow) {
  Certificate expired = cert("SIGN_EXPIRED_CERT");
  expect_fault(store_.verify(expired, now_, CertPurpose::kSigning), FaultCode::kCertValidation,
               "expired");
  // The message names the certificate.
  EXPECT_NE(
      store_.verify(expired, now_, CertPurpose::kSigning).error().message.find(expired.subject()),
      std::string::npos);
  // The verification time is the caller's, not the wall clock: inside its validity it passes.
  EXPECT_TRUE(store_.verify(expired, expired.not_before() + hours(24), CertPurpose::kSigning).ok());

  Certificate future = cert("SIGN_NOT_YET_VALID_CERT");
  expect_fault(store_.verify(future, now_, CertPurpose::kSigning), FaultCode::kCertValidation,
               "not yet valid");
  EXPECT_TRUE(store_.verify(future, future.not_before() + hours(1), CertPurpose::kSigning).ok());

  expect_fault(store_.verify(cert("AUTH_EXPIRED_CERT"), now_, CertPurpose::kAuthentication),
               FaultCode::kCertValidation, "expired");
  // Before the CAs existed nothing verifies.
  expect_fault(store_.verify(cert("MEMBER_1_SIGN_CERT"), root_->not_before() - hours(48),
                             CertPurpose::kSigning),
               FaultCode::kCertValidation, "not yet valid");
}

TEST_F(DevPkiTest, WrongUsageVariantsAreRefused) {
  expect_fault(store_.verify(cert("SIGN_WRONG_USAGE_CERT"), now_, CertPurpose::kSigning),
               FaultCode::kWrongCertUsage, "signing");
  expect_fault(store_.verify(cert("AUTH_WRONG_USAGE_CERT"), now_, CertPurpose::kAuthentication),
               FaultCode::kWrongCertUsage, "authentication");
  // Usage is only checked for the purpose asked.
  EXPECT_TRUE(store_.verify(cert("SIGN_WRONG_USAGE_CERT"), now_, CertPurpose::kAny).ok());
}

TEST_F(DevPkiTest, UntrustedIssuerFails) {
  Certificate rogue = cert("UNTRUSTED_SIGN_CERT");
  expect_fault(store_.verify(rogue, now_, CertPurpose::kSigning), FaultCode::kCertValidation,
               "untrusted issuer");
  // Even when the rogue root is offered as an untrusted extra certificate.
  expect_fault(store_.verify(rogue, now_, CertPurpose::kSigning, {cert("UNTRUSTED_ROOT_CERT")}),
               FaultCode::kCertValidation, "untrusted issuer");
  // Without the intermediate the chain cannot be built; offering it as extra fixes that.
  TrustStore only_root;
  only_root.add_anchor(*root_);
  Certificate sign = cert("MEMBER_1_SIGN_CERT");
  expect_fault(only_root.verify(sign, now_, CertPurpose::kSigning), FaultCode::kCertValidation,
               "untrusted issuer");
  EXPECT_TRUE(only_root.verify(sign, now_, CertPurpose::kSigning, {*intermediate_}).ok());
  // An empty store trusts nothing.
  expect_fault(TrustStore().verify(sign, now_, CertPurpose::kSigning), FaultCode::kCertValidation,
               "untrusted issuer");
  // An intermediate may be the anchor (partial chains).
  TrustStore only_intermediate;
  only_intermediate.add_anchor(*intermediate_);
  auto chain = only_intermediate.verify(sign, now_, CertPurpose::kSigning);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->size(), 2u);
}

TEST_F(DevPkiTest, RevokedCertificatesAreMarkedInTheCaIndex) {
  // Revocation is OCSP's business: the chain itself verifies, the index says "R".
  Certificate revoked = cert("SIGN_REVOKED_CERT");
  EXPECT_TRUE(store_.verify(revoked, now_, CertPurpose::kSigning).ok());
  std::string index = testing::read_file(env_.at("INTERMEDIATE_CA_INDEX"));
  std::string serial = revoked.serial_hex();
  for (auto& ch : serial) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto pos = index.find(serial);
  ASSERT_NE(pos, std::string::npos);
  auto line_start = index.rfind('\n', pos);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  EXPECT_EQ(index[line_start], 'R');
  std::string good = cert("MEMBER_1_SIGN_CERT").serial_hex();
  for (auto& ch : good) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  pos = index.find(good);
  ASSERT_NE(pos, std::string::npos);
  line_start = index.rfind('\n', pos);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  EXPECT_EQ(index[line_start], 'V');
}

TEST_F(DevPkiTest, KeysAndPkcs12FilesMatchTheirCertificates) {
  Certificate sign = cert("MEMBER_1_SIGN_CERT");
  PrivateKey key = testing::load_key(env_.at("MEMBER_1_SIGN_KEY"));
  EXPECT_TRUE(key.public_key() == sign.public_key());
  auto sig = key.sign(SignatureAlgorithm::kRsaSha512, "hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(sign.public_key().verify(SignatureAlgorithm::kRsaSha512, "hello", *sig).ok());

  auto p12 = load_pkcs12(testing::read_file(env_.at("NODE_1_AUTH_P12")), env_.at("P12_PASSWORD"));
  ASSERT_TRUE(p12.ok()) << p12.error().to_string();
  EXPECT_TRUE(p12->certificate == cert("NODE_1_AUTH_CERT"));
  EXPECT_EQ(p12->chain.size(), 2u);
  auto wrong = load_pkcs12(testing::read_file(env_.at("NODE_1_AUTH_P12")), "wrong");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kInvalidKey);

  auto bundle = Certificate::bundle_from_pem(testing::read_file(env_.at("MEMBER_1_SIGN_CHAIN")));
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(bundle->size(), 3u);
  EXPECT_TRUE((*bundle)[0] == sign);
}

TEST_F(DevPkiTest, SharedValuesAreUsableFromManyThreads) {
  // Certificates, keys and a built TrustStore are shared (const) across threads.
  Certificate sign = cert("MEMBER_1_SIGN_CERT");
  PrivateKey key = testing::load_key(env_.at("MEMBER_1_SIGN_KEY"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!store_.verify(sign, now_, CertPurpose::kSigning).ok()) ++failures;
        auto sig = key.sign(SignatureAlgorithm::kRsaPssSha512, "data");
        if (!sig.ok() ||
            !sign.public_key().verify(SignatureAlgorithm::kRsaPssSha512, "data", *sig).ok()) {
          ++failures;
        }
        if (!sign.subject_field("serialNumber")) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(TrustStorePurposeTest, DocumentedRules) {
  using testing::CertSpec;
  auto key = testing::ec_key();
  auto make = [&](std::vector<std::pair<std::string, std::string>> ext) {
    CertSpec spec;
    spec.subject = {{"CN", "x"}};
    spec.extensions = std::move(ext);
    return testing::mint_cert(spec, key, key);
  };
  Certificate no_ext = make({});
  EXPECT_TRUE(TrustStore::check_purpose(no_ext, CertPurpose::kAny).ok());
  EXPECT_FALSE(TrustStore::check_purpose(no_ext, CertPurpose::kSigning).ok());
  Certificate ds = make({{"keyUsage", "digitalSignature"}});
  EXPECT_TRUE(TrustStore::check_purpose(ds, CertPurpose::kSigning).ok());
  EXPECT_TRUE(TrustStore::check_purpose(ds, CertPurpose::kAuthentication).ok());
  Certificate ds_server =
      make({{"keyUsage", "digitalSignature"}, {"extendedKeyUsage", "serverAuth"}});
  EXPECT_FALSE(TrustStore::check_purpose(ds_server, CertPurpose::kAuthentication).ok());
  EXPECT_TRUE(TrustStore::check_purpose(ds_server, CertPurpose::kTlsServer).ok());
  Certificate nr = make({{"keyUsage", "nonRepudiation"}});
  EXPECT_TRUE(TrustStore::check_purpose(nr, CertPurpose::kSigning).ok());
  EXPECT_EQ(TrustStore::check_purpose(nr, CertPurpose::kAuthentication).error().code,
            FaultCode::kWrongCertUsage);
  EXPECT_FALSE(TrustStore::check_purpose(nr, CertPurpose::kCa).ok());
}

}  // namespace
}  // namespace hansa::crypto
