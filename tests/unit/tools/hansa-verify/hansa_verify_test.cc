#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/asic/asic.h"
#include "core/crypto/encoding.h"
#include "core/globalconf/xml_codec.h"
#include "core/hashchain/hashchain.h"
#include "core/signature/signature.h"
#include "tests/unit/core/asic/raw_zip.h"
#include "tests/unit/core/signature/signature_fixtures.h"
#include "tools/hansa-verify/verifier.h"

namespace hansa::verify {
namespace {

using signature::testing::DevPki;
using signature::testing::read_file;
using signature::testing::vector_path;
using signature::testing::write_file;

constexpr std::string_view kFirstArchiveLastDigest =
    "9011ab557706b5050584d6888af7b390e5350f4edad296bd7a582aa51732aac7f49a4ec44dd361027945ade0de8b"
    "8cf607fb7b7d11f17b0560d44b965c358eaa";

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult run_cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

std::string vector_conf_file() {
  return vector_path("asic-verification-globalconf-DEV-shared-params.xml").string();
}

// --- Compatibility with X-Road's vectors (SOURCES.md) ---

TEST(HansaVerifyVectorTest, ValidContainersVerify) {
  for (const char* name : {"asic-valid-batch-ts.asice", "asic-valid-signed-hashchain.asice",
                           "asic-valid-non-batch-rest.asice"}) {
    RunResult r = run_cli({"--shared-params", vector_conf_file(), vector_path(name).string()});
    EXPECT_EQ(r.code, kExitOk) << name << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("VALID"), std::string::npos);
    EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  }
}

TEST(HansaVerifyVectorTest, ModifiedMessageFailsWithHashChainUnusedInputs) {
  RunResult r = run_cli({"--shared-params", vector_conf_file(),
                         vector_path("asic-invalid-hashchain-modified-message.asice").string()});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.out.find("MalformedSignature.HashChainUnusedInputs"), std::string::npos) << r.out;
  RunResult j = run_cli({"--json", "--shared-params", vector_conf_file(),
                         vector_path("asic-invalid-hashchain-modified-message.asice").string()});
  auto json = nlohmann::json::parse(j.out);
  EXPECT_EQ(json["valid"], false);
  EXPECT_EQ(json["fault"], "MalformedSignature.HashChainUnusedInputs");
}

TEST(HansaVerifyVectorTest, FirstArchivePrintsTheListedLastDigest) {
  RunResult r = run_cli({"--linking-only", "--previous-digest", "-",
                         vector_path("mlog-archive-0-first.zip").string()});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("Last digest: " + std::string(kFirstArchiveLastDigest)), std::string::npos)
      << r.out;
  RunResult j =
      run_cli({"--json", "--linking-only", vector_path("mlog-archive-0-first.zip").string()});
  EXPECT_EQ(nlohmann::json::parse(j.out)["last_digest"], kFirstArchiveLastDigest);
  RunResult wrong = run_cli({"--linking-only", "--previous-digest", std::string(128, 'b'),
                             vector_path("mlog-archive-0-first.zip").string()});
  EXPECT_EQ(wrong.code, kExitFailed);
  EXPECT_NE(wrong.out.find("ArchiveLinkMismatch"), std::string::npos) << wrong.out;
}

TEST(HansaVerifyVectorTest, ReportNamesSignerCaOcspAndTimeStamp) {
  auto conf = load_shared_params({vector_conf_file()});
  ASSERT_TRUE(conf.ok());
  Verifier verifier(*conf);
  auto report =
      verifier.verify_container(read_file(vector_path("asic-valid-non-batch-rest.asice")));
  ASSERT_TRUE(report.ok()) << to_text(report);
  EXPECT_EQ(report.message_kind, "response");
  EXPECT_EQ(report.signer, "MEMBER:DEV/COM/1234");
  EXPECT_EQ(report.ca, "Test CA");
  EXPECT_NE(report.ocsp.find("good"), std::string::npos);
  EXPECT_NE(report.timestamp.find("2024-07-11"), std::string::npos);
}

