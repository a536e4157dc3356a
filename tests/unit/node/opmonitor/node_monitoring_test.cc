#include "node/opmonitor/node_monitoring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/db/database.h"
#include "core/http/client.h"
#include "core/http/server.h"

namespace hansa::opmonitor {
namespace {

using Json = nlohmann::json;

class NodeMonitoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-nodemon-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db::DbConfig c;
    c.uri = "sqlite://" + (dir_ / "node.db").string();
    db_ = db::Database::open(c).value();
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    std::filesystem::remove_all(dir_);
  }

  // Serves `m`'s routes and returns a client for them.
  std::unique_ptr<http::Client> serve(NodeMonitoring& m) {
    server_ = http::Server::create({}).value();
    m.register_routes(*server_);
    EXPECT_TRUE(server_->start().ok());
    return http::Client::create("http://127.0.0.1:" + std::to_string(server_->port())).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(NodeMonitoringTest, HealthyNodeAnswers200WithEachCheck) {
  metrics::Registry registry;
  MessageLogHealth log;
  log.backlog = 3;
  NodeMonitoringOptions o;
  o.disk_paths = {dir_.string()};
  o.min_free_disk_bytes = 1;
  o.min_free_disk_ratio = 0;
  NodeMonitoring m({.db = db_.get(), .messagelog = [&] { return Result<MessageLogHealth>(log); }},
                   o, registry);
  auto client = serve(m);
  auto r = client->get("/health");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  auto j = Json::parse(r->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["component"], "node");
  std::vector<std::string> names;
  for (const auto& c : j["checks"]) {
    names.push_back(c["name"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"database", "messagelog", "disk"}));
  EXPECT_EQ(j["checks"][1]["details"]["backlog"], "3");
}

TEST_F(NodeMonitoringTest, TsaDownIsDegradedAndBlockingIsFailed) {
  metrics::Registry registry;
  MessageLogHealth log;
  NodeMonitoring m({.db = db_.get(), .messagelog = [&] { return Result<MessageLogHealth>(log); }},
                   {}, registry);
  auto client = serve(m);
  log.failing_since = std::chrono::system_clock::now() - std::chrono::seconds(30);
  log.last_error = "TSA not reachable";
  auto r = client->get("/health");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);  // degraded still serves
  EXPECT_EQ(Json::parse(r->body)["status"], "degraded");
  log.blocking = true;
  r = client->get("/health");
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(Json::parse(r->body)["status"], "failed");
  // A message log that cannot answer is a failure too.
  NodeMonitoring broken(
      {.messagelog =
           [] { return Result<MessageLogHealth>(Error(FaultCode::kDatabaseError, "x")); }},
      {}, registry);
  EXPECT_EQ(broken.health().evaluate().status, metrics::HealthState::kFailed);
}

TEST_F(NodeMonitoringTest, TsaReachability) {
  metrics::Registry registry;
  // A TSA that answers (any status) and one that does not listen.
  auto tsa = http::Server::create({}).value();
  tsa->route("POST", "/tsa", [](const http::Request&, http::Response& res) { res.status = 400; });
  ASSERT_TRUE(tsa->start().ok());
  const std::string up = "http://127.0.0.1:" + std::to_string(tsa->port()) + "/tsa";
  auto closed = http::Server::create({}).value();
  ASSERT_TRUE(closed->start().ok());
  const std::string down = "http://127.0.0.1:" + std::to_string(closed->port()) + "/";
  closed->stop();
  std::vector<std::string> urls = {down, up};
  NodeMonitoringOptions o;
  o.tsa_probe_timeout = std::chrono::milliseconds(500);
  NodeMonitoring m({.tsa_urls = [&] { return urls; }}, o, registry);
  auto rep = m.health().evaluate();
  ASSERT_EQ(rep.checks.size(), 1u);
  EXPECT_EQ(rep.checks[0].name, "tsa");
  EXPECT_EQ(rep.status, metrics::HealthState::kOk);  // one of two answers
  tsa->stop();
  EXPECT_EQ(m.health().evaluate().status, metrics::HealthState::kDegraded);
  urls.clear();
  EXPECT_EQ(m.health().evaluate().status, metrics::HealthState::kDegraded);
  urls = {"not a url at all"};
  EXPECT_EQ(m.health().evaluate().status, metrics::HealthState::kDegraded);
}

TEST_F(NodeMonitoringTest, BacklogAboveWarningIsDegraded) {
  metrics::Registry registry;
  MessageLogHealth log;
  log.backlog = 11;
  NodeMonitoringOptions o;
  o.timestamp_backlog_warning = 10;
  NodeMonitoring m({.messagelog = [&] { return Result<MessageLogHealth>(log); }}, o, registry);
  EXPECT_EQ(m.health().evaluate().status, metrics::HealthState::kDegraded);
}

TEST_F(NodeMonitoringTest, DrainingAnswers503) {
  metrics::Registry registry;
  NodeMonitoring m({.db = db_.get()}, {}, registry);
  auto client = serve(m);
  m.health().set_draining(true);
  auto r = client->get("/health");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(Json::parse(r->body)["status"], "draining");
  auto metrics_text = client->get("/metrics");
  EXPECT_NE(metrics_text->body.find("hansa_node_draining 1\n"), std::string::npos);
  m.health().set_draining(false);
  EXPECT_EQ(client->get("/health")->status, 200);
}

TEST_F(NodeMonitoringTest, DiskChecks) {
  metrics::Registry registry;
  NodeMonitoringOptions o;
  o.disk_paths = {dir_.string()};
  o.min_free_disk_bytes = std::uint64_t{1} << 62;  // more than any disk has
  NodeMonitoring m({}, o, registry);
  auto rep = m.health().evaluate();
  EXPECT_EQ(rep.status, metrics::HealthState::kDegraded);
  NodeMonitoringOptions missing;
  missing.disk_paths = {"/no/such/archive/dir"};
  NodeMonitoring m2({}, missing, registry);
  EXPECT_EQ(m2.health().evaluate().status, metrics::HealthState::kDegraded);
}

TEST_F(NodeMonitoringTest, MetricsEndpointServesTextFormat) {
  metrics::Registry registry;
  MessageLogHealth log;
  log.backlog = 42;
  NodeMonitoringOptions o;
  o.disk_paths = {dir_.string()};
  NodeMonitoring m({.db = db_.get(), .messagelog = [&] { return Result<MessageLogHealth>(log); }},
                   o, registry);
  registry.counter("hansa_test_total", "a test counter", {"client"}).with({"x\"y"}).inc();
  auto client = serve(m);
  auto r = client->get("/metrics");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type").value_or(""), std::string(metrics::kTextContentType));
  EXPECT_NE(r->body.find("# TYPE hansa_node_messagelog_timestamp_backlog_records gauge\n"
                         "hansa_node_messagelog_timestamp_backlog_records 42\n"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("hansa_node_db_connections{state=\"max\"} 8\n"), std::string::npos);
  EXPECT_NE(r->body.find("hansa_build_info{version=\""), std::string::npos);
  EXPECT_NE(r->body.find("hansa_node_disk_free_bytes{path=\""), std::string::npos);
  EXPECT_NE(r->body.find("hansa_test_total{client=\"x\\\"y\"} 1\n"), std::string::npos);
  // Only GET.
  auto post = client->post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

TEST_F(NodeMonitoringTest, EnvironmentReportsConfiguredDisks) {
  metrics::Registry registry;
  NodeMonitoringOptions o;
  o.disk_paths = {dir_.string()};
  NodeMonitoring m({}, o, registry);
  auto e = m.environment();
  ASSERT_EQ(e.disks.size(), 1u);
  EXPECT_EQ(e.disks[0].path, dir_.string());
  EXPECT_TRUE(e.certificates.empty());
}

}  // namespace
}  // namespace hansa::opmonitor
