// Tests of node/registration: requests signed through node/signer's software token, sent over
// HTTPS to central/management's handler on an in-process core/http server (central's registry on
// SQLite), state tracking from a global configuration exported by that registry; hostile cases:
// central unreachable or hanging, a SOAP fault from central, a TLS certificate that does not match
// the pinned one. The node database is SQLite, and PostgreSQL when HANSA_TEST_PG_URI is set.

#include "node/registration/registration.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "central/management/endpoint.h"
#include "central/management/management_service.h"
#include "central/registry/registry.h"
#include "certs/hansa-trust/ocsp_responder.h"
#include "core/crypto/cert_profile.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/http/server.h"
#include "core/ocsp/response.h"
#include "node/signer/software_token.h"

namespace hansa::registration {
namespace {

namespace fs = std::filesystem;
using serverconf::RegistrationState;
using signer::CertStatus;
using signer::KeyUsage;

constexpr const char* kPin = "node-pin-1234";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path pki(const std::string& relative) { return fs::path(HANSA_TEST_PKI_DIR) / relative; }

crypto::Certificate cert(const std::string& relative) {
  return crypto::Certificate::from_pem(read_text(pki(relative))).value();
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         crypto::hex_encode(crypto::random_bytes(3));
}

ids::MemberId gov() { return ids::MemberId::create("DEV", "GOV", "1234").value(); }
ids::SecurityServerId ss1() { return ids::SecurityServerId::create(gov(), "SS1").value(); }
ids::ClientId sub1() { return ids::ClientId(ids::SubsystemId::create(gov(), "SUB1").value()); }
ids::ClientId sub2() { return ids::ClientId(ids::SubsystemId::create(gov(), "SUB2").value()); }
ids::SubsystemId provider() { return ids::SubsystemId::create(gov(), "management").value(); }

central::AuditContext operator_ctx() {
  central::AuditContext ctx;
  ctx.actor = "token:1:operator";
  ctx.source = "127.0.0.1";
  return ctx;
}

// Extension sections for `openssl x509 -req`, as the development PKI issues them.
constexpr std::string_view kExtensions = R"(
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8899/ocsp
[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
authorityKeyIdentifier = keyid
)";

class RegistrationTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    if (!fs::exists(pki("pki.env"))) {
      GTEST_SKIP() << "development PKI missing (run ctest -R dev_pki)";
    }
    std::string tmpl = (fs::temp_directory_path() / "hansa-registration-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "ext.cnf") << kExtensions;

    // --- the node ---
    std::string uri = "sqlite://" + (dir_ / "node.db").string();
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
      }
      db::DbConfig admin_cfg;
      admin_cfg.uri = base;
      admin_cfg.pool_size = 1;
      auto admin = db::Database::open(admin_cfg);
      ASSERT_TRUE(admin.ok()) << admin.error().to_string();
      admin_ = std::move(admin).value();
      schema_ = "registration_" + unique_suffix();
      admin_exec("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri = b.find("://") != std::string::npos
                ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                      schema_
                : b + " options='-csearch_path=" + schema_ + "'";
    }
    db::DbConfig cfg;
    cfg.uri = uri;
    auto db = db::Database::open(cfg);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    node_db_ = std::move(db).value();

    auto store = serverconf::ServerConfStore::open(*node_db_);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->initialize(ss1()).ok());
    ASSERT_TRUE(store_->add_client(sub1()).ok());
    ASSERT_TRUE(store_->add_client(sub2()).ok());

    signer::MemberDirectory members = [](const ids::MemberId& m) -> std::optional<std::string> {
      if (m == gov()) {
        return "Member 1234";
      }
      return std::nullopt;
    };
    auto s = signer::Signer::create(*node_db_, signer::SignerOptions{}, members,
                                    [this](const ocsp::TrackedCert& t) { return fetch_ocsp(t); });
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    signer_ = std::move(s).value();
    signer_->set_ca_certificates({cert("ca/intermediate.pem"), cert("ca/root.pem")});
    signer::SoftwareTokenOptions topts;
    topts.dir = dir_ / "token";
    topts.kdf_iterations = 1000;
    auto token = signer::SoftwareToken::initialize(topts, kPin, "soft");
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    ASSERT_TRUE(signer_->add_token(std::move(token).value()).ok());
    ASSERT_TRUE(signer_->login("soft-0", kPin).ok());
    sign_cert_ = enroll(KeyUsage::kSigning, "v3_sign");
    auth_cert_ = enroll(KeyUsage::kAuthentication, "v3_auth");

