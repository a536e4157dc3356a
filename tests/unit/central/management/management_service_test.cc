// Tests of central/management on SQLite and (when HANSA_TEST_PG_URI is set) PostgreSQL, with the
// development PKI and hansa-trust's OCSP responder in-process.

#include "central/management/management_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "central/management/endpoint.h"
#include "certs/hansa-trust/ocsp_responder.h"
#include "certs/hansa-trust/trust_server.h"
#include "core/crypto/cert_profile.h"
#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/key.h"
#include "core/http/client.h"
#include "core/http/server.h"
#include "core/management/request.h"
#include "core/management/sender.h"
#include "core/ocsp/response.h"

namespace hansa::central {
namespace {

using management::RequestBody;
using management::RequestType;
namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path pki(const std::string& relative) { return fs::path(HANSA_TEST_PKI_DIR) / relative; }

crypto::Certificate cert(const std::string& relative) {
  auto c = crypto::Certificate::from_pem(read_text(pki(relative)));
  if (!c.ok()) {
    ADD_FAILURE() << "cannot read " << relative << ": " << c.error().to_string()
                  << " (run the dev_pki fixture: ctest -R dev_pki)";
    std::abort();
  }
  return std::move(c).value();
}

crypto::PrivateKey key(const std::string& relative) {
  auto k = crypto::PrivateKey::from_pem(read_text(pki(relative)));
  if (!k.ok()) {
    ADD_FAILURE() << "cannot read " << relative << ": " << k.error().to_string();
    std::abort();
  }
  return std::move(k).value();
}

crypto::SignatureAlgorithm algorithm_for(const crypto::PrivateKey& k) {
  return k.type() == crypto::KeyType::kEc ? crypto::SignatureAlgorithm::kEcdsaSha256
                                          : crypto::SignatureAlgorithm::kRsaSha256;
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

ids::MemberId gov() { return ids::MemberId::create("DEV", "GOV", "1234").value(); }
ids::MemberId com() { return ids::MemberId::create("DEV", "COM", "4321").value(); }
ids::SecurityServerId ss1() { return ids::SecurityServerId::create(gov(), "SS1").value(); }
ids::SubsystemId com_sub() { return ids::SubsystemId::create(com(), "sub-1").value(); }
ids::SubsystemId provider() { return ids::SubsystemId::create(gov(), "management").value(); }

AuditContext operator_ctx() {
  AuditContext ctx;
  ctx.actor = "token:1:operator";
  ctx.source = "127.0.0.1";
  return ctx;
}

// One signing identity: key and certificate paths in the dev PKI.
struct Identity {
  std::string key;
  std::string cert;
};
const Identity kGovSign{"members/DEV_GOV_1234/sign.key", "members/DEV_GOV_1234/sign.pem"};
const Identity kComSign{"members/DEV_COM_4321/sign.key", "members/DEV_COM_4321/sign.pem"};
const Identity kRevokedSign{"variants/sign-revoked.key", "variants/sign-revoked.pem"};
const Identity kUntrustedSign{"untrusted/sign.key", "untrusted/sign.pem"};
const Identity kSs1Auth{"nodes/SS1/auth.key", "nodes/SS1/auth.pem"};

class ManagementServiceTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
      }
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      auto admin = db::Database::open(admin_config);
      ASSERT_TRUE(admin.ok()) << admin.error().to_string();
      admin_ = std::move(admin).value();
      schema_ = "mgmt_" + unique_suffix();
      exec_admin("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri_ = b.find("://") != std::string::npos
                 ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                       schema_
                 : b + " options='-csearch_path=" + schema_ + "'";
    }
    std::string tmpl = (fs::temp_directory_path() / "hansa-mgmt-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    if (uri_.empty()) {
      uri_ = "sqlite://" + (dir_ / "central.db").string();
    }
    db::DbConfig config;
    config.uri = uri_;
    auto db = db::Database::open(config);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();
    auto reg = Registry::open(*db_);
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    registry_ = std::move(reg).value();
    seed();

    auto trust = trust::dev_pki_config(HANSA_TEST_PKI_DIR, dir_ / "trust-state.json");
    auto responder = trust::OcspResponder::create(trust.ocsp);
    ASSERT_TRUE(responder.ok()) << responder.error().to_string();
    responder_ = std::move(responder).value();
    open_service({});
  }

