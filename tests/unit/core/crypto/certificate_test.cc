#include "core/crypto/certificate.h"

#include <gtest/gtest.h>

#include "core/crypto/csr.h"
#include "core/crypto/encoding.h"
#include "tests/unit/core/crypto/test_support.h"

namespace hansa::crypto {
namespace {

using testing::CertSpec;
using testing::mint_cert;

struct Fixture {
  PrivateKey ca_key = testing::ec_key();
  PrivateKey leaf_key = testing::ec_key();
  Certificate ca;
  Certificate leaf;
};

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto ca_key = testing::ec_key();
    auto leaf_key = testing::ec_key();
    CertSpec ca_spec;
    ca_spec.subject = {{"C", "EE"}, {"O", "Test"}, {"CN", "Test CA"}};
    ca_spec.extensions = {{"basicConstraints", "critical,CA:true"},
                          {"keyUsage", "critical,keyCertSign,cRLSign"}};
    Certificate ca = mint_cert(ca_spec, ca_key, ca_key);
    CertSpec leaf_spec;
    leaf_spec.subject = {
        {"C", "FI"}, {"O", "Tëst mémber"}, {"CN", "1234"}, {"serialNumber", "DEV/SS0/COM"}};
    leaf_spec.serial = 0x1234abcd;
    leaf_spec.extensions = {{"keyUsage", "critical,nonRepudiation,digitalSignature"},
                            {"extendedKeyUsage", "clientAuth,OCSPSigning"},
                            {"authorityInfoAccess",
                             "OCSP;URI:http://ocsp.example/one,OCSP;URI:http://ocsp.example/two"}};
    Certificate leaf = mint_cert(leaf_spec, leaf_key, ca_key, &ca);
    return new Fixture{ca_key, leaf_key, ca, leaf};
  }();
  return *f;
}

TEST(CertificateTest, ReadsNamesSerialAndValidity) {
  const Certificate& c = fixture().leaf;
  EXPECT_EQ(c.subject(), "serialNumber=DEV/SS0/COM,CN=1234,O=Tëst mémber,C=FI");
  EXPECT_EQ(c.issuer(), "CN=Test CA,O=Test,C=EE");
  DistinguishedName expected{
      {"C", "FI"}, {"O", "Tëst mémber"}, {"CN", "1234"}, {"serialNumber", "DEV/SS0/COM"}};
  EXPECT_EQ(c.subject_entries(), expected);
  EXPECT_EQ(c.subject_field("CN"), "1234");
  EXPECT_EQ(c.subject_field("serialNumber"), "DEV/SS0/COM");
  EXPECT_EQ(c.subject_field("OU"), std::nullopt);
  EXPECT_EQ(c.issuer_entries().back(), (NameEntry{"CN", "Test CA"}));
  EXPECT_EQ(c.serial_hex(), "1234abcd");
  EXPECT_EQ(c.serial_decimal(), "305441741");
  EXPECT_LT(c.not_before(), std::chrono::system_clock::now());
  EXPECT_GT(c.not_after(), std::chrono::system_clock::now());
  EXPECT_TRUE(c.valid_at(std::chrono::system_clock::now()));
  EXPECT_FALSE(c.valid_at(c.not_after() + std::chrono::seconds(1)));
}

TEST(CertificateTest, UsageFlagsAndOcspUrls) {
  const Certificate& c = fixture().leaf;
  EXPECT_FALSE(c.is_ca());
  EXPECT_TRUE(fixture().ca.is_ca());
  EXPECT_TRUE(c.has_key_usage_extension());
  EXPECT_TRUE(c.has_key_usage(KeyUsage::kNonRepudiation));
  EXPECT_TRUE(c.has_key_usage(KeyUsage::kDigitalSignature));
  EXPECT_FALSE(c.has_key_usage(KeyUsage::kKeyCertSign));
  EXPECT_EQ(c.key_usage_bits(), static_cast<std::uint16_t>(KeyUsage::kNonRepudiation) |
                                    static_cast<std::uint16_t>(KeyUsage::kDigitalSignature));
  EXPECT_TRUE(fixture().ca.has_key_usage(KeyUsage::kKeyCertSign));
  EXPECT_TRUE(fixture().ca.has_key_usage(KeyUsage::kCrlSign));
  EXPECT_TRUE(c.has_extended_key_usage_extension());
  EXPECT_TRUE(c.has_extended_key_usage(ExtendedKeyUsage::kClientAuth));
  EXPECT_TRUE(c.has_extended_key_usage(ExtendedKeyUsage::kOcspSigning));
  EXPECT_FALSE(c.has_extended_key_usage(ExtendedKeyUsage::kServerAuth));
  EXPECT_FALSE(c.has_extended_key_usage(ExtendedKeyUsage::kTimeStamping));
  EXPECT_FALSE(fixture().ca.has_extended_key_usage_extension());
  EXPECT_EQ(c.ocsp_urls(),
            (std::vector<std::string>{"http://ocsp.example/one", "http://ocsp.example/two"}));
  EXPECT_TRUE(fixture().ca.ocsp_urls().empty());
}

