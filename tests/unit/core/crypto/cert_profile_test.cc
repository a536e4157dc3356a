#include "core/crypto/cert_profile.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <regex>

#include "tests/unit/core/crypto/test_support.h"

namespace hansa::crypto {
namespace {

using testing::CertSpec;

// One member of a zip archive, read with libzip.
std::string zip_entry(const std::string& archive, const std::string& name) {
  int err = 0;
  zip_t* z = zip_open(archive.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) return {};
  std::string out;
  zip_stat_t st;
  if (zip_stat(z, name.c_str(), 0, &st) == 0) {
    if (zip_file_t* f = zip_fopen(z, name.c_str(), 0)) {
      out.resize(st.size);
      zip_int64_t n = zip_fread(f, out.data(), st.size);
      out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
      zip_fclose(f);
    }
  }
  zip_close(z);
  return out;
}

// The signer's certificate: the first ds:X509Certificate of META-INF/signatures.xml.
Certificate asic_sign_cert(const std::string& file) {
  std::string xml =
      zip_entry(std::string(HANSA_VECTORS_DIR) + "/" + file, "META-INF/signatures.xml");
  EXPECT_FALSE(xml.empty()) << file;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(xml, m, std::regex("X509Certificate>([^<]*)<"))) << file;
  // Upstream wraps the base64 with "&#13;" character references.
  std::string b64 = std::regex_replace(m[1].str(), std::regex("&#13;"), "");
  auto cert = Certificate::from_base64(b64);
  EXPECT_TRUE(cert.ok()) << file;
  return std::move(cert).value();
}

std::string profile_info_name() {
  std::string xml = testing::read_file(std::string(HANSA_VECTORS_DIR) +
                                       "/asic-verification-globalconf-DEV-shared-params.xml");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(
      xml, m, std::regex("<certificateProfileInfo>([^<]+)</certificateProfileInfo>")));
  return m[1].str();
}

