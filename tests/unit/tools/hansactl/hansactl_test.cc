// hansactl central against a running admin API (real server on port 0, SQLite registry).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "central/api/admin_api.h"
#include "core/http/server.h"
#include "tests/unit/central/registry/test_database.h"
#include "tools/hansactl/cli.h"

namespace hansa::hansactl {
namespace {

using Json = nlohmann::json;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

class HansactlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    ASSERT_TRUE(database_.create(db::Backend::kSqlite, skip)) << skip;
    auto reg = central::Registry::open(database_.db());
    ASSERT_TRUE(reg.ok());
    reg_ = std::move(reg).value();
    ASSERT_TRUE(reg_->initialize({}, "DEV").ok());
    ASSERT_TRUE(reg_->add_member_class({}, {"GOV", "Government"}).ok());
    token_ = reg_->create_token({}, "cli", central::AdminRole::kOperator)->secret;
    api_ = std::make_unique<central::AdminApi>(*reg_);
    auto server = http::Server::create({});
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    api_->register_routes(*server_);
    ASSERT_TRUE(server_->start().ok());
    env_["HANSA_CENTRAL_URL"] = "http://127.0.0.1:" + std::to_string(server_->port());
    env_["HANSA_TOKEN"] = token_;
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  RunResult run(std::vector<std::string> args) {
    std::ostringstream out;
    std::ostringstream err;
    auto env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    RunResult r;
    r.code = run_hansactl(args, out, err, env);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  central::testing::TestDatabase database_;
  std::unique_ptr<central::Registry> reg_;
  std::unique_ptr<central::AdminApi> api_;
  std::unique_ptr<http::Server> server_;
  std::map<std::string, std::string> env_;
  std::string token_;
};

TEST_F(HansactlTest, ManagesMembersAndServers) {
  auto r = run({"central", "members", "add", "GOV", "1234", "Member 1234"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("MEMBER:DEV/GOV/1234"), std::string::npos);
  r = run({"central", "members", "add", "GOV", "1234", "Again"});
  EXPECT_EQ(r.code, kExitApiError);
  EXPECT_NE(r.err.find("409"), std::string::npos);
  EXPECT_NE(r.err.find("Conflict"), std::string::npos);

  ASSERT_EQ(run({"central", "subsystems", "add", "GOV:1234", "MANAGEMENT", "--name", "Mgmt"}).code,
            kExitOk);
  ASSERT_EQ(run({"central", "servers", "add", "GOV:1234", "SS1", "--address", "ss1"}).code,
            kExitOk);
  r = run({"central", "servers", "add-auth-cert", "GOV:1234:SS1",
           std::string(HANSA_TEST_PKI_DIR) + "/nodes/SS1/auth.pem"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(run({"central", "servers", "add-client", "GOV:1234:SS1", "GOV:1234:MANAGEMENT"}).code,
            kExitOk);
  r = run({"central", "--json", "servers", "get", "GOV:1234:SS1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto server = Json::parse(r.out);
  EXPECT_EQ(server["address"], "ss1");
  EXPECT_EQ(server["clients"].size(), 1u);
  EXPECT_EQ(server["auth_certs"].size(), 1u);

  r = run({"central", "members", "list", "--limit", "10"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("MEMBER:DEV/GOV/1234  Member 1234"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(1 of 1)"), std::string::npos) << r.out;

  EXPECT_EQ(run({"central", "members", "delete", "GOV:1234"}).code, kExitApiError);
  EXPECT_EQ(run({"central", "members", "delete", "GOV:1234", "--cascade"}).code, kExitOk);
  EXPECT_EQ(reg_->members()->total, 0);
}

TEST_F(HansactlTest, GroupsCasTsasSettingsTokensAndAudit) {
  const std::string pki = HANSA_TEST_PKI_DIR;
  ASSERT_EQ(run({"central", "members", "add", "GOV", "1", "One"}).code, kExitOk);
  ASSERT_EQ(run({"central", "groups", "add", "owners", "Owners"}).code, kExitOk);
  ASSERT_EQ(run({"central", "groups", "add-member", "owners", "GOV:1"}).code, kExitOk);
  auto r = run({"central", "groups", "list"});
  EXPECT_NE(r.out.find("owners  Owners"), std::string::npos) << r.out;

  r = run({"central", "cas", "add", "--name", "Dev CA", "--top", pki + "/ca/root.pem",
           "--intermediate", pki + "/ca/intermediate.pem", "--ocsp", "http://127.0.0.1:8899/ocsp"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(reg_->cas()->size(), 1u);
  r = run({"central", "tsas", "add", "TSA", "http://127.0.0.1:8899/tsa", pki + "/tsa/tsa.pem"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  r = run({"central", "tsas", "add", "Bad", "http://x", pki + "/nodes/SS1/auth.pem"});
  EXPECT_EQ(r.code, kExitApiError);

  r = run({"central", "settings", "set", "--timestamping-interval", "90"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("time_stamping_interval_seconds: 90"), std::string::npos) << r.out;
  EXPECT_EQ(run({"central", "settings", "set", "--ocsp-freshness", "0"}).code, kExitApiError);

  r = run({"central", "tokens", "create", "ci", "--role", "read-only"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto pos = r.out.find("secret: ");
  ASSERT_NE(pos, std::string::npos);
  const std::string secret = r.out.substr(pos + 8, r.out.find('\n', pos) - pos - 8);
  // The read-only token from a token file may read but not write.
  const auto file = std::filesystem::temp_directory_path() /
                    ("hansactl-token-" + central::testing::unique_suffix());
  std::ofstream(file) << secret << "\n";
  env_.erase("HANSA_TOKEN");
  EXPECT_EQ(run({"central", "--token-file", file.string(), "members", "list"}).code, kExitOk);
  r = run({"central", "--token-file", file.string(), "members", "add", "GOV", "2", "Two"});
  EXPECT_EQ(r.code, kExitApiError);
  EXPECT_NE(r.err.find("403"), std::string::npos);
  std::filesystem::remove(file);
  EXPECT_EQ(run({"central", "members", "list"}).code, kExitApiError);  // no token: 401

  r = run({"central", "--token", token_, "audit", "list", "--action", "api.", "--limit", "5"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Forbidden"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Unauthorized"), std::string::npos) << r.out;
}

TEST_F(HansactlTest, UsageErrorsAndUnreachableServers) {
  EXPECT_EQ(run({}).code, kExitUsage);
  EXPECT_EQ(run({"central"}).code, kExitUsage);
  EXPECT_EQ(run({"central", "members", "add", "GOV"}).code, kExitUsage);
  EXPECT_EQ(run({"central", "--help"}).code, kExitOk);
  EXPECT_EQ(run({"central", "--url", "ftp://x", "members", "list"}).code, kExitUsage);
  server_->stop();
  auto r = run({"central", "instance"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("NetworkError"), std::string::npos);
}

TEST_F(HansactlTest, RequestsAndStatusAnswerWhenTheServicesAreMissing) {
  // This API was built without a management service or publisher: a clear 503.
  auto r = run({"central", "requests", "list", "--state", "pending"});
  EXPECT_EQ(r.code, kExitApiError);
  EXPECT_NE(r.err.find("503"), std::string::npos) << r.err;
  r = run({"central", "status"});
  EXPECT_EQ(r.code, kExitApiError);
  r = run({"central", "--json", "instance"});
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_EQ(Json::parse(r.out)["instance_identifier"], "DEV");
}

}  // namespace
}  // namespace hansa::hansactl