  void TearDown() override {
    service_.reset();
    registry_.reset();
    db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  // Instance DEV, classes GOV and COM, members GOV/1234 and COM/4321, the dev CA approved, the
  // management service provider GOV/1234/management.
  void seed() {
    auto ctx = operator_ctx();
    ASSERT_TRUE(registry_->initialize(ctx, "DEV").ok());
    ASSERT_TRUE(registry_->add_member_class(ctx, {"GOV", "Government"}).ok());
    ASSERT_TRUE(registry_->add_member_class(ctx, {"COM", "Commercial"}).ok());
    ASSERT_TRUE(registry_->add_member(ctx, gov(), "Member 1234").ok());
    ASSERT_TRUE(registry_->add_member(ctx, com(), "Member 4321").ok());
    ASSERT_TRUE(registry_->add_subsystem(ctx, provider(), "Management").ok());
    ApprovedCa ca{0,
                  "Dev CA",
                  CaCertificate{cert("ca/root.pem"), {}},
                  {CaCertificate{cert("ca/intermediate.pem"),
                                 {OcspResponder{"http://127.0.0.1:8899/ocsp", {}}}}},
                  std::string(crypto::kHansaDefaultProfileName),
                  false};
    auto id = registry_->add_ca(ctx, ca);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    auto settings = registry_->settings();
    ASSERT_TRUE(settings.ok());
    settings->management_service_provider = ids::ClientId(provider());
    ASSERT_TRUE(registry_->update_settings(ctx, *settings).ok());
  }

  void open_service(ManagementServiceOptions options) {
    service_.reset();
    auto svc = ManagementService::open(*db_, *registry_, std::move(options));
    ASSERT_TRUE(svc.ok()) << svc.error().to_string();
    service_ = std::move(svc).value();
  }

  // A fresh OCSP response for a certificate issued by the dev intermediate.
  std::string ocsp_for(const crypto::Certificate& c) {
    auto req = ocsp::build_request(c.der(), cert("ca/intermediate.pem").der());
    EXPECT_TRUE(req.ok());
    return responder_->respond(*req);
  }

  management::BuiltRequest build(RequestBody body, const Identity& signer,
                                 const Identity& auth = kSs1Auth, std::string message_id = {},
                                 std::string ocsp = {}) {
    const auto signer_cert = cert(signer.cert);
    management::RequestToSign in{
        std::move(body),
        ids::ClientId(provider()),
        std::move(message_id),
        {algorithm_for(key(signer.key)), management::key_signer(key(signer.key))},
        signer_cert.der(),
        ocsp.empty() ? ocsp_for(signer_cert) : std::move(ocsp),
        std::nullopt};
    if (in.body.type == RequestType::kAuthCertReg) {
      in.auth = management::SigningParty{algorithm_for(key(auth.key)),
                                         management::key_signer(key(auth.key))};
    }
    auto built = management::build_request(in);
    EXPECT_TRUE(built.ok()) << built.error().to_string();
    return std::move(built).value();
  }

  RequestBody auth_cert_reg() {
    return RequestBody::auth_cert_reg(ss1(), cert(kSs1Auth.cert).der(), "ss1.example.org");
  }

  Result<SubmitResult> submit(const management::BuiltRequest& b) {
    return service_->submit(b.content_type, b.body, "192.0.2.10");
  }

  std::int64_t version() { return registry_->change_version().value(); }
  std::int64_t stored() { return service_->list({}).value().total; }

  AuditEntry last_audit() {
    auto page = registry_->audit_log({});
    EXPECT_TRUE(page.ok());
    EXPECT_FALSE(page->items.empty());
    return page->items.front();
  }

  // A refused request: the expected code, a refusal in the audit log, nothing stored or changed.
  void expect_refused(const Result<SubmitResult>& r, FaultCode code, std::int64_t version_before,
                      std::int64_t stored_before, std::string_view message_part = {}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    if (!message_part.empty()) {
      EXPECT_NE(r.error().to_string().find(message_part), std::string::npos)
          << r.error().to_string();
    }
    auto entry = last_audit();
    EXPECT_EQ(entry.action, "management.request.refused");
    EXPECT_EQ(entry.result, fault_name(code));
    EXPECT_EQ(entry.source, "192.0.2.10");
    EXPECT_EQ(version(), version_before);
    EXPECT_EQ(stored(), stored_before);
  }

  std::unique_ptr<db::Database> admin_;
  std::string schema_;
  fs::path dir_;
  std::string uri_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<trust::OcspResponder> responder_;
  std::unique_ptr<ManagementService> service_;
};

TEST_P(ManagementServiceTest, AuthCertRegPendingThenApproved) {
  const auto v0 = version();
  auto r = submit(build(auth_cert_reg(), kGovSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->state, RequestState::kPending);
  EXPECT_EQ(version(), v0);  // nothing applied yet
  EXPECT_EQ(registry_->server(ss1()).error().code, FaultCode::kNotFound);

  // The response carries the requestId.
  auto resp = management::parse_response(r->response_soap);
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_EQ(resp->request_id, r->request_id);
  EXPECT_EQ(resp->request.body.type, RequestType::kAuthCertReg);

  auto stored_req = service_->get(r->request_id);
  ASSERT_TRUE(stored_req.ok()) << stored_req.error().to_string();
  EXPECT_EQ(stored_req->state, RequestState::kPending);
  EXPECT_EQ(stored_req->signer, gov());
  EXPECT_EQ(stored_req->origin, "192.0.2.10");
  EXPECT_EQ(stored_req->body.auth_cert_der, cert(kSs1Auth.cert).der());
  EXPECT_EQ(last_audit().action, "management.authCertReg.received");

  ASSERT_TRUE(service_->approve(operator_ctx(), r->request_id).ok());
  auto server = registry_->server(ss1());
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  EXPECT_EQ(server->address, "ss1.example.org");
  ASSERT_EQ(server->auth_certs.size(), 1u);
  EXPECT_EQ(server->auth_certs[0].hash,
            cert(kSs1Auth.cert).fingerprint(crypto::DigestAlgorithm::kSha256));
  auto after = service_->get(r->request_id);
  EXPECT_EQ(after->state, RequestState::kApproved);
  EXPECT_EQ(after->decided_by, "token:1:operator");
  EXPECT_TRUE(after->decided_at.has_value());
  EXPECT_GT(version(), v0);

  // Approving twice is refused and audited.
  auto again = service_->approve(operator_ctx(), r->request_id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, FaultCode::kConflict);
  EXPECT_EQ(last_audit().action, "management.request.approve");
  EXPECT_EQ(last_audit().result, "Conflict");
}

TEST_P(ManagementServiceTest, ClientRegPendingThenApproved) {
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "ss1").ok());
  // The subsystem's owner (COM/4321) signs; the server owner sends.
  auto r = submit(build(RequestBody::client_reg(ss1(), com_sub(), "Sub one"), kComSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->state, RequestState::kPending);
  EXPECT_TRUE(registry_->server(ss1())->clients.empty());

  auto pending = service_->list({RequestState::kPending, std::nullopt, {}});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->total, 1);
  EXPECT_EQ(pending->items[0].body.client, ids::ClientId(com_sub()));
  EXPECT_EQ(pending->items[0].body.subsystem_name, "Sub one");