    // --- central: registry, management service, HTTPS endpoint ---
    auto cdb_cfg = db::DbConfig{};
    cdb_cfg.uri = "sqlite://" + (dir_ / "central.db").string();
    auto cdb = db::Database::open(cdb_cfg);
    ASSERT_TRUE(cdb.ok()) << cdb.error().to_string();
    central_db_ = std::move(cdb).value();
    auto reg = central::Registry::open(*central_db_);
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    registry_ = std::move(reg).value();
    auto svc = central::ManagementService::open(*central_db_, *registry_);
    ASSERT_TRUE(svc.ok()) << svc.error().to_string();
    service_ = std::move(svc).value();
    http::ServerOptions options;
    options.tls = http::ServerTlsConfig{
        read_text(pki("nodes/SS2/auth.pem")), read_text(pki("nodes/SS2/auth.key")), false, {}, {}};
    auto server = http::Server::create(options);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    central::add_management_routes(*server_, *service_);
    ASSERT_TRUE(server_->start().ok());
    seed_central("https://127.0.0.1:" + std::to_string(server_->port()) + "/managementservice/",
                 cert("nodes/SS2/auth.pem"));
    refresh_conf();

    RegistrationOptions ropts;
    ropts.connect_timeout = std::chrono::milliseconds(2'000);
    // Long enough for central's answer under sanitizers on a loaded machine (500 ms timed out
    // there), short enough that the hanging-central case stays well within its bound.
    ropts.read_timeout = std::chrono::milliseconds(2'000);
    ropts.total_timeout = std::chrono::milliseconds(10'000);
    auto r = Registration::create(
        *node_db_, *signer_, *store_, [this] { return conf_; }, ropts);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    registration_ = std::move(r).value();
  }

  void TearDown() override {
    registration_.reset();
    if (server_ != nullptr) {
      server_->stop();
    }
    server_.reset();
    service_.reset();
    registry_.reset();
    central_db_.reset();
    signer_.reset();
    store_.reset();
    node_db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      admin_exec("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  void admin_exec(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  // Instance DEV, class GOV, member GOV/1234 with SUB1 and SUB2, the dev CA approved, the
  // management service at `address` with TLS certificate `tls_cert`.
  void seed_central(const std::string& address, const crypto::Certificate& tls_cert) {
    auto ctx = operator_ctx();
    ASSERT_TRUE(registry_->initialize(ctx, "DEV").ok());
    ASSERT_TRUE(registry_->add_member_class(ctx, {"GOV", "Government"}).ok());
    ASSERT_TRUE(registry_->add_member(ctx, gov(), "Member 1234").ok());
    ASSERT_TRUE(registry_->add_subsystem(ctx, provider(), "Management").ok());
    ASSERT_TRUE(registry_->add_subsystem(ctx, *sub1().as_subsystem(), "First").ok());
    ASSERT_TRUE(registry_->add_subsystem(ctx, *sub2().as_subsystem(), "Second").ok());
    central::ApprovedCa ca{
        0,
        "Dev CA",
        central::CaCertificate{cert("ca/root.pem"), {}},
        {central::CaCertificate{cert("ca/intermediate.pem"),
                                {central::OcspResponder{"http://127.0.0.1:8899/ocsp", {}}}}},
        std::string(crypto::kHansaDefaultProfileName),
        false};
    ASSERT_TRUE(registry_->add_ca(ctx, ca).ok());
    auto settings = registry_->settings();
    ASSERT_TRUE(settings.ok());
    settings->management_service_provider = ids::ClientId(provider());
    settings->management_service_address = address;
    settings->management_service_cert = tls_cert;
    ASSERT_TRUE(registry_->update_settings(ctx, *settings).ok());
  }

  // What the node's configuration client would publish after downloading central's
  // configuration: a snapshot of the registry's export.
  void refresh_conf() {
    auto exp = registry_->export_globalconf();
    ASSERT_TRUE(exp.ok()) << exp.error().to_string();
    auto snap = globalconf::GlobalConfSnapshot::create(
        exp->private_params, {exp->shared},
        std::chrono::system_clock::now() + std::chrono::hours(1));
    ASSERT_TRUE(snap.ok()) << snap.error().to_string();
    conf_ = std::move(snap).value();
  }

  // Replaces the management service address / certificate in the node's configuration.
  void set_management(const std::string& address, const crypto::Certificate& tls_cert) {
    auto ctx = operator_ctx();
    auto settings = registry_->settings();
    ASSERT_TRUE(settings.ok());
    settings->management_service_address = address;
    settings->management_service_cert = tls_cert;
    ASSERT_TRUE(registry_->update_settings(ctx, *settings).ok());
    refresh_conf();
  }

  std::string issue(const std::string& csr_pem, const std::string& ext) {
    const fs::path csr = dir_ / "req.csr";
    const fs::path out = dir_ / "cert.pem";
    std::ofstream(csr) << csr_pem;
    const std::string serial = "1" + crypto::hex_encode(crypto::random_bytes(8)).substr(1);
    const std::string cmd = "openssl x509 -req -in " + csr.string() + " -CA " +
                            pki("ca/intermediate.pem").string() + " -CAkey " +
                            pki("ca/intermediate.key").string() + " -set_serial 0x" + serial +
                            " -days 30 -sha256 -extfile " + (dir_ / "ext.cnf").string() +
                            " -extensions " + ext + " -out " + out.string() + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return read_text(out);
  }

  signer::CertInfo enroll(KeyUsage usage, const std::string& ext) {
    auto key = signer_->generate_key("soft-0", signer::KeyAlgorithm::kRsa2048, "key");
    EXPECT_TRUE(key.ok()) << key.error().to_string();
    auto csr = signer_->generate_csr(signer::CsrRequest{key->id, usage, gov(), "SS1"});
    EXPECT_TRUE(csr.ok()) << csr.error().to_string();
    auto c = signer_->import_certificate(issue(csr->pem, ext));
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    std::string serial = c->certificate.serial_hex();
    for (auto& ch : serial) {
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (serial.size() % 2 != 0) {
      serial = "0" + serial;
    }
    index_ += "V\t301231235959Z\t\t" + serial + "\tunknown\t/CN=x\n";
    return *c;
  }

  // An in-process hansa-trust responder answering for the certificates enrolled above.
  Result<ocsp::OcspResponse> fetch_ocsp(const ocsp::TrackedCert& t) {
    std::ofstream(dir_ / "index.txt") << index_;
    trust::OcspResponderConfig cfg;
    cfg.issuer_cert = pki("ca/intermediate.pem");
    cfg.responder_cert = pki("ocsp/ocsp.pem");
    cfg.responder_key = pki("ocsp/ocsp.key");
    cfg.index_file = dir_ / "index.txt";
    cfg.state_file = dir_ / "trust-state.json";
    auto responder = trust::OcspResponder::create(cfg);
    if (!responder.ok()) {
      return std::move(responder).error();
    }
    HANSA_ASSIGN_OR_RETURN(auto req, ocsp::build_request(t.cert, t.issuer));
    return ocsp::OcspResponse::parse((*responder)->respond(req));
  }

  RegistrationState client_state(const ids::ClientId& client) {
    for (const auto& c : store_->snapshot()->clients()) {
      if (c.id == client) {
        return c.state;
      }
    }
    ADD_FAILURE() << "no client " << client.to_string();
    return RegistrationState::kSaved;
  }

  CertStatus cert_status(const std::string& id) { return signer_->certificate(id)->status; }

  fs::path dir_;
  std::unique_ptr<db::Database> admin_;
  std::string schema_;
  std::unique_ptr<db::Database> node_db_;
  std::unique_ptr<serverconf::ServerConfStore> store_;
  std::unique_ptr<signer::Signer> signer_;
  std::string index_;
  std::optional<signer::CertInfo> sign_cert_;
  std::optional<signer::CertInfo> auth_cert_;
  std::unique_ptr<db::Database> central_db_;
  std::unique_ptr<central::Registry> registry_;
  std::unique_ptr<central::ManagementService> service_;
  std::unique_ptr<http::Server> server_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  std::unique_ptr<Registration> registration_;
};

TEST_P(RegistrationTest, AuthCertAndClientRegisteredThroughCentral) {
  // authCertReg: signed inside the token, accepted by central, recorded, in progress.
  auto auth = registration_->register_auth_cert(auth_cert_->id, "127.0.0.1");
  ASSERT_TRUE(auth.ok()) << auth.error().to_string();
  EXPECT_EQ(auth->type, management::RequestType::kAuthCertReg);
  EXPECT_EQ(auth->target, auth_cert_->id);
  EXPECT_GT(auth->central_request_id, 0);
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kRegistrationInProgress);
  auto stored = service_->get(auth->central_request_id);
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(stored->state, central::RequestState::kPending);
  EXPECT_EQ(stored->body.auth_cert_der, auth_cert_->certificate.der());
  EXPECT_EQ(stored->signer, gov());

  // Nothing in the configuration yet: sync changes nothing.
  auto none = registration_->sync_with_global_conf();
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  EXPECT_TRUE(none->certs_registered.empty());
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kRegistrationInProgress);

  ASSERT_TRUE(service_->approve(operator_ctx(), auth->central_request_id).ok());

  // clientReg for SUB1 (signed by the owner member's signing key).
  auto client = registration_->register_client(sub1(), "First");
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  EXPECT_EQ(client_state(sub1()), RegistrationState::kRegistrationInProgress);
  EXPECT_EQ(service_->get(client->central_request_id)->state, central::RequestState::kPending);
  ASSERT_TRUE(service_->approve(operator_ctx(), client->central_request_id).ok());

  // The next configuration lists both: sync marks them registered.
  refresh_conf();
  auto synced = registration_->sync_with_global_conf();
  ASSERT_TRUE(synced.ok()) << synced.error().to_string();
  ASSERT_EQ(synced->certs_registered.size(), 1u);
  EXPECT_EQ(synced->certs_registered[0], auth_cert_->id);
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kRegistered);
  EXPECT_EQ(client_state(sub1()), RegistrationState::kRegistered);
  EXPECT_EQ(client_state(ids::ClientId(gov())), RegistrationState::kRegistered);
  EXPECT_EQ(client_state(sub2()), RegistrationState::kSaved);
  // A second sync changes nothing.
  auto again = registration_->sync_with_global_conf();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->certs_registered.empty());
  EXPECT_TRUE(again->clients_registered.empty());

  // The request log, newest first.
  auto log = registration_->sent_requests();
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].type, management::RequestType::kClientReg);
  EXPECT_EQ((*log)[0].target, sub1().to_string());
  EXPECT_EQ((*log)[0].central_request_id, client->central_request_id);
  EXPECT_EQ((*log)[1].central_request_id, auth->central_request_id);

  // Registering again is refused locally.
  EXPECT_EQ(registration_->register_auth_cert(auth_cert_->id).error().code,
            FaultCode::kInvalidRequest);
  EXPECT_EQ(registration_->register_client(sub1()).error().code, FaultCode::kInvalidRequest);

  // clientDeletion is applied by central at once: deletion in progress; once the configuration
  // no longer lists it, the client is not registered any more.
  auto deletion = registration_->unregister_client(sub1());
  ASSERT_TRUE(deletion.ok()) << deletion.error().to_string();
  EXPECT_EQ(client_state(sub1()), RegistrationState::kDeletionInProgress);
  refresh_conf();
  ASSERT_TRUE(registration_->sync_with_global_conf().ok());
  EXPECT_EQ(client_state(sub1()), RegistrationState::kDeletionInProgress);

  // addressChange needs no approval either.
  auto address = registration_->change_address("ss1.example.org");
  ASSERT_TRUE(address.ok()) << address.error().to_string();
  refresh_conf();
  EXPECT_EQ(conf_->server_address(ss1()), "ss1.example.org");
}

