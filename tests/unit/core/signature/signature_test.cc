#include "core/signature/signature.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/asic/asic.h"
#include "core/crypto/encoding.h"
#include "tests/unit/core/crypto/test_support.h"
#include "tests/unit/core/signature/signature_fixtures.h"

namespace hansa::signature {
namespace {

using testing::DevPki;
using testing::read_file;
using testing::read_vector;
using testing::write_file;

// The files of a vector container by URI, and the inputs its signature must cover.
struct VectorData {
  SignedData data;
  std::string signature_xml;
  std::optional<TimePoint> batch_ts_time;
};

VectorData load_vector(const std::string& name) {
  auto container = asic::read_container(read_vector(name));
  EXPECT_TRUE(container.ok()) << container.error().to_string();
  VectorData v;
  for (const auto& e : container->entries) {
    v.data.files["/" + e.name] = e.data;
    if (e.name == "message.xml" || e.name.starts_with("attachment")) {
      v.data.required["/" + e.name] = std::nullopt;
    }
  }
  v.signature_xml = *container->find("META-INF/signatures.xml");
  if (const std::string* tst = container->find("META-INF/timestamp.tst")) {
    auto token = timestamp::TimestampToken::parse(*tst);
    EXPECT_TRUE(token.ok());
    v.batch_ts_time = token->gen_time();
  }
  return v;
}

class VectorTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(VectorTest, ValidVectorSignatureVerifiesAtTimeStampTime) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector(GetParam().first);
  VerifyOptions opts;
  opts.at = v.batch_ts_time;
  auto result = verify(v.signature_xml, v.data, *conf, opts);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->certificate.member.to_string(), GetParam().second);
  EXPECT_EQ(result->certificate.ocsp_status, ocsp::CertStatus::kGood);
  EXPECT_TRUE(result->parsed->signing_time.has_value());
  EXPECT_GE(result->certificate.chain.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    XRoad, VectorTest,
    ::testing::Values(std::make_pair("asic-valid-batch-ts.asice", "MEMBER:DEV/COM/4321"),
                      std::make_pair("asic-valid-signed-hashchain.asice", "MEMBER:DEV/COM/4321"),
                      std::make_pair("asic-valid-non-batch-rest.asice", "MEMBER:DEV/COM/1234")));

TEST(SignatureVectorTest, SignedHashChainVectorUsesItsEmbeddedTimeStamp) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-signed-hashchain.asice");
  auto result = verify(v.signature_xml, v.data, *conf);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_TRUE(result->timestamp.has_value());
  EXPECT_EQ(result->verified_at, result->timestamp->gen_time);
  EXPECT_TRUE(result->parsed->is_batch());
}

TEST(SignatureVectorTest, ModifiedMessageVectorFailsWithHashChainUnusedInputs) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-invalid-hashchain-modified-message.asice");
  v.data.required.erase("/messageX.xml");  // not a message part
  auto result = verify(v.signature_xml, v.data, *conf);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().fault_code(), "MalformedSignature.HashChainUnusedInputs");
}

TEST(SignatureVectorTest, ChangedMessageByteIsInvalidSignatureValue) {
  auto conf = testing::vector_conf();
  for (const char* name : {"asic-valid-batch-ts.asice", "asic-valid-non-batch-rest.asice"}) {
    VectorData v = load_vector(name);
    v.data.files["/message.xml"][10] ^= 1;
    auto result = verify(v.signature_xml, v.data, *conf, {.at = v.batch_ts_time});
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().fault_code(), "InvalidSignatureValue") << name;
  }
}

TEST(SignatureVectorTest, ChangedMessageInBatchIsMalformedSignatureInvalidHashChainRef) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-signed-hashchain.asice");
  v.data.files["/message.xml"][10] ^= 1;
  auto result = verify(v.signature_xml, v.data, *conf);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, FaultCode::kInvalidHashChainRef) << result.error().to_string();
  EXPECT_TRUE(result.error().fault_code().starts_with("MalformedSignature."));
}

