// hansa-node's [monitoring] wiring: the configuration section, GET /health and GET /metrics
// without a token (admin port or a dedicated port), operational records fed by the daemon's
// observers, maintenance mode through the admin API.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/http/client.h"
#include "node/daemon/node_conf.h"
#include "node/daemon/node_daemon.h"

namespace hansa::node {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(NodeConfMonitoring, SectionIsParsedAndChecked) {
  auto c = parse_node_conf(R"(
[node]
state_dir = "/srv/node"
[monitoring]
dedicated_port = true
listen_port = 0
disk_paths = ["archive", "/var/lib/hansa"]
opmonitor_retention = 86400
monitoring_clients = ["SUBSYSTEM:EE/GOV/CENTRAL/monitoring"]
)",
                           "/etc/hansa");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->monitoring_dedicated_port);
  EXPECT_EQ(c->monitoring_port, 0);
  ASSERT_EQ(c->monitoring_disk_paths.size(), 2u);
  EXPECT_EQ(c->monitoring_disk_paths[0], fs::path("/etc/hansa/archive"));
  EXPECT_EQ(c->opmonitor_retention, std::chrono::hours(24));
  EXPECT_EQ(c->opmonitor_monitoring_clients.size(), 1u);
  // Defaults: on the admin port, the state directory watched.
  auto d = parse_node_conf("", "/tmp");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->monitoring_dedicated_port);
  ASSERT_EQ(d->monitoring_disk_paths.size(), 1u);
  EXPECT_EQ(d->monitoring_disk_paths[0], d->state_dir);
  auto bad = parse_node_conf(R"(
[monitoring]
listen_port = 70000
monitoring_clients = ["EE/GOV/1"]
opmonitor_retention = 1
)",
                             "/tmp");
  ASSERT_FALSE(bad.ok());
  for (const char* key : {"monitoring.listen_port", "monitoring.monitoring_clients",
                          "monitoring.opmonitor_retention"}) {
    EXPECT_NE(bad.error().message.find(key), std::string::npos)
        << key << ": " << bad.error().message;
  }
}

class NodeMonitoringWiringTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hansa-nodemonwire-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "node.toml")
        << "[database]\nuri = \"var/node.db\"\n[admin_api]\nlisten_port = 0\n"
           "[token]\nkdf_iterations = 1000\n[node]\nreload_interval = 0.2\n"
           "[monitoring]\nlisten_port = 0\nmin_free_disk_bytes = 1\n"
        << "dedicated_port = " << (GetParam() ? "true" : "false") << "\n";
    conf_ = load_node_conf(dir_ / "node.toml").value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static inline int counter_ = 0;
  fs::path dir_;
  NodeConf conf_;
};

TEST_P(NodeMonitoringWiringTest, HealthMetricsAndMaintenance) {
  auto init =
      init_node(conf_, InitRequest{parse_server("EE/GOV/1234", "SS1").value(), "a-good-pin-1"});
  ASSERT_TRUE(init.ok()) << init.error().to_string();
  auto server = NodeServer::create(conf_);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  ASSERT_TRUE((*server)->start().ok());
  if (GetParam()) {
    EXPECT_NE((*server)->monitoring_port(), (*server)->admin_port());
  } else {
    EXPECT_EQ((*server)->monitoring_port(), (*server)->admin_port());
  }
  auto mon =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->monitoring_port()))
          .value();
  auto health = mon->get("/health");
  ASSERT_TRUE(health.ok()) << health.error().to_string();
  // A fresh node: no anchor, token logged out: failed, and it says why.
  EXPECT_EQ(health->status, 503);
  auto j = Json::parse(health->body);
  EXPECT_EQ(j["status"], "failed");
  std::set<std::string> names;
  for (const auto& c : j["checks"]) {
    names.insert(c["name"].get<std::string>());
  }
  for (const char* n :
       {"database", "globalconf", "token", "certificates", "tsa", "messagelog", "disk"}) {
    EXPECT_TRUE(names.count(n)) << n << " missing: " << health->body;
  }
  auto metrics = mon->get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  for (const char* series :
       {"hansa_build_info{version=", "hansa_node_globalconf_usable 0", "hansa_node_draining 0",
        "hansa_node_opmonitor_queue_records 0",
        "hansa_node_token_logged_in{token=", "hansa_node_db_connections{state=\"max\"}"}) {
    EXPECT_NE(metrics->body.find(series), std::string::npos) << series << "\n" << metrics->body;
  }

  // Maintenance mode through the admin API.
  auto admin =
      http::Client::create("http://127.0.0.1:" + std::to_string((*server)->admin_port())).value();
  const http::Headers auth = {{"Authorization", "Bearer " + init->admin_token}};
  auto r =
      admin->send("POST", "/api/v1/maintenance", R"({"draining":true})", "application/json", auth);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  auto m2 = http::Client::create("http://127.0.0.1:" + std::to_string((*server)->monitoring_port()))
                .value();
  health = m2->get("/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(Json::parse(health->body)["status"], "draining");
  // Operational records route is wired.
  auto rec = admin->get("/api/v1/opmonitor/records", auth);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, 200) << rec->body;
  (*server)->stop();
}

INSTANTIATE_TEST_SUITE_P(Ports, NodeMonitoringWiringTest, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? std::string("Dedicated") : std::string("AdminPort");
                         });

}  // namespace
}  // namespace hansa::node