TEST_P(RegistrationTest, RegisteredClientMissingFromConfigurationIsFlagged) {
  auto auth = registration_->register_auth_cert(auth_cert_->id);
  ASSERT_TRUE(auth.ok()) << auth.error().to_string();
  ASSERT_TRUE(service_->approve(operator_ctx(), auth->central_request_id).ok());
  auto client = registration_->register_client(sub2());
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  ASSERT_TRUE(service_->approve(operator_ctx(), client->central_request_id).ok());
  refresh_conf();
  ASSERT_TRUE(registration_->sync_with_global_conf().ok());
  EXPECT_EQ(client_state(sub2()), RegistrationState::kRegistered);

  // Central removes the client behind the node's back.
  ASSERT_TRUE(registry_->remove_server_client(operator_ctx(), ss1(), sub2()).ok());
  refresh_conf();
  auto synced = registration_->sync_with_global_conf();
  ASSERT_TRUE(synced.ok()) << synced.error().to_string();
  ASSERT_EQ(synced->clients_missing.size(), 1u);
  EXPECT_EQ(client_state(sub2()), RegistrationState::kGlobalError);
}

TEST_P(RegistrationTest, FaultFromCentralKeepsItsCode) {
  // A second authCertReg for the same certificate while the first is pending: central refuses
  // with a SOAP fault whose code comes back unchanged.
  ASSERT_TRUE(registration_->register_auth_cert(auth_cert_->id).ok());
  auto again = registration_->register_auth_cert(auth_cert_->id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, FaultCode::kConflict) << again.error().to_string();
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kRegistrationInProgress);
  // The same for a second clientReg of one client while the first is pending.
  ASSERT_TRUE(registration_->register_client(sub1()).ok());
  auto client = registration_->register_client(sub1());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, FaultCode::kConflict) << client.error().to_string();
  EXPECT_EQ(client_state(sub1()), RegistrationState::kRegistrationInProgress);
  // Only the accepted requests are logged.
  auto log = registration_->sent_requests();
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 2u);
}