TEST(SignatureVectorTest, MissingOrExtraReferencesAreMalformedSignature) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-non-batch-rest.asice");
  VectorData extra = v;
  extra.data.required["/attachment2"] = std::nullopt;
  auto r1 = verify(extra.signature_xml, extra.data, *conf, {.at = v.batch_ts_time});
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, FaultCode::kMalformedSignature);
  VectorData fewer = v;
  fewer.data.required.erase("/attachment1");
  auto r2 = verify(fewer.signature_xml, fewer.data, *conf, {.at = v.batch_ts_time});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, FaultCode::kMalformedSignature);
}

TEST(SignatureVectorTest, ChangedSignedPropertiesIsInvalidSignatureValue) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  auto pos = v.signature_xml.find("<xades:SigningTime>");
  ASSERT_NE(pos, std::string::npos);
  v.signature_xml[pos + 22] = v.signature_xml[pos + 22] == '1' ? '2' : '1';
  auto result = verify(v.signature_xml, v.data, *conf, {.at = v.batch_ts_time});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, FaultCode::kInvalidSignatureValue);
}

TEST(SignatureVectorTest, ChangedSignatureValueIsInvalidSignatureValue) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  auto pos = v.signature_xml.find("<ds:SignatureValue");
  pos = v.signature_xml.find('>', pos) + 5;
  v.signature_xml[pos] = v.signature_xml[pos] == 'A' ? 'B' : 'A';
  auto result = verify(v.signature_xml, v.data, *conf, {.at = v.batch_ts_time});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, FaultCode::kInvalidSignatureValue);
}

TEST(SignatureVectorTest, CertificateChecksAtTheGivenTime) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  // Long after the OCSP response was made: not fresh any more.
  auto late = verify(v.signature_xml, v.data, *conf,
                     {.at = *v.batch_ts_time + std::chrono::hours(24 * 30)});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, FaultCode::kCertValidation);
  // Before the certificate existed.
  auto early = verify(v.signature_xml, v.data, *conf,
                      {.at = *v.batch_ts_time - std::chrono::hours(24 * 365 * 5)});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, FaultCode::kCertValidation);
}

TEST(SignatureVectorTest, UnapprovedCaIsCertValidation) {
  globalconf::SharedParameters shared;
  shared.instance_identifier = "DEV";
  auto conf = globalconf::GlobalConfSnapshot::create(
      std::nullopt, {shared}, std::chrono::system_clock::now() + std::chrono::hours(1));
  ASSERT_TRUE(conf.ok());
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  auto result = verify(v.signature_xml, v.data, **conf, {.at = v.batch_ts_time});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, FaultCode::kCertValidation);
}

TEST(SignatureVectorTest, ExpectedSignerMustMatch) {
  auto conf = testing::vector_conf();
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  VerifyOptions opts{.at = v.batch_ts_time};
  opts.expected_signer = *ids::ClientId::parse("SUBSYSTEM:DEV/COM/4321/TestClient");
  EXPECT_TRUE(verify(v.signature_xml, v.data, *conf, opts).ok());
  opts.expected_signer = *ids::ClientId::parse("MEMBER:DEV/COM/1234");
  auto result = verify(v.signature_xml, v.data, *conf, opts);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, FaultCode::kIncorrectCertificate);
}