TEST(HansaVerifyVectorTest, SignedDirectoryAndAnchorAsConfiguration) {
  signature::testing::TempDir tmp;
  write_file(tmp.path() / "internalconf", read_file(vector_path("gconf-v6-internalconf.mime")));
  write_file(tmp.path() / "shared-params.xml",
             read_file(vector_path("gconf-v6-shared-params.xml")));
  auto conf = load_signed_directory(tmp.path() / "internalconf",
                                    vector_path("gconf-v6-configuration-anchor.xml"), tmp.path());
  ASSERT_TRUE(conf.ok()) << conf.error().to_string();
  EXPECT_EQ((*conf)->instance_identifier(), "DEV");
  // A changed shared-params file no longer matches the directory's digest.
  write_file(tmp.path() / "shared-params.xml",
             read_file(vector_path("gconf-v6-shared-params.xml")) + " ");
  EXPECT_FALSE(load_signed_directory(tmp.path() / "internalconf",
                                     vector_path("gconf-v6-configuration-anchor.xml"), tmp.path())
                   .ok());
}

TEST(HansaVerifyCliTest, UsageProblemsExitWithTwo) {
  EXPECT_EQ(run_cli({}).code, kExitUsage);
  EXPECT_EQ(run_cli({vector_path("asic-valid-batch-ts.asice").string()}).code, kExitUsage);
  EXPECT_EQ(run_cli({"--shared-params", "/nonexistent.xml",
                     vector_path("asic-valid-batch-ts.asice").string()})
                .code,
            kExitUsage);
  EXPECT_EQ(run_cli({"--shared-params", vector_conf_file(), "/nonexistent.asice"}).code,
            kExitUsage);
}

TEST(MessagePartiesTest, SoapRequestAndResponseAndRest) {
  auto soap = read_message_parties(
      read_file(vector_path("asic-valid-batch-ts.asice")).empty() ? "" : R"(<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd">
<s:Header>
<xroad:client id:objectType="MEMBER"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>1</id:memberCode></xroad:client>
<xroad:service id:objectType="SERVICE"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>2</id:memberCode><id:subsystemCode>S</id:subsystemCode><id:serviceCode>get</id:serviceCode></xroad:service>
<xroad:id>q1</xroad:id></s:Header><s:Body><p:getResponse xmlns:p="urn:p"/></s:Body></s:Envelope>)");
  ASSERT_TRUE(soap.ok()) << soap.error().to_string();
  EXPECT_TRUE(soap->response);
  EXPECT_EQ(soap->query_id, "q1");
  EXPECT_EQ(soap->expected_signer()->to_string(), "SUBSYSTEM:DEV/GOV/2/S");

  auto rest = read_message_parties(
      "GET /r1/DEV/GOV/2/S/items\nx-road-client:DEV/COM/1\nX-Road-Service:DEV/GOV/2/S/items\n"
      "x-road-id:abc\n");
  ASSERT_TRUE(rest.ok()) << rest.error().to_string();
  EXPECT_FALSE(rest->response);
  EXPECT_EQ(rest->expected_signer()->to_string(), "MEMBER:DEV/COM/1");
  // X-Road's request head (PR-MESSTRANSP): METHOD, target, then headers; the service is only in
  // the target.
  auto head = read_message_parties(
      "POST\r\n/r1/DEV/GOV/2/S/items/7?x=1\r\nx-road-client:DEV/COM/1/C\r\n"
      "content-type:application/json\r\nx-road-request-id:r1\r\n");
  ASSERT_TRUE(head.ok()) << head.error().to_string();
  EXPECT_FALSE(head->response);
  EXPECT_EQ(head->service->to_string(), "SERVICE:DEV/GOV/2/S/items");
  EXPECT_EQ(head->expected_signer()->to_string(), "SUBSYSTEM:DEV/COM/1/C");
  EXPECT_FALSE(read_message_parties("GET\r\n/r1/DEV/GOV\r\nx-road-client:DEV/COM/1\r\n").ok());
  EXPECT_FALSE(read_message_parties("200\nOK\n").ok());
  EXPECT_FALSE(read_message_parties("<not-soap/>").ok());
}

// --- Containers and archives Hansa writes (dev PKI) ---

class HansaContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.load()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
    conf_ = pki_.conf();
    auto member = ids::MemberId::parse("MEMBER:" + pki_.member_id());
    ASSERT_TRUE(member.ok()) << pki_.member_id();
    member_ = std::make_unique<ids::MemberId>(*member);
  }

  std::string soap(const std::string& query_id, const std::string& client_code) {
    return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd">
<s:Header>
<xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>)" +
           member_->instance() + "</id:xRoadInstance><id:memberClass>" + member_->member_class() +
           "</id:memberClass><id:memberCode>" + client_code +
           R"(</id:memberCode><id:subsystemCode>Client</id:subsystemCode></xroad:client>
<xroad:service id:objectType="SERVICE"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>4321</id:memberCode><id:subsystemCode>Provider</id:subsystemCode><id:serviceCode>getThing</id:serviceCode></xroad:service>
<xroad:id>)" +
           query_id +
           R"(</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion></s:Header>
<s:Body><p:getThing xmlns:p="urn:p"/></s:Body></s:Envelope>)";
  }

  // Containers for `messages` signed in one batch (hash chain when more than one) or one by one,
  // then time-stamped together in one batch (ts hash chain over their signatures.xml).
  std::vector<std::string> make_containers(const std::vector<std::string>& messages,
                                           bool batch_signing) {
    std::vector<asic::ContainerContents> contents(messages.size());
    std::vector<signature::BatchItem> items;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      contents[i].message = messages[i];
      contents[i].attachments = {"attachment of " + std::to_string(i)};
      items.push_back(
          {crypto::digest(crypto::DigestAlgorithm::kSha512, messages[i]),
           {crypto::digest(crypto::DigestAlgorithm::kSha512, contents[i].attachments[0])}});
    }
    std::string ocsp = pki_.ocsp();
    if (batch_signing) {
      auto signed_batch = signature::sign_batch(items, pki_.cert(), ocsp, pki_.signer());
      EXPECT_TRUE(signed_batch.ok());
      for (std::size_t i = 0; i < messages.size(); ++i) {
        contents[i].signature = (*signed_batch)[i].signature_xml;
        contents[i].sig_hash_chain_result = (*signed_batch)[i].hash_chain_result;
        contents[i].sig_hash_chain = (*signed_batch)[i].hash_chain;
      }
    } else {
      for (std::size_t i = 0; i < messages.size(); ++i) {
        auto one = signature::sign_batch({items[i]}, pki_.cert(), ocsp, pki_.signer());
        EXPECT_TRUE(one.ok());
        contents[i].signature = (*one)[0].signature_xml;
      }
    }
    std::vector<hashchain::ChainInput> ts_inputs;
    for (const auto& c : contents) {
      ts_inputs.push_back({crypto::digest(crypto::DigestAlgorithm::kSha512, c.signature), {}});
    }
    hashchain::BuildOptions ts_build;
    ts_build.hash_chain_uri = "/ts-hashchain.xml";
    ts_build.data_uri = "/META-INF/signatures.xml";
    auto ts_chains = hashchain::build_hash_chains(ts_inputs, ts_build);
    EXPECT_TRUE(ts_chains.ok());
    std::string token = pki_.timestamp(ts_chains->result_xml);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < contents.size(); ++i) {
      contents[i].ts_hash_chain_result = ts_chains->result_xml;
      contents[i].ts_hash_chain = ts_chains->chain_xmls[i];
      contents[i].timestamp = token;
      auto zip = asic::write_container(contents[i]);
      EXPECT_TRUE(zip.ok());
      out.push_back(*zip);
    }
    return out;
  }

  std::string conf_file() {
    auto xml_text = globalconf::write_shared_parameters(conf_->shared_parameters());
    EXPECT_TRUE(xml_text.ok()) << xml_text.error().to_string();
    write_file(pki_.dir() / "shared-params.xml", *xml_text);
    return (pki_.dir() / "shared-params.xml").string();
  }

  ContainerReport check(const std::string& container) {
    return Verifier(conf_).verify_container(container, "test.asice");
  }

  DevPki pki_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  std::unique_ptr<ids::MemberId> member_;
};

