// send_request against a canned-answer central test server on a loopback port.

#include "core/management/sender.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/crypto/key.h"
#include "core/http/server.h"

namespace hansa::management {
namespace {

ids::SecurityServerId server_id() {
  return ids::SecurityServerId::create("DEV", "GOV", "1234", "SS1").value();
}

BuiltRequest address_change() {
  static const crypto::PrivateKey key = crypto::PrivateKey::generate_ec().value();
  RequestToSign in{RequestBody::address_change(server_id(), "ss1.example.org"),
                   ids::MemberId::create("DEV", "GOV", "0000").value(),
                   "",
                   {crypto::SignatureAlgorithm::kEcdsaSha256, key_signer(key)},
                   "cert",
                   "ocsp",
                   std::nullopt};
  return build_request(in).value();
}

class SenderTest : public ::testing::Test {
 protected:
  // Starts a test server whose handler answers with `answer(parsed request)`.
  void start(std::function<void(const Result<ParsedRequest>&, http::Response&)> answer) {
    auto server = http::Server::create({});
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    server_->route(
        "POST", kDefaultServicePath, [answer](const http::Request& req, http::Response& res) {
          answer(parse_request(req.header("Content-Type").value_or(""), req.body()), res);
        });
    ASSERT_TRUE(server_->start().ok());
    auto client = http::Client::create("http://127.0.0.1:" + std::to_string(server_->port()));
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
  }

  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(SenderTest, ReturnsTheRequestId) {
  start([](const Result<ParsedRequest>& req, http::Response& res) {
    ASSERT_TRUE(req.ok()) << req.error().to_string();
    res.set_body(build_response(req->request, 42), kResponseContentType);
  });
  auto r = send_request(*client_, address_change());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->request_id, 42);
  EXPECT_EQ(r->request.body.address, "ss1.example.org");
}

TEST_F(SenderTest, FaultBecomesItsError) {
  start([](const Result<ParsedRequest>&, http::Response& res) {
    res.status = 500;
    res.set_body(build_fault("Client.AccessDenied", "signed by another member", "id"),
                 kResponseContentType);
  });
  auto r = send_request(*client_, address_change());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kAccessDenied);
  EXPECT_EQ(r.error().message, "signed by another member");
}

TEST_F(SenderTest, ResponseToAnotherMessageIsRefused) {
  start([](const Result<ParsedRequest>& req, http::Response& res) {
    Request other = req->request;
    other.header.id = "another-id";
    res.set_body(build_response(other, 1), kResponseContentType);
  });
  EXPECT_EQ(send_request(*client_, address_change()).error().code,
            FaultCode::kInconsistentResponse);
}

TEST_F(SenderTest, NonSoapAnswerIsInvalidSoap) {
  start([](const Result<ParsedRequest>&, http::Response& res) {
    res.status = 502;
    res.set_body("<html>bad gateway</html>", "text/html");
  });
  auto r = send_request(*client_, address_change());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidSoap);
  EXPECT_EQ(r.error().detail, "HTTP status 502");
}

}  // namespace
}  // namespace hansa::management
