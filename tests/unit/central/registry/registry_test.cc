// Tests of central/registry on SQLite and (when HANSA_TEST_PG_URI is set) PostgreSQL.

#include "central/registry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/crypto/cert_profile.h"
#include "core/crypto/digest.h"
#include "core/globalconf/xml_codec.h"
#include "tests/unit/central/registry/test_database.h"

namespace hansa::central {
namespace {

using testing::pki_cert;
using testing::TestDatabase;

ids::MemberId member_id(std::string_view cls, std::string_view code,
                        std::string_view inst = "DEV") {
  return ids::MemberId::create(inst, cls, code).value();
}
ids::SubsystemId subsystem_id(std::string_view cls, std::string_view code, std::string_view sub) {
  return ids::SubsystemId::create("DEV", cls, code, sub).value();
}
ids::SecurityServerId server_id(std::string_view cls, std::string_view code,
                                std::string_view server) {
  return ids::SecurityServerId::create("DEV", cls, code, server).value();
}
ids::GlobalGroupId group_id(std::string_view code) {
  return ids::GlobalGroupId::create("DEV", code).value();
}

AuditContext admin() {
  AuditContext ctx;
  ctx.actor = "token:1:test";
  ctx.source = "127.0.0.1";
  return ctx;
}

ApprovedCa dev_ca() {
  return ApprovedCa{
      0,
      "Dev CA",
      CaCertificate{pki_cert("ca/root.pem"), {OcspResponder{"http://127.0.0.1:8899/ocsp", {}}}},
      {CaCertificate{pki_cert("ca/intermediate.pem"),
                     {OcspResponder{"http://127.0.0.1:8899/ocsp", pki_cert("ocsp/ocsp.pem")}}}},
      std::string(crypto::kHansaDefaultProfileName),
      false};
}

class RegistryTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    if (!database_.create(GetParam(), skip)) {
      GTEST_SKIP() << skip;
    }
    auto reg = Registry::open(database_.db());
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    reg_ = std::move(reg).value();
  }

  // Instance DEV, classes GOV and COM, members GOV/1234 and COM/4321.
  void seed() {
    ASSERT_TRUE(reg_->initialize(admin(), "DEV").ok());
    ASSERT_TRUE(reg_->add_member_class(admin(), {"GOV", "Government"}).ok());
    ASSERT_TRUE(reg_->add_member_class(admin(), {"COM", "Commercial"}).ok());
    ASSERT_TRUE(reg_->add_member(admin(), member_id("GOV", "1234"), "Member 1234").ok());
    ASSERT_TRUE(reg_->add_member(admin(), member_id("COM", "4321"), "Member 4321").ok());
  }

  std::int64_t version() { return reg_->change_version().value(); }

  // The newest audit entry.
  AuditEntry last_audit() {
    auto page = reg_->audit_log({});
    EXPECT_TRUE(page.ok());
    EXPECT_FALSE(page->items.empty());
    return page->items.front();
  }

  TestDatabase database_;
  std::unique_ptr<Registry> reg_;
};

TEST_P(RegistryTest, InstanceIdentifierIsSetOnce) {
  EXPECT_EQ(reg_->instance_identifier().error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(reg_->initialize(admin(), "DE V").error().code, FaultCode::kInvalidIdentifier);
  ASSERT_TRUE(reg_->initialize(admin(), "DEV").ok());
  EXPECT_TRUE(reg_->initialize(admin(), "DEV").ok());
  EXPECT_EQ(reg_->initialize(admin(), "OTHER").error().code, FaultCode::kConflict);
  EXPECT_EQ(reg_->instance_identifier().value(), "DEV");
  // Migrations run again on a second open without harm.
  auto again = Registry::open(database_.db());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->instance_identifier().value(), "DEV");
}