TEST(CertificateTest, IssuerLinksAndKeys) {
  const auto& f = fixture();
  EXPECT_TRUE(f.ca.is_self_signed());
  EXPECT_FALSE(f.leaf.is_self_signed());
  EXPECT_TRUE(f.leaf.is_issued_by(f.ca));
  EXPECT_FALSE(f.ca.is_issued_by(f.leaf));
  EXPECT_TRUE(f.leaf.public_key() == f.leaf_key.public_key());
  // Same issuer name, different key: not issued by it.
  auto other_key = testing::ec_key();
  CertSpec spec;
  spec.subject = {{"C", "EE"}, {"O", "Test"}, {"CN", "Test CA"}};
  Certificate impostor = mint_cert(spec, other_key, other_key);
  EXPECT_FALSE(f.leaf.is_issued_by(impostor));
}

TEST(CertificateTest, EncodingsRoundTrip) {
  const Certificate& c = fixture().leaf;
  auto from_der = Certificate::from_der(c.der());
  ASSERT_TRUE(from_der.ok());
  EXPECT_TRUE(*from_der == c);
  auto from_pem = Certificate::from_pem(c.pem());
  ASSERT_TRUE(from_pem.ok());
  EXPECT_TRUE(*from_pem == c);
  auto from_b64 = Certificate::from_base64(" " + base64_encode(c.der()) + "\n");
  ASSERT_TRUE(from_b64.ok());
  EXPECT_TRUE(*from_b64 == c);
  std::string bundle = "junk before\n" + c.pem() + "-----BEGIN PRIVATE KEY-----\nAAAA\n" +
                       "-----END PRIVATE KEY-----\n" + fixture().ca.pem();
  auto certs = Certificate::bundle_from_pem(bundle);
  ASSERT_TRUE(certs.ok()) << certs.error().to_string();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_TRUE((*certs)[0] == c);
  EXPECT_TRUE((*certs)[1] == fixture().ca);
}

TEST(CertificateTest, Fingerprints) {
  const Certificate& c = fixture().leaf;
  EXPECT_EQ(c.fingerprint(DigestAlgorithm::kSha1), digest(DigestAlgorithm::kSha1, c.der()));
  EXPECT_EQ(c.fingerprint_hex(DigestAlgorithm::kSha1).size(), 40u);
  EXPECT_EQ(c.fingerprint_base64(DigestAlgorithm::kSha512),
            base64_encode(digest(DigestAlgorithm::kSha512, c.der())));
}

TEST(CertificateTest, XRoadVectorSignCertificate) {
  // The CA that issued the sign certificates of X-Road's ASiC vectors.
  std::string pem = testing::read_file(std::string(HANSA_VECTORS_DIR) +
                                       "/asic-verification-globalconf-DEV-shared-params.xml");
  ASSERT_FALSE(pem.empty());
  // This (upstream test) shared-params file carries the CA certificate as base64 of a PEM text
  // in <topCA><cert>, not base64 DER.
  auto start = pem.find("<cert>");
  auto end = pem.find("</cert>", start);
  ASSERT_NE(start, std::string::npos);
  auto text = base64_decode(pem.substr(start + 6, end - start - 6));
  ASSERT_TRUE(text.ok());
  auto ca = Certificate::from_pem(*text);
  ASSERT_TRUE(ca.ok()) << ca.error().to_string();
  EXPECT_EQ(ca->subject(), "CN=Test CA,O=Test");
  EXPECT_TRUE(ca->is_ca());
  EXPECT_TRUE(ca->is_self_signed());
}