TEST_P(RegistrationTest, TlsCertificateMismatchIsRefused) {
  set_management("https://127.0.0.1:" + std::to_string(server_->port()) + "/managementservice/",
                 cert("nodes/SS1/auth.pem"));
  auto r = registration_->register_auth_cert(auth_cert_->id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kSslAuthenticationFailed) << r.error().to_string();
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kSaved);
  EXPECT_EQ(service_->list({})->total, 0);
}

TEST_P(RegistrationTest, CentralUnreachableOrHanging) {
  // Nothing listens: NetworkError.
  const int closed = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(closed, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(closed, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int closed_port = ntohs(addr.sin_port);
  ::close(closed);
  set_management("https://127.0.0.1:" + std::to_string(closed_port) + "/",
                 cert("nodes/SS2/auth.pem"));
  auto unreachable = registration_->register_client(sub1());
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, FaultCode::kNetworkError) << unreachable.error().to_string();

  // A central that accepts the connection and never answers: Timeout within the read timeout.
  const int hang = ::socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(hang, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(hang, 8), 0);
  len = sizeof addr;
  ASSERT_EQ(::getsockname(hang, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  set_management("https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/",
                 cert("nodes/SS2/auth.pem"));
  const auto start = std::chrono::steady_clock::now();
  auto hanging = registration_->register_auth_cert(auth_cert_->id);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(hang);
  ASSERT_FALSE(hanging.ok());
  EXPECT_TRUE(hanging.error().code == FaultCode::kTimeout ||
              hanging.error().code == FaultCode::kSslAuthenticationFailed)
      << hanging.error().to_string();
  EXPECT_LT(took, std::chrono::seconds(8));
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kSaved);
  EXPECT_EQ(client_state(sub1()), RegistrationState::kSaved);
}

TEST_P(RegistrationTest, RefusedBeforeSending) {
  // Unknown certificate and client, wrong usage, the owner member, no configuration.
  EXPECT_EQ(registration_->register_auth_cert("00").error().code, FaultCode::kCertNotFound);
  EXPECT_EQ(registration_->register_auth_cert(sign_cert_->id).error().code,
            FaultCode::kWrongCertUsage);
  auto sub3 = ids::ClientId(ids::SubsystemId::create(gov(), "SUB3").value());
  EXPECT_EQ(registration_->register_client(sub3).error().code, FaultCode::kNotFound);
  EXPECT_EQ(registration_->register_client(ids::ClientId(gov())).error().code,
            FaultCode::kInvalidRequest);
  EXPECT_EQ(registration_->change_address("").error().code, FaultCode::kInvalidRequest);
  conf_.reset();
  EXPECT_EQ(registration_->register_auth_cert(auth_cert_->id).error().code,
            FaultCode::kInvalidConfiguration);
  auto synced = registration_->sync_with_global_conf();
  ASSERT_TRUE(synced.ok());
  EXPECT_TRUE(synced->certs_registered.empty());
  // Logged out: the key is not available, nothing is sent.
  refresh_conf();
  ASSERT_TRUE(signer_->logout("soft-0").ok());
  auto out = registration_->register_auth_cert(auth_cert_->id);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(service_->list({})->total, 0);
  EXPECT_EQ(cert_status(auth_cert_->id), CertStatus::kSaved);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistrationTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const ::testing::TestParamInfo<db::Backend>& info) {
                           return info.param == db::Backend::kSqlite ? std::string("Sqlite")
                                                                     : std::string("Postgres");
                         });

}  // namespace
}  // namespace hansa::registration
