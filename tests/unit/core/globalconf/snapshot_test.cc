// The lookups a node makes on its message path, over X-Road's files and a configuration built
// around the development PKI.

#include "core/globalconf/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/crypto/digest.h"
#include "core/globalconf/xml_codec.h"
#include "tests/unit/core/globalconf/test_files.h"

namespace hansa::globalconf {
namespace {

using testing::pki_cert;
using testing::vector_file;

ids::ClientId client(std::string_view text) { return ids::ClientId::parse(text).value(); }
ids::SecurityServerId server(std::string_view text) {
  return ids::SecurityServerId::parse(text).value();
}
ids::GlobalGroupId group(std::string_view text) { return ids::GlobalGroupId::parse(text).value(); }
TimePoint at(std::string_view text) { return parse_utc(text).value(); }

std::shared_ptr<const GlobalConfSnapshot> xroad_snapshot() {
  auto shared = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml"));
  auto priv = parse_private_parameters(vector_file("gconf-v6-private-params.xml"));
  EXPECT_TRUE(shared.ok() && priv.ok());
  auto snap = GlobalConfSnapshot::create(*priv, {*shared}, at("2035-11-11T03:07:40Z"));
  EXPECT_TRUE(snap.ok()) << snap.error().to_string();
  return *snap;
}

TEST(Snapshot, MembersAndSubsystems) {
  auto s = xroad_snapshot();
  EXPECT_TRUE(s->client_exists(client("MEMBER:DEV/COM/1234")));
  EXPECT_TRUE(s->client_exists(client("SUBSYSTEM:DEV/COM/1234/MANAGEMENT")));
  EXPECT_TRUE(s->client_exists(client("SUBSYSTEM:DEV/COM/4321/TestClient")));
  EXPECT_FALSE(s->client_exists(client("SUBSYSTEM:DEV/COM/4321/MANAGEMENT")));
  EXPECT_FALSE(s->client_exists(client("MEMBER:DEV/GOV/1234")));
  EXPECT_FALSE(s->client_exists(client("MEMBER:EE/COM/1234")));
  EXPECT_EQ(s->member_name(client("SUBSYSTEM:DEV/COM/4321/TestClient")), "Test client");
  EXPECT_EQ(s->member_name(client("MEMBER:DEV/COM/1234")), "Test member");
  EXPECT_EQ(s->member_name(client("MEMBER:DEV/COM/9")), std::nullopt);
  EXPECT_EQ(s->subsystem_name(ids::SubsystemId::parse("SUBSYSTEM:DEV/COM/1234/MANAGEMENT").value()),
            "Management services");
  ASSERT_NE(s->member(ids::MemberId::parse("MEMBER:DEV/COM/4321").value()), nullptr);
  EXPECT_EQ(s->clients("DEV").size(), 7u);
  EXPECT_TRUE(s->clients("EE").empty());
  EXPECT_EQ(s->member_classes().size(), 3u);
}

TEST(Snapshot, SecurityServers) {
  auto s = xroad_snapshot();
  auto ss0 = server("SERVER:DEV/COM/1234/SS0");
  auto ss1 = server("SERVER:DEV/COM/4321/SS1");
  auto hosting = s->servers_hosting(client("SUBSYSTEM:DEV/COM/4321/TestClient"));
  EXPECT_EQ(std::vector<ids::SecurityServerId>(hosting.begin(), hosting.end()),
            (std::vector<ids::SecurityServerId>{ss0, ss1}));
  auto management = s->servers_hosting(client("SUBSYSTEM:DEV/COM/1234/MANAGEMENT"));
  ASSERT_EQ(management.size(), 1u);
  EXPECT_EQ(management[0], ss0);
  // An owner is served by its own server.
  auto owner = s->servers_hosting(client("MEMBER:DEV/COM/4321"));
  ASSERT_EQ(owner.size(), 1u);
  EXPECT_EQ(owner[0], ss1);
  EXPECT_TRUE(s->servers_hosting(client("SUBSYSTEM:DEV/COM/1234/nope")).empty());
  EXPECT_EQ(s->servers_owned_by(ids::MemberId::parse("MEMBER:DEV/COM/1234").value()),
            (std::vector<ids::SecurityServerId>{ss0}));
  EXPECT_EQ(s->server_address(ss1), "ss1");
  EXPECT_EQ(s->server_address(server("SERVER:DEV/COM/4321/SS9")), std::nullopt);
  ASSERT_NE(s->security_server(ss0), nullptr);
  EXPECT_EQ(s->security_server(ss0)->clients.size(), 4u);
  EXPECT_FALSE(s->in_maintenance_mode(ss0));
}

TEST(Snapshot, TrustServicesAndSettings) {
  auto s = xroad_snapshot();
  const SharedParameters& sp = s->shared_parameters();
  ASSERT_EQ(s->approved_tsas().size(), 1u);
  EXPECT_EQ(s->approved_tsas()[0].name, "Test TSA");
  EXPECT_EQ(s->approved_tsa_by_cert(sp.approved_tsas[0].cert), &sp.approved_tsas[0]);
  EXPECT_EQ(s->approved_tsa_by_cert(sp.approved_cas[0].top_ca.cert), nullptr);
  auto responders = s->ocsp_responders(sp.approved_cas[0].top_ca.cert);
  ASSERT_EQ(responders.size(), 1u);
  EXPECT_EQ(responders[0].url, "http://testca:8888");
  EXPECT_TRUE(s->ocsp_responders(sp.approved_tsas[0].cert).empty());
  EXPECT_EQ(s->ca_certificates().size(), 2u);
  EXPECT_EQ(s->ocsp_freshness_seconds(), 3600);
  EXPECT_EQ(s->time_stamping_interval_seconds(), 60);
  EXPECT_TRUE(s->is_global_group_member(group("GLOBALGROUP:DEV/security-server-owners"),
                                        client("MEMBER:DEV/COM/4321")));
  EXPECT_FALSE(s->is_global_group_member(group("GLOBALGROUP:DEV/security-server-owners"),
                                         client("SUBSYSTEM:DEV/COM/4321/TestClient")));
  EXPECT_FALSE(
      s->is_global_group_member(group("GLOBALGROUP:DEV/other"), client("MEMBER:DEV/COM/4321")));
  EXPECT_EQ(s->global_groups_of(client("MEMBER:DEV/COM/1234")).size(), 1u);
  EXPECT_NE(s->global_group(group("GLOBALGROUP:DEV/security-server-owners")), nullptr);
  EXPECT_EQ(s->management_service()->management_request_service_provider_id,
            client("SUBSYSTEM:DEV/COM/1234/MANAGEMENT"));
  EXPECT_TRUE(s->check_valid(at("2035-11-11T03:07:39Z")).ok());
  EXPECT_EQ(s->check_valid(at("2035-11-11T03:07:40Z")).error().code,
            FaultCode::kOutdatedGlobalConf);
}

// A configuration around the development PKI: real CA chain, auth and sign certificates.
class DevPkiSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = pki_cert("ca/root.pem");
    inter_ = pki_cert("ca/intermediate.pem");
    SharedParameters sp;
    sp.instance_identifier = "DEV";
    sp.approved_cas.push_back(ApprovedCa{
        .name = "Hansa Dev CA",
        .authentication_only = false,
        .top_ca = CaInfo{*root_, {}},
        .intermediate_cas = {CaInfo{*inter_,
                                    {OcspResponder{"http://127.0.0.1:8899/ocsp",
                                                   pki_cert("ocsp/ocsp.pem"), CostType::kFree}}}},
        .certificate_profile_info = "hansa-default",
        .default_csr_format = std::nullopt,
        .acme_server = std::nullopt});
    sp.approved_tsas.push_back(
        ApprovedTsa{"Hansa Dev TSA", "http://127.0.0.1:8899/tsa", pki_cert("tsa/tsa.pem"), {}});
    auto gov = ids::MemberId::parse("MEMBER:DEV/GOV/1234").value();
    auto com = ids::MemberId::parse("MEMBER:DEV/COM/4321").value();
    auto gov_sub = ids::SubsystemId::create(gov, "portal").value();
    auto com_sub = ids::SubsystemId::create(com, "registry").value();
    sp.members.push_back(Member{gov, "Government", "Gov agency", {Subsystem{gov_sub, "Portal"}}});
    sp.members.push_back(Member{com, "Commercial", "Company", {Subsystem{com_sub, std::nullopt}}});
    ss1_ = ids::SecurityServerId::create(gov, "SS1").value();
    ss2_ = ids::SecurityServerId::create(com, "SS2").value();
    auth1_ = pki_cert("nodes/SS1/auth.pem");
    auth2_ = pki_cert("nodes/SS2/auth.pem");
    // SS1 registered with a SHA-256 hash (X-Road 7), SS2 with a SHA-1 hash (older files).
    sp.security_servers.push_back(
        SecurityServer{*ss1_,
                       "127.0.0.1:5500",
                       {auth1_->fingerprint(crypto::DigestAlgorithm::kSha256)},
                       {ids::ClientId(gov_sub)},
                       std::nullopt});
    sp.security_servers.push_back(
        SecurityServer{*ss2_,
                       "127.0.0.1:5501",
                       {auth2_->fingerprint(crypto::DigestAlgorithm::kSha1)},
                       {ids::ClientId(com_sub)},
                       MaintenanceMode{"upgrade"}});
    sp.global_settings.member_classes = {{"GOV", "Government"}, {"COM", "Commercial"}};
    sp.global_settings.ocsp_freshness_seconds = 600;
    shared_ = std::move(sp);
  }