TEST(SignatureParseTest, RefusesWhatIsNotAnXRoadSignature) {
  EXPECT_EQ(parse_signature("<a/>").error().code, FaultCode::kMalformedSignature);
  EXPECT_EQ(parse_signature("not xml").error().code, FaultCode::kInvalidXml);
  EXPECT_EQ(parse_signature("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>").error().code,
            FaultCode::kInvalidXml);
  ParseLimits small;
  small.xml.max_document_bytes = 100;
  VectorData v = load_vector("asic-valid-batch-ts.asice");
  EXPECT_EQ(parse_signature(v.signature_xml, small).error().code, FaultCode::kLimitExceeded);
  // Two signatures in one wrapper.
  std::string twice = v.signature_xml;
  auto start = twice.find("<ds:Signature ");
  auto end = twice.find("</ds:Signature>") + 15;
  twice.insert(end, twice.substr(start, end - start));
  EXPECT_EQ(parse_signature(twice).error().code, FaultCode::kMalformedSignature);
  // SignedProperties reference pointing elsewhere.
  std::string elsewhere = v.signature_xml;
  auto sp = elsewhere.find("URI=\"#signed-properties\"");
  ASSERT_NE(sp, std::string::npos);
  elsewhere.replace(sp, 24, "URI=\"#signature\"");
  EXPECT_EQ(parse_signature(elsewhere).error().code, FaultCode::kMalformedSignature);
  // A reference to an Id no element has, and an Id two elements have.
  auto refused_with = [&](std::size_t at, std::size_t length, std::string_view replacement,
                          std::string_view detail) {
    std::string x = v.signature_xml;
    x.replace(at, length, replacement);
    auto r = parse_signature(x);
    ASSERT_FALSE(r.ok()) << replacement;
    EXPECT_EQ(r.error().code, FaultCode::kMalformedSignature);
    EXPECT_NE(r.error().to_string().find(detail), std::string::npos) << r.error().to_string();
  };
  refused_with(sp, 24, "URI=\"#nowhere\"", "0 found");
  auto key_info = v.signature_xml.find("<ds:KeyInfo>");
  ASSERT_NE(key_info, std::string::npos);
  refused_with(key_info, 12, "<ds:KeyInfo Id=\"signed-properties\">", "2 found");
  // An Id attribute in a namespace is not an Id (as XPath's @Id): the reference still resolves.
  std::string namespaced = v.signature_xml;
  namespaced.replace(key_info, 12, "<ds:KeyInfo xmlns:z=\"urn:z\" z:Id=\"signed-properties\">");
  EXPECT_TRUE(parse_signature(namespaced).ok());
}

TEST(SignatureParseTest, ReadsTheVectorFields) {
  VectorData v = load_vector("asic-valid-signed-hashchain.asice");
  auto parsed = parse_signature(v.signature_xml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_TRUE(parsed->xades_wrapper);
  EXPECT_EQ(parsed->algorithm, crypto::SignatureAlgorithm::kRsaSha512);
  EXPECT_EQ(parsed->c14n, xml::C14nMethod::kC14n10);
  ASSERT_EQ(parsed->data_references().size(), 1u);
  EXPECT_EQ(parsed->data_references()[0]->uri, "/sig-hashchainresult.xml");
  EXPECT_EQ(parsed->ocsp_responses.size(), 1u);
  EXPECT_TRUE(parsed->timestamp.has_value());
  auto rest = parse_signature(load_vector("asic-valid-non-batch-rest.asice").signature_xml);
  ASSERT_TRUE(rest.ok()) << rest.error().to_string();
  EXPECT_FALSE(rest->xades_wrapper);
  EXPECT_EQ(rest->c14n, xml::C14nMethod::kExclusiveC14n10);
  EXPECT_EQ(rest->data_references().size(), 2u);
}

// --- Signatures Hansa makes ---

class DevSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.load()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
    conf_ = pki_.conf();
  }

  SignedData data_for(const std::string& message, const std::vector<std::string>& attachments) {
    SignedData d;
    d.files["/message.xml"] = message;
    d.required["/message.xml"] = std::nullopt;
    for (std::size_t i = 0; i < attachments.size(); ++i) {
      d.files[attachment_uri(i + 1)] = attachments[i];
      d.required[attachment_uri(i + 1)] = std::nullopt;
    }
    return d;
  }

  std::vector<DataReference> refs_for(const std::string& message,
                                      const std::vector<std::string>& attachments) {
    std::vector<DataReference> refs{{"/message.xml", crypto::DigestAlgorithm::kSha512,
                                     crypto::digest(crypto::DigestAlgorithm::kSha512, message),
                                     "text/xml"}};
    for (std::size_t i = 0; i < attachments.size(); ++i) {
      refs.push_back({attachment_uri(i + 1), crypto::DigestAlgorithm::kSha512,
                      crypto::digest(crypto::DigestAlgorithm::kSha512, attachments[i]),
                      "application/octet-stream"});
    }
    return refs;
  }

  // xmlsec1 --verify over signatures.xml with the referenced files mapped; trusting the dev root.
  bool xmlsec_verifies(const std::string& signature_xml,
                       const std::map<std::string, std::string>& files, bool insecure = false) {
    std::string cmd =
        "xmlsec1 --verify --id-attr:Id 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties'"
        " --enabled-reference-uris empty,same-doc,local,remote";
    for (const auto& [uri, data] : files) {
      std::string local = "file" + std::to_string(cmd.size()) + ".bin";
      write_file(pki_.dir() / local, data);
      cmd += " --url-map:" + uri + " '" + (pki_.dir() / local).string() + "'";
    }
    if (insecure) {
      cmd += " --insecure";
    } else {
      cmd += " --trusted-pem '" + pki_.env()["ROOT_CA_CERT"] + "' --untrusted-pem '" +
             pki_.env()["INTERMEDIATE_CA_CERT"] + "'";
    }
    write_file(pki_.dir() / "signatures.xml", signature_xml);
    cmd += " signatures.xml > xmlsec.out 2>&1";
    return testing::run_quiet(pki_.dir(), cmd);
  }

  DevPki pki_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
};

