#include "core/ocsp/response.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::ocsp {
namespace {

using namespace std::chrono_literals;
using testing::OpenSslPki;
using testing::TempDir;

class OcspResponseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    pki_ = new OpenSslPki(tmp_->path() / "pki");
    ASSERT_TRUE(pki_->create());
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete tmp_;
  }

  // An OCSP response from `openssl ocsp` for `cert`, signed by `signer`.
  static OcspResponse respond(const std::string& cert, const std::string& signer = "responder",
                              const std::string& extra = "-ndays 1") {
    auto req = build_request(pki_->der(cert), pki_->der("ca"));
    EXPECT_TRUE(req.ok());
    auto parsed = OcspResponse::parse(pki_->respond(*req, signer, extra));
    EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
    return std::move(parsed).value();
  }

  static TempDir* tmp_;
  static OpenSslPki* pki_;
};

TempDir* OcspResponseTest::tmp_ = nullptr;
OpenSslPki* OcspResponseTest::pki_ = nullptr;

TEST_F(OcspResponseTest, RequestHasSha1CertIdAndNoNonce) {
  auto req = build_request(pki_->der("good"), pki_->pem("ca"));
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  testing::write_file(pki_->dir() / "hansa-req.der", *req);
  ASSERT_TRUE(
      testing::run_in(pki_->dir(), "openssl ocsp -reqin hansa-req.der -req_text > req.txt"));
  std::string text = testing::read_file(pki_->dir() / "req.txt");
  EXPECT_NE(text.find("Hash Algorithm: sha1"), std::string::npos) << text;
  EXPECT_NE(text.find("Serial Number: 1001"), std::string::npos) << text;
  EXPECT_EQ(text.find("Nonce"), std::string::npos) << text;
}

TEST_F(OcspResponseTest, CertHashIsSha1HexOfDer) {
  auto hash = cert_hash(pki_->pem("good"));
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash,
            crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha1, pki_->der("good"))));
  EXPECT_EQ(cert_hash("not a certificate").error().code, FaultCode::kIncorrectCertificate);
}

TEST_F(OcspResponseTest, GoodResponseFromDelegatedResponderVerifies) {
  OcspResponse resp = respond("good");
  EXPECT_EQ(resp.status(), CertStatus::kGood);
  EXPECT_EQ(resp.serial_hex(), "1001");
  EXPECT_NE(resp.responder().find("Test OCSP"), std::string::npos) << resp.responder();
  ASSERT_TRUE(resp.next_update().has_value());
  EXPECT_GT(*resp.next_update(), resp.this_update());
  EXPECT_FALSE(resp.der().empty());
  auto now = Clock::now();
  EXPECT_LE(resp.this_update(), now + 1s);
  EXPECT_GT(resp.this_update(), now - 5min);
  auto signer = verify_validity(resp, pki_->der("good"), pki_->der("ca"), now);
  ASSERT_TRUE(signer.ok()) << signer.error().to_string();
  EXPECT_EQ(*signer, pki_->der("responder"));
  EXPECT_TRUE(verify(resp, pki_->der("good"), pki_->pem("ca"), now).ok());
  // The kept DER parses again to the same response.
  auto again = OcspResponse::parse(resp.der());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->this_update(), resp.this_update());
}

TEST_F(OcspResponseTest, ResponseSignedByTheCaItselfVerifies) {
  OcspResponse resp = respond("good", "ca");
  auto signer = verify_validity(resp, pki_->der("good"), pki_->der("ca"), Clock::now());
  ASSERT_TRUE(signer.ok()) << signer.error().to_string();
  EXPECT_EQ(*signer, pki_->der("ca"));
}

TEST_F(OcspResponseTest, ResponderIdByKeyHashVerifies) {
  OcspResponse resp = respond("good", "responder", "-ndays 1 -resp_key_id");
  EXPECT_EQ(resp.responder().rfind("key:", 0), 0u) << resp.responder();
  EXPECT_TRUE(verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now()).ok());
}

TEST_F(OcspResponseTest, RevokedIsCertValidationWithTimeAndReason) {
  OcspResponse resp = respond("revoked");
  EXPECT_EQ(resp.status(), CertStatus::kRevoked);
  EXPECT_EQ(resp.revocation_reason(), RevocationReason::kKeyCompromise);
  ASSERT_TRUE(resp.revocation_time().has_value());
  EXPECT_EQ(Clock::to_time_t(*resp.revocation_time()), 1704110400);  // 2024-01-01T12:00:00Z
  // The response itself is valid; the status is what fails.
  EXPECT_TRUE(verify_validity(resp, pki_->der("revoked"), pki_->der("ca"), Clock::now()).ok());
  Status st = verify(resp, pki_->der("revoked"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("revoked"), std::string::npos);
  EXPECT_NE(st.error().detail.find("keyCompromise"), std::string::npos);
  EXPECT_NE(st.error().detail.find("2024-01-01T12:00:00Z"), std::string::npos);
}

TEST_F(OcspResponseTest, UnknownIsCertValidation) {
  OcspResponse resp = respond("unknown");
  EXPECT_EQ(resp.status(), CertStatus::kUnknown);
  Status st = verify(resp, pki_->der("unknown"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("unknown"), std::string::npos);
}

// Hostile: a response signed by an unrelated key.
TEST_F(OcspResponseTest, SignedByUnrelatedResponderIsRefused) {
  OcspResponse resp = respond("good", "rogue-ca");
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("not authorized"), std::string::npos) << st.error().message;
}

// Hostile: the ResponderID names the CA but another key (same DN) signed the response.
TEST_F(OcspResponseTest, ImpostorCaSignatureIsRefused) {
  OcspResponse resp = respond("good", "other-ca");
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("signature"), std::string::npos) << st.error().message;
}

