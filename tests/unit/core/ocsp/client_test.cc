#include "core/ocsp/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/crypto/encoding.h"
#include "tests/unit/core/ocsp/openssl_pki.h"
#include "tests/unit/core/ocsp/test_servers.h"

namespace hansa::ocsp {
namespace {

using namespace std::chrono_literals;
using testing::CannedServer;
using testing::ChildProcess;
using testing::OpenSslPki;
using testing::TempDir;

class OcspClientTest : public ::testing::Test {
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
  static TempDir* tmp_;
  static OpenSslPki* pki_;
};

TempDir* OcspClientTest::tmp_ = nullptr;
OpenSslPki* OcspClientTest::pki_ = nullptr;

TEST(OcspGetTarget, EncodesBase64PerRfc6960AppendixA) {
  std::string der("\xfb\xff\xfe", 3);  // base64 "+//+"
  EXPECT_EQ(get_target("", der), "/%2B%2F%2F%2B");
  EXPECT_EQ(get_target("/ocsp", "ab"), "/ocsp/YWI%3D");
  EXPECT_EQ(get_target("/ocsp/", "ab"), "/ocsp/YWI%3D");
}

// Interoperability: `openssl ocsp -port` as the responder, over an index file, for good and
// revoked certificates, with POST and GET.
TEST_F(OcspClientTest, VerifiesOpenSslResponderOverHttp) {
  int port = testing::free_port();
  ChildProcess responder(
      {"openssl", "ocsp", "-index", "index.txt", "-port", std::to_string(port), "-rsigner",
       "responder.pem", "-rkey", "responder.key", "-CA", "ca.pem", "-ndays", "1", "-nrequest", "8"},
      pki_->dir().string());
  ASSERT_TRUE(responder.started());
  ASSERT_TRUE(testing::wait_for_text((pki_->dir() / "child.log").string(),
                                     "waiting for OCSP client connections", 10s))
      << testing::read_file(pki_->dir() / "child.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  for (bool use_get : {false, true}) {
    ClientOptions options;
    options.use_get = use_get;
    options.read_timeout = 10s;
    OcspClient client(options);
    auto good = client.fetch_verified(url, pki_->der("good"), pki_->der("ca"), Clock::now(), {});
    ASSERT_TRUE(good.ok()) << (use_get ? "GET: " : "POST: ") << good.error().to_string() << "\n"
                           << testing::read_file(pki_->dir() / "child.log");
    EXPECT_EQ(good->status(), CertStatus::kGood);

    auto revoked = client.fetch(url, pki_->der("revoked"), pki_->der("ca"));
    ASSERT_TRUE(revoked.ok()) << revoked.error().to_string();
    EXPECT_EQ(revoked->status(), CertStatus::kRevoked);
    EXPECT_EQ(revoked->revocation_reason(), RevocationReason::kKeyCompromise);
    Status st = verify(*revoked, pki_->der("revoked"), pki_->der("ca"), Clock::now());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, FaultCode::kCertValidation);
    auto via_verified =
        client.fetch_verified(url, pki_->der("revoked"), pki_->der("ca"), Clock::now(), {});
    EXPECT_EQ(via_verified.error().code, FaultCode::kCertValidation);
  }
}

TEST_F(OcspClientTest, SendsOcspRequestContentTypeAndGetPath) {
  std::string resp_der =
      pki_->respond(*build_request(pki_->der("good"), pki_->der("ca")), "responder");
  {
    CannedServer server(testing::http_answer("application/ocsp-response", resp_der));
    OcspClient client;
    auto r = client.fetch(server.url() + "/ocsp", pki_->der("good"), pki_->der("ca"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    std::string req = server.last_request();
    EXPECT_EQ(req.rfind("POST /ocsp HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Content-Type: application/ocsp-request"), std::string::npos) << req;
  }
  {
    CannedServer server(testing::http_answer("application/ocsp-response", resp_der));
    ClientOptions options;
    options.use_get = true;
    OcspClient client(options);
    auto r = client.fetch(server.url() + "/ocsp", pki_->der("good"), pki_->der("ca"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    std::string req = server.last_request();
    std::string expected =
        "GET " + get_target("/ocsp", *build_request(pki_->der("good"), pki_->der("ca")));
    EXPECT_EQ(req.rfind(expected, 0), 0u) << req;
  }
}

// Hostile transport cases: each fails with the right code and within its bound.
TEST_F(OcspClientTest, SilentResponderTimesOut) {
  CannedServer silent("");
  ClientOptions options;
  options.read_timeout = 300ms;
  OcspClient client(options);
  auto start = std::chrono::steady_clock::now();
  auto r = client.fetch(silent.url(), pki_->der("good"), pki_->der("ca"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kTimeout) << r.error().to_string();
  EXPECT_LT(took, 5s);
}

TEST_F(OcspClientTest, RefusedConnectionIsNetworkError) {
  OcspClient client;
  auto r = client.fetch("http://127.0.0.1:" + std::to_string(testing::free_port()),
                        pki_->der("good"), pki_->der("ca"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kNetworkError) << r.error().to_string();
}

TEST_F(OcspClientTest, HttpErrorAndGarbageAreOcspFailed) {
  {
    CannedServer server(testing::http_answer("text/plain", "oops", 500));
    auto r = OcspClient().fetch(server.url(), pki_->der("good"), pki_->der("ca"));
    EXPECT_EQ(r.error().code, FaultCode::kOcspFailed) << r.error().to_string();
  }
  {
    CannedServer server(testing::http_answer("application/ocsp-response", "garbage"));
    auto r = OcspClient().fetch(server.url(), pki_->der("good"), pki_->der("ca"));
    EXPECT_EQ(r.error().code, FaultCode::kOcspFailed) << r.error().to_string();
  }
}

// Hostile: a 50 MB answer is cut off by the response size cap.
TEST_F(OcspClientTest, HugeAnswerIsRefused) {
  CannedServer server(
      testing::http_answer("application/ocsp-response", std::string(50u << 20, 'x')));
  auto r = OcspClient().fetch(server.url(), pki_->der("good"), pki_->der("ca"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded) << r.error().to_string();
}

TEST_F(OcspClientTest, BadUrlIsInvalidConfiguration) {
  EXPECT_EQ(OcspClient().fetch("ftp://x", pki_->der("good"), pki_->der("ca")).error().code,
            FaultCode::kInvalidConfiguration);
  EXPECT_EQ(OcspClient().fetch("http://", pki_->der("good"), pki_->der("ca")).error().code,
            FaultCode::kInvalidConfiguration);
}

}  // namespace
}  // namespace hansa::ocsp