TEST_P(RegistryTest, MembersNeedAnExistingClassAndThisInstance) {
  ASSERT_TRUE(reg_->initialize(admin(), "DEV").ok());
  ASSERT_TRUE(reg_->add_member_class(admin(), {"GOV", "Government"}).ok());
  EXPECT_EQ(reg_->add_member_class(admin(), {"GOV", "again"}).error().code, FaultCode::kConflict);
  EXPECT_EQ(reg_->add_member_class(admin(), {"G/V", "bad"}).error().code,
            FaultCode::kInvalidIdentifier);

  EXPECT_EQ(reg_->add_member(admin(), member_id("COM", "1"), "x").error().code,
            FaultCode::kInvalidRequest);
  EXPECT_EQ(reg_->add_member(admin(), member_id("GOV", "1", "EE"), "x").error().code,
            FaultCode::kInvalidClientIdentifier);
  EXPECT_EQ(reg_->add_member(admin(), member_id("GOV", "1"), "").error().code,
            FaultCode::kInvalidRequest);
  ASSERT_TRUE(reg_->add_member(admin(), member_id("GOV", "1"), "One").ok());
  EXPECT_EQ(reg_->add_member(admin(), member_id("GOV", "1"), "One").error().code,
            FaultCode::kConflict);

  ASSERT_TRUE(reg_->add_subsystem(admin(), subsystem_id("GOV", "1", "sub"), "Sub").ok());
  EXPECT_EQ(reg_->add_subsystem(admin(), subsystem_id("GOV", "1", "sub")).error().code,
            FaultCode::kConflict);
  EXPECT_EQ(reg_->add_subsystem(admin(), subsystem_id("GOV", "2", "sub")).error().code,
            FaultCode::kInvalidRequest);

  auto m = reg_->member(member_id("GOV", "1"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "One");
  ASSERT_EQ(m->subsystems.size(), 1u);
  EXPECT_EQ(m->subsystems[0].id.subsystem_code(), "sub");
  EXPECT_EQ(reg_->member(member_id("GOV", "2")).error().code, FaultCode::kNotFound);

  // A class in use cannot be deleted.
  EXPECT_EQ(reg_->delete_member_class(admin(), "GOV").error().code, FaultCode::kConflict);
}

TEST_P(RegistryTest, PaginationCapsThePageSize) {
  ASSERT_TRUE(reg_->initialize(admin(), "DEV").ok());
  ASSERT_TRUE(reg_->add_member_class(admin(), {"GOV", "Government"}).ok());
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(reg_->add_member(admin(), member_id("GOV", "m" + std::to_string(i)), "M").ok());
  }
  auto page = reg_->members({2, 3});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 7);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].id.member_code(), "m2");

  RegistryOptions small;
  small.max_page_size = 4;
  auto capped = Registry::open(database_.db(), small);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ((*capped)->members({0, 1000})->items.size(), 4u);
  EXPECT_EQ((*capped)->members({0, 0})->items.size(), 4u);
}

TEST_P(RegistryTest, ServersNeedExistingOwnersAndClients) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  EXPECT_EQ(reg_->add_server(admin(), server_id("GOV", "9999", "SS1"), "h").error().code,
            FaultCode::kInvalidRequest);
  ASSERT_TRUE(reg_->add_server(admin(), ss1, "ss1.example").ok());
  EXPECT_EQ(reg_->add_server(admin(), ss1, "x").error().code, FaultCode::kConflict);

  const ids::ClientId missing = subsystem_id("COM", "4321", "client");
  EXPECT_EQ(reg_->add_server_client(admin(), ss1, missing).error().code,
            FaultCode::kInvalidRequest);
  // Management requests create the subsystem of an existing member.
  ASSERT_TRUE(reg_->add_server_client(admin(), ss1, missing, true).ok());
  EXPECT_TRUE(reg_->member(member_id("COM", "4321"))->subsystems.size() == 1);
  EXPECT_EQ(reg_->add_server_client(admin(), ss1, missing).error().code, FaultCode::kConflict);
  EXPECT_EQ(
      reg_->add_server_client(admin(), ss1, subsystem_id("COM", "5555", "x"), true).error().code,
      FaultCode::kInvalidRequest);
  ASSERT_TRUE(reg_->add_server_client(admin(), ss1, ids::ClientId(member_id("COM", "4321"))).ok());

  auto s = reg_->server(ss1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->address, "ss1.example");
  EXPECT_EQ(s->clients.size(), 2u);

  ASSERT_TRUE(reg_->set_server_address(admin(), ss1, "10.0.0.1").ok());
  EXPECT_EQ(reg_->server(ss1)->address, "10.0.0.1");
  EXPECT_EQ(reg_->set_server_address(admin(), server_id("GOV", "1234", "SS9"), "x").error().code,
            FaultCode::kNotFound);

  ASSERT_TRUE(reg_->remove_server_client(admin(), ss1, missing).ok());
  EXPECT_EQ(reg_->remove_server_client(admin(), ss1, missing).error().code, FaultCode::kNotFound);
}