// Hostile: a responder certificate with the right name and OCSPSigning, issued by an impostor
// of the CA (same name, other key).
TEST_F(OcspResponseTest, ForgedDelegationIsRefused) {
  OcspResponse resp = respond("good", "fake-responder");
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("not authorized"), std::string::npos) << st.error().message;
}

// A certificate of the CA without id-kp-OCSPSigning may not sign responses.
TEST_F(OcspResponseTest, ResponderWithoutOcspSigningEkuIsRefused) {
  OcspResponse resp = respond("good", "plain");
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().detail.find("delegated"), std::string::npos) << st.error().detail;
  // ... unless the configuration names it as the CA's responder.
  VerifyOptions options;
  options.trusted_responders.push_back(pki_->pem("plain"));
  EXPECT_TRUE(verify(resp, pki_->der("good"), pki_->der("ca"), Clock::now(), options).ok());
}

// Hostile: a valid response about another certificate.
TEST_F(OcspResponseTest, ResponseForAnotherCertificateIsRefused) {
  OcspResponse resp = respond("good");
  Status st = verify(resp, pki_->der("revoked"), pki_->der("ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("does not apply"), std::string::npos);
  // And the same certificate checked against another issuer.
  st = verify(resp, pki_->der("good"), pki_->der("rogue-ca"), Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
}

// Hostile: stale (thisUpdate older than ocsp_freshness_seconds at the verification time).
TEST_F(OcspResponseTest, StaleResponseIsRefused) {
  OcspResponse resp = respond("good", "responder", "");  // no nextUpdate
  EXPECT_FALSE(resp.next_update().has_value());
  auto at = resp.this_update() + 3599s;
  EXPECT_TRUE(verify(resp, pki_->der("good"), pki_->der("ca"), at).ok());
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), resp.this_update() + 3601s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("too old"), std::string::npos);
  VerifyOptions lax;
  lax.ocsp_freshness_seconds = 7200;
  EXPECT_TRUE(
      verify(resp, pki_->der("good"), pki_->der("ca"), resp.this_update() + 3601s, lax).ok());
}

// Hostile: nextUpdate in the past; accepted only when verify_next_update is off.
TEST_F(OcspResponseTest, NextUpdateInThePastIsRefused) {
  OcspResponse resp = respond("good", "responder", "-nmin 1");
  ASSERT_TRUE(resp.next_update().has_value());
  auto at = resp.this_update() + 10min;
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), at);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
  EXPECT_NE(st.error().message.find("nextUpdate"), std::string::npos);
  VerifyOptions no_next;
  no_next.verify_next_update = false;
  EXPECT_TRUE(verify(resp, pki_->der("good"), pki_->der("ca"), at, no_next).ok());
}

TEST_F(OcspResponseTest, ThisUpdateInTheFutureIsRefused) {
  OcspResponse resp = respond("good");
  Status st = verify(resp, pki_->der("good"), pki_->der("ca"), resp.this_update() - 1h);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
}

// Hostile: every truncation of a valid response fails cleanly.
TEST_F(OcspResponseTest, TruncatedResponsesAreRefused) {
  std::string der = respond("good").der();
  for (std::size_t n = 0; n < der.size(); ++n) {
    auto parsed = OcspResponse::parse(std::string_view(der).substr(0, n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.error().code, FaultCode::kOcspFailed) << n;
  }
}

// Hostile: trailing bytes after the DER are not silently ignored.
TEST_F(OcspResponseTest, TrailingGarbageIsRefused) {
  std::string der = respond("good").der() + "x";
  EXPECT_EQ(OcspResponse::parse(der).error().code, FaultCode::kOcspFailed);
}

// Hostile: 50 MB is refused by the size cap before parsing.
TEST_F(OcspResponseTest, HugeResponseIsRefusedBeforeParsing) {
  std::string huge(50u << 20, '\x30');
  auto parsed = OcspResponse::parse(huge);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kLimitExceeded);
}

// Hostile: garbage DER, including a bit-flipped real response.
TEST_F(OcspResponseTest, GarbageIsRefused) {
  for (std::string bad : {std::string(), std::string("garbage"), std::string("\x30\x82\xff\xff", 4),
                          std::string("\x30\x03\x0a\x01\x00", 5)}) {
    auto parsed = OcspResponse::parse(bad);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, FaultCode::kOcspFailed);
  }
  std::string der = respond("good").der();
  for (std::size_t i = 0; i < der.size(); i += 7) {
    std::string flipped = der;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    auto parsed = OcspResponse::parse(flipped);
    if (parsed.ok()) {
      // If it still parses, verification must not accept it.
      EXPECT_FALSE(verify(*parsed, pki_->der("good"), pki_->der("ca"), Clock::now()).ok()) << i;
    }
  }
}

TEST_F(OcspResponseTest, ErrorResponseStatusIsOcspFailed) {
  // OCSPResponse with responseStatus tryLater (3) and no body.
  auto parsed = OcspResponse::parse(std::string("\x30\x03\x0a\x01\x03", 5));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kOcspFailed);
  EXPECT_NE(parsed.error().detail.find("trylater"), std::string::npos) << parsed.error().detail;
}

}  // namespace
}  // namespace hansa::ocsp