TEST(CertificateTest, HostileInputIsRejected) {
  const std::string& der = fixture().leaf.der();
  EXPECT_EQ(Certificate::from_der("").error().code, FaultCode::kIncorrectCertificate);
  EXPECT_EQ(Certificate::from_der("garbage").error().code, FaultCode::kIncorrectCertificate);
  for (std::size_t cut : {std::size_t{1}, std::size_t{10}, der.size() / 2, der.size() - 1}) {
    EXPECT_EQ(Certificate::from_der(der.substr(0, cut)).error().code,
              FaultCode::kIncorrectCertificate)
        << cut;
  }
  EXPECT_EQ(Certificate::from_der(der + std::string(1, '\0')).error().code,
            FaultCode::kIncorrectCertificate);
  // A corrupted byte in the middle either fails to parse or yields a certificate whose
  // signature no longer verifies; it never crashes.
  for (std::size_t i = 0; i < der.size(); i += 7) {
    std::string bad = der;
    bad[i] ^= 0x5a;
    auto c = Certificate::from_der(bad);
    if (c.ok()) {
      EXPECT_FALSE(c->is_issued_by(fixture().ca) && !(*c == fixture().leaf));
    }
  }
  EXPECT_EQ(Certificate::from_der(std::string((1 << 20) + 1, '\x30')).error().code,
            FaultCode::kLimitExceeded);
  EXPECT_EQ(Certificate::from_pem("no pem here").error().code, FaultCode::kIncorrectCertificate);
  EXPECT_EQ(Certificate::from_pem("-----BEGIN CERTIFICATE-----\nMIIB").error().code,
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(Certificate::from_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----")
                .error()
                .code,
            FaultCode::kIncorrectCertificate);
  EXPECT_EQ(Certificate::from_pem(std::string(5 << 20, 'A')).error().code,
            FaultCode::kLimitExceeded);
  EXPECT_EQ(Certificate::from_base64("@@@@").error().code, FaultCode::kIncorrectCertificate);
  CertificateLimits two;
  two.max_bundle_certs = 2;
  std::string three = fixture().leaf.pem() + fixture().leaf.pem() + fixture().leaf.pem();
  EXPECT_EQ(Certificate::bundle_from_pem(three, two).error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(Certificate::bundle_from_pem("").error().code, FaultCode::kIncorrectCertificate);
  CertificateLimits tiny;
  tiny.max_der_size = 100;
  EXPECT_EQ(Certificate::from_der(der, tiny).error().code, FaultCode::kLimitExceeded);
}

TEST(CertificateTest, RepeatedParsesShareOneCertificateAndKeepTheirLimits) {
  const std::string& der = fixture().leaf.der();
  auto first = Certificate::from_der(der);
  auto second = Certificate::from_der(der);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(&first->impl(), &second->impl());  // parsed once
  EXPECT_EQ(first->subject(), fixture().leaf.subject());
  // A remembered certificate is still refused under limits it does not fit.
  CertificateLimits tiny;
  tiny.max_der_size = 100;
  EXPECT_EQ(Certificate::from_der(der, tiny).error().code, FaultCode::kLimitExceeded);
  // Rejected input is never remembered: refused again, every time.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Certificate::from_der(der + "x").error().code, FaultCode::kIncorrectCertificate);
  }
  // More distinct certificates than are remembered: every one still parses to itself.
  auto key = testing::ec_key();
  std::vector<Certificate> many;
  for (int i = 0; i < 1100; ++i) {
    CertSpec spec;
    spec.subject = {{"CN", "cert " + std::to_string(i)}};
    spec.serial = 1000 + i;
    many.push_back(mint_cert(spec, key, key));
  }
  for (const auto& c : many) {
    auto again = Certificate::from_der(c.der());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->subject(), c.subject());
  }
}

TEST(CertificateTest, RememberedIssuerChecksStayExact) {
  const auto& f = fixture();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(f.leaf.is_issued_by(f.ca));
    EXPECT_TRUE(f.ca.is_self_signed());
    EXPECT_FALSE(f.leaf.is_self_signed());
  }
  // Same name, other key: still refused after the real issuer was remembered.
  auto other_key = testing::ec_key();
  CertSpec spec;
  spec.subject = {{"C", "EE"}, {"O", "Test"}, {"CN", "Test CA"}};
  Certificate impostor = mint_cert(spec, other_key, other_key);
  EXPECT_FALSE(f.leaf.is_issued_by(impostor));
  EXPECT_TRUE(f.leaf.is_issued_by(f.ca));
}