TEST_P(RegistryTest, DeletingAMemberThatOwnsServersIsRefusedOrCascades) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  ASSERT_TRUE(reg_->add_subsystem(admin(), subsystem_id("GOV", "1234", "sub")).ok());
  ASSERT_TRUE(reg_->add_server(admin(), ss1, "h").ok());
  ASSERT_TRUE(reg_->add_server_client(admin(), ss1, subsystem_id("GOV", "1234", "sub")).ok());
  ASSERT_TRUE(reg_->add_group(admin(), group_id("owners"), "Owners").ok());
  ASSERT_TRUE(
      reg_->add_group_member(admin(), group_id("owners"), ids::ClientId(member_id("GOV", "1234")))
          .ok());

  const auto before = version();
  auto refused = reg_->delete_member(admin(), member_id("GOV", "1234"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kConflict);
  EXPECT_EQ(version(), before);
  EXPECT_TRUE(reg_->server(ss1).ok());
  EXPECT_EQ(last_audit().result, "Conflict");
  EXPECT_EQ(last_audit().action, "member.delete");

  // A referenced subsystem is refused the same way.
  EXPECT_EQ(reg_->delete_subsystem(admin(), subsystem_id("GOV", "1234", "sub")).error().code,
            FaultCode::kConflict);

  ASSERT_TRUE(reg_->delete_member(admin(), member_id("GOV", "1234"), true).ok());
  EXPECT_EQ(reg_->server(ss1).error().code, FaultCode::kNotFound);
  EXPECT_TRUE(reg_->group(group_id("owners"))->members.empty());
  EXPECT_EQ(reg_->members()->total, 1);
  EXPECT_EQ(version(), before + 1);
}

TEST_P(RegistryTest, AuditLogRecordsSuccessAndRefusal) {
  seed();
  auto entry = last_audit();
  EXPECT_EQ(entry.action, "member.create");
  EXPECT_EQ(entry.target, "MEMBER:DEV/COM/4321");
  EXPECT_EQ(entry.actor, "token:1:test");
  EXPECT_EQ(entry.source, "127.0.0.1");
  EXPECT_EQ(entry.result, "ok");
  EXPECT_NE(entry.summary.find("Member 4321"), std::string::npos);

  ASSERT_FALSE(reg_->add_member(admin(), member_id("GOV", "1234"), "dup").ok());
  entry = last_audit();
  EXPECT_EQ(entry.action, "member.create");
  EXPECT_EQ(entry.result, "Conflict");
  EXPECT_FALSE(entry.detail.empty());

  AuditQuery q;
  q.action_prefix = "member_class.";
  auto classes = reg_->audit_log(q);
  ASSERT_TRUE(classes.ok());
  EXPECT_EQ(classes->total, 2);
  q = {};
  q.actor = "nobody";
  EXPECT_EQ(reg_->audit_log(q)->total, 0);

  ASSERT_TRUE(reg_->record_audit(admin(), "api.auth", "GET /members", "", nullptr).ok());
  EXPECT_EQ(last_audit().action, "api.auth");
}

