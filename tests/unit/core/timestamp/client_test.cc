#include "core/timestamp/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto/digest.h"
#include "core/hashchain/hashchain.h"
#include "core/timestamp/batch.h"
#include "tests/unit/core/ocsp/openssl_pki.h"
#include "tests/unit/core/ocsp/test_servers.h"

namespace hansa::timestamp {
namespace {

using namespace std::chrono_literals;
using crypto::DigestAlgorithm;
using ocsp::testing::CannedServer;
using ocsp::testing::http_answer;
using ocsp::testing::OpenSslPki;
using ocsp::testing::read_file;
using ocsp::testing::run_in;
using ocsp::testing::TempDir;
using ocsp::testing::write_file;

class TimestampClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    pki_ = new OpenSslPki(tmp_->path() / "pki");
    ASSERT_TRUE(pki_->create());
    write_file(pki_->dir() / "tsaserial", "01\n");
    write_file(pki_->dir() / "tsa.cnf",
               "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\n"
               "serial = ./tsaserial\ncrypto_device = builtin\n"
               "signer_cert = ./tsa.pem\nsigner_key = ./tsa.key\n"
               "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
               "digests = sha256, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\n"
               "ess_cert_id_chain = no\ness_cert_id_alg = sha256\n");
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete tmp_;
  }

  // `openssl ts -reply` for a DER query (runs on the server thread).
  static std::string openssl_reply(const std::string& query, const std::string& tag) {
    write_file(pki_->dir() / (tag + ".tsq"), query);
    std::filesystem::remove(pki_->dir() / (tag + ".tsr"));
    run_in(pki_->dir(),
           "openssl ts -reply -config tsa.cnf -queryfile " + tag + ".tsq -out " + tag + ".tsr");
    return read_file(pki_->dir() / (tag + ".tsr"));
  }

  // An HTTP TSA backed by `openssl ts -reply`.
  static CannedServer::Handler openssl_tsa() {
    return [](const std::string& body) {
      return http_answer("application/timestamp-reply", openssl_reply(body, "srv"));
    };
  }

  static VerifyOptions approved() {
    VerifyOptions options;
    options.tsa_certs.push_back(pki_->pem("tsa"));
    return options;
  }

  static TempDir* tmp_;
  static OpenSslPki* pki_;
};

TempDir* TimestampClientTest::tmp_ = nullptr;
OpenSslPki* TimestampClientTest::pki_ = nullptr;

TEST_F(TimestampClientTest, StampsOverHttpWithOpenSslTsa) {
  CannedServer tsa(openssl_tsa());
  TimestampClient client;
  auto token = client.stamp(tsa.url() + "/tsa", "records", approved());
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  EXPECT_EQ(token->imprint(), crypto::digest(DigestAlgorithm::kSha512, "records"));
  EXPECT_EQ(token->nonce().size(), 8u);
  EXPECT_TRUE(verify(*token, "records", approved()).ok());
  std::string req = tsa.last_request();
  EXPECT_EQ(req.rfind("POST /tsa HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: application/timestamp-query"), std::string::npos) << req;

  ClientOptions sha256;
  sha256.request.digest = DigestAlgorithm::kSha256;
  auto imprint = crypto::digest(DigestAlgorithm::kSha256, "records");
  auto t2 = TimestampClient(sha256).stamp_imprint(tsa.url(), imprint, approved());
  ASSERT_TRUE(t2.ok()) << t2.error().to_string();
  EXPECT_EQ(t2->imprint_digest(), DigestAlgorithm::kSha256);
}

// Hostile: a TSA answering with a token over another imprint.
TEST_F(TimestampClientTest, TokenOverAnotherImprintIsTimestampValidation) {
  auto other = build_request("something else");
  std::string canned = openssl_reply(other->der, "other");
  CannedServer tsa(http_answer("application/timestamp-reply", canned));
  auto token = TimestampClient().stamp(tsa.url(), "records", approved());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, FaultCode::kTimestampValidation) << token.error().to_string();
}

// Hostile: a replayed token for the same data but without our nonce.
TEST_F(TimestampClientTest, ReplayedTokenFailsTheNonceCheck) {
  RequestOptions no_nonce;
  no_nonce.nonce = false;
  std::string canned = openssl_reply(build_request("records", no_nonce)->der, "replay");
  CannedServer tsa(http_answer("application/timestamp-reply", canned));
  auto token = TimestampClient().stamp(tsa.url(), "records", approved());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, FaultCode::kTimestampValidation);
  EXPECT_NE(token.error().message.find("nonce"), std::string::npos) << token.error().message;
}

// Hostile: a rejection status.
TEST_F(TimestampClientTest, RejectionIsTimestamperFailed) {
  RequestOptions sha1;
  sha1.digest = DigestAlgorithm::kSha1;  // not accepted by this TSA
  std::string canned = openssl_reply(build_request("x", sha1)->der, "reject");
  CannedServer tsa(http_answer("application/timestamp-reply", canned));
  auto token = TimestampClient().stamp(tsa.url(), "records", approved());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, FaultCode::kTimestamperFailed);
  EXPECT_NE(token.error().detail.find("rejection"), std::string::npos) << token.error().detail;
}

