// The signed directory (PR-GCONF 2.3-2.7): X-Road's internalconf, Hansa's own, key rotation and
// hostile variants.

#include "core/globalconf/signed_directory.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/crypto/encoding.h"
#include "core/globalconf/snapshot.h"
#include "core/globalconf/xml_codec.h"
#include "core/mime/headers.h"
#include "core/mime/reader.h"
#include "tests/unit/core/globalconf/test_files.h"

namespace hansa::globalconf {
namespace {

using testing::pki_cert;
using testing::pki_key;
using testing::vector_file;

TimePoint at(std::string_view text) { return parse_utc(text).value(); }

DirectoryVerifyOptions options_at(std::string_view now) {
  DirectoryVerifyOptions o;
  o.now = at(now);
  return o;
}

class XRoadDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = vector_file("gconf-v6-internalconf.mime");
    auto anchor = parse_configuration_anchor(vector_file("gconf-v6-configuration-anchor.xml"));
    ASSERT_TRUE(anchor.ok()) << anchor.error().to_string();
    anchor_ = std::move(anchor).value();
  }

  std::string file_;
  ConfigurationAnchor anchor_;
};

TEST_F(XRoadDirectory, VerifiesHashesAndLoadsBothFiles) {
  auto dir = verify_signed_directory_file(file_, anchor_, options_at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  EXPECT_EQ(dir->version, 6);
  EXPECT_EQ(format_utc(dir->expires_at), "2035-11-11T03:07:40Z");
  EXPECT_EQ(dir->signature_algorithm, crypto::SignatureAlgorithm::kRsaSha512);
  ASSERT_TRUE(dir->verification_cert.has_value());
  EXPECT_EQ(*dir->verification_cert, anchor_.sources[0].verification_certs[0]);
  ASSERT_EQ(dir->entries.size(), 2u);

  auto shared_entries = dir->find(kSharedParametersContentId, "DEV");
  auto private_entries = dir->find(kPrivateParametersContentId, "DEV");
  ASSERT_EQ(shared_entries.size(), 1u);
  ASSERT_EQ(private_entries.size(), 1u);
  EXPECT_TRUE(dir->find(kSharedParametersContentId, "EE").empty());
  const DirectoryEntry& shared_entry = *shared_entries[0];
  EXPECT_EQ(shared_entry.content_location, "/V6/20251110170000548026000/shared-params.xml");
  EXPECT_EQ(shared_entry.hash_algorithm, crypto::DigestAlgorithm::kSha512);
  EXPECT_EQ(
      crypto::base64_encode(shared_entry.hash),
      "3EFho9gVV0weUFe76NgaVTsIe2h0ZFAc96wziCYLGYrHZqA4ljttqG8ODRQ3zVjBCYMv9AK/+hpPK7oJwEPdvA==");

  std::string shared_xml = vector_file("gconf-v6-shared-params.xml");
  std::string private_xml = vector_file("gconf-v6-private-params.xml");
  EXPECT_TRUE(verify_file(shared_entry, shared_xml).ok());
  EXPECT_TRUE(verify_file(*private_entries[0], private_xml).ok());
  // Each hash belongs to its own file only.
  EXPECT_EQ(verify_file(shared_entry, private_xml).error().code, FaultCode::kInvalidGlobalConf);
  std::string modified = shared_xml;
  modified[modified.find("ss0")] = 'x';
  EXPECT_EQ(verify_file(shared_entry, modified).error().code, FaultCode::kInvalidGlobalConf);

  auto shared = parse_shared_parameters(shared_xml);
  auto priv = parse_private_parameters(private_xml);
  ASSERT_TRUE(shared.ok() && priv.ok());
  auto snap = GlobalConfSnapshot::create(*priv, {*shared}, dir->expires_at);
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  const GlobalConfSnapshot& s = **snap;
  EXPECT_EQ(s.instance_identifier(), "DEV");
  EXPECT_EQ(s.management_service()->auth_cert_reg_service_address,
            "https://cs:4001/managementservice/");
  EXPECT_EQ(s.server_address(ids::SecurityServerId::parse("SERVER:DEV/COM/1234/SS0").value()),
            "ss0");
  EXPECT_EQ(s.approved_tsas()[0].url, "http://testca:8899");
  EXPECT_EQ(s.shared_parameters().approved_cas[0].name, "Test CA");
  EXPECT_TRUE(s.check_valid(at("2026-01-01T00:00:00Z")).ok());
}

TEST_F(XRoadDirectory, StreamedContentTypeAndBodyVerifyToo) {
  auto entity = mime::parse_entity(file_);
  ASSERT_TRUE(entity.ok());
  auto type = mime::ContentType::parse(*entity->headers.get("content-type")).value();
  auto dir =
      verify_signed_directory(type, entity->body, anchor_, options_at("2030-01-01T00:00:00Z"));
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  // Not a multipart at all.
  auto dir2 = verify_signed_directory(mime::ContentType("text", "plain"), entity->body, anchor_,
                                      options_at("2030-01-01T00:00:00Z"));
  EXPECT_EQ(dir2.error().code, FaultCode::kMalformedGlobalConf);
}

TEST_F(XRoadDirectory, ExpiredDirectoryIsOutdated) {
  auto dir = verify_signed_directory_file(file_, anchor_, options_at("2035-11-11T03:07:40Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kOutdatedGlobalConf);
  EXPECT_TRUE(
      verify_signed_directory_file(file_, anchor_, options_at("2035-11-11T03:07:39Z")).ok());
}

TEST_F(XRoadDirectory, AnchorOfAnotherInstanceIsRefused) {
  ConfigurationAnchor other = anchor_;
  other.instance_identifier = "EE";
  auto dir = verify_signed_directory_file(file_, other, options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);
}

TEST_F(XRoadDirectory, AnchorWithOtherKeyIsRefused) {
  ConfigurationAnchor other = anchor_;
  for (AnchorSource& s : other.sources) {
    s.verification_certs = {pki_cert("central/conf-signing.pem")};
  }
  auto dir = verify_signed_directory_file(file_, other, options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);
}

TEST_F(XRoadDirectory, TamperedDirectoryFailsSignature) {
  // Change one hash in the signed directory: the hash stays well-formed, the signature breaks.
  std::string tampered = file_;
  auto pos = tampered.find("3EFho9gV");
  ASSERT_NE(pos, std::string::npos);
  tampered[pos] = '4';
  auto dir = verify_signed_directory_file(tampered, anchor_, options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);

  // A changed Expire-date breaks it as well (the header-only entry is signed).
  std::string later = file_;
  later.replace(later.find("2035-11-11"), 10, "2099-11-11");
  EXPECT_EQ(
      verify_signed_directory_file(later, anchor_, options_at("2026-01-01T00:00:00Z")).error().code,
      FaultCode::kInvalidGlobalConf);
}

TEST_F(XRoadDirectory, TruncatedDirectoryIsMalformed) {
  for (std::size_t keep :
       {file_.size() - 30, file_.size() / 2, std::size_t{200}, std::size_t{70}}) {
    auto dir = verify_signed_directory_file(file_.substr(0, keep), anchor_,
                                            options_at("2026-01-01T00:00:00Z"));
    ASSERT_FALSE(dir.ok()) << keep;
    EXPECT_EQ(dir.error().code, FaultCode::kMalformedGlobalConf) << keep;
  }
}

TEST_F(XRoadDirectory, VersionMustBeAccepted) {
  DirectoryVerifyOptions o = options_at("2026-01-01T00:00:00Z");
  o.accepted_versions = {5};
  auto dir = verify_signed_directory_file(file_, anchor_, o);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);
}

TEST_F(XRoadDirectory, SizeLimit) {
  DirectoryVerifyOptions o = options_at("2026-01-01T00:00:00Z");
  o.max_directory_bytes = 1000;
  auto dir = verify_signed_directory_file(file_, anchor_, o);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kLimitExceeded);
}

// --- Hansa's own directories ---

class HansaDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_ = SigningKey{pki_key("central/conf-signing.key"), pki_cert("central/conf-signing.pem"),
                      crypto::SignatureAlgorithm::kRsaSha512};
    ec_ = SigningKey{pki_key("untrusted/sign.key"), pki_cert("untrusted/sign.pem"),
                     crypto::SignatureAlgorithm::kEcdsaSha512};
    shared_ = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml")).value();
    private_ = parse_private_parameters(vector_file("gconf-v6-private-params.xml")).value();
    shared_.sources[0].internal_verification_certs = {rsa_->cert, ec_->cert};
    shared_xml_ = write_shared_parameters(shared_).value();
    private_xml_ = write_private_parameters(*private_).value();
    files_ = {
        DirectoryFile{std::string(kPrivateParametersContentId), "DEV",
                      "/V6/20260101000000000000000/private-params.xml", private_xml_},
        DirectoryFile{std::string(kSharedParametersContentId), "DEV",
                      "/V6/20260101000000000000000/shared-params.xml", shared_xml_},
    };
    build_.expires_at = at("2026-01-01T00:10:00Z");
  }

  ConfigurationAnchor anchor(std::vector<crypto::Certificate> certs,
                             std::string instance = "DEV") const {
    ConfigurationAnchor a;
    a.generated_at = at("2026-01-01T00:00:00Z");
    a.instance_identifier = std::move(instance);
    a.sources.push_back(AnchorSource{"http://127.0.0.1/internalconf", std::move(certs)});
    // Through the XML form, as a node would receive it.
    return parse_configuration_anchor(write_configuration_anchor(a).value()).value();
  }

  std::optional<SigningKey> rsa_;
  std::optional<SigningKey> ec_;
  SharedParameters shared_;
  std::optional<PrivateParameters> private_;
  std::string shared_xml_;
  std::string private_xml_;
  std::vector<DirectoryFile> files_;
  DirectoryBuildOptions build_;
};

