// Tests of the node admin API with a real server on port 0, on SQLite and (when HANSA_TEST_PG_URI
// is set) PostgreSQL: keys -> CSR -> certificate signed by the development CA -> import ->
// active; clients, descriptions, services, endpoints, access rights, local groups; token auth and
// roles; hostile input (unknown fields, 10 MB bodies, bad identifiers, wrong PIN, CSR for an
// unknown member, a certificate matching no key, a malformed WSDL), each audited and with nothing
// half-stored; pagination; and the route/OpenAPI document match.

#include "node/api/admin_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "central/api/admin_client.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/http/server.h"
#include "node/api/admin_store.h"
#include "node/registration/registration.h"
#include "node/serverconf/store.h"
#include "node/signer/signer.h"
#include "node/signer/software_token.h"
#include "tests/unit/node/serverconf/test_documents.h"

namespace hansa::nodeapi {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kPin = "correct-horse-battery";

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> read_env(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || line.starts_with("#")) {
      continue;
    }
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) {
      v = v.substr(1, v.size() - 2);
    }
    out[line.substr(0, eq)] = v;
  }
  return out;
}

constexpr std::string_view kExtensions = R"(
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
authorityKeyIdentifier = keyid
[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
authorityKeyIdentifier = keyid
)";

class NodeApiTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    tmp_ = fs::temp_directory_path() / ("hansa-nodeapi-" + unique_suffix());
    fs::create_directories(tmp_);
    std::string uri;
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
      }
      db::DbConfig ac;
      ac.uri = base;
      ac.pool_size = 1;
      auto admin = db::Database::open(ac);
      ASSERT_TRUE(admin.ok()) << admin.error().to_string();
      pg_admin_ = std::move(admin).value();
      schema_ = "nodeapi_" + unique_suffix();
      pg_exec("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri = b.find("://") != std::string::npos
                ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                      schema_
                : b + " options='-csearch_path=" + schema_ + "'";
    } else {
      uri = "sqlite://" + (tmp_ / "node.db").string();
    }
    db::DbConfig cfg;
    cfg.uri = uri;
    auto db = db::Database::open(cfg);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();

    auto conf = serverconf::ServerConfStore::open(*db_);
    ASSERT_TRUE(conf.ok()) << conf.error().to_string();
    conf_ = std::move(conf).value();
    server_id_ = ids::SecurityServerId::create("EE", "GOV", "1234", "SS1").value();
    ASSERT_TRUE(conf_->initialize(server_id_).ok());

    auto store = AdminStore::open(*db_);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
    const AuditContext ctx{"test", ""};
    operator_ = store_->create_token(ctx, "op", AdminRole::kOperator).value().secret;
    auditor_ = store_->create_token(ctx, "aud", AdminRole::kAuditor).value().secret;
    reader_ = store_->create_token(ctx, "ro", AdminRole::kReadOnly).value().secret;

    signer::SoftwareTokenOptions topts;
    topts.dir = tmp_ / "token";
    topts.kdf_iterations = 1000;
    auto token = signer::SoftwareToken::initialize(topts, kPin, "soft");
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    soft_ = token->get();
    serverconf::ServerConfStore* sc = conf_.get();
    auto s = signer::Signer::create(
        *db_, signer::SignerOptions{}, [sc](const ids::MemberId& m) -> std::optional<std::string> {
          auto snap = sc->snapshot();
          for (const auto& c : snap->clients()) {
            if (c.id.member_class() == m.member_class() && c.id.member_code() == m.member_code()) {
              return "Member " + m.member_code();
            }
          }
          return std::nullopt;
        });
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    signer_ = std::move(s).value();
    ASSERT_TRUE(signer_->add_token(std::move(token).value()).ok());
    // No global configuration: registration requests are refused with a clear error.
    auto reg = registration::Registration::create(*db_, *signer_, *conf_, [] {
      return std::shared_ptr<const globalconf::GlobalConfSnapshot>();
    });
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    registration_ = std::move(reg).value();

    http::ServerOptions so;
    so.port = 0;
    so.max_body_bytes = 32 << 20;  // the API's own caps answer first
    auto server = http::Server::create(so);
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    api_ = std::make_unique<NodeAdminApi>(NodeApiServices{.admin = store_.get(),
                                                          .serverconf = conf_.get(),
                                                          .confclient = nullptr,
                                                          .signer = signer_.get(),
                                                          .registration = registration_.get(),
                                                          .software_tokens = {soft_}});
    api_->register_routes(*server_);
    ASSERT_TRUE(server_->start().ok());
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    server_.reset();
    api_.reset();
    registration_.reset();
    signer_.reset();
    store_.reset();
    conf_.reset();
    db_.reset();
    if (pg_admin_ != nullptr) {
      pg_exec("DROP SCHEMA " + schema_ + " CASCADE");
    }
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  void pg_exec(const std::string& sql) {
    auto tx = pg_admin_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  central::AdminResponse call(const std::string& method, const std::string& target,
                              const std::string& body = {}, const std::string& token = {}) {
    auto client = central::AdminClient::create(
        "http://127.0.0.1:" + std::to_string(server_->port()), token.empty() ? operator_ : token);
    EXPECT_TRUE(client.ok());
    auto r = (*client)->request(method, "/api/v1" + target, body);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : central::AdminResponse{};
  }

  static Json json_of(const central::AdminResponse& r) {
    return r.body.empty() ? Json() : Json::parse(r.body, nullptr, false);
  }

  // The newest audit entry.
  AuditEntry last_audit() {
    auto page = store_->audit_log(AuditQuery{.limit = 1});
    EXPECT_TRUE(page.ok() && !page->items.empty());
    return page.ok() && !page->items.empty() ? page->items.front() : AuditEntry{};
  }

  std::string issue(const std::string& csr_pem, const std::string& ext) {
    const fs::path pki = HANSA_TEST_PKI_DIR;
    auto env = read_env(pki / "pki.env");
    std::ofstream(tmp_ / "ext.cnf") << kExtensions;
    std::ofstream(tmp_ / "req.csr") << csr_pem;
    const std::string serial = "1" + crypto::hex_encode(crypto::random_bytes(8)).substr(1);
    const std::string cmd = "openssl x509 -req -in " + (tmp_ / "req.csr").string() + " -CA " +
                            env["INTERMEDIATE_CA_CERT"] + " -CAkey " + env["INTERMEDIATE_CA_KEY"] +
                            " -set_serial 0x" + serial + " -days 30 -sha256 -extfile " +
                            (tmp_ / "ext.cnf").string() + " -extensions " + ext + " -out " +
                            (tmp_ / "cert.pem").string() + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return read_text(tmp_ / "cert.pem");
  }

  bool have_pki() const { return fs::exists(fs::path(HANSA_TEST_PKI_DIR) / "pki.env"); }

  fs::path tmp_;
  std::string schema_;
  std::unique_ptr<db::Database> pg_admin_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<serverconf::ServerConfStore> conf_;
  std::unique_ptr<AdminStore> store_;
  std::unique_ptr<signer::Signer> signer_;
  std::unique_ptr<registration::Registration> registration_;
  signer::SoftwareToken* soft_ = nullptr;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<NodeAdminApi> api_;
  ids::SecurityServerId server_id_ =
      ids::SecurityServerId::create("EE", "GOV", "1234", "SS1").value();
  std::string operator_, auditor_, reader_;
};

