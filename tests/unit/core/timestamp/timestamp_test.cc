#include "core/timestamp/timestamp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::timestamp {
namespace {

using namespace std::chrono_literals;
using crypto::DigestAlgorithm;
using ocsp::testing::OpenSslPki;
using ocsp::testing::read_file;
using ocsp::testing::run_in;
using ocsp::testing::TempDir;
using ocsp::testing::write_file;

// An `openssl ts -reply` configuration for the TSA `signer` of the test PKI.
std::string tsa_config(const std::string& signer, const std::string& ess_alg) {
  return "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\n"
         "serial = ./tsaserial\ncrypto_device = builtin\n"
         "signer_cert = ./" +
         signer + ".pem\nsigner_key = ./" + signer +
         ".key\n"
         "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.5\n"
         "digests = sha1, sha256, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\n"
         "ess_cert_id_chain = no\ness_cert_id_alg = " +
         ess_alg + "\n";
}

class TimestampTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    pki_ = new OpenSslPki(tmp_->path() / "pki");
    ASSERT_TRUE(pki_->create());
    write_file(pki_->dir() / "tsaserial", "01\n");
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete tmp_;
  }

  // The TimeStampResp `openssl ts -reply` gives for `request`.
  static std::string reply(const TimestampRequest& request, const std::string& signer = "tsa",
                           const std::string& ess_alg = "sha256") {
    write_file(pki_->dir() / "tsa.cnf", tsa_config(signer, ess_alg));
    write_file(pki_->dir() / "req.tsq", request.der);
    std::filesystem::remove(pki_->dir() / "resp.tsr");
    run_in(pki_->dir(), "openssl ts -reply -config tsa.cnf -queryfile req.tsq -out resp.tsr");
    return read_file(pki_->dir() / "resp.tsr");
  }

  static VerifyOptions approved(const std::string& name = "tsa") {
    VerifyOptions options;
    options.tsa_certs.push_back(pki_->pem(name));
    return options;
  }

  static TempDir* tmp_;
  static OpenSslPki* pki_;
};

TempDir* TimestampTest::tmp_ = nullptr;
OpenSslPki* TimestampTest::pki_ = nullptr;

TEST_F(TimestampTest, RequestCarriesSha512ImprintCertReqAndNonce) {
  auto req = build_request("log record batch");
  ASSERT_TRUE(req.ok()) << req.error().to_string();
  EXPECT_EQ(req->digest, DigestAlgorithm::kSha512);
  EXPECT_EQ(req->imprint, crypto::digest(DigestAlgorithm::kSha512, "log record batch"));
  EXPECT_EQ(req->nonce.size(), 8u);
  write_file(pki_->dir() / "hansa.tsq", req->der);
  ASSERT_TRUE(run_in(pki_->dir(), "openssl ts -query -in hansa.tsq -text > tsq.txt"));
  std::string text = read_file(pki_->dir() / "tsq.txt");
  EXPECT_NE(text.find("Hash Algorithm: sha512"), std::string::npos) << text;
  EXPECT_NE(text.find("Certificate required: yes"), std::string::npos) << text;
  EXPECT_EQ(text.find("Nonce: unspecified"), std::string::npos) << text;
  // Nonces differ between requests.
  EXPECT_NE(build_request("x")->nonce, build_request("x")->nonce);
}

