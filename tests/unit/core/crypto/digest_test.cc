#include "core/crypto/digest.h"

#include <gtest/gtest.h>

#include "core/crypto/encoding.h"

namespace hansa::crypto {
namespace {

TEST(DigestTest, KnownAnswers) {
  // FIPS 180-2 "abc" vectors.
  EXPECT_EQ(hex_encode(digest(DigestAlgorithm::kSha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(digest(DigestAlgorithm::kSha512, "abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(hex_encode(digest(DigestAlgorithm::kSha1, "abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(DigestTest, StreamingEqualsOneShot) {
  Digester d(DigestAlgorithm::kSha512);
  d.update("a");
  d.update("bc");
  EXPECT_EQ(d.finish(), digest(DigestAlgorithm::kSha512, "abc"));
  // finish() resets.
  d.update("abc");
  EXPECT_EQ(d.finish(), digest(DigestAlgorithm::kSha512, "abc"));
}

TEST(DigestTest, UrisAndIds) {
  EXPECT_EQ(digest_uri(DigestAlgorithm::kSha512), "http://www.w3.org/2001/04/xmlenc#sha512");
  EXPECT_EQ(digest_from_uri("http://www.w3.org/2001/04/xmlenc#sha256"), DigestAlgorithm::kSha256);
  EXPECT_FALSE(digest_from_uri("http://example.org/md5").has_value());
  EXPECT_EQ(digest_from_id("SHA-512"), DigestAlgorithm::kSha512);
  EXPECT_EQ(digest_id(DigestAlgorithm::kSha256), "SHA-256");
  EXPECT_EQ(digest_size(DigestAlgorithm::kSha384), 48u);
}

}  // namespace
}  // namespace hansa::crypto
