#include "core/crypto/encoding.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace hansa::crypto {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*base64_decode("Zm9v\r\nYmFy\n"), "foobar");
}

TEST(Base64Test, RejectsMalformed) {
  EXPECT_FALSE(base64_decode("Zm9").ok());
  EXPECT_FALSE(base64_decode("Zm9v!").ok());
  EXPECT_FALSE(base64_decode("Zg===").ok());
  EXPECT_FALSE(base64_decode("Zg==Zg==").ok());
  EXPECT_FALSE(base64_decode("Zm8==").ok());
  EXPECT_EQ(base64_decode("@@@@").error().code, FaultCode::kInvalidRequest);
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n < all.size(); n += 37) {
    auto part = all.substr(0, n);
    EXPECT_EQ(*base64_decode(base64_encode(part)), part);
  }
}

// Every length 0..600 (all tails), against OpenSSL's encoder; decoding takes back the bytes with
// and without line breaks in the text.
TEST(Base64Test, MatchesOpenSslForEveryLength) {
  std::string bytes;
  for (int i = 0; i < 600; ++i) bytes += static_cast<char>((i * 151 + 7) & 0xff);
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string part = bytes.substr(0, n);
    std::string expected(4 * ((n + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                        reinterpret_cast<const unsigned char*>(part.data()), static_cast<int>(n));
    expected.resize(static_cast<std::size_t>(len));
    const std::string encoded = base64_encode(part);
    ASSERT_EQ(encoded, expected) << n;
    ASSERT_EQ(*base64_decode(encoded), part) << n;
    std::string wrapped;
    for (std::size_t i = 0; i < encoded.size(); i += 76) wrapped += encoded.substr(i, 76) + "\r\n";
    ASSERT_EQ(*base64_decode(wrapped), part) << n;
  }
}

TEST(HexTest, EncodesAndDecodes) {
  EXPECT_EQ(hex_encode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*hex_decode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(hex_decode("abc").ok());
  EXPECT_FALSE(hex_decode("zz").ok());
}

}  // namespace
}  // namespace hansa::crypto