TEST_F(TimestampTest, RequestOptionsAreHonoured) {
  RequestOptions options;
  options.digest = DigestAlgorithm::kSha256;
  options.nonce = false;
  options.cert_req = false;
  options.policy_oid = "1.2.3.4.5";
  auto req = build_request("data", options);
  ASSERT_TRUE(req.ok());
  EXPECT_TRUE(req->nonce.empty());
  write_file(pki_->dir() / "hansa.tsq", req->der);
  ASSERT_TRUE(run_in(pki_->dir(), "openssl ts -query -in hansa.tsq -text > tsq.txt"));
  std::string text = read_file(pki_->dir() / "tsq.txt");
  EXPECT_NE(text.find("Hash Algorithm: sha256"), std::string::npos) << text;
  EXPECT_NE(text.find("Certificate required: no"), std::string::npos) << text;
  EXPECT_NE(text.find("Nonce: unspecified"), std::string::npos) << text;
  EXPECT_NE(text.find("Policy OID: 1.2.3.4.5"), std::string::npos) << text;
  options.policy_oid = "not an oid";
  EXPECT_FALSE(build_request("data", options).ok());
  EXPECT_FALSE(build_request_for_imprint("short", RequestOptions{}).ok());
}

// Interoperability: tokens made by `openssl ts -reply` verify (ESSCertIDv2 and ESSCertID).
TEST_F(TimestampTest, OpenSslTokensVerify) {
  for (const std::string ess : {"sha256", "sha1"}) {
    auto req = build_request("message log batch root");
    ASSERT_TRUE(req.ok());
    auto before = Clock::now() - 2s;
    auto token = parse_reply(reply(*req, "tsa", ess));
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    EXPECT_EQ(token->imprint(), req->imprint);
    EXPECT_EQ(token->imprint_digest(), DigestAlgorithm::kSha512);
    EXPECT_EQ(token->nonce(), req->nonce);
    EXPECT_EQ(token->policy_oid(), "1.2.3.4.1");
    EXPECT_GE(token->gen_time(), before);
    EXPECT_LE(token->gen_time(), Clock::now() + 2s);
    EXPECT_FALSE(token->der().empty());

    VerifyOptions options = approved();
    options.nonce = req->nonce;
    options.required_policy = "1.2.3.4.1";
    auto verified = verify(*token, "message log batch root", options);
    ASSERT_TRUE(verified.ok()) << ess << ": " << verified.error().to_string();
    EXPECT_EQ(verified->tsa_cert, pki_->der("tsa"));
    EXPECT_EQ(verified->gen_time, token->gen_time());
    EXPECT_EQ(verified->policy_oid, "1.2.3.4.1");

    // The kept DER is the token itself: it parses and verifies again.
    auto again = TimestampToken::parse(token->der());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(verify_imprint(*again, req->imprint, options).ok());
  }
}

// A token without the embedded TSA certificate verifies with the approved certificate alone.
TEST_F(TimestampTest, TokenWithoutEmbeddedCertificateVerifies) {
  RequestOptions no_cert;
  no_cert.cert_req = false;
  auto req = build_request("data", no_cert);
  auto token = parse_reply(reply(*req));
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  write_file(pki_->dir() / "token.tst", token->der());
  ASSERT_TRUE(run_in(pki_->dir(), "openssl pkcs7 -inform DER -in token.tst -print_certs > c.txt"));
  EXPECT_EQ(read_file(pki_->dir() / "c.txt").find("BEGIN CERTIFICATE"), std::string::npos);
  auto verified = verify(*token, "data", approved());
  EXPECT_TRUE(verified.ok()) << verified.error().to_string();
}

// Hostile: a TSA answering with a token over another imprint.
TEST_F(TimestampTest, TokenOverAnotherImprintIsRefused) {
  auto req = build_request("what the TSA saw");
  auto token = parse_reply(reply(*req));
  ASSERT_TRUE(token.ok());
  auto verified = verify(*token, "what we asked for", approved());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, FaultCode::kTimestampValidation);
  EXPECT_NE(verified.error().message.find("imprint"), std::string::npos);
}

TEST_F(TimestampTest, WrongNonceOrPolicyIsRefused) {
  auto req = build_request("data");
  auto token = parse_reply(reply(*req));
  ASSERT_TRUE(token.ok());
  VerifyOptions options = approved();
  options.nonce = std::string("\x01\x02", 2);
  EXPECT_EQ(verify(*token, "data", options).error().code, FaultCode::kTimestampValidation);
  options = approved();
  options.required_policy = "1.2.3.4.5";
  EXPECT_EQ(verify(*token, "data", options).error().code, FaultCode::kTimestampValidation);
}

