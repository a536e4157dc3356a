// Tests of hansa-node's configuration (defaults, every problem listed), `init` (creates database,
// owner, software token and admin token; refuses a second time and changes nothing; a bad PIN
// stores nothing), `serve` in-process (the admin API answers with the init token; stop is clean),
// and `hansactl node ...` against the running API. SQLite always, PostgreSQL when
// HANSA_TEST_PG_URI is set.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "central/api/admin_client.h"
#include "node/daemon/node_conf.h"
#include "node/daemon/node_daemon.h"
#include "tools/hansactl/cli.h"

namespace hansa::node {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

TEST(NodeConf, DefaultsAreUsableAndDocumented) {
  auto c = parse_node_conf("", "/srv/node");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->database.uri, "sqlite:///srv/node/var/node.db");
  EXPECT_EQ(c->state_dir, fs::path("/srv/node/var"));
  EXPECT_EQ(c->token_type, TokenType::kSoftware);
  EXPECT_EQ(c->software_token_dir, fs::path("/srv/node/var/token"));
  EXPECT_EQ(c->admin_host, "127.0.0.1");
  EXPECT_EQ(c->admin_port, 4100);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_FALSE(c->token_pin.has_value());
  EXPECT_EQ(c->memory_trim_interval, std::chrono::seconds(10));
}

TEST(NodeConf, MemoryTrimIntervalCanBeSetOrTurnedOff) {
  auto off = parse_node_conf("[node]\nmemory_trim_interval = 0\n", "/srv/node");
  ASSERT_TRUE(off.ok()) << off.error().to_string();
  EXPECT_EQ(off->memory_trim_interval.count(), 0);
  auto slow = parse_node_conf("[node]\nmemory_trim_interval = 60\n", "/srv/node");
  ASSERT_TRUE(slow.ok()) << slow.error().to_string();
  EXPECT_EQ(slow->memory_trim_interval, std::chrono::seconds(60));
  auto bad = parse_node_conf("[node]\nmemory_trim_interval = -1\n", "/srv/node");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("node.memory_trim_interval"), std::string::npos)
      << bad.error().message;
}

TEST(NodeConf, ExampleFileIsValid) {
  auto c = load_node_conf(fs::path(HANSA_SOURCE_DIR) / "deploy/examples/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
}

TEST(NodeConf, EveryProblemIsListed) {
  auto c = parse_node_conf(R"(
[admin_api]
listen_port = 70000
tls_cert_file = "cert.pem"
[token]
type = "pkcs11"
[logging]
level = "loud"
[globalconf]
refresh_interval = 0
[surprise]
x = 1
)",
                           "/tmp");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, FaultCode::kInvalidConfiguration);
  const auto& m = c.error().message;
  for (const char* key :
       {"admin_api.listen_port", "admin_api.tls_cert_file", "token.pkcs11_token_label",
        "logging.level", "globalconf.refresh_interval", "surprise"}) {
    EXPECT_NE(m.find(key), std::string::npos) << key << " not in: " << m;
  }
}

TEST(NodeConf, ProxySectionIsParsedAndChecked) {
  auto c = parse_node_conf(R"(
[proxy]
enabled = true
client_http_port = 0
server_port = 6500
client_worker_threads = 32
peer_total_timeout = 10
sign_batch_linger = 0.005
body_timeout = 5
min_body_rate = 0
provider_timeout = 30
replay_window = 120
max_clock_skew = 60
max_replay_entries = 1000
)",
                           "/tmp");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->proxy_enabled);
  EXPECT_TRUE(c->proxy_require_message_log);
  EXPECT_EQ(c->proxy.client_http_port, 0);
  EXPECT_EQ(c->proxy.client_https_port, 8443);
  EXPECT_EQ(c->proxy.server_port, 6500);
  EXPECT_EQ(c->proxy.client_worker_threads, 32u);
  EXPECT_EQ(c->proxy.peer_total_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c->proxy.sign_batch_linger, std::chrono::milliseconds(5));
  EXPECT_EQ(c->proxy.body_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->proxy.min_body_rate, 0u);
  EXPECT_EQ(c->proxy.provider_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->proxy.replay_window, std::chrono::seconds(120));
  EXPECT_EQ(c->proxy.max_clock_skew, std::chrono::seconds(60));
  EXPECT_EQ(c->proxy.max_replay_entries, 1000u);
  EXPECT_FALSE(parse_node_conf("", "/tmp")->proxy_enabled);  // off unless enabled
  const auto defaults = parse_node_conf("", "/tmp")->proxy;
  EXPECT_EQ(defaults.sign_batch_linger, std::chrono::milliseconds(2));
  EXPECT_EQ(defaults.body_timeout, std::chrono::seconds(20));
  EXPECT_EQ(defaults.min_body_rate, 4096u);
  EXPECT_EQ(defaults.provider_timeout, std::chrono::seconds(120));
  EXPECT_EQ(defaults.replay_window, std::chrono::seconds(600));
  EXPECT_EQ(defaults.max_replay_entries, 500'000u);
  auto bad = parse_node_conf(R"(
[proxy]
client_http_host = ""
client_https_host = ""
peer_port = 0
max_batch = 0
sign_batch_linger = 0.5
body_timeout = 0
min_body_rate = -1
max_replay_entries = 0
)",
                             "/tmp");
  ASSERT_FALSE(bad.ok());
  for (const char* key :
       {"proxy.client_http_host", "proxy.peer_port", "proxy.max_batch", "proxy.sign_batch_linger",
        "proxy.body_timeout", "proxy.min_body_rate", "proxy.max_replay_entries"}) {
    EXPECT_NE(bad.error().message.find(key), std::string::npos)
        << key << ": " << bad.error().message;
  }
}

