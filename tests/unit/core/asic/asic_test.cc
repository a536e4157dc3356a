#include "core/asic/asic.h"

#include <gtest/gtest.h>

#include "core/crypto/encoding.h"
#include "tests/unit/core/asic/raw_zip.h"
#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::asic {
namespace {

using testing::raw_zip;
using testing::RawEntry;

constexpr std::string_view kFirstArchiveLastDigest =
    "9011ab557706b5050584d6888af7b390e5350f4edad296bd7a582aa51732aac7f49a4ec44dd361027945ade0de8b"
    "8cf607fb7b7d11f17b0560d44b965c358eaa";

std::string vector_bytes(const std::string& name) {
  return ocsp::testing::read_file(std::string(HANSA_VECTORS_DIR) + "/" + name);
}

std::vector<std::string> names_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.name);
  }
  return out;
}

ContainerContents sample_contents() {
  ContainerContents c;
  c.message = "<Envelope/>";
  c.attachments = {"att one", "att two"};
  c.signature = "<asic:XAdESSignatures/>";
  c.ts_hash_chain_result = "<HashChainResult/>";
  c.ts_hash_chain = "<HashChain/>";
  c.timestamp = std::string("\x30\x03\x02\x01\x01", 5);
  return c;
}

TEST(AsicReadTest, ReadsTheXRoadVectorsAsTheyAreLaidOut) {
  auto batch = read_container(vector_bytes("asic-valid-batch-ts.asice"));
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  EXPECT_EQ(names_of(batch->entries),
            (std::vector<std::string>{"mimetype", "message.xml", "META-INF/signatures.xml",
                                      "ts-hashchainresult.xml", "ts-hashchain.xml",
                                      "META-INF/manifest.xml", "META-INF/ASiCManifest.xml",
                                      "META-INF/timestamp.tst"}));
  // X-Road deflates mimetype: accepted and noted.
  EXPECT_FALSE(batch->notes.empty());
  auto contents = contents_of(*batch);
  ASSERT_TRUE(contents.ok());
  EXPECT_NE(contents->message.find("getRandom"), std::string::npos);
  EXPECT_FALSE(contents->timestamp.empty());
  EXPECT_FALSE(contents->ts_hash_chain.empty());
  EXPECT_TRUE(contents->attachments.empty());

  auto rest = read_container(vector_bytes("asic-valid-non-batch-rest.asice"));
  ASSERT_TRUE(rest.ok());
  auto rest_contents = contents_of(*rest);
  ASSERT_TRUE(rest_contents.ok());
  ASSERT_EQ(rest_contents->attachments.size(), 1u);

  auto signed_chain = read_container(vector_bytes("asic-valid-signed-hashchain.asice"));
  ASSERT_TRUE(signed_chain.ok());
  auto sc = contents_of(*signed_chain);
  ASSERT_TRUE(sc.ok());
  EXPECT_FALSE(sc->sig_hash_chain.empty());
  EXPECT_FALSE(sc->sig_hash_chain_result.empty());
  EXPECT_TRUE(sc->other_entries.empty());

  auto modified = read_container(vector_bytes("asic-invalid-hashchain-modified-message.asice"));
  ASSERT_TRUE(modified.ok());
  auto mc = contents_of(*modified);
  ASSERT_TRUE(mc.ok());
  ASSERT_EQ(mc->other_entries.size(), 1u);
  EXPECT_EQ(mc->other_entries[0].name, "messageX.xml");

  ReadLimits strict;
  strict.strict_mimetype = true;
  EXPECT_EQ(read_container(vector_bytes("asic-valid-batch-ts.asice"), strict).error().code,
            FaultCode::kAsicMalformed);
}

TEST(AsicWriteTest, WritesXRoadLayoutWithMimetypeFirstAndStored) {
  ContainerContents c = sample_contents();
  auto zip = write_container(c);
  ASSERT_TRUE(zip.ok()) << zip.error().to_string();
  // The first local header holds the uncompressed mimetype right at offset 30 + name length.
  EXPECT_EQ(zip->substr(30, 8), "mimetype");
  EXPECT_EQ(zip->substr(38, kMimeType.size()), kMimeType);
  ReadLimits strict;
  strict.strict_mimetype = true;
  auto back = read_container(*zip, strict);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(back->notes.empty());
  EXPECT_EQ(names_of(back->entries),
            (std::vector<std::string>{"mimetype", "message.xml", "attachment1", "attachment2",
                                      "META-INF/signatures.xml", "ts-hashchainresult.xml",
                                      "ts-hashchain.xml", "META-INF/manifest.xml",
                                      "META-INF/ASiCManifest.xml", "META-INF/timestamp.tst"}));
  auto contents = contents_of(*back);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->attachments, c.attachments);
  EXPECT_EQ(contents->timestamp, c.timestamp);
  const std::string* manifest = back->find("META-INF/manifest.xml");
  ASSERT_NE(manifest, nullptr);
  EXPECT_NE(manifest->find("manifest:full-path=\"attachment2\""), std::string::npos);
  const std::string* asic_manifest = back->find("META-INF/ASiCManifest.xml");
  ASSERT_NE(asic_manifest, nullptr);
  EXPECT_NE(asic_manifest->find(crypto::base64_encode(
                crypto::digest(crypto::DigestAlgorithm::kSha512, c.ts_hash_chain_result))),
            std::string::npos);
}