// Hostile: a token signed by a TSA that is not approved, with or without the approved
// certificate present.
TEST_F(TimestampTest, UnapprovedTsaIsRefused) {
  auto req = build_request("data");
  auto token = parse_reply(reply(*req, "tsa2"));
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  auto verified = verify(*token, "data", approved("tsa"));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, FaultCode::kTimestampValidation);
  EXPECT_TRUE(verify(*token, "data", approved("tsa2")).ok());
  EXPECT_EQ(verify(*token, "data", VerifyOptions{}).error().code, FaultCode::kTimestampValidation);
  // An approved certificate without the timeStamping usage cannot sign tokens.
  EXPECT_EQ(verify(*token, "data", approved("tsa-noeku")).error().code,
            FaultCode::kTimestampValidation);
}

// Hostile: a certificate with the TSA's key, issuer and serial but other contents: the CMS
// SignerIdentifier and the signature match it, but the signed ESSCertIDv2 (and ESSCertID) names
// the real certificate, so the token is not bound to it.
TEST_F(TimestampTest, EssCertIdMustNameTheApprovedCertificate) {
  ASSERT_TRUE(run_in(pki_->dir(),
                     "openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key "
                     "-set_serial 0x3001 -days 100 -out tsa-twin.pem "
                     "-extfile ext-tsa.cnf"));
  ASSERT_NE(pki_->pem("tsa-twin"), pki_->pem("tsa"));
  for (const std::string ess : {"sha256", "sha1"}) {
    RequestOptions no_cert;
    no_cert.cert_req = false;
    auto req = build_request("data", no_cert);
    auto token = parse_reply(reply(*req, "tsa", ess));
    ASSERT_TRUE(token.ok());
    ASSERT_TRUE(verify(*token, "data", approved("tsa")).ok());
    auto twin = verify(*token, "data", approved("tsa-twin"));
    ASSERT_FALSE(twin.ok()) << ess;
    EXPECT_EQ(twin.error().code, FaultCode::kTimestampValidation);
  }
}

// Certificates are judged at genTime: a token stays valid after its TSA certificate expired
// (X-Road archives are verified years later), and a certificate that was not yet valid at
// genTime is refused.
TEST_F(TimestampTest, TsaCertificateValidityIsJudgedAtGenTime) {
  auto stamp_time = [](std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return std::string(buf);
  };
  write_file(pki_->dir() / "mini-ca.cnf",
             "[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = ./mini-index.txt\n"
             "new_certs_dir = .\nserial = ./mini-serial\ndefault_md = sha256\n"
             "policy = p\nunique_subject = no\n[ p ]\ncommonName = supplied\n"
             "organizationName = optional\n");
  write_file(pki_->dir() / "mini-index.txt", "");
  write_file(pki_->dir() / "mini-serial", "4001\n");
  std::time_t now = std::time(nullptr);
  auto issue = [&](const std::string& out, std::time_t from, std::time_t to) {
    return run_in(pki_->dir(),
                  "openssl ca -batch -notext -config mini-ca.cnf -cert ca.pem "
                  "-keyfile ca.key -in tsa.csr -extfile ext-tsa.cnf -out " +
                      out + " -startdate " + stamp_time(from) + " -enddate " + stamp_time(to));
  };
  ASSERT_TRUE(issue("tsa-short.pem", now - 3600, now + 3));
  ASSERT_TRUE(issue("tsa-later.pem", now + 3600, now + 7200));
  write_file(pki_->dir() / "tsa-short.key", read_file(pki_->dir() / "tsa.key"));

  RequestOptions no_cert;
  no_cert.cert_req = false;
  auto token = parse_reply(reply(*build_request("data", no_cert), "tsa-short"));
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  std::this_thread::sleep_for(std::chrono::seconds(4));  // tsa-short has expired now
  auto verified = verify(*token, "data", approved("tsa-short"));
  EXPECT_TRUE(verified.ok()) << verified.error().to_string();
  // Checked at the current time instead, the same token would be refused: a token made with a
  // certificate that only becomes valid in an hour is refused at its genTime.
  write_file(pki_->dir() / "tsa-later.key", read_file(pki_->dir() / "tsa.key"));
  auto early = parse_reply(reply(*build_request("data", no_cert), "tsa-later"));
  ASSERT_TRUE(early.ok()) << early.error().to_string();
  auto later = verify(*early, "data", approved("tsa-later"));
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, FaultCode::kTimestampValidation);
  EXPECT_NE(later.error().detail.find("not yet valid"), std::string::npos) << later.error().detail;
}

