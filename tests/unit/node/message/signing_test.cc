#include "node/message/signing.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/signature/signature.h"
#include "tests/unit/node/message/test_data.h"

namespace hansa::message {
namespace {

using crypto::DigestAlgorithm;
using testing::read_data;

constexpr std::string_view kSwaType =
    "multipart/related; type=\"text/xml\"; start=\"<soap-root>\"; boundary=hansa-swa-boundary";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A throw-away RSA key and self-signed certificate (made by the openssl tool in a temp dir).
class SigningKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("hansa-message-signing-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string cmd = "cd '" + dir_.string() +
                            "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem "
                            "-out cert.pem -days 2 -subj /CN=1001/O=GOV >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) {
      auto key = crypto::PrivateKey::from_pem(slurp(dir_ / "key.pem"));
      auto cert = crypto::Certificate::from_pem(slurp(dir_ / "cert.pem"));
      if (key.ok() && cert.ok()) {
        key_ = new crypto::PrivateKey(*key);
        cert_ = new crypto::Certificate(*cert);
      }
    }
  }
  static void TearDownTestSuite() {
    delete key_;
    delete cert_;
    key_ = nullptr;
    cert_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    if (key_ == nullptr) {
      GTEST_SKIP() << "openssl could not make a test certificate";
    }
  }
  static signature::Signer signer() {
    return
        [](crypto::SignatureAlgorithm alg, std::string_view data) { return key_->sign(alg, data); };
  }

  static inline std::filesystem::path dir_;
  static inline crypto::PrivateKey* key_ = nullptr;
  static inline crypto::Certificate* cert_ = nullptr;
};

TEST(SigningInputsTest, SoapPartsAndDigests) {
  auto msg = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(msg.ok());
  const SignedParts parts = signed_parts(*msg);
  EXPECT_EQ(parts.message, msg->soap_part);
  ASSERT_EQ(parts.attachments.size(), 2u);
  const signature::BatchItem item = batch_item(parts);
  EXPECT_EQ(item.message_digest, crypto::digest(DigestAlgorithm::kSha512, msg->soap_part));
  ASSERT_EQ(item.attachment_digests.size(), 2u);
  EXPECT_EQ(item.attachment_digests[1],
            crypto::digest(DigestAlgorithm::kSha512, "A second attachment."));
  const auto refs = data_references(parts);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].uri, "/message.xml");
  EXPECT_EQ(refs[2].uri, "/attachment2");
  EXPECT_EQ(refs[2].mime_type, "application/octet-stream");

  const LogContent log = log_content(parts);
  EXPECT_EQ(log.message, msg->soap_part);
  ASSERT_EQ(log.attachments.size(), 2u);
  EXPECT_EQ(log.attachments[0], msg->attachments[0].data);
}

TEST(SigningInputsTest, RestPartsBodyIsAttachmentOne) {
  SignedParts with_body = signed_parts("GET\r\n/r1/a/b/c/d/e\r\n", std::string_view("{}"));
  ASSERT_EQ(with_body.attachments.size(), 1u);
  EXPECT_EQ(with_body.attachments[0], "{}");
  EXPECT_TRUE(signed_parts("GET\r\n/x\r\n", std::string_view()).attachments.empty());
  EXPECT_TRUE(signed_parts("GET\r\n/x\r\n", std::nullopt).attachments.empty());
  const signature::SignedData data = signed_data(with_body);
  EXPECT_EQ(data.files.at("/message.xml"), "GET\r\n/r1/a/b/c/d/e\r\n");
  ASSERT_TRUE(data.required.at("/attachment1").has_value());
  EXPECT_EQ(data.required.at("/attachment1")->digest,
            crypto::digest(DigestAlgorithm::kSha512, "{}"));
  EXPECT_FALSE(data.files.contains("/attachment1"));  // known by digest, not copied
}

TEST_F(SigningKeyTest, DirectSignatureOverDecodedTransportVerifies) {
  auto msg = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(msg.ok());
  const SignedParts parts = signed_parts(*msg);
  auto sig = signature::create_signature(data_references(parts), *cert_, "", signer());
  ASSERT_TRUE(sig.ok()) << sig.error().to_string();

  OutgoingTransport out;
  out.meta.request_id = "r";
  out.meta.original_content_type = std::string(kSwaType);
  out.soap_part = msg->soap_part;
  out.attachments = msg->attachments;
  out.signature = *sig;
  auto enc = encode_request(out);
  ASSERT_TRUE(enc.ok());
  auto dec = decode_request(enc->headers, enc->body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();

  auto parsed = signature::parse_signature(dec->signature);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_TRUE(signature::verify_signature_value(*parsed).ok());
  const auto st = signature::verify_references(*parsed, signed_data(*dec));
  EXPECT_TRUE(st.ok()) << st.error().to_string();

  // One changed attachment byte is caught.
  std::vector<Attachment> changed = dec->attachments;
  const std::string other = "A second attachment!";
  changed[1].data = other;
  DecodedTransport tampered = *dec;
  tampered.attachments = changed;
  EXPECT_FALSE(signature::verify_references(*parsed, signed_data(tampered)).ok());
}

TEST_F(SigningKeyTest, BatchSignatureOverRestMessagesVerifies) {
  const std::string head1 = "GET\r\n/r1/HANSA/GOV/2002/registry/a\r\nX-Road-Client:HANSA/GOV/1\r\n";
  const std::string head2 =
      "POST\r\n/r1/HANSA/GOV/2002/registry/b\r\nX-Road-Client:HANSA/GOV/1\r\n";
  const std::string body2 = "{\"k\":\"v\"}";
  const SignedParts p1 = signed_parts(head1, std::nullopt);
  const SignedParts p2 = signed_parts(head2, std::string_view(body2));
  auto batch = signature::sign_batch({batch_item(p1), batch_item(p2)}, *cert_, "", signer());
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  ASSERT_EQ(batch->size(), 2u);

  OutgoingTransport out;
  out.meta.kind = MessageKind::kRest;
  out.meta.request_id = "r";
  out.rest_head = head2;
  out.rest_body = body2;
  out.hash_chain_result = (*batch)[1].hash_chain_result;
  out.hash_chain = (*batch)[1].hash_chain;
  out.signature = (*batch)[1].signature_xml;
  auto enc = encode_request(out);
  ASSERT_TRUE(enc.ok());
  auto dec = decode_request(enc->headers, enc->body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  auto parsed = signature::parse_signature(dec->signature);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->is_batch());
  const auto st = signature::verify_references(*parsed, signed_data(*dec));
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  // Message 1's parts with message 2's chain fail.
  EXPECT_FALSE(signature::verify_references(
                   *parsed, signed_data(p1, dec->hash_chain_result, dec->hash_chain))
                   .ok());
}

}  // namespace
}  // namespace hansa::message