TEST_F(DevSignatureTest, CreatedSignatureVerifiesWithHansaAndXmlsec1) {
  std::string message = "<Envelope>hello</Envelope>";
  std::vector<std::string> attachments{"first attachment", std::string("\0\1binary", 8)};
  auto xml =
      create_signature(refs_for(message, attachments), pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  EXPECT_EQ(pki_.sign_calls(), 1);
  EXPECT_NE(xml->find("urn:oid:1.3.6.1.4.1.3516.16.2"), std::string::npos);
  auto result = verify(*xml, data_for(message, attachments), *conf_);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->certificate.member.to_string(), "MEMBER:" + pki_.member_id());
  EXPECT_FALSE(result->timestamp.has_value());

  EXPECT_TRUE(xmlsec_verifies(*xml, {{"/message.xml", message},
                                     {"/attachment1", attachments[0]},
                                     {"/attachment2", attachments[1]}}))
      << read_file(pki_.dir() / "xmlsec.out");
  // And xmlsec1 notices a changed attachment.
  EXPECT_FALSE(xmlsec_verifies(*xml, {{"/message.xml", message},
                                      {"/attachment1", "first attachmenT"},
                                      {"/attachment2", attachments[1]}}));
}

// Every optional part of the document at once (a fixed signing time, a further KeyInfo
// certificate, an embedded time-stamp): xmlsec1 checks the SignedProperties digest and the
// signature value over SignedInfo independently of Hansa, and Hansa reads the parts back.
TEST_F(DevSignatureTest, CreatedSignatureWithEveryOptionalPartVerifiesWithXmlsec1) {
  std::string message = "<Envelope>options</Envelope>";
  auto intermediate = crypto::Certificate::from_pem(read_file(pki_.env()["INTERMEDIATE_CA_CERT"]));
  ASSERT_TRUE(intermediate.ok());
  SignOptions options;
  options.signing_time = TimePoint(std::chrono::seconds(1'800'000'000));
  options.extra_certs = {*intermediate};
  options.timestamp_der = pki_.timestamp("a token over other data");
  auto xml =
      create_signature(refs_for(message, {}), pki_.cert(), pki_.ocsp(), pki_.signer(), options);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  EXPECT_TRUE(xmlsec_verifies(*xml, {{"/message.xml", message}}, /*insecure=*/true))
      << read_file(pki_.dir() / "xmlsec.out");
  EXPECT_FALSE(xmlsec_verifies(*xml, {{"/message.xml", message + " "}}, /*insecure=*/true));
  auto parsed = parse_signature(*xml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->signing_time, options.signing_time);
  ASSERT_EQ(parsed->certificates.size(), 2U);
  EXPECT_EQ(parsed->certificates[1].der(), intermediate->der());
  ASSERT_TRUE(parsed->timestamp.has_value());
  EXPECT_EQ(parsed->ocsp_responses.size(), 1U);
}

TEST_F(DevSignatureTest, AttachmentKnownOnlyByItsDigestVerifies) {
  std::string message = "<Envelope>digest only</Envelope>";
  std::vector<std::string> attachments{"large body not kept"};
  auto xml =
      create_signature(refs_for(message, attachments), pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(xml.ok());
  SignedData d = data_for(message, {});
  d.required["/attachment1"] =
      hashchain::DigestValue{crypto::DigestAlgorithm::kSha512,
                             crypto::digest(crypto::DigestAlgorithm::kSha512, attachments[0])};
  EXPECT_TRUE(verify(*xml, d, *conf_).ok());
  d.required["/attachment1"]->digest[0] ^= 1;
  EXPECT_EQ(verify(*xml, d, *conf_).error().code, FaultCode::kInvalidSignatureValue);
  d.required["/attachment1"] = std::nullopt;  // neither data nor digest
  EXPECT_EQ(verify(*xml, d, *conf_).error().code, FaultCode::kMalformedSignature);
}

TEST_F(DevSignatureTest, TamperedHansaSignatureFails) {
  std::string message = "<Envelope>hello</Envelope>";
  auto xml = create_signature(refs_for(message, {}), pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(xml.ok());
  auto changed = verify(*xml, data_for("<Envelope>hellO</Envelope>", {}), *conf_);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, FaultCode::kInvalidSignatureValue);
  // A signature made by another key with the same certificate in KeyInfo.
  auto other = crypto::PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(other.ok());
  auto forged = create_signature(
      refs_for(message, {}), pki_.cert(), pki_.ocsp(),
      [&](crypto::SignatureAlgorithm a, std::string_view d) { return other->sign(a, d); });
  ASSERT_TRUE(forged.ok());
  auto r = verify(*forged, data_for(message, {}), *conf_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidSignatureValue);
}

TEST_F(DevSignatureTest, SignatureTimeStampIsOverTheSignatureValue) {
  std::string message = "<Envelope>stamped</Envelope>";
  auto xml = create_signature(refs_for(message, {}), pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(xml.ok());
  auto value = signature_value_bytes(*xml);
  ASSERT_TRUE(value.ok());
  auto stamped = add_signature_timestamp(*xml, pki_.timestamp(*value));
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  auto result = verify(*stamped, data_for(message, {}), *conf_);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_TRUE(result->timestamp.has_value());
  EXPECT_EQ(result->verified_at, result->timestamp->gen_time);
  EXPECT_EQ(add_signature_timestamp(*stamped, "x").error().code, FaultCode::kMalformedSignature);
  // A token over something else is refused.
  auto wrong = add_signature_timestamp(*xml, pki_.timestamp("other data"));
  ASSERT_TRUE(wrong.ok());
  auto r = verify(*wrong, data_for(message, {}), *conf_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kTimestampValidation);
  EXPECT_TRUE(xmlsec_verifies(*stamped, {{"/message.xml", message}}))
      << read_file(pki_.dir() / "xmlsec.out");
}

TEST_F(DevSignatureTest, BatchSigningUsesOneKeyOperationAndEveryMessageVerifies) {
  std::vector<std::string> messages{"<m>1</m>", "<m>2</m>", "<m>3</m>"};
  std::vector<std::vector<std::string>> atts{{}, {"att of 2"}, {}};
  std::vector<BatchItem> items;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    BatchItem item{crypto::digest(crypto::DigestAlgorithm::kSha512, messages[i]), {}};
    for (const auto& a : atts[i]) {
      item.attachment_digests.push_back(crypto::digest(crypto::DigestAlgorithm::kSha512, a));
    }
    items.push_back(item);
  }
  auto batch = sign_batch(items, pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  EXPECT_EQ(pki_.sign_calls(), 1);
  ASSERT_EQ(batch->size(), 3u);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const BatchSignature& b = (*batch)[i];
    SignedData d = data_for(messages[i], atts[i]);
    d.files["/sig-hashchainresult.xml"] = b.hash_chain_result;
    d.files["/sig-hashchain.xml"] = b.hash_chain;
    auto result = verify(b.signature_xml, d, *conf_);
    EXPECT_TRUE(result.ok()) << i << ": " << result.error().to_string();
    // xmlsec1 checks the signature over the hash-chain result.
    EXPECT_TRUE(
        xmlsec_verifies(b.signature_xml, {{"/sig-hashchainresult.xml", b.hash_chain_result}}));
  }
  // Message 1 with message 2's chain.
  SignedData wrong = data_for(messages[0], {});
  wrong.files["/sig-hashchainresult.xml"] = (*batch)[1].hash_chain_result;
  wrong.files["/sig-hashchain.xml"] = (*batch)[1].hash_chain;
  auto r = verify((*batch)[1].signature_xml, wrong, *conf_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().fault_code().starts_with("MalformedSignature.")) << r.error().to_string();
}

// Verification remembers parsed signatures and certificate checks (the same signer, OCSP response
// and batch signature come with many messages); what it remembers must never change an answer.
TEST_F(DevSignatureTest, RememberedChecksStillHonourTimeConfigurationAndData) {
  std::string message = "<m>remembered</m>";
  auto xml = create_signature(refs_for(message, {}), pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  const auto now = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) {
    auto ok = verify(*xml, data_for(message, {}), *conf_, {.at = now});
    ASSERT_TRUE(ok.ok()) << i << ": " << ok.error().to_string();
    EXPECT_EQ(ok->certificate.member.to_string(), "MEMBER:" + pki_.member_id());
  }
  // Later than the OCSP response's freshness, or before the certificate existed.
  auto late =
      verify(*xml, data_for(message, {}), *conf_, {.at = now + std::chrono::hours(24 * 30)});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, FaultCode::kCertValidation);
  auto early =
      verify(*xml, data_for(message, {}), *conf_, {.at = now - std::chrono::hours(24 * 365 * 10)});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, FaultCode::kCertValidation);
  // A new configuration that no longer approves the CA.
  globalconf::SharedParameters shared;
  shared.instance_identifier = conf_->instance_identifier();
  auto other =
      globalconf::GlobalConfSnapshot::create(std::nullopt, {shared}, now + std::chrono::hours(1));
  ASSERT_TRUE(other.ok());
  auto unapproved = verify(*xml, data_for(message, {}), **other, {.at = now});
  ASSERT_FALSE(unapproved.ok());
  EXPECT_EQ(unapproved.error().code, FaultCode::kCertValidation);
  // The remembered signature over other data.
  auto tampered = verify(*xml, data_for("<m>changed</m>", {}), *conf_, {.at = now});
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code, FaultCode::kInvalidSignatureValue);
  // Another expected signer.
  VerifyOptions wrong_signer{.at = now};
  wrong_signer.expected_signer = *ids::ClientId::parse("MEMBER:DEV/COM/99999999");
  EXPECT_EQ(verify(*xml, data_for(message, {}), *conf_, wrong_signer).error().code,
            FaultCode::kIncorrectCertificate);
  // A signature whose value does not verify is refused every time (never remembered).
  std::string bad = *xml;
  auto pos = bad.find("<ds:SignatureValue");
  ASSERT_NE(pos, std::string::npos);
  pos = bad.find('>', pos) + 5;
  bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
  for (int i = 0; i < 2; ++i) {
    auto r = verify(bad, data_for(message, {}), *conf_, {.at = now});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, FaultCode::kInvalidSignatureValue);
  }
  EXPECT_TRUE(verify(*xml, data_for(message, {}), *conf_, {.at = now}).ok());
}