TEST_F(HansaDirectory, RoundTripsThroughTheSameCode) {
  auto built = build_signed_directory(files_, *rsa_, build_);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_TRUE(built->content_type.is("multipart/related"));
  EXPECT_EQ(built->content_type.charset(), "UTF-8");

  auto dir = verify_signed_directory_file(built->to_file(), anchor({rsa_->cert}),
                                          options_at("2026-01-01T00:05:00Z"));
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  EXPECT_EQ(dir->version, kConfigurationVersion);
  EXPECT_EQ(dir->expires_at, build_.expires_at);
  ASSERT_EQ(dir->entries.size(), 2u);
  EXPECT_EQ(dir->entries[0].content_identifier, kPrivateParametersContentId);
  EXPECT_EQ(dir->entries[0].instance, "DEV");
  EXPECT_EQ(dir->entries[1].content_location, "/V6/20260101000000000000000/shared-params.xml");

  auto shared_entry = dir->find(kSharedParametersContentId, "DEV");
  ASSERT_EQ(shared_entry.size(), 1u);
  ASSERT_TRUE(verify_file(*shared_entry[0], shared_xml_).ok());
  ASSERT_TRUE(verify_file(*dir->find(kPrivateParametersContentId)[0], private_xml_).ok());
  auto shared = parse_shared_parameters(shared_xml_);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(*write_shared_parameters(*shared), shared_xml_);
  auto priv = parse_private_parameters(private_xml_);
  ASSERT_TRUE(priv.ok());
  EXPECT_EQ(*write_private_parameters(*priv), private_xml_);
  auto snap = GlobalConfSnapshot::create(*priv, {*shared}, dir->expires_at);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->shared_parameters().sources[0].internal_verification_certs.size(), 2u);
  EXPECT_EQ((*snap)->check_valid(at("2026-01-01T00:10:00Z")).error().code,
            FaultCode::kOutdatedGlobalConf);
}