TEST_P(RegistryTest, FailedHookLeavesNoPartialChange) {
  seed();
  const auto before = version();
  AuditContext ctx = admin();
  ctx.in_transaction = [](db::Transaction& tx) -> Status {
    // The hook sees the change made in the same transaction...
    auto row = tx.query_one("SELECT name FROM registry_members WHERE member_code = 'new'");
    EXPECT_TRUE(row.ok() && row->has_value());
    return Error(FaultCode::kInternalError, "request state could not be stored");
  };
  auto st = reg_->add_member(ctx, member_id("GOV", "new"), "New");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kInternalError);
  // ...but nothing of it is committed.
  EXPECT_EQ(reg_->member(member_id("GOV", "new")).error().code, FaultCode::kNotFound);
  EXPECT_EQ(version(), before);
  EXPECT_EQ(last_audit().result, "InternalError");

  ctx.in_transaction = [](db::Transaction& tx) -> Status {
    return tx.execute("INSERT INTO registry_settings (name, value) VALUES ('hook', 'ran')").ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "x"));
  };
  ASSERT_TRUE(reg_->add_member(ctx, member_id("GOV", "new"), "New").ok());
  EXPECT_EQ(version(), before + 1);
}

TEST_P(RegistryTest, ChangeVersionAndNotifications) {
  std::vector<std::int64_t> seen;
  const auto handle = reg_->subscribe([&](std::int64_t v) { seen.push_back(v); });
  EXPECT_EQ(version(), 0);
  seed();
  EXPECT_EQ(version(), 5);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  // Refusals and token changes do not bump the version.
  EXPECT_FALSE(reg_->add_member(admin(), member_id("GOV", "1234"), "dup").ok());
  ASSERT_TRUE(reg_->create_token(admin(), "t", AdminRole::kOperator).ok());
  EXPECT_EQ(version(), 5);
  EXPECT_EQ(seen.size(), 5u);
  reg_->unsubscribe(handle);
  ASSERT_TRUE(reg_->rename_member(admin(), member_id("GOV", "1234"), "Renamed").ok());
  EXPECT_EQ(version(), 6);
  EXPECT_EQ(seen.size(), 5u);
}

TEST_P(RegistryTest, AuthCertificatesAreCheckedAndUnique) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  const auto auth = pki_cert("nodes/SS1/auth.pem");
  // The server is created by the registration when it does not exist yet.
  ASSERT_TRUE(reg_->register_auth_cert(admin(), ss1, auth, "ss1.example").ok());
  auto s = reg_->server(ss1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->address, "ss1.example");
  ASSERT_EQ(s->auth_certs.size(), 1u);
  EXPECT_EQ(s->auth_certs[0].hash, auth.fingerprint(crypto::DigestAlgorithm::kSha256));
  ASSERT_TRUE(s->auth_certs[0].cert.has_value());
  EXPECT_TRUE(*s->auth_certs[0].cert == auth);

  EXPECT_EQ(reg_->register_auth_cert(admin(), server_id("COM", "4321", "SS2"), auth).error().code,
            FaultCode::kConflict);
  EXPECT_EQ(reg_->register_auth_cert(admin(), ss1, pki_cert("ca/root.pem")).error().code,
            FaultCode::kInvalidCertificate);
  EXPECT_EQ(
      reg_->register_auth_cert(admin(), ss1, pki_cert("variants/auth-expired.pem")).error().code,
      FaultCode::kInvalidCertificate);
  EXPECT_EQ(reg_->register_auth_cert(admin(), server_id("GOV", "7777", "X"),
                                     pki_cert("nodes/SS2/auth.pem"))
                .error()
                .code,
            FaultCode::kInvalidRequest);

  auto found = reg_->server_by_auth_cert_hash(auth.fingerprint(crypto::DigestAlgorithm::kSha256));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, ss1);

  EXPECT_EQ(reg_->register_auth_cert_hash(admin(), ss1, "short").error().code,
            FaultCode::kInvalidRequest);
  const std::string other(32, 'x');
  ASSERT_TRUE(reg_->register_auth_cert_hash(admin(), ss1, other).ok());
  ASSERT_TRUE(reg_->delete_auth_cert(admin(), ss1, other).ok());
  EXPECT_EQ(reg_->delete_auth_cert(admin(), ss1, other).error().code, FaultCode::kNotFound);
}