TEST_F(DevSignatureTest, SingleItemBatchIsSignedDirectly) {
  std::string message = "<m>only</m>";
  auto batch = sign_batch({{crypto::digest(crypto::DigestAlgorithm::kSha512, message), {}}},
                          pki_.cert(), pki_.ocsp(), pki_.signer());
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE((*batch)[0].hash_chain.empty());
  EXPECT_TRUE(verify((*batch)[0].signature_xml, data_for(message, {}), *conf_).ok());
  EXPECT_EQ(sign_batch({}, pki_.cert(), "", pki_.signer()).error().code,
            FaultCode::kInvalidRequest);
}

TEST_F(DevSignatureTest, RevokedCertificateIsCertValidationAndEcdsaSignaturesVerify) {
  auto key = crypto::PrivateKey::from_pem(read_file(pki_.env()["SIGN_REVOKED_KEY"]));
  auto cert = crypto::Certificate::from_pem(read_file(pki_.env()["SIGN_REVOKED_CERT"]));
  ASSERT_TRUE(key.ok() && cert.ok());
  crypto::SignatureAlgorithm alg = key->type() == crypto::KeyType::kEc
                                       ? crypto::SignatureAlgorithm::kEcdsaSha512
                                       : crypto::SignatureAlgorithm::kRsaSha512;
  std::string message = "<m>revoked</m>";
  auto xml = create_signature(
      refs_for(message, {}), *cert, pki_.ocsp(cert->pem()),
      [&](crypto::SignatureAlgorithm a, std::string_view d) { return key->sign(a, d); },
      {.algorithm = alg});
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  auto parsed = parse_signature(*xml);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(verify_signature_value(*parsed).ok());
  EXPECT_TRUE(xmlsec_verifies(*xml, {{"/message.xml", message}}))
      << read_file(pki_.dir() / "xmlsec.out");
  auto r = verify(*xml, data_for(message, {}), *conf_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kCertValidation);
  // An RSA algorithm with an EC key (or the other way round) is refused up front.
  crypto::SignatureAlgorithm wrong = alg == crypto::SignatureAlgorithm::kEcdsaSha512
                                         ? crypto::SignatureAlgorithm::kRsaSha512
                                         : crypto::SignatureAlgorithm::kEcdsaSha512;
  EXPECT_EQ(create_signature(refs_for(message, {}), *cert, "", pki_.signer(), {.algorithm = wrong})
                .error()
                .code,
            FaultCode::kUnsupportedSignAlgorithm);
}

