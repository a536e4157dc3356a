#include "core/crypto/key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "core/crypto/native.h"
#include "core/crypto/pkcs12.h"
#include "tests/unit/core/crypto/test_support.h"

namespace hansa::crypto {
namespace {

const PrivateKey& rsa_key() {
  static const PrivateKey key = PrivateKey::generate_rsa(2048).value();
  return key;
}
const PrivateKey& ec256_key() {
  static const PrivateKey key = PrivateKey::generate_ec(EcCurve::kP256).value();
  return key;
}
const PrivateKey& ec384_key() {
  static const PrivateKey key = PrivateKey::generate_ec(EcCurve::kP384).value();
  return key;
}

constexpr SignatureAlgorithm kAll[] = {
    SignatureAlgorithm::kRsaSha256,    SignatureAlgorithm::kRsaSha384,
    SignatureAlgorithm::kRsaSha512,    SignatureAlgorithm::kRsaPssSha256,
    SignatureAlgorithm::kRsaPssSha384, SignatureAlgorithm::kRsaPssSha512,
    SignatureAlgorithm::kEcdsaSha256,  SignatureAlgorithm::kEcdsaSha384,
    SignatureAlgorithm::kEcdsaSha512,
};

TEST(SignatureAlgorithmTest, UrisAndIdsMatchXRoad) {
  EXPECT_EQ(signature_uri(SignatureAlgorithm::kRsaSha512),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512");
  EXPECT_EQ(signature_uri(SignatureAlgorithm::kEcdsaSha512),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512");
  EXPECT_EQ(signature_uri(SignatureAlgorithm::kRsaPssSha512),
            "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1");
  EXPECT_EQ(signature_id(SignatureAlgorithm::kRsaSha512), "SHA512withRSA");
  EXPECT_EQ(signature_id(SignatureAlgorithm::kEcdsaSha256), "SHA256withECDSA");
  EXPECT_EQ(signature_id(SignatureAlgorithm::kRsaPssSha512), "SHA512withRSAandMGF1");
  for (auto alg : kAll) {
    EXPECT_EQ(signature_from_uri(signature_uri(alg)), alg);
    EXPECT_EQ(signature_from_id(signature_id(alg)), alg);
  }
  EXPECT_EQ(signature_from_uri("http://www.w3.org/2000/09/xmldsig#dsa-sha1"), std::nullopt);
  EXPECT_EQ(signature_from_id("SHA1withRSA"), std::nullopt);
  EXPECT_EQ(signature_digest(SignatureAlgorithm::kEcdsaSha384), DigestAlgorithm::kSha384);
  EXPECT_EQ(signature_key_type(SignatureAlgorithm::kRsaPssSha256), KeyType::kRsa);
}

TEST(KeyTest, GeneratedKeysReportTypeAndSize) {
  EXPECT_EQ(rsa_key().type(), KeyType::kRsa);
  EXPECT_EQ(rsa_key().bits(), 2048);
  EXPECT_EQ(ec256_key().type(), KeyType::kEc);
  EXPECT_EQ(ec256_key().public_key().curve(), EcCurve::kP256);
  EXPECT_EQ(ec384_key().public_key().curve(), EcCurve::kP384);
  EXPECT_EQ(rsa_key().public_key().curve(), std::nullopt);
  EXPECT_FALSE(PrivateKey::generate_rsa(1024).ok());
}

TEST(KeyTest, SignAndVerifyEveryAlgorithm) {
  const std::string data = "message to sign";
  for (auto alg : kAll) {
    const PrivateKey& key = signature_key_type(alg) == KeyType::kRsa ? rsa_key() : ec384_key();
    auto sig = key.sign(alg, data);
    ASSERT_TRUE(sig.ok()) << signature_id(alg);
    EXPECT_TRUE(key.public_key().verify(alg, data, *sig).ok()) << signature_id(alg);

    auto bad = key.public_key().verify(alg, "other data", *sig);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, FaultCode::kInvalidSignatureValue);

    std::string tampered = *sig;
    tampered[tampered.size() / 2] ^= 0x01;
    auto t = key.public_key().verify(alg, data, tampered);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, FaultCode::kInvalidSignatureValue);
  }
}

TEST(KeyTest, SignDigestMatchesSign) {
  const std::string data = "batch hash-chain root";
  // PKCS#1 v1.5 is deterministic: the two paths give the same bytes.
  auto a = rsa_key().sign(SignatureAlgorithm::kRsaSha512, data);
  auto b =
      rsa_key().sign_digest(SignatureAlgorithm::kRsaSha512, digest(DigestAlgorithm::kSha512, data));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // Randomized schemes: a digest signature verifies against the data.
  for (auto alg : {SignatureAlgorithm::kRsaPssSha512, SignatureAlgorithm::kEcdsaSha256}) {
    const PrivateKey& key = signature_key_type(alg) == KeyType::kRsa ? rsa_key() : ec256_key();
    auto sig = key.sign_digest(alg, digest(signature_digest(alg), data));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(key.public_key().verify(alg, data, *sig).ok());
    EXPECT_TRUE(
        key.public_key().verify_digest(alg, digest(signature_digest(alg), data), *sig).ok());
  }
  // Wrong digest length.
  EXPECT_FALSE(rsa_key().sign_digest(SignatureAlgorithm::kRsaSha512, "short").ok());
}

TEST(KeyTest, AlgorithmMustFitKeyType) {
  auto s = rsa_key().sign(SignatureAlgorithm::kEcdsaSha256, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, FaultCode::kUnsupportedSignAlgorithm);
  auto sig = ec256_key().sign(SignatureAlgorithm::kEcdsaSha256, "x").value();
  auto v = ec256_key().public_key().verify(SignatureAlgorithm::kRsaSha256, "x", sig);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, FaultCode::kUnsupportedSignAlgorithm);
}

TEST(KeyTest, WrongKeyDoesNotVerify) {
  auto other = PrivateKey::generate_ec(EcCurve::kP256).value();
  auto sig = ec256_key().sign(SignatureAlgorithm::kEcdsaSha256, "x").value();
  auto v = other.public_key().verify(SignatureAlgorithm::kEcdsaSha256, "x", sig);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, FaultCode::kInvalidSignatureValue);
  EXPECT_FALSE(other.public_key().verify(SignatureAlgorithm::kEcdsaSha256, "x", "").ok());
  EXPECT_FALSE(other.public_key()
                   .verify(SignatureAlgorithm::kEcdsaSha256, "x", std::string(10000, 'a'))
                   .ok());
}