TEST_P(RegistryTest, OwnerChangeMovesTheServer) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  ASSERT_TRUE(reg_->add_server(admin(), ss1, "h").ok());
  EXPECT_EQ(reg_->change_server_owner(admin(), ss1, member_id("COM", "4321")).error().code,
            FaultCode::kInvalidRequest);
  ASSERT_TRUE(reg_->add_server_client(admin(), ss1, ids::ClientId(member_id("COM", "4321"))).ok());
  auto moved = reg_->change_server_owner(admin(), ss1, member_id("COM", "4321"));
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  EXPECT_EQ(moved->to_string(), "SERVER:DEV/COM/4321/SS1");
  EXPECT_EQ(reg_->server(ss1).error().code, FaultCode::kNotFound);
  auto s = reg_->server(*moved);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->clients.size(), 2u);  // the old owner stays a client
}

TEST_P(RegistryTest, ApprovedCasAreSane) {
  seed();
  auto id = reg_->add_ca(admin(), dev_ca());
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  auto ca = reg_->ca(*id);
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->name, "Dev CA");
  ASSERT_EQ(ca->intermediate_cas.size(), 1u);
  ASSERT_EQ(ca->intermediate_cas[0].ocsp.size(), 1u);
  EXPECT_TRUE(ca->intermediate_cas[0].ocsp[0].cert.has_value());
  EXPECT_EQ(reg_->add_ca(admin(), dev_ca()).error().code, FaultCode::kConflict);

  ApprovedCa not_ca = dev_ca();
  not_ca.name = "x";
  not_ca.top_ca.cert = pki_cert("tsa/tsa.pem");
  EXPECT_EQ(reg_->add_ca(admin(), not_ca).error().code, FaultCode::kInvalidCertificate);

  ApprovedCa unchained = dev_ca();
  unchained.name = "unchained";
  unchained.top_ca.cert = pki_cert("untrusted/root.pem");
  EXPECT_EQ(reg_->add_ca(admin(), unchained).error().code, FaultCode::kInvalidCertificate);

  ApprovedCa bad_profile = dev_ca();
  bad_profile.name = "profile";
  bad_profile.top_ca.cert = pki_cert("untrusted/root.pem");
  bad_profile.intermediate_cas.clear();
  bad_profile.certificate_profile_info = "com.example.Unknown";
  EXPECT_EQ(reg_->add_ca(admin(), bad_profile).error().code, FaultCode::kInvalidRequest);

  ApprovedCa bad_url = bad_profile;
  bad_url.certificate_profile_info = std::string(crypto::kHansaDefaultProfileName);
  bad_url.top_ca.ocsp[0].url = "ftp://x";
  EXPECT_EQ(reg_->add_ca(admin(), bad_url).error().code, FaultCode::kInvalidRequest);

  ApprovedCa second = bad_url;
  second.top_ca.ocsp[0].url = "https://ocsp.example";
  second.authentication_only = true;
  auto second_id = reg_->add_ca(admin(), second);
  ASSERT_TRUE(second_id.ok()) << second_id.error().to_string();
  second.id = *second_id;
  second.name = "Dev CA";
  EXPECT_EQ(reg_->update_ca(admin(), second).error().code, FaultCode::kConflict);
  second.name = "Renamed";
  ASSERT_TRUE(reg_->update_ca(admin(), second).ok());
  EXPECT_EQ(reg_->ca(*second_id)->name, "Renamed");
  EXPECT_TRUE(reg_->ca(*second_id)->authentication_only);
  EXPECT_EQ(reg_->cas()->size(), 2u);
  ASSERT_TRUE(reg_->delete_ca(admin(), *second_id).ok());
  EXPECT_EQ(reg_->delete_ca(admin(), *second_id).error().code, FaultCode::kNotFound);
}

TEST_P(RegistryTest, TsaCertificatesNeedTimeStampingUsage) {
  seed();
  ApprovedTsa tsa{0, "Dev TSA", "http://127.0.0.1:8899/tsa", pki_cert("tsa/tsa.pem")};
  auto id = reg_->add_tsa(admin(), tsa);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(reg_->tsa(*id)->url, tsa.url);
  EXPECT_EQ(reg_->add_tsa(admin(), tsa).error().code, FaultCode::kConflict);
  ApprovedTsa wrong{0, "Wrong", "http://other", pki_cert("nodes/SS1/auth.pem")};
  EXPECT_EQ(reg_->add_tsa(admin(), wrong).error().code, FaultCode::kInvalidCertificate);
  EXPECT_EQ(reg_->tsas()->size(), 1u);
}