// Hostile: a TSA that accepts the connection and never answers.
TEST_F(TimestampClientTest, SilentTsaTimesOut) {
  CannedServer silent("");
  ClientOptions options;
  options.read_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto token = TimestampClient(options).stamp(silent.url(), "records", approved());
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, FaultCode::kTimeout) << token.error().to_string();
  EXPECT_LT(took, 5s);
}

TEST_F(TimestampClientTest, TransportAndHttpErrors) {
  auto refused = TimestampClient().stamp(
      "http://127.0.0.1:" + std::to_string(ocsp::testing::free_port()), "x", approved());
  EXPECT_EQ(refused.error().code, FaultCode::kNetworkError) << refused.error().to_string();
  CannedServer failing(http_answer("text/plain", "down", 503));
  EXPECT_EQ(TimestampClient().stamp(failing.url(), "x", approved()).error().code,
            FaultCode::kTimestamperFailed);
  CannedServer huge(http_answer("application/timestamp-reply", std::string(50u << 20, 'x')));
  EXPECT_EQ(TimestampClient().stamp(huge.url(), "x", approved()).error().code,
            FaultCode::kLimitExceeded);
  EXPECT_EQ(TimestampClient().stamp("tsa.example", "x", approved()).error().code,
            FaultCode::kInvalidConfiguration);
}

// Batch: one time-stamp over the hash-chain result; every input verifies through its chain.
TEST_F(TimestampClientTest, BatchStampGivesEveryInputItsChain) {
  CannedServer tsa(openssl_tsa());
  std::vector<std::string> records;
  std::vector<std::string> digests;
  for (int i = 0; i < 5; ++i) {
    records.push_back("<signatures>" + std::to_string(i) + "</signatures>");
    digests.push_back(crypto::digest(DigestAlgorithm::kSha512, records.back()));
  }
  auto batch = stamp_batch(digests, TimestampClient(), tsa.url(), approved());
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  ASSERT_EQ(batch->chain_xmls.size(), digests.size());
  // The token is over the result document's bytes.
  EXPECT_TRUE(verify(batch->token, batch->result_xml, approved()).ok());
  for (std::size_t i = 0; i < records.size(); ++i) {
    hashchain::ReferenceResolver resolver =
        [&](std::string_view uri) -> std::optional<std::string> {
      if (uri == "/ts-hashchain.xml") {
        return batch->chain_xmls[i];
      }
      if (uri == "/META-INF/signatures.xml") {
        return records[i];
      }
      return std::nullopt;
    };
    hashchain::RequiredInputs inputs{{"/META-INF/signatures.xml", std::nullopt}};
    Status st = hashchain::verify_hash_chain(batch->result_xml, resolver, inputs);
    EXPECT_TRUE(st.ok()) << i << ": " << st.error().to_string();
    // Another input's record does not verify through this chain.
    hashchain::ReferenceResolver wrong = [&](std::string_view uri) -> std::optional<std::string> {
      if (uri == "/ts-hashchain.xml") {
        return batch->chain_xmls[i];
      }
      return records[(i + 1) % records.size()];
    };
    EXPECT_FALSE(hashchain::verify_hash_chain(batch->result_xml, wrong, inputs).ok());
  }
  EXPECT_EQ(stamp_batch({}, TimestampClient(), tsa.url(), approved()).error().code,
            FaultCode::kInvalidRequest);
}

// Without chains, the result is the same and each input's chain comes from a tree over the same
// inputs, byte for byte what the batch would have carried.
TEST_F(TimestampClientTest, BatchWithoutChainsStampsTheSameResult) {
  std::vector<std::string> digests;
  for (int i = 0; i < 6; ++i) {
    digests.push_back(crypto::digest(DigestAlgorithm::kSha512, "input " + std::to_string(i)));
  }
  std::string stamped;
  Stamper keep = [&](std::string_view data) -> Result<TimestampToken> {
    stamped = std::string(data);
    return Error(FaultCode::kTimeout, "not sent");
  };
  (void)stamp_batch(digests, keep);
  const std::string with_chains = stamped;
  BatchOptions options;
  options.chains = false;
  (void)stamp_batch(digests, keep, options);
  EXPECT_EQ(stamped, with_chains);

  CannedServer tsa(openssl_tsa());
  auto full = stamp_batch(digests, TimestampClient(), tsa.url(), approved());
  auto bare = stamp_batch(digests, TimestampClient(), tsa.url(), approved(), options);
  ASSERT_TRUE(full.ok() && bare.ok());
  EXPECT_TRUE(bare->chain_xmls.empty());
  EXPECT_EQ(bare->result_xml, full->result_xml);
  std::vector<hashchain::ChainInput> inputs;
  for (const auto& d : digests) {
    inputs.push_back({d, {}});
  }
  auto tree = hashchain::Tree::build(inputs, options.chain);
  ASSERT_TRUE(tree.ok());
  for (std::size_t i = 0; i < digests.size(); ++i) {
    EXPECT_EQ(*tree->chain_xml(i), full->chain_xmls[i]) << i;
  }
}

TEST_F(TimestampClientTest, BatchPassesStamperErrorsOn) {
  Stamper failing = [](std::string_view) -> Result<TimestampToken> {
    return Error(FaultCode::kTimeout, "no answer");
  };
  auto batch = stamp_batch({std::string(64, 'a')}, failing);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.error().code, FaultCode::kTimeout);
}

}  // namespace
}  // namespace hansa::timestamp
