// Tests of hansa-central's configuration, `init`, `anchor` and an in-process `serve`, on SQLite
// and (when HANSA_TEST_PG_URI is set) PostgreSQL.

#include "central/daemon/central_daemon.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "central/daemon/central_conf.h"
#include "central/registry/registry.h"
#include "core/db/database.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/client.h"
#include "core/mime/content_type.h"

namespace hansa::central {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPgEnv = "HANSA_TEST_PG_URI";

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

std::string with_search_path(const std::string& uri, const std::string& schema) {
  if (uri.find("://") != std::string::npos) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  return uri + " options='-csearch_path=" + schema + "'";
}

std::filesystem::path make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-central-XXXXXX").string();
  HANSA_CHECK(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// ---- Configuration ----

TEST(CentralConf, MinimalFileGetsDocumentedDefaults) {
  auto c = parse_central_conf("[instance]\nidentifier = \"EE\"\n", "/etc/hansa");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->instance_identifier, "EE");
  EXPECT_EQ(c->database.uri, "sqlite:///etc/hansa/var/central.db");
  EXPECT_EQ(c->admin.host, "127.0.0.1");
  EXPECT_EQ(c->admin.port, 4000);
  EXPECT_EQ(c->management.port, 4001);
  EXPECT_EQ(c->publisher.port, 8080);
  EXPECT_EQ(c->publisher_public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->management_public_url, "https://127.0.0.1:4001/managementservice/");
  EXPECT_EQ(c->signing_key_file, "/etc/hansa/var/signing/conf-signing.key.pem");
  EXPECT_EQ(c->regeneration_interval, 60s);
  EXPECT_FALSE(c->configuration_validity.has_value());
  EXPECT_FALSE(c->auto_approve_auth_cert_reg);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->management.body_timeout, 20s);
  EXPECT_EQ(c->publisher.min_body_rate, 4096u);
}

TEST(CentralConf, PostgresUriIsKeptAsGiven) {
  auto c = parse_central_conf(
      "[instance]\nidentifier = \"EE\"\n[database]\nuri = \"postgresql://u@db/central\"\n", "/x");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->database.uri, "postgresql://u@db/central");
}

TEST(CentralConf, ListsEveryProblemAtOnce) {
  const char* toml = R"(
[instance]
identifier = "E E"
management_service_provider = "MEMBER:EE/GOV/1"
[admin_api]
listen_port = 70000
min_body_rate = -1
[management]
public_url = "http://cs.example.org:4001/"
[publisher]
regeneration_interval = 900
configuration_validity = 600
[signing]
key_type = "dsa"
[logging]
level = "loud"
[unknown_section]
x = 1
)";
  auto c = parse_central_conf(toml, "/x", "central.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, FaultCode::kInvalidConfiguration);
  const std::string& m = c.error().message;
  for (const char* key :
       {"instance.identifier", "instance.management_service_provider", "admin_api.listen_port",
        "admin_api.min_body_rate", "management.public_url", "publisher.regeneration_interval",
        "signing.key_type", "logging.level", "unknown_section"}) {
    EXPECT_NE(m.find(key), std::string::npos) << key << " missing in:\n" << m;
  }
}

TEST(CentralConf, MissingInstanceIsReported) {
  auto c = parse_central_conf("", "/x");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("instance.identifier"), std::string::npos);
}

TEST(CentralConf, ExampleConfigurationLoads) {
  auto c =
      load_central_conf(std::filesystem::path(HANSA_SOURCE_DIR) / "deploy/examples/central.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->instance_identifier, "EE");
}

// ---- init / anchor / serve ----

class CentralDaemonTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    std::string db_line = "uri = \"var/central.db\"";
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv(kPgEnv);
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << kPgEnv << " is not set: PostgreSQL tests skipped";
      }
      schema_ = "cd_" + unique_suffix();
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      admin_ = db::Database::open(admin_config).value();
      exec_admin("CREATE SCHEMA " + schema_);
      db_line = "uri = \"" + with_search_path(base, schema_) + "\"";
    }
    const std::string toml = R"(