  ASSERT_TRUE(service_->approve(operator_ctx(), r->request_id).ok());
  auto server = registry_->server(ss1());
  ASSERT_EQ(server->clients.size(), 1u);
  EXPECT_EQ(server->clients[0], ids::ClientId(com_sub()));
  EXPECT_EQ(service_->list({RequestState::kPending, std::nullopt, {}})->total, 0);
  EXPECT_EQ(service_->list({RequestState::kApproved, RequestType::kClientReg, {}})->total, 1);
}

TEST_P(ManagementServiceTest, AutoApproval) {
  ManagementServiceOptions options;
  options.auto_approve_auth_cert_reg = true;
  options.auto_approve_client_reg = true;
  open_service(options);
  auto r = submit(build(auth_cert_reg(), kGovSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->state, RequestState::kApproved);
  EXPECT_EQ(service_->get(r->request_id)->decided_by, "auto-approval");
  ASSERT_TRUE(registry_->server(ss1()).ok());

  auto c = submit(build(RequestBody::client_reg(ss1(), com_sub()), kComSign));
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->state, RequestState::kApproved);
  EXPECT_EQ(registry_->server(ss1())->clients.size(), 1u);

  // The registry refuses a duplicate registration: refused as a whole, nothing stored.
  const auto v = version();
  expect_refused(submit(build(RequestBody::client_reg(ss1(), com_sub()), kComSign)),
                 FaultCode::kConflict, v, 2, "registered on the server already");
}