TEST_F(HansaContainerTest, HansaContainersVerifyWithHansaVerifyAndOpenssl) {
  for (bool batch_signing : {false, true}) {
    auto containers = make_containers(
        {soap("q1", member_->member_code()), soap("q2", member_->member_code())}, batch_signing);
    for (const auto& c : containers) {
      ContainerReport report = check(c);
      EXPECT_TRUE(report.ok()) << to_text(report);
      EXPECT_EQ(report.signer, member_->to_string());
      EXPECT_TRUE(report.notes.empty());
    }
    // Through the command line with the configuration written as shared-params.xml.
    write_file(pki_.dir() / "c.asice", containers[0]);
    RunResult r = run_cli(
        {"--strict-mimetype", "--shared-params", conf_file(), (pki_.dir() / "c.asice").string()});
    EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  }
  // The time-stamp token verifies with openssl ts -verify over ts-hashchainresult.xml.
  auto containers = make_containers({soap("q3", member_->member_code())}, false);
  auto read = asic::read_container(containers[0]);
  ASSERT_TRUE(read.ok());
  write_file(pki_.dir() / "ts-result.xml", *read->find("ts-hashchainresult.xml"));
  write_file(pki_.dir() / "token.tst", *read->find("META-INF/timestamp.tst"));
  write_file(pki_.dir() / "ca.pem",
             read_file(pki_.env()["ROOT_CA_CERT"]) + read_file(pki_.env()["INTERMEDIATE_CA_CERT"]));
  EXPECT_TRUE(signature::testing::run_quiet(
      pki_.dir(),
      "openssl ts -verify -data ts-result.xml -in token.tst -token_in -CAfile ca.pem "
      "-untrusted '" +
          pki_.env()["TSA_CERT"] + "' > ts.out 2>&1"))
      << read_file(pki_.dir() / "ts.out");
}

TEST_F(HansaContainerTest, ChangedMessageByteIsInvalidSignatureValue) {
  auto containers = make_containers({soap("q1", member_->member_code())}, false);
  auto read = asic::read_container(containers[0]);
  ASSERT_TRUE(read.ok());
  auto contents = asic::contents_of(*read);
  ASSERT_TRUE(contents.ok());
  contents->message[contents->message.find("getThing")] = 'G';
  auto tampered = asic::write_container(*contents);
  ASSERT_TRUE(tampered.ok());
  ContainerReport report = check(*tampered);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error->fault_code(), "InvalidSignatureValue") << to_text(report);
  // Changed attachment under a batch signature: the sig hash chain names it.
  auto batch = make_containers(
      {soap("q1", member_->member_code()), soap("q2", member_->member_code())}, true);
  auto rb = asic::read_container(batch[1]);
  ASSERT_TRUE(rb.ok());
  auto cb = asic::contents_of(*rb);
  ASSERT_TRUE(cb.ok());
  cb->attachments[0] += "!";
  ContainerReport r2 = check(*asic::write_container(*cb));
  ASSERT_FALSE(r2.ok());
  EXPECT_TRUE(r2.error->fault_code().starts_with("MalformedSignature.")) << to_text(r2);
}

TEST_F(HansaContainerTest, SwappedSignatureIsNamed) {
  auto containers = make_containers(
      {soap("q1", member_->member_code()), soap("q2", member_->member_code())}, false);
  auto c0 = asic::contents_of(*asic::read_container(containers[0]));
  auto c1 = asic::contents_of(*asic::read_container(containers[1]));
  ASSERT_TRUE(c0.ok() && c1.ok());
  c0->signature = c1->signature;  // record 1 carries record 2's signature
  ContainerReport report = check(*asic::write_container(*c0));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error->fault_code(), "InvalidSignatureValue") << to_text(report);
}

TEST_F(HansaContainerTest, WrongSignerIsIncorrectCertificate) {
  // The client in the message is another member than the one who signed.
  auto containers = make_containers({soap("q1", "9999")}, false);
  ContainerReport report = check(containers[0]);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error->fault_code(), "IncorrectCertificate") << to_text(report);
  EXPECT_NE(to_text(report).find("signer"), std::string::npos);
}

TEST_F(HansaContainerTest, MissingOrForeignTimeStampIsTimestampValidation) {
  auto containers = make_containers({soap("q1", member_->member_code())}, false);
  auto contents = asic::contents_of(*asic::read_container(containers[0]));
  ASSERT_TRUE(contents.ok());
  asic::ContainerContents none = *contents;
  none.timestamp.clear();
  none.ts_hash_chain.clear();
  none.ts_hash_chain_result.clear();
  ContainerReport r1 = check(*asic::write_container(none));
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error->code, FaultCode::kTimestampValidation);
  asic::ContainerContents foreign = *contents;
  foreign.timestamp = pki_.timestamp("something else");
  ContainerReport r2 = check(*asic::write_container(foreign));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error->code, FaultCode::kTimestampValidation);
}