[instance]
identifier = "EE"
management_service_provider = "SUBSYSTEM:EE/GOV/CENTRAL/MANAGEMENT"
[database]
)" + db_line + R"(
[admin_api]
listen_port = 0
[management]
listen_host = "127.0.0.1"
listen_port = 0
public_url = "https://127.0.0.1:4001/managementservice/"
[publisher]
listen_host = "127.0.0.1"
listen_port = 0
public_url = "http://127.0.0.1:8080"
regeneration_interval = 1
[signing]
key_type = "ec-p256"
[logging]
level = "warn"
)";
    config_file_ = dir_ / "central.toml";
    std::ofstream(config_file_) << toml;
    auto c = load_central_conf(config_file_);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    conf_ = std::move(c).value();
  }

  void TearDown() override {
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  std::filesystem::path dir_;
  std::filesystem::path config_file_;
  std::string schema_;
  std::unique_ptr<db::Database> admin_;
  std::optional<CentralConf> conf_;
};

TEST_P(CentralDaemonTest, InitCreatesInstanceKeysAndTokenOnceOnly) {
  auto out = init_central(*conf_);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->instance_identifier, "EE");
  EXPECT_TRUE(out->signing_key_generated);
  EXPECT_TRUE(out->management_tls_generated);
  EXPECT_TRUE(out->admin_token.starts_with("hansa_")) << out->admin_token;
  EXPECT_EQ(out->anchor_hash.size(), 28u * 3 - 1);  // SHA-224 as AB:CD:...

  // The private keys are readable by the owner only.
  for (const auto& key : {conf_->signing_key_file, conf_->management_tls_key_file}) {
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0077, 0u) << key;
  }

  // The token works and is stored hashed; the provider is set for private-params.
  {
    auto db = db::Database::open(conf_->database).value();
    auto registry = Registry::open(*db).value();
    auto token = registry->authenticate(out->admin_token);
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    EXPECT_EQ(token->role, AdminRole::kOperator);
    auto settings = registry->settings().value();
    ASSERT_TRUE(settings.management_service_provider.has_value());
    EXPECT_EQ(settings.management_service_address, "https://127.0.0.1:4001/managementservice/");
  }

  // A second init refuses and changes nothing (the keys stay).
  const auto key_before = std::filesystem::last_write_time(conf_->signing_key_file);
  auto again = init_central(*conf_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, FaultCode::kConflict);
  EXPECT_EQ(std::filesystem::last_write_time(conf_->signing_key_file), key_before);

  // The anchor names the instance, the download URL and the signing certificate.
  auto anchor_xml = export_anchor(*conf_);
  ASSERT_TRUE(anchor_xml.ok()) << anchor_xml.error().to_string();
  auto anchor = globalconf::parse_configuration_anchor(*anchor_xml);
  ASSERT_TRUE(anchor.ok()) << anchor.error().to_string();
  EXPECT_EQ(anchor->instance_identifier, "EE");
  ASSERT_EQ(anchor->sources.size(), 1u);
  EXPECT_EQ(anchor->sources[0].download_url, "http://127.0.0.1:8080/internalconf");
  EXPECT_EQ(anchor->sources[0].verification_certs.size(), 1u);
}

TEST_P(CentralDaemonTest, InitKeepsExistingSigningKeyFiles) {
  auto generated = generate_signing_key(conf_->signing_key_file, conf_->signing_cert_file,
                                        "pre-made", SigningKeyType::kEcP256);
  ASSERT_TRUE(generated.ok());
  auto out = init_central(*conf_);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_FALSE(out->signing_key_generated);
  auto anchor = globalconf::parse_configuration_anchor(export_anchor(*conf_).value()).value();
  EXPECT_EQ(anchor.sources[0].verification_certs[0], generated->cert);
}

TEST_P(CentralDaemonTest, ServeRefusesBeforeInit) {
  // The TLS files do not exist yet, and neither does the instance.
  auto server = CentralServer::create(*conf_);
  ASSERT_FALSE(server.ok());
  EXPECT_FALSE(export_anchor(*conf_).ok());
}