TEST_F(HansaDirectory, LayoutMatchesXRoads) {
  auto built = build_signed_directory(files_, *rsa_, build_).value();
  auto outer = mime::parse_multipart(built.body, built.content_type).value();
  ASSERT_EQ(outer.parts.size(), 2u);
  auto inner_type = outer.parts[0].content_type().value();
  EXPECT_TRUE(inner_type.is("multipart/mixed"));
  std::string inner_boundary(*inner_type.boundary());
  // The signed range: from the inner opening boundary through the CRLF after the closing one.
  std::string_view signed_range = outer.parts[0].body;
  EXPECT_TRUE(signed_range.starts_with("--" + inner_boundary + "\r\n"));
  EXPECT_TRUE(signed_range.ends_with("--" + inner_boundary + "--\r\n"));
  const auto& items = outer.parts[0].nested->parts;
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].headers.fields()[0].name, "Expire-date");
  EXPECT_EQ(items[0].headers.get("Expire-date"), "2026-01-01T00:10:00Z");
  EXPECT_EQ(items[0].headers.get("Version"), "6");
  EXPECT_EQ(items[0].body, "");
  EXPECT_EQ(items[1].headers.get("Content-identifier"), "PRIVATE-PARAMETERS; instance='DEV'");
  EXPECT_EQ(items[1].headers.get("Content-type"), "application/octet-stream");
  EXPECT_EQ(items[1].headers.get("Content-transfer-encoding"), "base64");
  EXPECT_EQ(items[1].headers.get("Hash-algorithm-id"), "http://www.w3.org/2001/04/xmlenc#sha512");
  const auto& sig = outer.parts[1].headers;
  EXPECT_EQ(sig.get("Signature-algorithm-id"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512");
  EXPECT_EQ(sig.get("Verification-certificate-hash"),
            rsa_->cert.fingerprint_base64(crypto::DigestAlgorithm::kSha512) +
                "; hash-algorithm-id=\"http://www.w3.org/2001/04/xmlenc#sha512\"");
  // The signature covers exactly that range.
  auto signature = crypto::base64_decode(outer.parts[1].body).value();
  EXPECT_TRUE(rsa_->cert.public_key()
                  .verify(crypto::SignatureAlgorithm::kRsaSha512, signed_range, signature)
                  .ok());
}

TEST_F(HansaDirectory, KeyRotationEitherAnchorCertVerifies) {
  SigningKeys keys{{*rsa_, *ec_}, 1};
  EXPECT_EQ(keys.certificates().size(), 2u);
  auto both = anchor(keys.certificates());
  auto by_ec = build_signed_directory(files_, keys, build_);
  ASSERT_TRUE(by_ec.ok()) << by_ec.error().to_string();
  auto dir =
      verify_signed_directory_file(by_ec->to_file(), both, options_at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  EXPECT_EQ(dir->signature_algorithm, crypto::SignatureAlgorithm::kEcdsaSha512);
  EXPECT_EQ(*dir->verification_cert, ec_->cert);

  keys.current = 0;
  auto by_rsa = build_signed_directory(files_, keys, build_).value();
  auto dir2 =
      verify_signed_directory_file(by_rsa.to_file(), both, options_at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(dir2.ok()) << dir2.error().to_string();
  EXPECT_EQ(*dir2->verification_cert, rsa_->cert);

  // An anchor that only knows the old key refuses the new one's directories.
  auto old_only = anchor({rsa_->cert});
  EXPECT_EQ(
      verify_signed_directory_file(by_ec->to_file(), old_only, options_at("2026-01-01T00:00:00Z"))
          .error()
          .code,
      FaultCode::kInvalidGlobalConf);

  keys.current = 2;
  EXPECT_EQ(build_signed_directory(files_, keys, build_).error().code,
            FaultCode::kInvalidConfiguration);
}

TEST_F(HansaDirectory, BadSignatureIsRefused) {
  auto built = build_signed_directory(files_, *rsa_, build_).value();
  auto outer = mime::parse_multipart(built.body, built.content_type).value();
  std::string sig_b64(outer.parts[1].body);
  std::string sig = crypto::base64_decode(sig_b64).value();
  sig[sig.size() / 2] ^= 0x01;
  std::string body = built.body;
  body.replace(body.find(sig_b64), sig_b64.size(), crypto::base64_encode(sig));
  auto dir = verify_signed_directory(built.content_type, body, anchor({rsa_->cert}),
                                     options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);

  // A signature made with another key than the one the hash header names.
  auto other = *rsa_;
  other.key = pki_key("ca/root.key");
  auto forged = build_signed_directory(files_, other, build_).value();
  EXPECT_EQ(verify_signed_directory_file(forged.to_file(), anchor({rsa_->cert}),
                                         options_at("2026-01-01T00:00:00Z"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
}

TEST_F(HansaDirectory, UnknownVersionIsRefused) {
  build_.version = 99;
  auto built = build_signed_directory(files_, *rsa_, build_).value();
  auto dir = verify_signed_directory_file(built.to_file(), anchor({rsa_->cert}),
                                          options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidGlobalConf);
  DirectoryVerifyOptions o = options_at("2026-01-01T00:00:00Z");
  o.accepted_versions = {6, 99};
  EXPECT_TRUE(verify_signed_directory_file(built.to_file(), anchor({rsa_->cert}), o).ok());
}

TEST_F(HansaDirectory, PrivateParametersOfAnotherInstanceAreRefused) {
  files_[0].instance = "EE";
  auto built = build_signed_directory(files_, *rsa_, build_).value();
  EXPECT_EQ(verify_signed_directory_file(built.to_file(), anchor({rsa_->cert}),
                                         options_at("2026-01-01T00:00:00Z"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  // A source that carries only another instance's shared parameters is not this anchor's.
  std::vector<DirectoryFile> foreign = {files_[1]};
  foreign[0].instance = "EE";
  auto built2 = build_signed_directory(foreign, *rsa_, build_).value();
  EXPECT_EQ(verify_signed_directory_file(built2.to_file(), anchor({rsa_->cert}),
                                         options_at("2026-01-01T00:00:00Z"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_TRUE(verify_signed_directory_file(built2.to_file(), anchor({rsa_->cert}, "EE"),
                                           options_at("2026-01-01T00:00:00Z"))
                  .ok());
}

TEST_F(HansaDirectory, BuilderRefusesHeaderInjection) {
  files_[0].content_location = "/a\r\nX-Evil: 1";
  EXPECT_EQ(build_signed_directory(files_, *rsa_, build_).error().code,
            FaultCode::kInvalidGlobalConf);
  files_[0].content_location = "";
  EXPECT_EQ(build_signed_directory(files_, *rsa_, build_).error().code,
            FaultCode::kInvalidGlobalConf);
}

TEST_F(HansaDirectory, TooManyEntriesHitTheLimit) {
  std::vector<DirectoryFile> many(70, files_[1]);
  auto built = build_signed_directory(many, *rsa_, build_).value();
  auto dir = verify_signed_directory_file(built.to_file(), anchor({rsa_->cert}),
                                          options_at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kLimitExceeded);
}

TEST_F(HansaDirectory, MalformedEntriesAreRefused) {
  auto built = build_signed_directory(files_, *rsa_, build_).value();
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"Hash-algorithm-id: http://www.w3.org/2001/04/xmlenc#sha512",
       "Hash-algorithm-id: urn:unknown"},
      {"Content-type: application/octet-stream", "Content-type: text/plain"},
      {"Expire-date: 2026-01-01T00:10:00Z", "Expire-date: tomorrow"},
      {"Signature-Algorithm-Id: http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
       "Signature-Algorithm-Id: urn:none"},
  };
  for (const auto& [from, to] : cases) {
    std::string body = built.body;
    auto pos = body.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    body.replace(pos, from.size(), to);
    auto dir = verify_signed_directory(built.content_type, body, anchor({rsa_->cert}),
                                       options_at("2026-01-01T00:00:00Z"));
    ASSERT_FALSE(dir.ok()) << to;
    EXPECT_EQ(dir.error().code, FaultCode::kMalformedGlobalConf) << to;
  }
}

}  // namespace
}  // namespace hansa::globalconf

namespace hansa::globalconf {
namespace {

bool expected_failure(FaultCode code) {
  return code == FaultCode::kMalformedGlobalConf || code == FaultCode::kInvalidGlobalConf ||
         code == FaultCode::kOutdatedGlobalConf || code == FaultCode::kLimitExceeded;
}

// Seeded random byte mutations of X-Road's files: every outcome is a value with a global
// configuration fault code (or success for harmless changes), never a crash (run under ASan).
TEST(Mutations, RandomByteChangesFailCleanly) {
  std::mt19937 rng(20261122);
  const std::string directory = vector_file("gconf-v6-internalconf.mime");
  const auto anchor = parse_configuration_anchor(vector_file("gconf-v6-configuration-anchor.xml"));
  ASSERT_TRUE(anchor.ok());
  const std::string shared = vector_file("gconf-v6-shared-params.xml");
  const std::string priv = vector_file("gconf-v6-private-params.xml");
  auto mutate = [&](std::string s) {
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits && !s.empty(); ++i) {
      std::size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(pos, 1 + rng() % 16);
          break;
        case 2:
          s.insert(pos, std::string(1 + rng() % 8, "<>&-\r\n;'\"="[rng() % 10]));
          break;
        default:
          s.resize(pos);
      }
    }
    return s;
  };
  int accepted = 0;
  for (int i = 0; i < 300; ++i) {
    auto dir = verify_signed_directory_file(mutate(directory), *anchor,
                                            options_at("2026-01-01T00:00:00Z"));
    if (dir.ok()) {
      ++accepted;  // e.g. a change in the outer headers' spacing
    } else {
      EXPECT_TRUE(expected_failure(dir.error().code)) << dir.error().to_string();
    }
    auto sp = parse_shared_parameters(mutate(shared));
    if (!sp.ok()) {
      EXPECT_TRUE(expected_failure(sp.error().code)) << sp.error().to_string();
    }
    auto pp = parse_private_parameters(mutate(priv));
    if (!pp.ok()) {
      EXPECT_TRUE(expected_failure(pp.error().code)) << pp.error().to_string();
    }
  }
  // Almost every change to the signed bytes must be caught.
  EXPECT_LT(accepted, 60);
}

}  // namespace
}  // namespace hansa::globalconf