TEST_F(HansaContainerTest, ArchivesVerifyAndTamperingIsNamed) {
  auto containers =
      make_containers({soap("q1", member_->member_code()), soap("q2", member_->member_code()),
                       soap("q3", member_->member_code())},
                      true);
  std::vector<asic::ArchiveEntry> entries;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    entries.push_back({"q" + std::to_string(i + 1) + "-request-1.asice", containers[i]});
  }
  auto first = asic::write_archive(entries, "", "");
  ASSERT_TRUE(first.ok());
  std::string conf = conf_file();
  auto run_archive = [&](const std::string& zip, const std::string& previous) {
    write_file(pki_.dir() / "archive.zip", zip);
    return run_cli({"--shared-params", conf, "--previous-digest", previous,
                    (pki_.dir() / "archive.zip").string()});
  };
  RunResult ok = run_archive(first->zip, "-");
  EXPECT_EQ(ok.code, kExitOk) << ok.out;
  EXPECT_NE(ok.out.find("Last digest: " + first->last_digest), std::string::npos);

  // The next archive links on.
  auto second = asic::write_archive({entries[0]}, first->last_digest, "mlog-1.zip");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(run_archive(second->zip, first->last_digest).code, kExitOk);
  // Wrong link: verified as if it were the first archive.
  RunResult wrong_link = run_archive(second->zip, "-");
  EXPECT_EQ(wrong_link.code, kExitFailed);
  EXPECT_NE(wrong_link.out.find("ArchiveLinkMismatch"), std::string::npos);

  auto archive = asic::read_archive(first->zip);
  ASSERT_TRUE(archive.ok());
  std::string linking = asic::format_linking_info(archive->linking);
  using asic::testing::raw_zip;
  // A record removed from the archive.
  RunResult removed = run_archive(raw_zip({{entries[0].name, entries[0].container},
                                           {entries[2].name, entries[2].container},
                                           {"linkinginfo", linking}}),
                                  "-");
  EXPECT_EQ(removed.code, kExitFailed);
  EXPECT_NE(removed.out.find("ArchiveLinkMismatch"), std::string::npos);
  EXPECT_NE(removed.out.find(entries[1].name), std::string::npos) << removed.out;
  // Reordered linkinginfo lines.
  asic::LinkingInfo reordered = archive->linking;
  std::swap(reordered.entries[1], reordered.entries[2]);
  RunResult reorder = run_archive(raw_zip({{entries[0].name, entries[0].container},
                                           {entries[1].name, entries[1].container},
                                           {entries[2].name, entries[2].container},
                                           {"linkinginfo", asic::format_linking_info(reordered)}}),
                                  "-");
  EXPECT_EQ(reorder.code, kExitFailed);
  EXPECT_NE(reorder.out.find("ArchiveLinkMismatch"), std::string::npos);
  // A changed container inside the archive: its own check and the linking both fail.
  std::string changed = entries[1].container;
  auto c = asic::contents_of(*asic::read_container(changed));
  c->message[c->message.find("getThing")] = 'G';
  RunResult tampered = run_archive(raw_zip({{entries[0].name, entries[0].container},
                                            {entries[1].name, *asic::write_container(*c)},
                                            {entries[2].name, entries[2].container},
                                            {"linkinginfo", linking}}),
                                   "-");
  EXPECT_EQ(tampered.code, kExitFailed);
  EXPECT_NE(tampered.out.find("[FAIL] references"), std::string::npos) << tampered.out;
  EXPECT_NE(tampered.out.find("Link 2 does not match"), std::string::npos) << tampered.out;
  // JSON names the same.
  write_file(pki_.dir() / "archive.zip",
             raw_zip({{entries[0].name, entries[0].container}, {"linkinginfo", linking}}));
  RunResult j = run_cli({"--json", "--shared-params", conf, "--previous-digest", "-",
                         (pki_.dir() / "archive.zip").string()});
  auto json = nlohmann::json::parse(j.out);
  EXPECT_EQ(json["valid"], false);
  EXPECT_EQ(json["linking"]["fault"], "ArchiveLinkMismatch");
}