TEST(CertProfileTest, NamesMapToProfiles) {
  auto fi = certificate_profile_from_name(
      "ee.ria.xroad.common.certificateprofile.impl.FiVRKCertificateProfileInfoProvider");
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(*fi, CertificateProfile::kFiVrk);
  EXPECT_EQ(*certificate_profile_from_name(kHansaDefaultProfileName),
            CertificateProfile::kHansaDefault);
  EXPECT_EQ(
      *certificate_profile_from_name(
          "ee.ria.xroad.common.certificateprofile.impl.BasicACMECertificateProfileInfoProvider"),
      CertificateProfile::kBasic);
  for (auto p :
       {CertificateProfile::kHansaDefault, CertificateProfile::kBasic, CertificateProfile::kEjbca,
        CertificateProfile::kFiVrk, CertificateProfile::kFo, CertificateProfile::kIs,
        CertificateProfile::kSkKlass3, CertificateProfile::kSkEsteId}) {
    EXPECT_EQ(*certificate_profile_from_name(certificate_profile_name(p)), p);
  }
  EXPECT_EQ(certificate_profile_from_name("").error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(certificate_profile_from_name("com.example.Nope").error().code,
            FaultCode::kInvalidConfiguration);
  EXPECT_FALSE(certificate_profile_from_name("FiVRKCertificateProfileInfoProvider").ok());
}

TEST(CertProfileTest, XRoadAsicVectorsYieldTheirSigners) {
  auto profile = certificate_profile_from_name(profile_info_name());
  ASSERT_TRUE(profile.ok());
  struct Case {
    const char* file;
    const char* member;
  };
  for (const Case& c :
       {Case{"asic-valid-batch-ts.asice", "MEMBER:DEV/COM/4321"},
        Case{"asic-valid-signed-hashchain.asice", "MEMBER:DEV/COM/4321"},
        Case{"asic-invalid-hashchain-modified-message.asice", "MEMBER:DEV/COM/4321"},
        Case{"asic-valid-non-batch-rest.asice", "MEMBER:DEV/COM/1234"}}) {
    Certificate cert = asic_sign_cert(c.file);
    auto id = member_id_from_sign_cert(*profile, cert, "DEV");
    ASSERT_TRUE(id.ok()) << c.file << ": " << id.error().to_string();
    EXPECT_EQ(id->to_string(), c.member) << c.file;
  }
}

TEST(CertProfileTest, DevPkiSignCertificatesUseHansaDefault) {
  auto env = testing::load_pki_env();
  ASSERT_FALSE(env.empty());
  int members = std::stoi(env.at("MEMBER_COUNT"));
  for (int n = 1; n <= members; ++n) {
    std::string prefix = "MEMBER_" + std::to_string(n) + "_";
    Certificate cert = testing::load_cert(env.at(prefix + "SIGN_CERT"));
    auto id = member_id_from_sign_cert(CertificateProfile::kHansaDefault, cert, "ignored");
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    EXPECT_EQ(id->to_short_string(), env.at(prefix + "ID"));
  }
  // A node auth certificate is not a sign certificate of this profile.
  Certificate auth = testing::load_cert(env.at("NODE_1_AUTH_CERT"));
  EXPECT_EQ(member_id_from_sign_cert(CertificateProfile::kHansaDefault, auth, "DEV").error().code,
            FaultCode::kIncorrectCertificate);
}

class SyntheticProfileTest : public ::testing::Test {
 protected:
  Result<ids::MemberId> read(CertificateProfile p, DistinguishedName subject,
                             std::string_view instance = "EE") {
    CertSpec spec;
    spec.subject = std::move(subject);
    return member_id_from_sign_cert(p, testing::mint_cert(spec, key_, key_), instance);
  }
  std::string ok(CertificateProfile p, DistinguishedName subject,
                 std::string_view instance = "EE") {
    auto r = read(p, std::move(subject), instance);
    return r.ok() ? r->to_short_string() : "error: " + r.error().message;
  }
  FaultCode code(CertificateProfile p, DistinguishedName subject) {
    auto r = read(p, std::move(subject));
    return r.ok() ? FaultCode::kInternalError : r.error().code;
  }
  PrivateKey key_ = testing::ec_key();
};

TEST_F(SyntheticProfileTest, HansaDefault) {
  EXPECT_EQ(ok(CertificateProfile::kHansaDefault,
               {{"O", "Agency"}, {"CN", "123"}, {"serialNumber", "DEV/GOV/123"}}),
            "DEV/GOV/123");
  EXPECT_EQ(
      code(CertificateProfile::kHansaDefault, {{"CN", "999"}, {"serialNumber", "DEV/GOV/123"}}),
      FaultCode::kIncorrectCertificate);
  EXPECT_EQ(code(CertificateProfile::kHansaDefault, {{"CN", "123"}, {"serialNumber", "DEV/123"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(
      code(CertificateProfile::kHansaDefault, {{"CN", "1 2"}, {"serialNumber", "DEV/GOV/1 2"}}),
      FaultCode::kIncorrectCertificate);  // space is not an identifier character
}

TEST_F(SyntheticProfileTest, BasicAndEjbca) {
  EXPECT_EQ(
      ok(CertificateProfile::kBasic,
         {{"C", "EE"}, {"O", "Org"}, {"businessCategory", "GOV"}, {"serialNumber", "42"}}, "INST"),
      "INST/GOV/42");
  EXPECT_EQ(code(CertificateProfile::kBasic, {{"serialNumber", "42"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(ok(CertificateProfile::kEjbca, {{"C", "EE"}, {"O", "COM"}, {"CN", "77"}}), "EE/COM/77");
  EXPECT_EQ(code(CertificateProfile::kEjbca, {{"C", "EE"}, {"CN", "77"}}),
            FaultCode::kIncorrectCertificate);
}

TEST_F(SyntheticProfileTest, FiVrkForms) {
  EXPECT_EQ(ok(CertificateProfile::kFiVrk,
               {{"C", "FI"}, {"O", "Org"}, {"CN", "1234"}, {"serialNumber", "FI/SS1/GOV"}}),
            "FI/GOV/1234");
  EXPECT_EQ(code(CertificateProfile::kFiVrk,
                 {{"C", "SE"}, {"O", "Org"}, {"CN", "1234"}, {"serialNumber", "FI/SS1/GOV"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(code(CertificateProfile::kFiVrk,
                 {{"C", "FI"}, {"O", "Org"}, {"CN", "1234"}, {"serialNumber", "FI/GOV"}}),
            FaultCode::kIncorrectCertificate);
  // Legacy form with OU, and the EJBCA form without serialNumber and OU.
  EXPECT_EQ(
      ok(CertificateProfile::kFiVrk, {{"C", "FI"}, {"O", "FI-TEST"}, {"OU", "PUB"}, {"CN", "9"}}),
      "FI-TEST/PUB/9");
  EXPECT_EQ(ok(CertificateProfile::kFiVrk, {{"C", "FI"}, {"O", "COM"}, {"CN", "9"}}), "FI/COM/9");
}

TEST_F(SyntheticProfileTest, FaroeAndIceland) {
  EXPECT_EQ(ok(CertificateProfile::kFo,
               {{"C", "FO"}, {"O", "FO"}, {"OU", "GOV"}, {"CN", "5"}, {"serialNumber", "x"}}),
            "FO/GOV/5");
  EXPECT_EQ(code(CertificateProfile::kFo, {{"C", "FO"}, {"O", "FO"}, {"OU", "GOV"}, {"CN", "5"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(ok(CertificateProfile::kIs,
               {{"C", "IS"}, {"O", "IS"}, {"OU", "GOV"}, {"CN", "5"}, {"serialNumber", "x"}}),
            "IS/GOV/5");
  EXPECT_EQ(ok(CertificateProfile::kIs, {{"C", "IS"}, {"O", "COM"}, {"CN", "5"}}), "IS/COM/5");
}

TEST_F(SyntheticProfileTest, EstonianSk) {
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3,
               {{"CN", "Firm"}, {"organizationIdentifier", "NTREE-10000001"}}),
            "EE/COM/10000001");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"organizationIdentifier", "GO:EE-70000001"}}),
            "EE/GOV/70000001");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"organizationIdentifier", "NP:EE-80000001"}}),
            "EE/NGO/80000001");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"organizationIdentifier", "VATFI-1234"}}),
            "EE/NEE/VATFI-1234");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"serialNumber", "70000310"}}), "EE/GOV/70000310");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"serialNumber", "10000001"}}), "EE/COM/10000001");
  EXPECT_EQ(ok(CertificateProfile::kSkKlass3, {{"serialNumber", "90000001"}}), "EE/NGO/90000001");
  EXPECT_EQ(code(CertificateProfile::kSkKlass3, {{"serialNumber", "1234"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(code(CertificateProfile::kSkKlass3, {{"serialNumber", "7000031x"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(code(CertificateProfile::kSkKlass3, {{"serialNumber", "00000001"}}),
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(code(CertificateProfile::kSkKlass3, {{"CN", "x"}}), FaultCode::kIncorrectCertificate);
  EXPECT_EQ(ok(CertificateProfile::kSkEsteId, {{"serialNumber", "38001010000"}}),
            "EE/PERSON/38001010000");
}

}  // namespace
}  // namespace hansa::crypto