TEST(NodeConf, ParseServer) {
  auto s = parse_server("EE/GOV/1234", "SS1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->to_string(), "SERVER:EE/GOV/1234/SS1");
  EXPECT_FALSE(parse_server("EE/GOV", "SS1").ok());
  EXPECT_FALSE(parse_server("EE/GOV/1234/x", "SS1").ok());
  EXPECT_FALSE(parse_server("EE/GOV/1234", "").ok());
}

class NodeDaemonTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hansa-nodedaemon-" + unique_suffix());
    fs::create_directories(dir_);
    std::string uri = "var/node.db";
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
      schema_ = "nodedaemon_" + unique_suffix();
      pg_exec("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri = b.find("://") != std::string::npos
                ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                      schema_
                : b + " options='-csearch_path=" + schema_ + "'";
    }
    std::ofstream(dir_ / "node.toml") << "[database]\nuri = \"" << uri
                                      << "\"\n[admin_api]\nlisten_port = 0\n"
                                         "[token]\nkdf_iterations = 1000\n"
                                         "[node]\nreload_interval = 0.2\n";
    auto conf = load_node_conf(dir_ / "node.toml");
    ASSERT_TRUE(conf.ok()) << conf.error().message;
    conf_ = std::move(conf).value();
    EXPECT_TRUE(conf_.software_token_dir.is_absolute());
    EXPECT_TRUE(conf_.state_dir.is_absolute());
  }

  void TearDown() override {
    if (pg_admin_ != nullptr) {
      pg_exec("DROP SCHEMA " + schema_ + " CASCADE");
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void pg_exec(const std::string& sql) {
    auto tx = pg_admin_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  InitRequest request(std::string pin = "a-good-token-pin") {
    return InitRequest{parse_server("EE/GOV/1234", "SS1").value(), std::move(pin)};
  }

  fs::path dir_;
  std::string schema_;
  std::unique_ptr<db::Database> pg_admin_;
  NodeConf conf_;
};

TEST_P(NodeDaemonTest, InitCreatesOnceAndRefusesAgain) {
  // A PIN that fails the policy: nothing is stored, a later init works.
  auto weak = init_node(conf_, request("short"));
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, FaultCode::kTokenPinPolicyFailure);
  EXPECT_FALSE(fs::exists(conf_.software_token_dir / "token.json"));

  auto first = init_node(conf_, request());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->server, "SERVER:EE/GOV/1234/SS1");
  EXPECT_TRUE(first->software_token_created);
  EXPECT_EQ(first->admin_token.rfind("hansa_", 0), 0u);
  EXPECT_TRUE(fs::exists(conf_.software_token_dir / "token.json"));
  const auto token_json_before = fs::last_write_time(conf_.software_token_dir / "token.json");

  auto second = init_node(conf_, request("another-good-pin"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, FaultCode::kConflict);
  EXPECT_EQ(fs::last_write_time(conf_.software_token_dir / "token.json"), token_json_before);
}

TEST_P(NodeDaemonTest, ServeRefusesBeforeInit) {
  auto server = NodeServer::create(conf_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, FaultCode::kInvalidConfiguration);
}

TEST_P(NodeDaemonTest, ProxiesNeedAMessageLogAndWaitForTheAuthKey) {
  auto init = init_node(conf_, request());
  ASSERT_TRUE(init.ok()) << init.error().to_string();
  conf_.proxy_enabled = true;
  conf_.proxy.client_http_port = 0;
  conf_.proxy.client_https_port = 0;
  conf_.proxy.server_port = 0;
  {
    // The node's own message log ([messagelog], on by default) satisfies the requirement.
    conf_.messagelog.archive_dir = conf_.state_dir / "archive";
    auto server = NodeServer::create(conf_);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    EXPECT_TRUE((*server)->start().ok());
    (*server)->stop();
  }
  conf_.messagelog_enabled = false;
  {
    auto server = NodeServer::create(conf_);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    auto started = (*server)->start();
    ASSERT_FALSE(started.ok());  // no message log: no message exchange
    EXPECT_EQ(started.error().code, FaultCode::kInvalidConfiguration);
  }
  // Without the log requirement the node serves; the proxies wait for an auth certificate.
  conf_.proxy_require_message_log = false;
  auto server = NodeServer::create(conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  EXPECT_NE((*server)->admin_port(), 0);
  EXPECT_EQ((*server)->client_proxy_port(), 0);
  EXPECT_EQ((*server)->server_proxy_port(), 0);
  (*server)->stop();
}

TEST_P(NodeDaemonTest, ServeAnswersWithTheInitTokenAndHansactlWorks) {
  auto init = init_node(conf_, request());
  ASSERT_TRUE(init.ok()) << init.error().to_string();
  auto server = NodeServer::create(conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->admin_port());

  auto client = central::AdminClient::create(url, init->admin_token);
  ASSERT_TRUE(client.ok());
  auto status = (*client)->request("GET", "/api/v1/status");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->status, 200) << status->body;
  auto j = Json::parse(status->body);
  EXPECT_EQ(j["server"], "SERVER:EE/GOV/1234/SS1");
  EXPECT_EQ(j["tokens"][0]["kind"], "software");
  EXPECT_FALSE(j["global_configuration"].is_null());

  // A 10 MB body is refused by the API with 413 and audited.
  auto big = (*client)->request("POST", "/api/v1/clients",
                                "{\"member_class\":\"" + std::string(10 << 20, 'a') + "\"}");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  auto last = (*client)->request("GET", "/api/v1/audit?limit=1");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(Json::parse(last->body)["items"][0]["result"], "LimitExceeded");

  // hansactl node ... against the running API.
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "HANSA_NODE_URL") {
      return url;
    }
    if (name == "HANSA_TOKEN") {
      return init->admin_token;
    }
    return std::nullopt;
  };
  auto run = [&](std::vector<std::string> args, std::string* out_text = nullptr) {
    std::ostringstream out, err;
    const int rc = hansactl::run_hansactl(args, out, err, env);
    if (out_text != nullptr) {
      *out_text = out.str();
    }
    if (rc != 0) {
      ADD_FAILURE() << "hansactl rc " << rc << ": " << err.str() << out.str();
    }
    return rc;
  };
  std::string text;
  EXPECT_EQ(run({"node", "status"}, &text), 0);
  EXPECT_NE(text.find("SERVER:EE/GOV/1234/SS1"), std::string::npos) << text;
  EXPECT_EQ(run({"node", "token", "login", "soft-0", "--pin", "a-good-token-pin"}), 0);
  EXPECT_EQ(run({"node", "key", "generate", "soft-0", "--label", "sign"}, &text), 0);
  EXPECT_EQ(run({"node", "client", "add", "GOV:1234:sub"}), 0);
  EXPECT_EQ(run({"node", "client", "list", "--json"}, &text), 0);
  EXPECT_EQ(Json::parse(text)["total"], 2);
  EXPECT_EQ(run({"node", "description", "add", "GOV:1234:sub", "--type", "rest", "--url",
                 "http://127.0.0.1:9/api", "--service-code", "api"}),
            0);
  EXPECT_EQ(run({"node", "access", "grant", "GOV:1234:sub", "api", "SUBSYSTEM:EE/GOV/1234/sub"}),
            0);
  EXPECT_EQ(run({"node", "local-group", "add", "GOV:1234:sub", "admins"}), 0);
  EXPECT_EQ(run({"node", "audit", "--limit", "5"}, &text), 0);
  EXPECT_NE(text.find("POST"), std::string::npos);
  // A refusal is exit code 1 with the server's message.
  std::ostringstream out, err;
  EXPECT_EQ(hansactl::run_hansactl({"node", "client", "add", "G/OV:1"}, out, err, env), 1);
  EXPECT_FALSE(err.str().empty());
  // Unreachable: exit code 3.
  auto bad_env = [&](const std::string& name) -> std::optional<std::string> {
    return name == "HANSA_TOKEN" ? std::optional<std::string>("x") : std::nullopt;
  };
  std::ostringstream o2, e2;
  EXPECT_EQ(
      hansactl::run_hansactl({"node", "status", "--url", "http://127.0.0.1:1"}, o2, e2, bad_env),
      3);

  (*server)->stop();
  (*server)->stop();  // idempotent
}

INSTANTIATE_TEST_SUITE_P(Backends, NodeDaemonTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param));
                         });

}  // namespace
}  // namespace hansa::node