// Hostile: a rejection status becomes TimestamperFailed with the TSA's text.
TEST_F(TimestampTest, RejectionIsTimestamperFailed) {
  RequestOptions sha384;
  sha384.digest = DigestAlgorithm::kSha384;  // not in the TSA's accepted digests
  auto req = build_request("data", sha384);
  auto token = parse_reply(reply(*req));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, FaultCode::kTimestamperFailed);
  EXPECT_NE(token.error().detail.find("rejection"), std::string::npos) << token.error().detail;
  EXPECT_NE(token.error().detail.find("badAlg"), std::string::npos) << token.error().detail;
}

// Hostile: garbage, truncated and oversized replies and tokens.
TEST_F(TimestampTest, MalformedRepliesAreRefused) {
  auto req = build_request("data");
  std::string good = reply(*req);
  for (std::size_t n = 0; n < good.size(); n += 3) {
    auto token = parse_reply(std::string_view(good).substr(0, n));
    ASSERT_FALSE(token.ok()) << n;
    EXPECT_EQ(token.error().code, FaultCode::kTimestamperFailed) << n;
  }
  EXPECT_EQ(parse_reply("garbage").error().code, FaultCode::kTimestamperFailed);
  EXPECT_EQ(parse_reply(std::string(50u << 20, '\x30')).error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(TimestampToken::parse("garbage").error().code, FaultCode::kTimestampValidation);
  EXPECT_EQ(TimestampToken::parse(std::string(50u << 20, '\x30')).error().code,
            FaultCode::kLimitExceeded);
  // Flipped bytes in the signed TSTInfo or in the signature value never verify. (The CMS
  // version and the certificate bag are not signed: flips there may still verify.)
  auto token = parse_reply(good);
  ASSERT_TRUE(token.ok());
  std::string der = token->der();
  std::size_t imprint_at = der.find(token->imprint());
  ASSERT_NE(imprint_at, std::string::npos);
  std::vector<std::size_t> offsets;
  for (std::size_t i = imprint_at - 30; i < imprint_at + token->imprint().size() + 30; ++i) {
    offsets.push_back(i);
  }
  offsets.push_back(der.size() - 3);
  offsets.push_back(der.size() - 10);
  for (std::size_t i : offsets) {
    std::string flipped = der;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x24);
    auto parsed = TimestampToken::parse(flipped);
    if (parsed.ok()) {
      EXPECT_FALSE(verify_imprint(*parsed, token->imprint(), approved()).ok()) << i;
    }
  }
}

// Interoperability: the time-stamp tokens in X-Road's ASiC containers verify against the approved
// TSA certificate of the vectors' shared parameters.
class XRoadVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path vectors = HANSA_VECTORS_DIR;
    std::string params = read_file(vectors / "asic-verification-globalconf-DEV-shared-params.xml");
    std::smatch m;
    std::regex tsa(R"(<approvedTSA>[\s\S]*?<cert>([^<]*)</cert>)");
    ASSERT_TRUE(std::regex_search(params, m, tsa));
    auto cert = crypto::base64_decode(m[1].str());  // X-Road stores PEM or DER, base64 encoded
    ASSERT_TRUE(cert.ok());
    options_.tsa_certs.push_back(*cert);
    for (const char* name : {"batch-ts", "non-batch-rest", "signed-hashchain"}) {
      std::filesystem::path dir = tmp_.path() / name;
      std::filesystem::create_directories(dir);
      ASSERT_TRUE(run_in(
          dir, std::string("unzip -q '") + (vectors / "asic-valid-").string() + name + ".asice'"));
    }
  }

  TempDir tmp_;
  VerifyOptions options_;
};