TEST_F(DevSignatureTest, UntrustedIssuerIsCertValidation) {
  auto key = crypto::PrivateKey::from_pem(read_file(pki_.env()["UNTRUSTED_SIGN_KEY"]));
  auto cert = crypto::Certificate::from_pem(read_file(pki_.env()["UNTRUSTED_SIGN_CERT"]));
  ASSERT_TRUE(key.ok() && cert.ok());
  std::string message = "<m>untrusted</m>";
  auto xml = create_signature(
      refs_for(message, {}), *cert, pki_.ocsp(),
      [&](crypto::SignatureAlgorithm a, std::string_view d) { return key->sign(a, d); },
      {.algorithm = crypto::SignatureAlgorithm::kEcdsaSha256});
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  auto r = verify(*xml, data_for(message, {}), *conf_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kCertValidation);
}

// The signed parts are written straight in canonical form. Text that C14N escapes differently
// from the document (quotes, '>', CR, tabs, line breaks, non-ASCII) must still give the digests
// that a canonicalizer computes from the document: Hansa's (libxml2) and xmlsec1's.
TEST_F(DevSignatureTest, TextThatCanonicalFormEscapesStillVerifies) {
  std::string message = "<Envelope>escapes</Envelope>";
  std::vector<DataReference> refs = refs_for(message, {"attached"});
  refs[0].mime_type = "text/xml; a=\"b&c\" <d> 'e'\r\n\tf \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  refs[1].mime_type = "application/x-\r\r>&amp;";
  for (auto algorithm :
       {crypto::SignatureAlgorithm::kRsaSha512, crypto::SignatureAlgorithm::kRsaSha256}) {
    SignOptions options;
    options.algorithm = algorithm;
    options.digest = algorithm == crypto::SignatureAlgorithm::kRsaSha256
                         ? crypto::DigestAlgorithm::kSha256
                         : crypto::DigestAlgorithm::kSha512;
    auto xml = create_signature(refs, pki_.cert(), pki_.ocsp(), pki_.signer(), options);
    ASSERT_TRUE(xml.ok()) << xml.error().to_string();
    auto result = verify(*xml, data_for(message, {"attached"}), *conf_);
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_TRUE(xmlsec_verifies(*xml, {{"/message.xml", message}, {"/attachment1", "attached"}}))
        << read_file(pki_.dir() / "xmlsec.out");
    auto parsed = parse_signature(*xml);
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  }
}