TEST_P(ManagementServiceTest, AutoApprovalRefusedByRegistryStaysPending) {
  ManagementServiceOptions options;
  options.auto_approve_client_reg = true;
  open_service(options);
  // The server does not exist yet: the registry refuses, the request waits for an operator.
  auto r = submit(build(RequestBody::client_reg(ss1(), com_sub()), kComSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->state, RequestState::kPending);
  EXPECT_NE(service_->get(r->request_id)->comment.find("auto-approval refused"), std::string::npos);
}

TEST_P(ManagementServiceTest, AddressChangeNeedsNoApproval) {
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "old.example.org").ok());
  auto r = submit(build(RequestBody::address_change(ss1(), "new.example.org"), kGovSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->state, RequestState::kApproved);
  EXPECT_EQ(registry_->server(ss1())->address, "new.example.org");
}

TEST_P(ManagementServiceTest, AddressChangeOfUnknownServerIsRefused) {
  const auto v0 = version();
  auto r = submit(build(RequestBody::address_change(ss1(), "new.example.org"), kGovSign));
  expect_refused(r, FaultCode::kNotFound, v0, 0);
}

TEST_P(ManagementServiceTest, ClientDeletionRevokesPendingRegistration) {
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "ss1").ok());
  auto reg = submit(build(RequestBody::client_reg(ss1(), com_sub()), kComSign));
  ASSERT_TRUE(reg.ok());
  auto del = submit(build(RequestBody::client_deletion(ss1(), com_sub()), kComSign));
  ASSERT_TRUE(del.ok()) << del.error().to_string();
  EXPECT_EQ(del->state, RequestState::kApproved);
  EXPECT_EQ(service_->get(reg->request_id)->state, RequestState::kRevoked);
  // Approving the revoked registration is refused.
  EXPECT_EQ(service_->approve(operator_ctx(), reg->request_id).error().code, FaultCode::kConflict);
}

TEST_P(ManagementServiceTest, ClientDeletionRemovesRegisteredClient) {
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "ss1").ok());
  ASSERT_TRUE(registry_->add_server_client(operator_ctx(), ss1(), com_sub(), true).ok());
  auto del = submit(build(RequestBody::client_deletion(ss1(), com_sub()), kComSign));
  ASSERT_TRUE(del.ok()) << del.error().to_string();
  EXPECT_TRUE(registry_->server(ss1())->clients.empty());
}

TEST_P(ManagementServiceTest, OwnerChangeApproved) {
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "ss1").ok());
  ASSERT_TRUE(registry_->add_server_client(operator_ctx(), ss1(), com()).ok());
  auto r = submit(build(RequestBody::owner_change(ss1(), com()), kComSign));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(service_->approve(operator_ctx(), r->request_id).ok());
  EXPECT_TRUE(registry_->server(ids::SecurityServerId::create(com(), "SS1").value()).ok());
}

TEST_P(ManagementServiceTest, RejectIsFinal) {
  auto r = submit(build(auth_cert_reg(), kGovSign));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(service_->reject(operator_ctx(), r->request_id, "unknown node").ok());
  auto req = service_->get(r->request_id);
  EXPECT_EQ(req->state, RequestState::kRejected);
  EXPECT_EQ(req->comment, "unknown node");
  EXPECT_EQ(last_audit().action, "management.request.reject");
  EXPECT_EQ(service_->approve(operator_ctx(), r->request_id).error().code, FaultCode::kConflict);
  EXPECT_EQ(service_->reject(operator_ctx(), r->request_id, "x").error().code,
            FaultCode::kConflict);
  EXPECT_EQ(service_->reject(operator_ctx(), 999, "x").error().code, FaultCode::kNotFound);
  EXPECT_EQ(service_->get(999).error().code, FaultCode::kNotFound);
  EXPECT_FALSE(registry_->server(ss1()).ok());
}

// --- hostile input ---

TEST_P(ManagementServiceTest, BadSignatureIsRefused) {
  auto b = build(auth_cert_reg(), kGovSign);
  // Flip one byte inside the SOAP part after signing.
  auto pos = b.body.find("ss1.example.org");
  ASSERT_NE(pos, std::string::npos);
  b.body[pos] = 'x';
  expect_refused(submit(b), FaultCode::kInvalidSignatureValue, version(), 0);
}