TEST(KeyTest, EcdsaPlainFormRoundTrips) {
  auto der = ec256_key().sign(SignatureAlgorithm::kEcdsaSha256, "x").value();
  auto plain = ecdsa_der_to_plain(der, 32);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), 64u);
  auto back = ecdsa_plain_to_der(*plain);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(ec256_key().public_key().verify(SignatureAlgorithm::kEcdsaSha256, "x", *back).ok());
  EXPECT_EQ(ecdsa_der_to_plain("garbage", 32).error().code, FaultCode::kInvalidSignatureValue);
  EXPECT_FALSE(ecdsa_plain_to_der("odd").ok());
  EXPECT_FALSE(ecdsa_der_to_plain(der + "x", 32).ok());  // trailing bytes
}

TEST(KeyTest, Pkcs8PemRoundTripPlainAndEncrypted) {
  for (const PrivateKey* key : {&rsa_key(), &ec256_key()}) {
    auto pem = key->to_pem();
    ASSERT_TRUE(pem.ok());
    EXPECT_NE(pem->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    auto back = PrivateKey::from_pem(*pem);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(back->public_key() == key->public_key());

    auto enc = key->to_pem("s3cret");
    ASSERT_TRUE(enc.ok());
    EXPECT_NE(enc->find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
    auto dec = PrivateKey::from_pem(*enc, "s3cret");
    ASSERT_TRUE(dec.ok());
    EXPECT_TRUE(dec->public_key() == key->public_key());

    auto wrong = PrivateKey::from_pem(*enc, "wrong");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, FaultCode::kInvalidKey);
    EXPECT_NE(wrong.error().message.find("passphrase"), std::string::npos);
    auto none = PrivateKey::from_pem(*enc);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, FaultCode::kInvalidKey);

    auto der = key->to_der();
    ASSERT_TRUE(der.ok());
    auto from_der = PrivateKey::from_der(*der);
    ASSERT_TRUE(from_der.ok());
    EXPECT_TRUE(from_der->public_key() == key->public_key());
  }
}