TEST_P(CentralDaemonTest, ServePublishesVerifiableConfigurationAndAnswersAdminApi) {
  auto out = init_central(*conf_);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  auto server = CentralServer::create(*conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  ASSERT_NE((*server)->publisher_port(), 0);
  ASSERT_NE((*server)->admin_port(), 0);
  ASSERT_NE((*server)->management_port(), 0);

  auto anchor = globalconf::parse_configuration_anchor(export_anchor(*conf_).value()).value();
  auto client =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->publisher_port()))
          .value();
  std::optional<http::ClientResponse> got;
  for (int i = 0; i < 100 && !got; ++i) {
    auto r = client->get("/internalconf?version=6");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    if (r->status == 200) {
      got = std::move(r).value();
    } else {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(got.has_value());
  auto ct = mime::ContentType::parse(got->header("Content-Type").value()).value();
  auto verified = globalconf::verify_signed_directory(ct, got->body, anchor,
                                                      globalconf::DirectoryVerifyOptions{});
  ASSERT_TRUE(verified.ok()) << verified.error().to_string();
  auto priv = verified->find(globalconf::kPrivateParametersContentId, "EE");
  ASSERT_EQ(priv.size(), 1u);
  auto file = client->get(priv[0]->content_location);
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->status, 200);
  ASSERT_TRUE(globalconf::verify_file(*priv[0], file->body).ok());
  auto params = globalconf::parse_private_parameters(file->body);
  ASSERT_TRUE(params.ok()) << params.error().to_string();
  EXPECT_EQ(params->management_service.auth_cert_reg_service_address,
            "https://127.0.0.1:4001/managementservice/");
  EXPECT_TRUE(params->management_service.auth_cert_reg_service_cert.has_value());

  auto old = client->get("/internalconf?version=5");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->status, 404);

  // The admin API answers with the initial token and refuses without it.
  auto admin =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->admin_port())).value();
  auto anon = admin->get("/api/v1/members");
  ASSERT_TRUE(anon.ok());
  EXPECT_EQ(anon->status, 401);
  auto members = admin->get("/api/v1/members", {{"Authorization", "Bearer " + out->admin_token}});
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->status, 200) << members->body;

  (*server)->stop();
  (*server)->stop();
}

// GET /health and GET /metrics: no token, on the admin port by default; health turns failed when
// the signing key is gone.
TEST_P(CentralDaemonTest, HealthAndMetricsEndpoints) {
  auto out = init_central(*conf_);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  auto server = CentralServer::create(*conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  EXPECT_EQ((*server)->monitoring_port(), (*server)->admin_port());
  auto client =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->monitoring_port()))
          .value();
  std::optional<nlohmann::json> health;
  for (int i = 0; i < 100; ++i) {  // the publisher publishes at start
    auto r = client->get("/health");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    health = nlohmann::json::parse(r->body);
    if ((*health)["status"] == "ok") {
      EXPECT_EQ(r->status, 200);
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ((*health)["status"], "ok") << health->dump();
  EXPECT_EQ((*health)["component"], "central");
  ASSERT_EQ((*health)["checks"].size(), 3u);
  auto m = client->get("/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("# TYPE hansa_central_last_publish_age_seconds gauge"), std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("hansa_central_configuration_expiry_timestamp_seconds "),
            std::string::npos);
  EXPECT_NE(m->body.find("hansa_central_signing_certificate_expiry_timestamp_seconds{key_id=\"1\","
                         "state=\"active\"}"),
            std::string::npos);

  // The signing key file disappears: signing is impossible, the load balancer must know.
  std::filesystem::remove(conf_->signing_key_file);
  auto r = client->get("/health");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["checks"][1]["name"], "signing_key");
  EXPECT_EQ(j["checks"][1]["status"], "failed");
  (*server)->stop();
}

TEST_P(CentralDaemonTest, HealthOnADedicatedPort) {
  ASSERT_TRUE(init_central(*conf_).ok());
  conf_->monitoring_dedicated_port = true;
  conf_->monitoring.host = "127.0.0.1";
  conf_->monitoring.port = 0;
  auto server = CentralServer::create(*conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  EXPECT_NE((*server)->monitoring_port(), (*server)->admin_port());
  auto client =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->monitoring_port()))
          .value();
  auto r = client->get("/metrics");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  // The admin API is not on the monitoring port.
  auto api = client->get("/api/v1/members");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404);
  (*server)->stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, CentralDaemonTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const ::testing::TestParamInfo<db::Backend>& info) {
                           return info.param == db::Backend::kSqlite ? std::string("Sqlite")
                                                                     : std::string("Postgres");
                         });

}  // namespace
}  // namespace hansa::central