  std::optional<crypto::Certificate> root_, inter_, auth1_, auth2_;
  std::optional<ids::SecurityServerId> ss1_, ss2_;
  SharedParameters shared_;
};

TEST_F(DevPkiSnapshot, AuthCertificatesOfServersHostingAClient) {
  auto snap = GlobalConfSnapshot::create(std::nullopt, {shared_}, at("2099-01-01T00:00:00Z"));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  const auto& s = **snap;
  EXPECT_EQ(s.time_stamping_interval_seconds(), 60);
  EXPECT_EQ(s.management_service(), nullptr);
  EXPECT_EQ(s.ocsp_freshness_seconds(), 600);

  auto portal = client("SUBSYSTEM:DEV/GOV/1234/portal");
  auto registry = client("SUBSYSTEM:DEV/COM/4321/registry");
  EXPECT_TRUE(s.is_auth_cert_of_client_server(*auth1_, portal));
  EXPECT_TRUE(s.is_auth_cert_of_client_server(*auth1_, client("MEMBER:DEV/GOV/1234")));
  EXPECT_FALSE(s.is_auth_cert_of_client_server(*auth1_, registry));
  EXPECT_TRUE(s.is_auth_cert_of_client_server(*auth2_, registry));
  EXPECT_FALSE(s.is_auth_cert_of_client_server(*auth2_, portal));
  // A certificate registered nowhere (a member's sign certificate).
  auto sign = pki_cert("members/DEV_GOV_1234/sign.pem");
  EXPECT_FALSE(s.is_auth_cert_of_client_server(sign, portal));
  EXPECT_EQ(s.server_by_auth_cert(*auth1_), *ss1_);
  EXPECT_EQ(s.server_by_auth_cert(*auth2_), *ss2_);
  EXPECT_EQ(s.server_by_auth_cert(sign), std::nullopt);
  EXPECT_TRUE(s.is_auth_cert_of_server(*auth2_, *ss2_));
  EXPECT_FALSE(s.is_auth_cert_of_server(*auth2_, *ss1_));
  EXPECT_TRUE(s.in_maintenance_mode(*ss2_));
  EXPECT_FALSE(s.in_maintenance_mode(*ss1_));
  EXPECT_EQ(s.subsystem_name(ids::SubsystemId::parse("SUBSYSTEM:DEV/COM/4321/registry").value()),
            std::nullopt);
}