TEST_P(NodeApiTest, StatusShowsTheNodeAndItsToken) {
  auto r = call("GET", "/status");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json_of(r);
  EXPECT_EQ(j["server"], "SERVER:EE/GOV/1234/SS1");
  EXPECT_EQ(j["initialised"], true);
  ASSERT_EQ(j["tokens"].size(), 1u);
  EXPECT_EQ(j["tokens"][0]["id"], "soft-0");
  EXPECT_EQ(j["tokens"][0]["logged_in"], false);
  // Without a configuration client its routes answer 503.
  EXPECT_EQ(call("GET", "/globalconf").status, 503);
}

TEST_P(NodeApiTest, KeysCsrCertificateFlowWithTheDevelopmentCa) {
  if (!have_pki()) {
    GTEST_SKIP() << "development PKI missing (run through ctest)";
  }
  // Wrong PIN: refused, audited, still logged out.
  auto bad = call("POST", "/tokens/soft-0/login", R"({"pin":"wrong-pin-123"})");
  EXPECT_EQ(bad.status, 403) << bad.body;
  EXPECT_EQ(json_of(bad)["type"], "PinIncorrect");
  auto audit = last_audit();
  EXPECT_EQ(audit.action, "POST /api/v1/tokens/{token}/login");
  EXPECT_EQ(audit.result, "PinIncorrect");
  EXPECT_EQ(audit.detail.find("wrong-pin"), std::string::npos);
  EXPECT_EQ(json_of(call("GET", "/tokens/soft-0"))["logged_in"], false);

  ASSERT_EQ(call("POST", "/tokens/soft-0/login", std::string(R"({"pin":")") + kPin + "\"}").status,
            200);
  // Sign key and CSR (PEM download) for the owner.
  auto key = call("POST", "/tokens/soft-0/keys", R"({"algorithm":"RSA-2048","label":"sign"})");
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string key_id = json_of(key)["id"];
  auto csr = call("POST", "/keys/" + key_id + "/csrs", R"({"usage":"SIGNING"})");
  ASSERT_EQ(csr.status, 201) << csr.body;
  EXPECT_EQ(csr.content_type.rfind("application/x-pem-file", 0), 0u);
  ASSERT_NE(csr.body.find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
  EXPECT_EQ(json_of(call("GET", "/csrs"))["total"], 1);

  // Signed by the development CA, imported: registered and active.
  const std::string cert_pem = issue(csr.body, "v3_sign");
  ASSERT_FALSE(cert_pem.empty());
  auto imported = call("POST", "/certificates", Json{{"cert", cert_pem}}.dump());
  ASSERT_EQ(imported.status, 201) << imported.body;
  auto cj = json_of(imported);
  EXPECT_EQ(cj["key_id"], key_id);
  EXPECT_EQ(cj["usage"], "SIGNING");
  EXPECT_EQ(cj["active"], true);
  EXPECT_EQ(cj["member"], "MEMBER:EE/GOV/1234");
  const std::string cert_id = cj["id"];

  // Deactivate and activate again; OCSP status is readable.
  auto off = call("PUT", "/certificates/" + cert_id + "/active", R"({"active":false})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(json_of(off)["active"], false);
  EXPECT_EQ(
      json_of(call("PUT", "/certificates/" + cert_id + "/active", R"({"active":true})"))["active"],
      true);
  EXPECT_EQ(call("GET", "/certificates/" + cert_id + "/ocsp").status, 200);
  auto list = json_of(call("GET", "/certificates"));
  EXPECT_EQ(list["total"], 1);

  // Authentication key: CSR as JSON, certificate imported saved and inactive.
  auto akey = call("POST", "/tokens/soft-0/keys", R"({"label":"auth"})");
  ASSERT_EQ(akey.status, 201);
  const std::string akey_id = json_of(akey)["id"];
  auto acsr =
      call("POST", "/keys/" + akey_id + "/csrs?format=json", R"({"usage":"AUTHENTICATION"})");
  ASSERT_EQ(acsr.status, 201) << acsr.body;
  EXPECT_NE(json_of(acsr)["subject"].get<std::string>().find("SS1"), std::string::npos);
  auto aimp =
      call("POST", "/certificates", Json{{"cert", issue(json_of(acsr)["pem"], "v3_auth")}}.dump());
  ASSERT_EQ(aimp.status, 201) << aimp.body;
  EXPECT_EQ(json_of(aimp)["status"], "SAVED");

  // Delete the certificate, then the key.
  EXPECT_EQ(call("DELETE", "/certificates/" + cert_id).status, 204);
  EXPECT_EQ(call("DELETE", "/keys/" + key_id).status, 204);
  EXPECT_EQ(call("GET", "/keys/" + key_id).status, 404);
}

TEST_P(NodeApiTest, SignerHostileInput) {
  ASSERT_EQ(call("POST", "/tokens/soft-0/login", std::string(R"({"pin":")") + kPin + "\"}").status,
            200);
  auto key = call("POST", "/tokens/soft-0/keys", R"({})");
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string key_id = json_of(key)["id"];
  // CSR for a member the node does not know: refused, no CSR stored.
  auto csr = call("POST", "/keys/" + key_id + "/csrs",
                  R"({"usage":"SIGNING","member_class":"COM","member_code":"999"})");
  EXPECT_GE(csr.status, 400) << csr.body;
  EXPECT_EQ(json_of(csr)["type"], "UnknownMember");
  EXPECT_EQ(last_audit().result, "UnknownMember");
  EXPECT_EQ(json_of(call("GET", "/csrs"))["total"], 0);
  // A bad usage name.
  EXPECT_EQ(call("POST", "/keys/" + key_id + "/csrs", R"({"usage":"BOTH"})").status, 400);
  // A certificate that matches no key (a self-signed certificate made here).
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=Foreign -keyout " +
                          (tmp_ / "f.key").string() + " -out " + (tmp_ / "f.pem").string() +
                          " -days 1 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto foreign = call("POST", "/certificates", Json{{"cert", read_text(tmp_ / "f.pem")}}.dump());
  EXPECT_GE(foreign.status, 400);
  EXPECT_EQ(json_of(call("GET", "/certificates"))["total"], 0);
  // Garbage certificate.
  auto garbage = call("POST", "/certificates", R"({"cert":"bm90IGEgY2VydA=="})");
  EXPECT_EQ(garbage.status, 400) << garbage.body;
  // Unknown token.
  EXPECT_EQ(call("POST", "/tokens/nope/login", R"({"pin":"x"})").status, 404);
  // PIN change: wrong old PIN refused; right one works and the new PIN logs in.
  EXPECT_EQ(call("PUT", "/tokens/soft-0/pin",
                 R"({"old_pin":"wrong-pin-123","new_pin":"another-pin-456"})")
                .status,
            403);
  ASSERT_EQ(call("PUT", "/tokens/soft-0/pin",
                 std::string(R"({"old_pin":")") + kPin + R"(","new_pin":"another-pin-456"})")
                .status,
            200);
  EXPECT_EQ(call("POST", "/tokens/soft-0/logout").status, 200);
  EXPECT_EQ(call("POST", "/tokens/soft-0/login", R"({"pin":"another-pin-456"})").status, 200);
}

TEST_P(NodeApiTest, ClientsDescriptionsServicesAccessAndGroups) {
  auto add = call("POST", "/clients",
                  R"({"member_class":"GOV","member_code":"1234","subsystem_code":"sub"})");
  ASSERT_EQ(add.status, 201) << add.body;
  EXPECT_EQ(json_of(add)["registration_state"], "saved");
  EXPECT_EQ(call("POST", "/clients",
                 R"({"member_class":"GOV","member_code":"1234","subsystem_code":"sub"})")
                .status,
            409);

  // Upload an OpenAPI description.
  auto desc = call("POST", "/clients/GOV:1234:sub/descriptions",
                   Json{{"type", "openapi3"},
                        {"url", "pets.json"},
                        {"service_code", "pets"},
                        {"document", serverconf::testing::pets_openapi_json()}}
                       .dump());
  ASSERT_EQ(desc.status, 201) << desc.body;
  const auto desc_id = json_of(desc)["id"].get<std::int64_t>();
  auto services = json_of(call("GET", "/clients/GOV:1234:sub/services"));
  ASSERT_EQ(services["total"], 1);
  EXPECT_EQ(services["items"][0]["service_code"], "pets");

  // Provider URL and timeout.
  auto patched = call("PATCH", "/clients/GOV:1234:sub/services/pets",
                      R"({"url":"http://127.0.0.1:9/pets","timeout_seconds":30})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json_of(patched)["items"][0]["timeout_seconds"], 30);

  // Endpoints: generated ones listed; a manual one added and removed.
  auto eps = json_of(call("GET", "/clients/GOV:1234:sub/services/pets/endpoints"));
  ASSERT_GE(eps["total"].get<int>(), 1);
  auto ep = call("POST", "/clients/GOV:1234:sub/services/pets/endpoints",
                 R"({"method":"GET","path":"/extra/{id}"})");
  ASSERT_EQ(ep.status, 201) << ep.body;
  const auto ep_id = json_of(ep)["id"].get<std::int64_t>();

  // Access rights for a subsystem, service-wide and on one endpoint.
  ASSERT_EQ(call("POST", "/clients",
                 R"({"member_class":"GOV","member_code":"1234","subsystem_code":"consumer"})")
                .status,
            201);
  auto grant = call("POST", "/clients/GOV:1234:sub/services/pets/access",
                    R"({"subject":"SUBSYSTEM:EE/GOV/1234/consumer"})");
  ASSERT_EQ(grant.status, 201) << grant.body;
  auto grant_ep =
      call("POST", "/clients/GOV:1234:sub/services/pets/access",
           Json{{"subject", "SUBSYSTEM:EE/GOV/1234/consumer"}, {"endpoint_id", ep_id}}.dump());
  ASSERT_EQ(grant_ep.status, 201) << grant_ep.body;
  EXPECT_EQ(json_of(call("GET", "/clients/GOV:1234:sub/services/pets/access"))["total"], 2);
  EXPECT_EQ(call("POST", "/clients/GOV:1234:sub/services/pets/access/revoke",
                 Json{{"subject", "SUBSYSTEM:EE/GOV/1234/consumer"}, {"endpoint_id", ep_id}}.dump())
                .status,
            204);
  EXPECT_EQ(call("DELETE", "/clients/GOV:1234:sub/services/pets/endpoints/" + std::to_string(ep_id))
                .status,
            204);

  // Local groups.
  ASSERT_EQ(
      call("POST", "/clients/GOV:1234:sub/local-groups", R"({"code":"admins","description":"A"})")
          .status,
      201);
  auto member = call("POST", "/clients/GOV:1234:sub/local-groups/admins/members",
                     R"({"member":"GOV:1234:consumer"})");
  ASSERT_EQ(member.status, 201) << member.body;
  EXPECT_EQ(json_of(member)["members"][0], "SUBSYSTEM:EE/GOV/1234/consumer");
  EXPECT_EQ(
      call("DELETE", "/clients/GOV:1234:sub/local-groups/admins/members/GOV:1234:consumer").status,
      204);

  // IS connection type and an IS certificate.
  auto type = call("PUT", "/clients/GOV:1234:sub/connection-type", R"({"connection_type":"http"})");
  ASSERT_EQ(type.status, 200) << type.body;
  EXPECT_EQ(json_of(type)["connection_type"], "http");
  EXPECT_EQ(
      call("PUT", "/clients/GOV:1234:sub/connection-type", R"({"connection_type":"ftp"})").status,
      400);

  // Description disable/enable, refresh with a new document, delete.
  auto dis = call("PUT", "/descriptions/" + std::to_string(desc_id) + "/enabled",
                  R"({"enabled":false,"disabled_notice":"maintenance"})");
  ASSERT_EQ(dis.status, 200) << dis.body;
  EXPECT_EQ(json_of(dis)["enabled"], false);
  auto refreshed = call("POST", "/descriptions/" + std::to_string(desc_id) + "/refresh",
                        Json{{"document", serverconf::testing::pets_openapi_json()}}.dump());
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(call("DELETE", "/descriptions/" + std::to_string(desc_id)).status, 204);
  EXPECT_EQ(json_of(call("GET", "/clients/GOV:1234:sub/services"))["total"], 0);

  // A REST service by base URL.
  auto rest = call("POST", "/clients/GOV:1234:sub/descriptions",
                   R"({"type":"rest","url":"http://127.0.0.1:9/api","service_code":"api"})");
  EXPECT_EQ(rest.status, 201) << rest.body;

  // Pagination.
  auto page = json_of(call("GET", "/clients?limit=1&offset=1"));
  EXPECT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(call("GET", "/clients?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/clients?limit=100000").status, 400);

  // Delete the client.
  EXPECT_EQ(call("DELETE", "/clients/GOV:1234:sub").status, 204);
  EXPECT_EQ(call("GET", "/clients/GOV:1234:sub").status, 404);
}

TEST_P(NodeApiTest, HostileInputIsRefusedAuditedAndNothingIsStored) {
  const auto clients_before = json_of(call("GET", "/clients"))["total"];
  // Unknown field.
  auto unknown = call("POST", "/clients",
                      R"({"member_class":"GOV","member_code":"1","subsystem_code":"x","evil":1})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(json_of(unknown)["message"].get<std::string>().find("evil"), std::string::npos);
  auto audit = last_audit();
  EXPECT_EQ(audit.action, "POST /api/v1/clients");
  EXPECT_EQ(audit.result, "BadRequest");
  EXPECT_EQ(audit.actor.rfind("token:", 0), 0u);
  // 10 MB body, on a JSON route and on an upload route.
  const std::string big = "{\"document\":\"" + std::string(10 << 20, 'a') + "\"}";
  EXPECT_EQ(call("POST", "/clients", big).status, 413);
  EXPECT_EQ(last_audit().result, "LimitExceeded");
  EXPECT_EQ(call("POST", "/clients/GOV:1234/descriptions", big).status, 413);
  // Bad identifiers, in the path and in bodies.
  EXPECT_EQ(call("GET", "/clients/GOV").status, 400);
  EXPECT_EQ(call("POST", "/clients", R"({"member_class":"G/V","member_code":"1"})").status, 400);
  EXPECT_EQ(call("POST", "/clients/GOV:1234/services/x/access", R"({"subject":"NOPE:x"})").status,
            400);
  // Malformed JSON, wrong types, wrong content type, deep nesting.
  EXPECT_EQ(call("POST", "/clients", "{\"member_class\":").status, 400);
  EXPECT_EQ(call("POST", "/clients", R"({"member_class":1,"member_code":"1"})").status, 400);
  EXPECT_EQ(call("POST", "/clients", std::string(100, '[') + std::string(100, ']')).status, 400);
  EXPECT_EQ(json_of(call("GET", "/clients"))["total"], clients_before);

  // Malformed WSDL and OpenAPI uploads: refused, no description stored.
  auto wsdl = call("POST", "/clients/GOV:1234/descriptions",
                   R"({"type":"wsdl","url":"bad.wsdl","document":"<definitions><unclosed>"})");
  EXPECT_EQ(wsdl.status, 400) << wsdl.body;
  EXPECT_EQ(last_audit().result, json_of(wsdl)["type"]);
  auto openapi = call("POST", "/clients/GOV:1234/descriptions",
                      R"({"type":"openapi3","url":"bad.json","service_code":"s","document":"{"})");
  EXPECT_GE(openapi.status, 400);
  EXPECT_EQ(json_of(call("GET", "/clients/GOV:1234/descriptions"))["total"], 0);
  EXPECT_EQ(json_of(call("GET", "/clients/GOV:1234/services"))["total"], 0);

  // Unknown routes and methods.
  EXPECT_EQ(call("GET", "/nothing").status, 404);
  EXPECT_EQ(call("PATCH", "/clients").status, 405);
}

TEST_P(NodeApiTest, TokensAndRoles) {
  // No token, a malformed one, an unknown one: 401, audited.
  auto client =
      central::AdminClient::create("http://127.0.0.1:" + std::to_string(server_->port()), "");
  ASSERT_TRUE(client.ok());
  auto none = (*client)->request("GET", "/api/v1/clients");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(last_audit().action, "api.auth");
  EXPECT_EQ(call("GET", "/clients", "", "hansa_unknown").status, 401);
  EXPECT_EQ(last_audit().result, "Unauthorized");

  // read-only: reads, but no changes and no audit log.
  EXPECT_EQ(call("GET", "/clients", "", reader_).status, 200);
  EXPECT_EQ(call("POST", "/clients", R"({"member_class":"GOV","member_code":"9"})", reader_).status,
            403);
  EXPECT_EQ(last_audit().result, "Forbidden");
  EXPECT_EQ(call("GET", "/audit", "", reader_).status, 403);
  // auditor: the audit log, but no changes.
  auto log = call("GET", "/audit?action=api.&limit=5", "", auditor_);
  ASSERT_EQ(log.status, 200);
  EXPECT_GE(json_of(log)["total"].get<int>(), 2);
  EXPECT_EQ(call("POST", "/tokens/soft-0/logout", "", auditor_).status, 403);

  // Admin tokens: create, use, revoke.
  auto created = call("POST", "/admin-tokens", R"({"name":"ci","role":"read-only"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string secret = json_of(created)["secret"];
  const auto id = json_of(created)["id"].get<std::int64_t>();
  EXPECT_EQ(call("GET", "/status", "", secret).status, 200);
  EXPECT_EQ(call("POST", "/admin-tokens", R"({"name":"x","role":"root"})").status, 400);
  EXPECT_EQ(call("DELETE", "/admin-tokens/" + std::to_string(id)).status, 204);
  EXPECT_EQ(call("GET", "/status", "", secret).status, 401);
  auto tokens = json_of(call("GET", "/admin-tokens"));
  for (const auto& t : tokens["items"]) {
    EXPECT_FALSE(t.contains("secret"));
  }
}

TEST_P(NodeApiTest, RegistrationWithoutConfigurationIsRefusedClearly) {
  ASSERT_EQ(call("POST", "/clients",
                 R"({"member_class":"GOV","member_code":"1234","subsystem_code":"sub"})")
                .status,
            201);
  auto reg = call("POST", "/clients/GOV:1234:sub/register", R"({})");
  EXPECT_GE(reg.status, 400) << reg.body;
  EXPECT_FALSE(json_of(reg)["message"].get<std::string>().empty());
  EXPECT_EQ(last_audit().action, "POST /api/v1/clients/{client}/register");
  EXPECT_NE(last_audit().result, "ok");
  // Nothing changed: still saved, no request recorded.
  EXPECT_EQ(json_of(call("GET", "/clients/GOV:1234:sub"))["registration_state"], "saved");
  EXPECT_EQ(json_of(call("GET", "/registration/requests"))["total"], 0);
  EXPECT_EQ(call("POST", "/clients/GOV:1234:sub/register", R"({"name":"x"})").status, 400);
  EXPECT_EQ(call("PUT", "/server/address", R"({})").status, 400);
  EXPECT_EQ(call("POST", "/certificates/abc/register", R"({})").status >= 400, true);
}

INSTANTIATE_TEST_SUITE_P(Backends, NodeApiTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param));
                         });

// Every route the API serves is documented in schemas/node-admin-api.yaml, and every documented
// operation is served.
TEST(NodeApiDocument, EveryRouteIsInTheOpenApiDocument) {
  std::ifstream in(std::string(HANSA_SOURCE_DIR) + "/schemas/node-admin-api.yaml");
  ASSERT_TRUE(in.good());
  std::set<std::string> documented;
  std::string line;
  std::string current_path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) {
      continue;
    }
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      break;
    }
    if (line.starts_with("  /") && line.ends_with(":")) {
      current_path = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* method : {"get", "post", "put", "patch", "delete"}) {
      if (line == std::string("    ") + method + ":") {
        std::string upper(method);
        for (auto& ch : upper) {
          ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        documented.insert(upper + " " + current_path);
      }
    }
  }
  ASSERT_FALSE(documented.empty());
  const fs::path tmp = fs::temp_directory_path() / ("hansa-nodeapi-doc-" + unique_suffix());
  fs::create_directories(tmp);
  db::DbConfig cfg;
  cfg.uri = "sqlite://" + (tmp / "node.db").string();
  auto db = db::Database::open(cfg);
  ASSERT_TRUE(db.ok());
  auto store = AdminStore::open(**db);
  ASSERT_TRUE(store.ok());
  NodeAdminApi api(NodeApiServices{.admin = store->get()});
  std::set<std::string> served;
  for (const auto& r : api.routes()) {
    served.insert(r.method + " " + r.path);
  }
  for (const auto& s : served) {
    EXPECT_TRUE(documented.count(s)) << s << " is served but not documented";
  }
  for (const auto& d : documented) {
    EXPECT_TRUE(served.count(d)) << d << " is documented but not served";
  }
  store->reset();
  db->reset();
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace
}  // namespace hansa::nodeapi
