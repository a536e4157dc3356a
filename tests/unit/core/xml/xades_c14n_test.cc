// Canonicalization checked against X-Road's own signatures: the digest of each same-document
// reference (SignedProperties) and the RSA-SHA512 SignatureValue over the canonical SignedInfo
// must match what X-Road produced. This proves C14N 1.0 and exclusive C14N of subtrees
// byte-for-byte on real data.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/key.h"
#include "core/xml/xml.h"

namespace hansa::xml {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDsNs = "http://www.w3.org/2000/09/xmldsig#";

// META-INF/signatures.xml of an X-Road .asice in HANSA_VECTORS_DIR, unpacked with unzip.
std::optional<std::string> signatures_xml(const std::string& asice) {
  static std::atomic<int> counter{0};
  const fs::path dir =
      fs::temp_directory_path() /
      ("hansa_xades_c14n_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path src = fs::path(HANSA_VECTORS_DIR) / asice;
  const std::string cmd =
      "unzip -q -o '" + src.string() + "' META-INF/signatures.xml -d '" + dir.string() + "'";
  std::optional<std::string> out;
  if (fs::exists(src) && std::system(cmd.c_str()) == 0) {
    std::ifstream in(dir / "META-INF" / "signatures.xml", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return out;
}

class XadesC14nTest : public testing::TestWithParam<std::string> {};

TEST_P(XadesC14nTest, CanonicalFormsMatchXRoadSignatures) {
  auto text = signatures_xml(GetParam());
  ASSERT_TRUE(text.has_value());
  auto doc = Document::parse(*text);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  const NamespaceBindings ns = {{"ds", std::string(kDsNs)}};

  auto signed_info = select_elements(doc->root(), "//ds:Signature/ds:SignedInfo", ns);
  ASSERT_TRUE(signed_info.ok());
  ASSERT_EQ(signed_info->size(), 1U);
  const Element si = signed_info->front();

  // Same-document references: digest of the canonicalized referenced element.
  int checked = 0;
  for (const Element& ref : si.children(kDsNs, "Reference")) {
    const std::string uri = ref.attribute("URI").value_or("");
    if (uri.empty() || uri[0] != '#') {
      continue;
    }
    auto target = select_elements(doc->root(), "//*[@Id='" + uri.substr(1) + "']", ns);
    ASSERT_TRUE(target.ok());
    ASSERT_EQ(target->size(), 1U) << uri;
    C14nMethod method = C14nMethod::kC14n10;  // XML-DSig default for same-document references
    if (Element transforms = ref.first_child(kDsNs, "Transforms")) {
      for (const Element& t : transforms.children(kDsNs, "Transform")) {
        auto m = c14n_from_uri(t.attribute("Algorithm").value_or(""));
        ASSERT_TRUE(m.has_value());
        method = *m;
      }
    }
    auto canonical = canonicalize(target->front(), method);
    ASSERT_TRUE(canonical.ok());
    auto expected = crypto::base64_decode(ref.first_child(kDsNs, "DigestValue").text());
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(crypto::digest(crypto::DigestAlgorithm::kSha512, *canonical), *expected) << uri;
    ++checked;
  }
  EXPECT_EQ(checked, 1);

  // SignatureValue over the canonical SignedInfo, checked with the signer's certificate.
  auto method = c14n_from_uri(
      si.first_child(kDsNs, "CanonicalizationMethod").attribute("Algorithm").value_or(""));
  ASSERT_TRUE(method.has_value());
  auto canonical_si = canonicalize(si, *method);
  ASSERT_TRUE(canonical_si.ok());
  auto cert_text = select_string(doc->root(), "string(//ds:KeyInfo//ds:X509Certificate)", ns);
  ASSERT_TRUE(cert_text.ok());
  auto cert = crypto::Certificate::from_base64(*cert_text);
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  auto value_text = select_string(doc->root(), "string(//ds:Signature/ds:SignatureValue)", ns);
  ASSERT_TRUE(value_text.ok());
  auto value = crypto::base64_decode(*value_text);
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(cert->public_key()
                  .verify(crypto::SignatureAlgorithm::kRsaSha512, *canonical_si, *value)
                  .ok());
  // One changed byte in the canonical form breaks it: the check above is not vacuous.
  std::string tampered = *canonical_si;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(
      cert->public_key().verify(crypto::SignatureAlgorithm::kRsaSha512, tampered, *value).ok());
}

INSTANTIATE_TEST_SUITE_P(XRoadVectors, XadesC14nTest,
                         testing::Values("asic-valid-batch-ts.asice",
                                         "asic-valid-signed-hashchain.asice",
                                         "asic-valid-non-batch-rest.asice"));

}  // namespace
}  // namespace hansa::xml