TEST_F(DevPkiSnapshot, ApprovedCaForACertificateIssuer) {
  auto snap = GlobalConfSnapshot::create(std::nullopt, {shared_}, at("2099-01-01T00:00:00Z"));
  ASSERT_TRUE(snap.ok());
  const auto& s = **snap;
  auto sign = pki_cert("members/DEV_GOV_1234/sign.pem");
  const ApprovedCa* ca = s.approved_ca_for(sign);
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(ca->name, "Hansa Dev CA");
  const CaInfo* issuer = s.issuer_ca_info(sign);
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(issuer->cert, *inter_);
  ASSERT_EQ(s.ocsp_responders(issuer->cert).size(), 1u);
  EXPECT_EQ(s.ocsp_responders(issuer->cert)[0].url, "http://127.0.0.1:8899/ocsp");
  // The intermediate itself was issued by the approved top CA.
  EXPECT_EQ(s.issuer_ca_info(*inter_)->cert, *root_);
  // Same subject, other issuer key: not approved.
  EXPECT_EQ(s.approved_ca_for(pki_cert("untrusted/sign.pem")), nullptr);
  EXPECT_EQ(s.ca_certificates().size(), 2u);
  ASSERT_EQ(s.ocsp_responder_certificates().size(), 1u);
  EXPECT_EQ(s.ocsp_responder_certificates()[0], pki_cert("ocsp/ocsp.pem"));
  EXPECT_NE(s.approved_tsa_by_cert(pki_cert("tsa/tsa.pem")), nullptr);
}