TEST(AsicWriteTest, AsicManifestMatchesXRoadForTheVector) {
  auto batch = read_container(vector_bytes("asic-valid-batch-ts.asice"));
  ASSERT_TRUE(batch.ok());
  auto contents = contents_of(*batch);
  ASSERT_TRUE(contents.ok());
  std::string mine = make_asic_manifest(contents->ts_hash_chain_result);
  EXPECT_EQ(mine, *batch->find("META-INF/ASiCManifest.xml"));
}

TEST(AsicWriteTest, RefusesIncompleteContents) {
  ContainerContents c = sample_contents();
  c.signature.clear();
  EXPECT_EQ(write_container(c).error().code, FaultCode::kInvalidRequest);
  c = sample_contents();
  c.timestamp.clear();
  EXPECT_EQ(write_container(c).error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(write_zip({{"../evil", "x", false}}).error().code, FaultCode::kInvalidRequest);
}

TEST(AsicHostileTest, PathTraversalNamesAreRefused) {
  for (const char* name :
       {"../evil.xml", "/etc/passwd", "META-INF/../../x", "a\\b.xml", "C:evil", "./message.xml"}) {
    std::string zip = raw_zip({{"mimetype", std::string(kMimeType), true}, {name, "payload"}});
    auto r = read_container(zip);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, FaultCode::kAsicMalformed) << name;
  }
}

TEST(AsicHostileTest, ZipBombIsStoppedWhileInflating) {
  std::string zeros(8 * 1024 * 1024, '\0');
  std::string bomb = raw_zip({{"mimetype", std::string(kMimeType), true}, {"message.xml", zeros}});
  EXPECT_LT(bomb.size(), 64u * 1024);
  ReadLimits limits;
  limits.max_entry_bytes = 1024 * 1024;
  auto r = read_container(bomb, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded);
  // Many entries each under the per-entry limit but over the total.
  std::vector<RawEntry> many{{"mimetype", std::string(kMimeType), true}};
  for (int i = 1; i <= 5; ++i) {
    many.push_back({"attachment" + std::to_string(i), std::string(512 * 1024, 'a')});
  }
  limits.max_total_bytes = 2 * 1024 * 1024;
  auto total = read_container(raw_zip(many), limits);
  ASSERT_FALSE(total.ok());
  EXPECT_EQ(total.error().code, FaultCode::kLimitExceeded);
}

TEST(AsicHostileTest, EntryCountMimetypeAndGarbage) {
  std::vector<RawEntry> many{{"mimetype", std::string(kMimeType), true}};
  for (int i = 0; i < 20; ++i) {
    many.push_back({"f" + std::to_string(i), "x"});
  }
  ReadLimits limits;
  limits.max_entries = 10;
  EXPECT_EQ(read_container(raw_zip(many), limits).error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(read_container(raw_zip({{"message.xml", "x"}})).error().code,
            FaultCode::kAsicMalformed);
  EXPECT_EQ(read_container(raw_zip({{"mimetype", "application/zip", true}})).error().code,
            FaultCode::kAsicMalformed);
  EXPECT_EQ(read_container("definitely not a zip").error().code, FaultCode::kAsicMalformed);
  EXPECT_EQ(read_container("").error().code, FaultCode::kAsicMalformed);
  // Attachments with a gap.
  auto gap = read_container(raw_zip({{"mimetype", std::string(kMimeType), true},
                                     {"message.xml", "m"},
                                     {"META-INF/signatures.xml", "s"},
                                     {"attachment2", "a"}}));
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(contents_of(*gap).error().code, FaultCode::kAsicMalformed);
}

TEST(ArchiveTest, FirstXRoadArchiveLinksToTheListedDigest) {
  auto archive = read_archive(vector_bytes("mlog-archive-0-first.zip"));
  ASSERT_TRUE(archive.ok()) << archive.error().to_string();
  EXPECT_EQ(archive->linking.previous_digest, "");
  EXPECT_EQ(archive->linking.algorithm, crypto::DigestAlgorithm::kSha512);
  ASSERT_EQ(archive->containers.size(), 1u);
  auto last = verify_linking(*archive, std::string());
  ASSERT_TRUE(last.ok()) << last.error().to_string();
  EXPECT_EQ(*last, kFirstArchiveLastDigest);
  EXPECT_EQ(*verify_linking(*archive, std::nullopt), kFirstArchiveLastDigest);
  auto wrong = verify_linking(*archive, std::string(128, 'a'));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kArchiveLinkMismatch);
  // Its container is itself a readable ASiC-E container.
  EXPECT_TRUE(read_container(archive->containers[0].container).ok());
}

class ArchiveChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 3; ++i) {
      ContainerContents c = sample_contents();
      c.message = "<m>" + std::to_string(i) + "</m>";
      auto zip = write_container(c);
      ASSERT_TRUE(zip.ok());
      containers_.push_back({"q" + std::to_string(i) + "-request-1.asice", *zip});
    }
  }
  std::vector<ArchiveEntry> containers_;
};

TEST_F(ArchiveChainTest, WrittenArchivesChainAcrossFiles) {
  auto first = write_archive(containers_, "", "");
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto a1 = read_archive(first->zip);
  ASSERT_TRUE(a1.ok()) << a1.error().to_string();
  auto last1 = verify_linking(*a1, std::string());
  ASSERT_TRUE(last1.ok()) << last1.error().to_string();
  EXPECT_EQ(*last1, first->last_digest);
  // d_1 by the formula.
  std::string d1 = crypto::hex_encode(
      crypto::digest(crypto::DigestAlgorithm::kSha512,
                     crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha512,
                                                       containers_[0].container))));
  EXPECT_EQ(a1->linking.entries[0].digest_hex, d1);

  auto second = write_archive({containers_[2]}, first->last_digest, "mlog-1.zip");
  ASSERT_TRUE(second.ok());
  auto a2 = read_archive(second->zip);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->linking.previous_file, "mlog-1.zip");
  EXPECT_TRUE(verify_linking(*a2, first->last_digest).ok());
  auto unlinked = verify_linking(*a2, std::string());
  ASSERT_FALSE(unlinked.ok());
  EXPECT_EQ(unlinked.error().code, FaultCode::kArchiveLinkMismatch);
}

TEST_F(ArchiveChainTest, TamperingIsNamed) {
  auto written = write_archive(containers_, "", "");
  ASSERT_TRUE(written.ok());
  auto archive = read_archive(written->zip);
  ASSERT_TRUE(archive.ok());

  Archive removed = *archive;  // a container taken out of the zip
  removed.containers.erase(removed.containers.begin() + 1);
  auto r1 = verify_linking(removed, std::string());
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, FaultCode::kArchiveLinkMismatch);
  EXPECT_NE(r1.error().detail.find("q2-request-1.asice"), std::string::npos);

  Archive removed_both = *archive;  // and its linkinginfo line too
  removed_both.containers.erase(removed_both.containers.begin() + 1);
  removed_both.linking.entries.erase(removed_both.linking.entries.begin() + 1);
  EXPECT_EQ(verify_linking(removed_both, std::string()).error().code,
            FaultCode::kArchiveLinkMismatch);

  Archive reordered = *archive;  // linkinginfo lines swapped
  std::swap(reordered.linking.entries[0], reordered.linking.entries[1]);
  EXPECT_EQ(verify_linking(reordered, std::string()).error().code, FaultCode::kArchiveLinkMismatch);

  Archive changed = *archive;  // one byte of a container
  changed.containers[2].container[100] ^= 1;
  auto r4 = verify_linking(changed, std::string());
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, FaultCode::kArchiveLinkMismatch);
  EXPECT_NE(r4.error().message.find("Link 3"), std::string::npos);

  Archive extra = *archive;  // a container smuggled in
  extra.containers.push_back({"extra.asice", containers_[0].container});
  EXPECT_EQ(verify_linking(extra, std::string()).error().code, FaultCode::kAsicMalformed);

  // The zip order of the containers does not matter; linkinginfo's does.
  Archive zip_order = *archive;
  std::reverse(zip_order.containers.begin(), zip_order.containers.end());
  EXPECT_TRUE(verify_linking(zip_order, std::string()).ok());
}

TEST(LinkingInfoTest, ParsesAndRefusesBadLines) {
  auto li = parse_linking_info("- - SHA-512\n" + std::string(128, 'a') + " x.asice\n");
  ASSERT_TRUE(li.ok());
  EXPECT_EQ(li->entries.size(), 1u);
  EXPECT_EQ(format_linking_info(*li), "- - SHA-512\n" + std::string(128, 'a') + " x.asice\n");
  EXPECT_FALSE(parse_linking_info("").ok());
  EXPECT_FALSE(parse_linking_info("- SHA-512\n").ok());
  EXPECT_FALSE(parse_linking_info("- - MD5\n").ok());
  EXPECT_FALSE(parse_linking_info("- - SHA-512\nzz x.asice\n").ok());
  EXPECT_FALSE(parse_linking_info("- - SHA-512\n" + std::string(64, 'a') + " x.asice\n").ok());
  EXPECT_EQ(
      parse_linking_info(
          "- - SHA-512\n" + std::string(128, 'a') + " x\n" + std::string(128, 'a') + " y\n", 1)
          .error()
          .code,
      FaultCode::kLimitExceeded);
  EXPECT_EQ(read_archive(raw_zip({{"a.asice", "x"}})).error().code, FaultCode::kAsicMalformed);
  EXPECT_EQ(
      read_archive(raw_zip({{"linkinginfo", "- - SHA-512\n"}, {"../a.asice", "x"}})).error().code,
      FaultCode::kAsicMalformed);
}

}  // namespace
}  // namespace hansa::asic