TEST(CsrTest, BuildParseAndVerify) {
  auto key = testing::ec_key();
  DistinguishedName subject{
      {"C", "EE"}, {"O", "Member 1234"}, {"CN", "1234"}, {"serialNumber", "DEV/GOV/1234"}};
  auto csr = CertificateRequest::create(subject, key);
  ASSERT_TRUE(csr.ok()) << csr.error().to_string();
  EXPECT_EQ(csr->subject_entries(), subject);
  EXPECT_EQ(csr->subject(), "serialNumber=DEV/GOV/1234,CN=1234,O=Member 1234,C=EE");
  EXPECT_TRUE(csr->public_key() == key.public_key());
  EXPECT_TRUE(csr->verify_signature().ok());

  auto from_der = CertificateRequest::from_der(csr->der());
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_der->der(), csr->der());
  EXPECT_TRUE(from_der->verify_signature().ok());
  auto from_pem = CertificateRequest::from_pem(csr->pem());
  ASSERT_TRUE(from_pem.ok());
  EXPECT_EQ(from_pem->der(), csr->der());

  auto rsa = PrivateKey::generate_rsa().value();
  auto rsa_csr = CertificateRequest::create({{"CN", "x"}}, rsa, DigestAlgorithm::kSha512);
  ASSERT_TRUE(rsa_csr.ok());
  EXPECT_TRUE(rsa_csr->verify_signature().ok());
}

TEST(CsrTest, HostileInput) {
  auto key = testing::ec_key();
  EXPECT_EQ(CertificateRequest::create({{"NoSuchAttr", "x"}}, key).error().code,
            FaultCode::kInvalidRequest);
  EXPECT_EQ(CertificateRequest::from_der("junk").error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(CertificateRequest::from_pem("junk").error().code, FaultCode::kInvalidRequest);
  auto csr = CertificateRequest::create({{"CN", "x"}}, key).value();
  std::string der = csr.der();
  EXPECT_FALSE(CertificateRequest::from_der(der.substr(0, der.size() - 3)).ok());
  // Flip a byte inside the signature (the tail): parses, but the signature fails.
  std::string bad = der;
  bad[bad.size() - 5] ^= 0x01;
  auto parsed = CertificateRequest::from_der(bad);
  if (parsed.ok()) {
    EXPECT_EQ(parsed->verify_signature().error().code, FaultCode::kInvalidSignatureValue);
  }
  EXPECT_EQ(CertificateRequest::from_der(std::string(kMaxKeyInputSize + 1, '0')).error().code,
            FaultCode::kLimitExceeded);
}

// Found by the crypto_cert fuzz target: a PEM CSR whose EC public key is not on the curve was
// accepted by from_pem (from_der refused it) and public_key() then aborted.
TEST(CsrTest, PemWithUndecodableKeyIsRefused) {
  const std::string pem =
      "-----BEGIN CERTIFICATE REQUEST-----\n"
      "MIH9MIGkAgEAMEIxCzAJBgNVBAYTAkVFMQ0wCwYDVQQKDARGdXp6MRUwEwYDVQQF\n"
      "EwxGVVpaL3NzMS9HT1YxDTALBgNVBAMMBDEyMzQwWTATBgcqhkjOPQIBBggqhkjO\n"
      "PQMBBwNCAAT+wQyFeyL2xkaKJzRFQj55Gu/lBzu7TeL3t/k6Z2gUlJyGRl1aWA6o\n"
      "nCsPTntC3ifjnLDNw0FoYtjDWJeyGwhLoAAwCgYIKoZIzj0EAwIDSAAwRQIgImEE\n"
      "p1vIxWnYq2OSYN8Ee5FDpq8zIu4Ni5Ko7SSNwZQCIQDTO8NC6TtjgyCQyybo8Gt+\n"
      "a2U6+Q46OEa050h1xoDBhA==\n"
      "-----END CERTIFICATE REQUEST-----\n";
  auto parsed = CertificateRequest::from_pem(pem);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kInvalidRequest);
}

}  // namespace
}  // namespace hansa::crypto