TEST_P(ManagementServiceTest, SignatureByAnotherKeyIsRefused) {
  // Signed with COM's key but carrying GOV's certificate.
  const Identity mixed{kComSign.key, kGovSign.cert};
  expect_refused(submit(build(auth_cert_reg(), mixed)), FaultCode::kInvalidSignatureValue,
                 version(), 0);
}

TEST_P(ManagementServiceTest, BadProofOfPossessionIsRefused) {
  // The auth signature is made with the member's signing key, not the auth key.
  const Identity wrong_auth{kGovSign.key, kSs1Auth.cert};
  expect_refused(submit(build(auth_cert_reg(), kGovSign, wrong_auth)),
                 FaultCode::kInvalidSignatureValue, version(), 0, "proof of possession");
}

TEST_P(ManagementServiceTest, UnapprovedCaIsRefused) {
  // untrusted/sign.pem has GOV/1234's subject but an unrelated root; OCSP for it is never good.
  const auto untrusted = cert(kUntrustedSign.cert);
  expect_refused(submit(build(auth_cert_reg(), kUntrustedSign, kSs1Auth, {}, "not-ocsp")),
                 FaultCode::kCertValidation, version(), 0, "not trusted");
}

TEST_P(ManagementServiceTest, RevokedCertificateIsRefused) {
  expect_refused(submit(build(auth_cert_reg(), kRevokedSign)), FaultCode::kCertValidation,
                 version(), 0, "revoked");
}

TEST_P(ManagementServiceTest, OcspOfAnotherCertificateIsRefused) {
  auto b = build(auth_cert_reg(), kGovSign, kSs1Auth, {}, ocsp_for(cert(kComSign.cert)));
  expect_refused(submit(b), FaultCode::kCertValidation, version(), 0);
}

TEST_P(ManagementServiceTest, StaleOcspIsRefused) {
  auto b = build(auth_cert_reg(), kGovSign);
  ManagementServiceOptions options;
  // Two hours later the response is older than ocspFreshnessSeconds (3600).
  options.clock = [] { return std::chrono::system_clock::now() + std::chrono::hours(2); };
  open_service(options);
  expect_refused(submit(b), FaultCode::kCertValidation, version(), 0);
}

TEST_P(ManagementServiceTest, ReplayIsRefused) {
  auto b = build(auth_cert_reg(), kGovSign);
  auto first = submit(b);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  expect_refused(submit(b), FaultCode::kConflict, version(), 1, "replayed");
  // A new message with the same id is a replay too.
  auto same_id = build(RequestBody::address_change(ss1(), "x.example.org"), kGovSign, kSs1Auth,
                       first.ok() ? service_->get(first->request_id)->message_id : "");
  expect_refused(submit(same_id), FaultCode::kConflict, version(), 1, "replayed");
}

TEST_P(ManagementServiceTest, DuplicatePendingRequestIsRefused) {
  auto first = submit(build(auth_cert_reg(), kGovSign));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  // A new message (new id, new signature) for the same certificate while the first is pending.
  expect_refused(submit(build(auth_cert_reg(), kGovSign)), FaultCode::kConflict, version(), 1,
                 "pending already");
  // Once decided, the certificate may be sent again.
  ASSERT_TRUE(service_->reject(operator_ctx(), first->request_id, "typo").ok());
  EXPECT_TRUE(submit(build(auth_cert_reg(), kGovSign)).ok());
}

TEST_P(ManagementServiceTest, RequestForAnotherMemberIsRefused) {
  // COM/4321's valid certificate signs GOV/1234's server registration.
  expect_refused(submit(build(auth_cert_reg(), kComSign)), FaultCode::kAccessDenied, version(), 0,
                 "MEMBER:DEV/COM/4321");
  // GOV/1234 signs the registration of COM/4321's subsystem.
  ASSERT_TRUE(registry_->add_server(operator_ctx(), ss1(), "ss1").ok());
  expect_refused(submit(build(RequestBody::client_reg(ss1(), com_sub()), kGovSign)),
                 FaultCode::kAccessDenied, version(), 0);
}