TEST_F(DevPkiSnapshot, RoundTripsThroughXml) {
  auto xml = write_shared_parameters(shared_);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  auto back = parse_shared_parameters(*xml);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->security_servers[1].auth_cert_hashes,
            shared_.security_servers[1].auth_cert_hashes);
  auto snap = GlobalConfSnapshot::create(std::nullopt, {*back}, at("2099-01-01T00:00:00Z"));
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(
      (*snap)->is_auth_cert_of_client_server(*auth2_, client("SUBSYSTEM:DEV/COM/4321/registry")));
}

TEST_F(DevPkiSnapshot, FederatedInstancesOwnFirst) {
  auto priv = parse_private_parameters(vector_file("gconf-v6-private-params.xml")).value();
  auto xroad = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml")).value();
  SharedParameters ee = shared_;
  // Rename the dev configuration to instance EE through the XML form.
  std::string xml = write_shared_parameters(shared_).value();
  for (std::size_t pos; (pos = xml.find(">DEV<")) != std::string::npos;) {
    xml.replace(pos, 5, ">EE<");
  }
  ee = parse_shared_parameters(xml).value();
  auto snap = GlobalConfSnapshot::create(priv, {ee, xroad}, at("2099-01-01T00:00:00Z"));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  const auto& s = **snap;
  EXPECT_EQ(s.instance_identifier(), "DEV");
  EXPECT_EQ(s.instances(), (std::vector<std::string>{"DEV", "EE"}));
  EXPECT_EQ(s.shared_parameters().instance_identifier, "DEV");
  ASSERT_NE(s.shared_parameters("EE"), nullptr);
  EXPECT_EQ(s.shared_parameters("FI"), nullptr);
  EXPECT_TRUE(s.client_exists(client("SUBSYSTEM:EE/GOV/1234/portal")));
  EXPECT_FALSE(s.client_exists(client("SUBSYSTEM:DEV/GOV/1234/portal")));
  EXPECT_EQ(s.server_address(server("SERVER:EE/COM/4321/SS2")), "127.0.0.1:5501");
  // CAs of every instance are trusted for issuer lookups.
  EXPECT_NE(s.approved_ca_for(pki_cert("members/DEV_GOV_1234/sign.pem")), nullptr);
  EXPECT_EQ(s.approved_tsas().size(), 1u);
  EXPECT_EQ(s.approved_tsas()[0].name, "Test TSA");
}

TEST_F(DevPkiSnapshot, CreateRefusesInconsistentParts) {
  auto priv = parse_private_parameters(vector_file("gconf-v6-private-params.xml")).value();
  priv.instance_identifier = "FI";
  EXPECT_EQ(GlobalConfSnapshot::create(priv, {shared_}, at("2099-01-01T00:00:00Z")).error().code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(GlobalConfSnapshot::create(std::nullopt, {shared_, shared_}, at("2099-01-01T00:00:00Z"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(GlobalConfSnapshot::create(std::nullopt, {}, at("2099-01-01T00:00:00Z")).error().code,
            FaultCode::kInvalidGlobalConf);
  auto foreign_client = shared_;
  foreign_client.security_servers[0].clients.push_back(client("MEMBER:EE/GOV/1"));
  EXPECT_EQ(GlobalConfSnapshot::create(std::nullopt, {foreign_client}, at("2099-01-01T00:00:00Z"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
}

TEST_F(DevPkiSnapshot, ConcurrentReaders) {
  auto snap = GlobalConfSnapshot::create(std::nullopt, {shared_}, at("2099-01-01T00:00:00Z"));
  ASSERT_TRUE(snap.ok());
  std::shared_ptr<const GlobalConfSnapshot> s = *snap;
  auto portal = client("SUBSYSTEM:DEV/GOV/1234/portal");
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < 200; ++i) {
        if (s->is_auth_cert_of_client_server(*auth1_, portal) && s->client_exists(portal) &&
            s->servers_hosting(portal).size() == 1) {
          ++hits;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(hits.load(), 800);
}

}  // namespace
}  // namespace hansa::globalconf
