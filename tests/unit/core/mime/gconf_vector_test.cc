// X-Road's signed internal configuration (PR-GCONF 2.3, 2.4) read with the MIME reader.

#include <gtest/gtest.h>

#include <openssl/err.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/openssl_ptr.h"
#include "core/mime/headers.h"
#include "core/mime/reader.h"

namespace hansa::mime {
namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(HANSA_VECTORS_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class GlobalConfVectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = read_vector("gconf-v6-internalconf.mime");
    ASSERT_FALSE(file_.empty());
    // The stored file starts with its own Content-Type header line.
    auto entity = parse_entity(file_);
    ASSERT_TRUE(entity.ok()) << entity.error().to_string();
    auto ct = ContentType::parse(*entity->headers.get("content-type"));
    ASSERT_TRUE(ct.ok());
    ASSERT_TRUE(ct->is("multipart/related"));
    ASSERT_EQ(ct->boundary(), "lmyAPTb9i7P4fQ7MmpnZ");
    auto mp = parse_multipart(entity->body, *ct);
    ASSERT_TRUE(mp.ok()) << mp.error().to_string();
    outer_ = std::move(*mp);
  }

  std::string file_;
  Multipart outer_;
};

TEST_F(GlobalConfVectorTest, DirectoryAndSignatureParts) {
  ASSERT_EQ(outer_.parts.size(), 2u);
  const Part& directory = outer_.parts[0];
  auto dir_ct = directory.content_type();
  ASSERT_TRUE(dir_ct.ok());
  EXPECT_TRUE(dir_ct->is("multipart/mixed"));
  EXPECT_EQ(dir_ct->boundary(), "CNo5S3hBEIHbDGmANPgi");
  ASSERT_NE(directory.nested, nullptr);
  const auto& entries = directory.nested->parts;
  ASSERT_EQ(entries.size(), 3u);

  // Header-only first entry.
  EXPECT_EQ(entries[0].headers.size(), 2u);
  EXPECT_EQ(entries[0].headers.get("Expire-date"), "2035-11-11T03:07:40Z");
  EXPECT_EQ(entries[0].headers.get("version"), "6");
  EXPECT_EQ(entries[0].body, "");

  // One entry per file; bodies are the base64 SHA-512 of the referenced files.
  EXPECT_EQ(entries[1].headers.get("content-type"), "application/octet-stream");
  EXPECT_EQ(entries[1].headers.get("content-transfer-encoding"), "base64");
  EXPECT_EQ(entries[1].headers.get("content-identifier"), "SHARED-PARAMETERS; instance='DEV'");
  EXPECT_EQ(entries[1].headers.get("content-location"),
            "/V6/20251110170000548026000/shared-params.xml");
  EXPECT_EQ(entries[1].headers.get("hash-algorithm-id"), "http://www.w3.org/2001/04/xmlenc#sha512");
  EXPECT_EQ(
      entries[1].body,
      "3EFho9gVV0weUFe76NgaVTsIe2h0ZFAc96wziCYLGYrHZqA4ljttqG8ODRQ3zVjBCYMv9AK/+hpPK7oJwEPdvA==");
  EXPECT_EQ(entries[2].headers.get("content-identifier"), "PRIVATE-PARAMETERS; instance='DEV'");

  auto shared_hash = crypto::base64_decode(entries[1].body);
  ASSERT_TRUE(shared_hash.ok());
  EXPECT_EQ(*shared_hash, crypto::digest(crypto::DigestAlgorithm::kSha512,
                                         read_vector("gconf-v6-shared-params.xml")));
  auto private_hash = crypto::base64_decode(entries[2].body);
  ASSERT_TRUE(private_hash.ok());
  EXPECT_EQ(*private_hash, crypto::digest(crypto::DigestAlgorithm::kSha512,
                                          read_vector("gconf-v6-private-params.xml")));

  // The signature part (PR-GCONF 2.3).
  const Part& sig = outer_.parts[1];
  EXPECT_EQ(sig.headers.get("content-type"), "application/octet-stream");
  EXPECT_EQ(sig.headers.get("content-transfer-encoding"), "base64");
  EXPECT_EQ(sig.headers.get("signature-algorithm-id"),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512");
  auto vch = std::string(*sig.headers.get("Verification-certificate-hash"));
  EXPECT_TRUE(
      vch.starts_with("pc2fwlS1MpbN2rxno4qAi27zvPTNIWxvC5xeHRLIQsPj5RR2J7TuY+6VAH0rmbDecjtia9"
                      "AjYDzGIj3i6K9T1w==; hash-algorithm-id="));
  EXPECT_EQ(sig.nested, nullptr);
}

TEST_F(GlobalConfVectorTest, SignedRangeIsTheRawFirstPartBody) {
  // "from the inner opening boundary line up to and including the CRLF after the inner closing
  // boundary" (vectors/xroad/SOURCES.md).
  std::size_t begin = file_.find("--CNo5S3hBEIHbDGmANPgi\r\n");
  std::string closing = "--CNo5S3hBEIHbDGmANPgi--\r\n";
  std::size_t end = file_.find(closing) + closing.size();
  ASSERT_NE(begin, std::string::npos);
  EXPECT_EQ(outer_.parts[0].body, std::string_view(file_).substr(begin, end - begin));

  // The same bytes when hashed as they stream by in small chunks.
  auto entity = parse_entity(file_);
  ASSERT_TRUE(entity.ok());
  DigestingPartHandler hasher(crypto::DigestAlgorithm::kSha512);
  auto reader = MultipartReader::create("lmyAPTb9i7P4fQ7MmpnZ", hasher);
  ASSERT_TRUE(reader.ok());
  for (std::size_t i = 0; i < entity->body.size(); i += 5) {
    ASSERT_TRUE((*reader)->feed(entity->body.substr(i, 5)).ok());
  }
  ASSERT_TRUE((*reader)->finish().ok());
  ASSERT_EQ(hasher.parts().size(), 2u);
  EXPECT_EQ(hasher.parts()[0].digest,
            crypto::digest(crypto::DigestAlgorithm::kSha512, outer_.parts[0].body));
}

std::string anchor_certificate() {
  std::string anchor = read_vector("gconf-v6-configuration-anchor.xml");
  std::size_t open = anchor.find("<verificationCert>");
  std::size_t close = anchor.find("</verificationCert>");
  if (open == std::string::npos || close == std::string::npos) {
    return {};
  }
  open += std::string_view("<verificationCert>").size();
  auto der = crypto::base64_decode(anchor.substr(open, close - open));
  return der.ok() ? *der : std::string();
}

TEST_F(GlobalConfVectorTest, SignatureVerifiesWithAnchorCertificate) {
  std::string der = anchor_certificate();
  ASSERT_FALSE(der.empty());
  // Verification-certificate-hash is the SHA-512 of the anchor certificate.
  std::string header(*outer_.parts[1].headers.get("verification-certificate-hash"));
  std::string cert_hash_b64 = header.substr(0, header.find(';'));
  EXPECT_EQ(cert_hash_b64,
            crypto::base64_encode(crypto::digest(crypto::DigestAlgorithm::kSha512, der)));

  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(cert, nullptr);
  crypto::EvpPkeyPtr key(X509_get_pubkey(cert.get()));
  ASSERT_NE(key, nullptr);
  auto signature = crypto::base64_decode(outer_.parts[1].body);
  ASSERT_TRUE(signature.ok());

  auto verify = [&](std::string_view data) {
    crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha512(), nullptr, key.get()) != 1) {
      return false;
    }
    int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                              signature->size(),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size());
    ERR_clear_error();
    return rc == 1;
  };
  EXPECT_TRUE(verify(outer_.parts[0].body));
  // One byte more or less and it fails: the range is exact.
  std::string_view body = outer_.parts[0].body;
  EXPECT_FALSE(verify(body.substr(0, body.size() - 2)));
  EXPECT_FALSE(verify(std::string(body) + "\r\n"));
}

}  // namespace
}  // namespace hansa::mime