TEST_P(RegistryTest, GlobalGroupsReferenceExistingClients) {
  seed();
  ASSERT_TRUE(reg_->add_group(admin(), group_id("g"), "G").ok());
  EXPECT_EQ(reg_->add_group(admin(), group_id("g"), "G").error().code, FaultCode::kConflict);
  EXPECT_EQ(reg_->add_group_member(admin(), group_id("g"), subsystem_id("GOV", "1234", "none"))
                .error()
                .code,
            FaultCode::kInvalidRequest);
  EXPECT_EQ(
      reg_->add_group_member(admin(), group_id("nope"), member_id("GOV", "1234")).error().code,
      FaultCode::kNotFound);
  ASSERT_TRUE(reg_->add_group_member(admin(), group_id("g"), member_id("GOV", "1234")).ok());
  EXPECT_EQ(reg_->add_group_member(admin(), group_id("g"), member_id("GOV", "1234")).error().code,
            FaultCode::kConflict);
  ASSERT_TRUE(reg_->update_group(admin(), group_id("g"), "New").ok());
  auto g = reg_->group(group_id("g"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->description, "New");
  EXPECT_EQ(g->members.size(), 1u);
  ASSERT_TRUE(reg_->remove_group_member(admin(), group_id("g"), member_id("GOV", "1234")).ok());
  ASSERT_TRUE(reg_->delete_group(admin(), group_id("g")).ok());
  EXPECT_EQ(reg_->groups()->total, 0);
}

TEST_P(RegistryTest, SettingsAreValidated) {
  seed();
  Settings s = reg_->settings().value();
  EXPECT_EQ(s.ocsp_freshness_seconds, 3600);
  s.time_stamping_interval_seconds = 0;
  EXPECT_EQ(reg_->update_settings(admin(), s).error().code, FaultCode::kInvalidRequest);
  s.time_stamping_interval_seconds = 120;
  s.management_service_provider = subsystem_id("GOV", "1234", "MANAGEMENT");
  EXPECT_EQ(reg_->update_settings(admin(), s).error().code, FaultCode::kInvalidRequest);
  ASSERT_TRUE(reg_->add_subsystem(admin(), subsystem_id("GOV", "1234", "MANAGEMENT")).ok());
  s.management_service_address = "https://cs.example:4002/managementservice/";
  s.management_service_cert = pki_cert("nodes/SS1/auth.pem");
  ASSERT_TRUE(reg_->update_settings(admin(), s).ok());
  auto read = reg_->settings();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->time_stamping_interval_seconds, 120);
  EXPECT_EQ(read->management_service_provider->to_string(), "SUBSYSTEM:DEV/GOV/1234/MANAGEMENT");
  EXPECT_TRUE(read->management_service_cert.has_value());
}