TEST_P(ManagementServiceTest, OtherServiceProviderIsRefused) {
  auto body = auth_cert_reg();
  const auto signer_cert = cert(kGovSign.cert);
  management::RequestToSign in{
      body,
      ids::ClientId(com()),
      {},
      {crypto::SignatureAlgorithm::kRsaSha256, management::key_signer(key(kGovSign.key))},
      signer_cert.der(),
      ocsp_for(signer_cert),
      management::SigningParty{crypto::SignatureAlgorithm::kRsaSha256,
                               management::key_signer(key(kSs1Auth.key))}};
  auto b = management::build_request(in);
  ASSERT_TRUE(b.ok());
  expect_refused(submit(*b), FaultCode::kUnknownService, version(), 0);
}

TEST_P(ManagementServiceTest, TruncatedAndGarbageMultipartAreRefused) {
  auto b = build(auth_cert_reg(), kGovSign);
  expect_refused(
      service_->submit(b.content_type, b.body.substr(0, b.body.size() / 2), "192.0.2.10"),
      FaultCode::kMimeParsingFailed, version(), 0);
  expect_refused(service_->submit(b.content_type, "garbage\x01\xff", "192.0.2.10"),
                 FaultCode::kMimeParsingFailed, version(), 0);
  expect_refused(service_->submit("application/json", b.body, "192.0.2.10"),
                 FaultCode::kInvalidContentType, version(), 0);
}

TEST_P(ManagementServiceTest, TenMegabyteBodyIsRefused) {
  std::string big(10 * 1024 * 1024, 'x');
  expect_refused(service_->submit("multipart/related; boundary=b", big, "192.0.2.10"),
                 FaultCode::kLimitExceeded, version(), 0);
}

TEST_P(ManagementServiceTest, HttpEndpoint) {
  http::ServerOptions options;
  auto server = http::Server::create(options);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  add_management_routes(**server, *service_);
  ASSERT_TRUE((*server)->start().ok());
  auto client = http::Client::create("http://127.0.0.1:" + std::to_string((*server)->port()));
  ASSERT_TRUE(client.ok());

  auto b = build(auth_cert_reg(), kGovSign);
  auto res = (*client)->post(kManagementServicePath, b.body, b.content_type);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("Content-Type").value_or(""), management::kResponseContentType);
  auto parsed = management::parse_response(res->body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(service_->get(parsed->request_id)->state, RequestState::kPending);

  // A replay gets a SOAP fault with the X-Road code.
  auto replay = (*client)->post(kManagementServicePath, b.body, b.content_type);
  ASSERT_TRUE(replay.ok());
  EXPECT_NE(replay->status, 200);
  EXPECT_NE(replay->body.find("<faultcode>Client.Conflict</faultcode>"), std::string::npos)
      << replay->body;
  auto fault = management::parse_response(replay->body);
  ASSERT_FALSE(fault.ok());
  EXPECT_EQ(fault.error().code, FaultCode::kConflict);

  auto garbage = (*client)->post("/managementservice", "junk", "multipart/related; boundary=z");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(management::parse_response(garbage->body).error().code, FaultCode::kMimeParsingFailed);
  (*server)->stop();
}

TEST_P(ManagementServiceTest, HttpsEndpointWithPinnedCertificate) {
  // The node pins central's TLS certificate (private-params) and sends with send_request.
  http::ServerOptions options;
  options.tls = http::ServerTlsConfig{
      read_text(pki("nodes/SS2/auth.pem")), read_text(pki("nodes/SS2/auth.key")), false, {}, {}};
  auto server = http::Server::create(options);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  add_management_routes(**server, *service_);
  ASSERT_TRUE((*server)->start().ok());
  http::ClientOptions client_options;
  client_options.tls.pinned_cert_pem = read_text(pki("nodes/SS2/auth.pem"));
  auto client = http::Client::create("https://127.0.0.1:" + std::to_string((*server)->port()),
                                     client_options);
  ASSERT_TRUE(client.ok()) << client.error().to_string();

  auto b = build(auth_cert_reg(), kGovSign);
  auto r = management::send_request(**client, b);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(service_->get(r->request_id)->state, RequestState::kPending);
  auto refused = management::send_request(**client, build(auth_cert_reg(), kComSign));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kAccessDenied);
  (*server)->stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, ManagementServiceTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const ::testing::TestParamInfo<db::Backend>& info) {
                           return info.param == db::Backend::kSqlite ? std::string("Sqlite")
                                                                     : std::string("Postgres");
                         });

}  // namespace
}  // namespace hansa::central