TEST_F(XRoadVectorsTest, BatchTimestampTokensVerify) {
  for (const char* name : {"batch-ts", "non-batch-rest"}) {
    std::filesystem::path dir = tmp_.path() / name;
    auto token = TimestampToken::parse(read_file(dir / "META-INF" / "timestamp.tst"));
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    EXPECT_EQ(token->imprint_digest(), DigestAlgorithm::kSha512);
    // The imprint is over the bytes of ts-hashchainresult.xml.
    auto verified = verify(*token, read_file(dir / "ts-hashchainresult.xml"), options_);
    ASSERT_TRUE(verified.ok()) << name << ": " << verified.error().to_string();
    EXPECT_EQ(verified->policy_oid, "1.2.3.4.1");
    EXPECT_LT(verified->gen_time, Clock::now());
    // Any other data is refused.
    EXPECT_EQ(verify(*token, read_file(dir / "message.xml"), options_).error().code,
              FaultCode::kTimestampValidation);
  }
  auto batch =
      TimestampToken::parse(read_file(tmp_.path() / "batch-ts" / "META-INF" / "timestamp.tst"));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(Clock::to_time_t(batch->gen_time()), 1733384054);  // 2024-12-05T07:34:14Z
}

// XAdES SignatureTimeStamp: X-Road time-stamps the decoded bytes of ds:SignatureValue
// (Santuario's XMLSignature.getSignatureValue()), hashed with SHA-512.
TEST_F(XRoadVectorsTest, SignatureTimeStampVerifiesOverDecodedSignatureValue) {
  std::string xml = read_file(tmp_.path() / "signed-hashchain" / "META-INF" / "signatures.xml");
  std::smatch sv;
  std::smatch ts;
  ASSERT_TRUE(std::regex_search(xml, sv, std::regex(R"(<(?:\w+:)?SignatureValue[^>]*>([^<]*)<)")));
  ASSERT_TRUE(
      std::regex_search(xml, ts, std::regex(R"(<(?:\w+:)?EncapsulatedTimeStamp[^>]*>([^<]*)<)")));
  auto signature_value = crypto::base64_decode(sv[1].str());
  auto token_der = crypto::base64_decode(ts[1].str());
  ASSERT_TRUE(signature_value.ok() && token_der.ok());
  auto token = TimestampToken::parse(*token_der);
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  auto verified = verify(*token, *signature_value, options_);
  ASSERT_TRUE(verified.ok()) << verified.error().to_string();
  EXPECT_EQ(Clock::to_time_t(verified->gen_time), 1733402270);  // 2024-12-05T12:37:50Z
  // Not the base64 text, not the element.
  EXPECT_FALSE(verify(*token, sv[1].str(), options_).ok());
}

TEST_F(XRoadVectorsTest, VectorTokensFailAgainstAnotherTsa) {
  TempDir pki_dir;
  OpenSslPki pki(pki_dir.path());
  ASSERT_TRUE(pki.create());
  VerifyOptions other;
  other.tsa_certs.push_back(pki.pem("tsa"));
  auto token =
      TimestampToken::parse(read_file(tmp_.path() / "batch-ts" / "META-INF" / "timestamp.tst"));
  ASSERT_TRUE(token.ok());
  auto verified =
      verify(*token, read_file(tmp_.path() / "batch-ts" / "ts-hashchainresult.xml"), other);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, FaultCode::kTimestampValidation);
}

}  // namespace
}  // namespace hansa::timestamp