TEST_P(RegistryTest, ExportsTheGlobalConfigurationModel) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  const auto auth = pki_cert("nodes/SS1/auth.pem");
  ASSERT_TRUE(reg_->add_subsystem(admin(), subsystem_id("GOV", "1234", "MANAGEMENT"), "Mgmt").ok());
  ASSERT_TRUE(reg_->register_auth_cert(admin(), ss1, auth, "ss1").ok());
  ASSERT_TRUE(
      reg_->add_server_client(admin(), ss1, subsystem_id("GOV", "1234", "MANAGEMENT")).ok());
  ASSERT_TRUE(reg_->add_group(admin(), group_id("security-server-owners"), "Owners").ok());
  ASSERT_TRUE(
      reg_->add_group_member(admin(), group_id("security-server-owners"), member_id("GOV", "1234"))
          .ok());
  ASSERT_TRUE(reg_->add_ca(admin(), dev_ca()).ok());
  ASSERT_TRUE(
      reg_->add_tsa(admin(), {0, "TSA", "http://127.0.0.1:8899/tsa", pki_cert("tsa/tsa.pem")})
          .ok());

  auto exp = reg_->export_globalconf();
  ASSERT_TRUE(exp.ok()) << exp.error().to_string();
  EXPECT_EQ(exp->change_version, version());
  EXPECT_FALSE(exp->private_params.has_value());  // no management service provider yet
  const auto& shared = exp->shared;
  EXPECT_EQ(shared.instance_identifier, "DEV");
  ASSERT_EQ(shared.members.size(), 2u);
  EXPECT_EQ(shared.members[0].id.to_string(), "MEMBER:DEV/COM/4321");
  EXPECT_EQ(shared.members[0].member_class_description, "Commercial");
  ASSERT_EQ(shared.members[1].subsystems.size(), 1u);
  EXPECT_EQ(shared.members[1].subsystems[0].name.value_or(""), "Mgmt");
  ASSERT_EQ(shared.security_servers.size(), 1u);
  EXPECT_EQ(shared.security_servers[0].address.value_or(""), "ss1");
  ASSERT_EQ(shared.security_servers[0].auth_cert_hashes.size(), 1u);
  // shared-params authCertHash: SHA-256 of the DER (X-Road v6 files carry 32-byte hashes).
  EXPECT_EQ(shared.security_servers[0].auth_cert_hashes[0],
            crypto::digest(crypto::DigestAlgorithm::kSha256, auth.der()));
  EXPECT_EQ(shared.security_servers[0].clients.size(), 1u);
  ASSERT_EQ(shared.global_groups.size(), 1u);
  EXPECT_EQ(shared.global_groups[0].members.size(), 1u);
  ASSERT_EQ(shared.approved_cas.size(), 1u);
  EXPECT_EQ(shared.approved_cas[0].certificate_profile_info, crypto::kHansaDefaultProfileName);
  EXPECT_EQ(shared.approved_cas[0].authentication_only.value_or(true), false);
  EXPECT_EQ(shared.approved_cas[0].intermediate_cas.size(), 1u);
  ASSERT_EQ(shared.approved_tsas.size(), 1u);
  EXPECT_EQ(shared.global_settings.member_classes.size(), 2u);
  EXPECT_EQ(shared.global_settings.ocsp_freshness_seconds, 3600);

  Settings s = reg_->settings().value();
  s.management_service_provider = subsystem_id("GOV", "1234", "MANAGEMENT");
  s.management_service_address = "https://cs:4002/managementservice/";
  s.time_stamping_interval_seconds = 90;
  ASSERT_TRUE(reg_->update_settings(admin(), s).ok());
  exp = reg_->export_globalconf();
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE(exp->private_params.has_value());
  EXPECT_EQ(exp->private_params->instance_identifier, "DEV");
  EXPECT_EQ(exp->private_params->time_stamping_interval_seconds, 90);
  EXPECT_EQ(exp->private_params->management_service.auth_cert_reg_service_address,
            "https://cs:4002/managementservice/");
  EXPECT_EQ(
      exp->private_params->management_service.management_request_service_provider_id.to_string(),
      "SUBSYSTEM:DEV/GOV/1234/MANAGEMENT");
}