TEST(KeyTest, TraditionalPemLoads) {
  for (const PrivateKey* key : {&rsa_key(), &ec256_key()}) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), native_pkey(*key), nullptr, nullptr,
                                                   0, nullptr, nullptr),
              1);
    std::string pem = bio_contents(bio.get());
    EXPECT_TRUE(pem.find("RSA PRIVATE KEY") != std::string::npos ||
                pem.find("EC PRIVATE KEY") != std::string::npos);
    auto k = PrivateKey::from_pem(pem);
    ASSERT_TRUE(k.ok());
    EXPECT_TRUE(k->public_key() == key->public_key());

    BioPtr enc(BIO_new(BIO_s_mem()));
    std::string pass = "trad-pass";
    ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(enc.get(), native_pkey(*key), EVP_aes_128_cbc(),
                                                   reinterpret_cast<unsigned char*>(pass.data()),
                                                   static_cast<int>(pass.size()), nullptr, nullptr),
              1);
    std::string enc_pem = bio_contents(enc.get());
    EXPECT_NE(enc_pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
    EXPECT_TRUE(PrivateKey::from_pem(enc_pem, pass).ok());
    EXPECT_FALSE(PrivateKey::from_pem(enc_pem, "nope").ok());
    EXPECT_FALSE(PrivateKey::from_pem(enc_pem).ok());
  }
}

TEST(KeyTest, PublicKeyPemAndDer) {
  PublicKey pub = rsa_key().public_key();
  auto from_pem = PublicKey::from_pem(pub.to_pem());
  ASSERT_TRUE(from_pem.ok());
  EXPECT_TRUE(*from_pem == pub);
  auto from_der = PublicKey::from_der(pub.to_der());
  ASSERT_TRUE(from_der.ok());
  EXPECT_TRUE(*from_der == pub);
  EXPECT_FALSE(pub == ec256_key().public_key());
  EXPECT_EQ(from_der->bits(), 2048);
}

TEST(KeyTest, HostileKeyInputIsRejected) {
  EXPECT_EQ(PrivateKey::from_pem("not a key").error().code, FaultCode::kInvalidKey);
  EXPECT_EQ(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .error()
                .code,
            FaultCode::kInvalidKey);
  EXPECT_EQ(PrivateKey::from_der(std::string("\x30\x03\x02\x01", 4)).error().code,
            FaultCode::kInvalidKey);
  EXPECT_EQ(PrivateKey::from_pem(std::string(kMaxKeyInputSize + 1, 'A')).error().code,
            FaultCode::kLimitExceeded);
  EXPECT_EQ(PublicKey::from_der("").error().code, FaultCode::kInvalidKey);
  EXPECT_EQ(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n")
                .error()
                .code,
            FaultCode::kInvalidKey);
  std::string der = rsa_key().public_key().to_der();
  EXPECT_FALSE(PublicKey::from_der(der.substr(0, der.size() - 10)).ok());  // truncated
  EXPECT_FALSE(PublicKey::from_der(der + "x").ok());                       // trailing bytes
  auto pkcs8 = rsa_key().to_der().value();
  EXPECT_FALSE(PrivateKey::from_der(pkcs8.substr(0, pkcs8.size() / 2)).ok());
}

TEST(Pkcs12Test, RoundTripWithChain) {
  using testing::CertSpec;
  auto ca_key = testing::ec_key();
  CertSpec ca_spec;
  ca_spec.subject = {{"CN", "Test CA"}};
  ca_spec.extensions = {{"basicConstraints", "critical,CA:true"}};
  Certificate ca = testing::mint_cert(ca_spec, ca_key, ca_key);
  CertSpec leaf_spec;
  leaf_spec.subject = {{"CN", "leaf"}};
  leaf_spec.serial = 2;
  Certificate leaf = testing::mint_cert(leaf_spec, ec256_key(), ca_key, &ca);

  auto p12 = write_pkcs12(ec256_key(), leaf, {ca}, "p12-pass", "my key");
  ASSERT_TRUE(p12.ok()) << p12.error().to_string();
  auto loaded = load_pkcs12(*p12, "p12-pass");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_TRUE(loaded->certificate == leaf);
  EXPECT_TRUE(loaded->key.public_key() == ec256_key().public_key());
  ASSERT_EQ(loaded->chain.size(), 1u);
  EXPECT_TRUE(loaded->chain[0] == ca);

  auto wrong = load_pkcs12(*p12, "nope");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kInvalidKey);
  EXPECT_FALSE(load_pkcs12("garbage", "x").ok());
  EXPECT_FALSE(load_pkcs12(p12->substr(0, p12->size() / 2), "p12-pass").ok());
  // An empty passphrase works both ways too.
  auto open_p12 = write_pkcs12(ec256_key(), leaf, {}, "");
  ASSERT_TRUE(open_p12.ok());
  auto open_loaded = load_pkcs12(*open_p12, "");
  ASSERT_TRUE(open_loaded.ok()) << open_loaded.error().to_string();
  EXPECT_TRUE(open_loaded->chain.empty());
  // A certificate that does not belong to the key is refused.
  EXPECT_FALSE(write_pkcs12(rsa_key(), leaf, {}, "x").ok());
}

}  // namespace
}  // namespace hansa::crypto