TEST_F(HansaContainerTest, ArchivesGivenTogetherMustFormOneChainInOrder) {
  auto containers =
      make_containers({soap("q1", member_->member_code()), soap("q2", member_->member_code()),
                       soap("q3", member_->member_code())},
                      true);
  auto first = asic::write_archive({{"q1-request-1.asice", containers[0]}}, "", "");
  ASSERT_TRUE(first.ok());
  auto second =
      asic::write_archive({{"q2-request-2.asice", containers[1]}}, first->last_digest, "a1.zip");
  ASSERT_TRUE(second.ok());
  auto third =
      asic::write_archive({{"q3-request-3.asice", containers[2]}}, second->last_digest, "a2.zip");
  ASSERT_TRUE(third.ok());
  write_file(pki_.dir() / "a1.zip", first->zip);
  write_file(pki_.dir() / "a2.zip", second->zip);
  write_file(pki_.dir() / "a3.zip", third->zip);
  const std::string conf = conf_file();
  auto path = [&](const char* name) { return (pki_.dir() / name).string(); };
  RunResult in_order = run_cli({"--shared-params", conf, "--previous-digest", "-", path("a1.zip"),
                                path("a2.zip"), path("a3.zip")});
  EXPECT_EQ(in_order.code, kExitOk) << in_order.out << in_order.err;
  EXPECT_NE(in_order.out.find("Last digest: " + third->last_digest), std::string::npos);
  // Reordered archives.
  RunResult reordered = run_cli({"--shared-params", conf, "--previous-digest", "-", path("a2.zip"),
                                 path("a1.zip"), path("a3.zip")});
  EXPECT_EQ(reordered.code, kExitFailed);
  EXPECT_NE(reordered.out.find("ArchiveLinkMismatch"), std::string::npos) << reordered.out;
  EXPECT_NE(reordered.out.find("does not link"), std::string::npos) << reordered.out;
  // A missing archive in the middle of the chain.
  RunResult gap = run_cli(
      {"--json", "--linking-only", "--previous-digest", "-", path("a1.zip"), path("a3.zip")});
  EXPECT_EQ(gap.code, kExitFailed);
  auto json = nlohmann::json::parse(gap.out);
  EXPECT_EQ(json["valid"], false);
  ASSERT_EQ(json["files"].size(), 2u);
  EXPECT_EQ(json["files"][0]["valid"], true);
  EXPECT_EQ(json["files"][1]["file"], "a3.zip");
  EXPECT_EQ(json["files"][1]["linking"]["fault"], "ArchiveLinkMismatch");
}

TEST_F(HansaContainerTest, HostileZipsAreNamed) {
  std::string conf = conf_file();
  using asic::testing::raw_zip;
  std::string bomb = raw_zip({{"mimetype", std::string(asic::kMimeType), true},
                              {"message.xml", std::string(8u * 1024 * 1024, '\0')}});
  write_file(pki_.dir() / "bomb.asice", bomb);
  RunResult b = run_cli({"--max-entry-bytes", "1048576", "--shared-params", conf,
                         (pki_.dir() / "bomb.asice").string()});
  EXPECT_EQ(b.code, kExitFailed);
  EXPECT_NE(b.out.find("LimitExceeded"), std::string::npos) << b.out;

  write_file(
      pki_.dir() / "traversal.asice",
      raw_zip({{"mimetype", std::string(asic::kMimeType), true}, {"../../etc/cron.d/evil", "x"}}));
  RunResult t = run_cli({"--shared-params", conf, (pki_.dir() / "traversal.asice").string()});
  EXPECT_EQ(t.code, kExitFailed);
  EXPECT_NE(t.out.find("AsicMalformed"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("path traversal"), std::string::npos) << t.out;

  write_file(pki_.dir() / "traversal.zip",
             raw_zip({{"linkinginfo", "- - SHA-512\n"}, {"../x.asice", "x"}}));
  RunResult ta = run_cli({"--shared-params", conf, (pki_.dir() / "traversal.zip").string()});
  EXPECT_EQ(ta.code, kExitFailed);
  EXPECT_NE(ta.out.find("AsicMalformed"), std::string::npos) << ta.out;
}

}  // namespace
}  // namespace hansa::verify