// The export is a consistent model: gconf's writer accepts it, the result validates against
// Hansa's XSD when parsed back, and it round-trips.
TEST_P(RegistryTest, ExportWritesValidGlobalConfiguration) {
  seed();
  const auto ss1 = server_id("GOV", "1234", "SS1");
  ASSERT_TRUE(reg_->add_subsystem(admin(), subsystem_id("GOV", "1234", "MANAGEMENT"), "Mgmt").ok());
  ASSERT_TRUE(reg_->register_auth_cert(admin(), ss1, pki_cert("nodes/SS1/auth.pem"), "ss1").ok());
  ASSERT_TRUE(
      reg_->add_server_client(admin(), ss1, subsystem_id("GOV", "1234", "MANAGEMENT")).ok());
  ASSERT_TRUE(reg_->add_group(admin(), group_id("security-server-owners"), "Owners").ok());
  ASSERT_TRUE(
      reg_->add_group_member(admin(), group_id("security-server-owners"), member_id("GOV", "1234"))
          .ok());
  ASSERT_TRUE(reg_->add_ca(admin(), dev_ca()).ok());
  ASSERT_TRUE(
      reg_->add_tsa(admin(), {0, "TSA", "http://127.0.0.1:8899/tsa", pki_cert("tsa/tsa.pem")})
          .ok());
  Settings s = reg_->settings().value();
  s.management_service_provider = subsystem_id("GOV", "1234", "MANAGEMENT");
  s.management_service_address = "https://cs:4002/managementservice/";
  ASSERT_TRUE(reg_->update_settings(admin(), s).ok());

  auto exp = reg_->export_globalconf();
  ASSERT_TRUE(exp.ok()) << exp.error().to_string();
  // The publisher adds the configuration source; do the same here.
  exp->shared.sources.push_back(
      globalconf::ConfigurationSource{"cs.example", {pki_cert("central/conf-signing.pem")}, {}});
  auto xml = globalconf::write_shared_parameters(exp->shared);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  auto parsed = globalconf::parse_shared_parameters(*xml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->members.size(), 2u);
  ASSERT_EQ(parsed->security_servers.size(), 1u);
  EXPECT_EQ(parsed->security_servers[0].auth_cert_hashes,
            exp->shared.security_servers[0].auth_cert_hashes);
  EXPECT_EQ(parsed->approved_cas.size(), 1u);
  EXPECT_EQ(parsed->global_groups.size(), 1u);

  ASSERT_TRUE(exp->private_params.has_value());
  auto priv_xml = globalconf::write_private_parameters(*exp->private_params);
  ASSERT_TRUE(priv_xml.ok()) << priv_xml.error().to_string();
  auto priv = globalconf::parse_private_parameters(*priv_xml);
  ASSERT_TRUE(priv.ok()) << priv.error().to_string();
  EXPECT_EQ(priv->management_service.management_request_service_provider_id.to_string(),
            "SUBSYSTEM:DEV/GOV/1234/MANAGEMENT");
}

TEST_P(RegistryTest, AdminTokensAreHashedAndRevocable) {
  ASSERT_TRUE(reg_->initialize(admin(), "DEV").ok());
  auto created = reg_->create_token(admin(), "alice", AdminRole::kOperator);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->secret.starts_with("hansa_"));
  EXPECT_GE(created->secret.size(), 40u);
  auto who = reg_->authenticate(created->secret);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(who->role, AdminRole::kOperator);
  EXPECT_EQ(reg_->authenticate(created->secret + "x").error().code, FaultCode::kUnauthorized);
  EXPECT_EQ(reg_->authenticate("").error().code, FaultCode::kUnauthorized);
  EXPECT_EQ(reg_->authenticate(std::string(5000, 'a')).error().code, FaultCode::kUnauthorized);

  // The secret is not stored in clear.
  auto tx = database_.db().begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto row = tx->query_one("SELECT COUNT(*) FROM registry_admin_tokens WHERE secret_hash = $1",
                           {created->secret});
  EXPECT_EQ((*row)->int64(0).value(), 0);

  ASSERT_TRUE(reg_->revoke_token(admin(), created->token.id).ok());
  EXPECT_EQ(reg_->authenticate(created->secret).error().code, FaultCode::kUnauthorized);
  EXPECT_EQ(reg_->revoke_token(admin(), 9999).error().code, FaultCode::kNotFound);
  auto list = reg_->tokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].revoked);
  EXPECT_EQ(last_audit().action, "token.revoke");
}

TEST_P(RegistryTest, ConcurrentConflictingChangesOneWins) {
  seed();
  for (int round = 0; round < 5; ++round) {
    const auto id = member_id("GOV", "race" + std::to_string(round));
    std::atomic<int> ok{0};
    std::atomic<int> conflicts{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        auto st = reg_->add_member(admin(), id, "Racer");
        if (st.ok()) {
          ++ok;
        } else if (st.error().code == FaultCode::kConflict) {
          ++conflicts;
        } else {
          ADD_FAILURE() << st.error().to_string();
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(conflicts.load(), 1);
  }
  EXPECT_EQ(reg_->members()->total, 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param));
                         });

}  // namespace
}  // namespace hansa::central