TEST_F(DevSignatureTest, CreateRefusesTextThatIsNotXml) {
  for (std::string mime :
       {std::string("text/\x01xml"), std::string("text/\xC3"), std::string("text/\xC0\xAFxml"),
        std::string("text/\xEF\xBF\xBE"), std::string("a\0b", 3)}) {
    std::vector<DataReference> refs = refs_for("m", {});
    refs[0].mime_type = mime;
    auto xml = create_signature(refs, pki_.cert(), pki_.ocsp(), pki_.signer());
    ASSERT_FALSE(xml.ok());
    EXPECT_EQ(xml.error().code, FaultCode::kInvalidRequest);
  }
  std::vector<DataReference> refs = refs_for("m", {});
  refs[0].uri = "/message\xFF.xml";
  EXPECT_EQ(create_signature(refs, pki_.cert(), pki_.ocsp(), pki_.signer()).error().code,
            FaultCode::kInvalidRequest);
  // An issuer name with a character XML does not allow (U+FFFE; certificates may hold it).
  const crypto::PrivateKey key = crypto::testing::ec_key();
  const crypto::Certificate odd =
      crypto::testing::mint_cert({.subject = {{"CN", "issuer \xEF\xBF\xBE"}}}, key, key);
  ASSERT_NE(odd.issuer().find("\xEF\xBF\xBE"), std::string::npos) << odd.issuer();
  SignOptions ec;
  ec.algorithm = crypto::SignatureAlgorithm::kEcdsaSha512;
  auto refused = create_signature(refs_for("m", {}), odd, pki_.ocsp(), pki_.signer(), ec);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(pki_.sign_calls(), 0);
}

TEST_F(DevSignatureTest, CreateRefusesBadInput) {
  EXPECT_EQ(create_signature({}, pki_.cert(), "", pki_.signer()).error().code,
            FaultCode::kInvalidRequest);
  std::vector<DataReference> bad{
      {"/message.xml\"><x", crypto::DigestAlgorithm::kSha512, std::string(64, 'a'), "text/xml"}};
  EXPECT_EQ(create_signature(bad, pki_.cert(), "", pki_.signer()).error().code,
            FaultCode::kInvalidRequest);
  std::vector<DataReference> short_digest{
      {"/message.xml", crypto::DigestAlgorithm::kSha512, "abc", "text/xml"}};
  EXPECT_EQ(create_signature(short_digest, pki_.cert(), "", pki_.signer()).error().code,
            FaultCode::kInvalidRequest);
  auto failing = [](crypto::SignatureAlgorithm, std::string_view) -> Result<std::string> {
    return Error(FaultCode::kTokenNotActive, "token logged out");
  };
  EXPECT_EQ(create_signature(refs_for("m", {}), pki_.cert(), "", failing).error().code,
            FaultCode::kTokenNotActive);
}

}  // namespace
}  // namespace hansa::signature
