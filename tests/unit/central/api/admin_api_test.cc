// Tests of the central admin API against a real server on port 0 (SQLite always, PostgreSQL when
// HANSA_TEST_PG_URI is set).

#include "central/api/admin_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "central/api/admin_client.h"
#include "core/crypto/cert_profile.h"
#include "core/http/client.h"
#include "core/http/server.h"
#include "tests/unit/central/registry/test_database.h"

#ifdef HANSA_CENTRAL_API_WITH_SERVICES
#include "central/management/management_service.h"
#include "central/publisher/publisher.h"
#endif

namespace hansa::central {
namespace {

using Json = nlohmann::json;
using testing::pki_cert;
using testing::read_text;
using testing::TestDatabase;

class AdminApiTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    if (!database_.create(GetParam(), skip)) {
      GTEST_SKIP() << skip;
    }
    auto reg = Registry::open(database_.db());
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    reg_ = std::move(reg).value();
    AuditContext sys;
    ASSERT_TRUE(reg_->initialize(sys, "DEV").ok());
    ASSERT_TRUE(reg_->add_member_class(sys, {"GOV", "Government"}).ok());
    operator_token_ = reg_->create_token(sys, "op", AdminRole::kOperator)->secret;
    reader_token_ = reg_->create_token(sys, "reader", AdminRole::kReadOnly)->secret;

    AdminApiServices services;
#ifdef HANSA_CENTRAL_API_WITH_SERVICES
    auto mgmt = ManagementService::open(database_.db(), *reg_);
    ASSERT_TRUE(mgmt.ok()) << mgmt.error().to_string();
    management_ = std::move(mgmt).value();
    PublisherOptions popt;
    popt.public_url = "http://127.0.0.1:1";
    auto pub = Publisher::open(database_.db(), *reg_, popt);
    ASSERT_TRUE(pub.ok()) << pub.error().to_string();
    publisher_ = std::move(pub).value();
    services.management = management_.get();
    services.publisher = publisher_.get();
#endif
    api_ = std::make_unique<AdminApi>(*reg_, AdminApiOptions{}, services);
    auto server = http::Server::create({});
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    api_->register_routes(*server_);
    ASSERT_TRUE(server_->start().ok());
    base_url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  // One request with `token` (empty: no Authorization header).
  AdminResponse call(std::string_view method, std::string_view target, const Json& body = nullptr,
                     const std::string* token = nullptr) {
    auto client = AdminClient::create(base_url_, token ? *token : operator_token_);
    EXPECT_TRUE(client.ok());
    auto res = (*client)->request(method, target, body.is_null() ? "" : body.dump());
    EXPECT_TRUE(res.ok()) << res.error().to_string();
    return res.ok() ? *res : AdminResponse{};
  }

  static Json json_of(const AdminResponse& r) {
    return r.body.empty() ? Json() : Json::parse(r.body, nullptr, false);
  }

  AuditEntry last_audit() {
    auto page = reg_->audit_log({});
    EXPECT_TRUE(page.ok() && !page->items.empty());
    return page->items.front();
  }

  TestDatabase database_;
  std::unique_ptr<Registry> reg_;
#ifdef HANSA_CENTRAL_API_WITH_SERVICES
  std::unique_ptr<ManagementService> management_;
  std::unique_ptr<Publisher> publisher_;
#endif
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<http::Server> server_;
  std::string base_url_;
  std::string operator_token_;
  std::string reader_token_;
};

TEST_P(AdminApiTest, MissingOrWrongTokenIs401AndAudited) {
  auto client = http::Client::create(base_url_);
  ASSERT_TRUE(client.ok());
  auto res = (*client)->get("/api/v1/members");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  EXPECT_TRUE(res->header("WWW-Authenticate").has_value());
  EXPECT_EQ(Json::parse(res->body)["type"], "Unauthorized");
  auto entry = last_audit();
  EXPECT_EQ(entry.action, "api.auth");
  EXPECT_EQ(entry.result, "Unauthorized");
  EXPECT_EQ(entry.actor, "anonymous");
  EXPECT_EQ(entry.target, "GET /api/v1/members");

  res = (*client)->get("/api/v1/members", {{"Authorization", "Bearer hansa_wrong"}});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  res = (*client)->get("/api/v1/members", {{"Authorization", "Basic " + operator_token_}});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  // Unknown routes are not revealed without a token either.
  res = (*client)->get("/api/v1/nothing-here");
  EXPECT_EQ(res->status, 401);

  const std::string revoked = reg_->create_token({}, "gone", AdminRole::kOperator)->secret;
  ASSERT_TRUE(reg_->revoke_token({}, reg_->authenticate(revoked)->id).ok());
  EXPECT_EQ(call("GET", "/api/v1/members", nullptr, &revoked).status, 401);
}

TEST_P(AdminApiTest, ReadOnlyTokensCannotChangeAnything) {
  EXPECT_EQ(call("GET", "/api/v1/members", nullptr, &reader_token_).status, 200);
  auto res = call("POST", "/api/v1/members",
                  {{"member_class", "GOV"}, {"member_code", "1"}, {"name", "x"}}, &reader_token_);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(json_of(res)["type"], "Forbidden");
  auto entry = last_audit();
  EXPECT_EQ(entry.result, "Forbidden");
  EXPECT_NE(entry.actor.find("reader"), std::string::npos);
  EXPECT_EQ(reg_->members()->total, 0);
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/1", nullptr, &reader_token_).status, 403);
}

TEST_P(AdminApiTest, UnknownFieldsAreRejectedWithTheFieldNamed) {
  auto res = call("POST", "/api/v1/members",
                  {{"member_class", "GOV"}, {"member_code", "1"}, {"name", "x"}, {"admin", true}});
  EXPECT_EQ(res.status, 400);
  const auto body = json_of(res);
  EXPECT_EQ(body["detail"], "admin");
  EXPECT_NE(body["message"].get<std::string>().find("admin"), std::string::npos);
  EXPECT_EQ(reg_->members()->total, 0);
  auto entry = last_audit();
  EXPECT_EQ(entry.action, "api.request");
  EXPECT_EQ(entry.result, "BadRequest");
  // Nested objects are strict too.
  res = call("POST", "/api/v1/tsas", {{"name", "t"}, {"url", "http://t"}, {"cert", "x"}, {"y", 1}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json_of(res)["detail"], "y");
}

TEST_P(AdminApiTest, MalformedBodiesAreRefused) {
  auto client = http::Client::create(base_url_);
  const http::Headers auth = {{"Authorization", "Bearer " + operator_token_}};
  auto res = (*client)->post("/api/v1/members", "{\"member_class\": ", "application/json", auth);
  EXPECT_EQ(res->status, 400);
  res = (*client)->post("/api/v1/members", "[1,2]", "application/json", auth);
  EXPECT_EQ(res->status, 400);
  res = (*client)->post("/api/v1/members", "member_class=GOV", "application/x-www-form-urlencoded",
                        auth);
  EXPECT_EQ(res->status, 415);
  res = (*client)->post("/api/v1/members", std::string(100, '[') + std::string(100, ']'),
                        "application/json", auth);
  EXPECT_EQ(res->status, 400);
  res = (*client)->post("/api/v1/members",
                        R"({"member_class": "GOV", "member_code": 5, "name": "x"})",
                        "application/json", auth);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(reg_->members()->total, 0);
}

TEST_P(AdminApiTest, DuplicateMembersAre409) {
  const Json member = {{"member_class", "GOV"}, {"member_code", "1234"}, {"name", "Member"}};
  auto res = call("POST", "/api/v1/members", member);
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(json_of(res)["id"], "MEMBER:DEV/GOV/1234");
  res = call("POST", "/api/v1/members", member);
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(json_of(res)["type"], "Conflict");
  EXPECT_EQ(last_audit().result, "Conflict");
  EXPECT_EQ(last_audit().action, "member.create");
}

TEST_P(AdminApiTest, IllegalIdentifierCharactersAreRejected) {
  for (const char* code : {"a/b", "a b", "a:b", "ä", "x%00", ""}) {
    auto res = call("POST", "/api/v1/members",
                    {{"member_class", "GOV"}, {"member_code", code}, {"name", "x"}});
    EXPECT_EQ(res.status, 400) << code;
    EXPECT_EQ(json_of(res)["type"], "InvalidClientIdentifier") << code;
  }
  EXPECT_EQ(call("GET", "/api/v1/members/GOV:a*b").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/members/GOV").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/servers/GOV:1:x%3Cy").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/groups", {{"code", "bad group"}}).status, 400);
  EXPECT_EQ(reg_->members()->total, 0);
}

TEST_P(AdminApiTest, TenMegabyteBodyIsRefused) {
  auto client = http::Client::create(base_url_);
  const http::Headers auth = {{"Authorization", "Bearer " + operator_token_}};
  std::string body = R"({"member_class": "GOV", "member_code": "big", "name": ")";
  body += std::string(10 * 1024 * 1024 - body.size() - 2, 'a');
  body += "\"}";
  ASSERT_EQ(body.size(), 10u * 1024 * 1024);
  auto res = (*client)->post("/api/v1/members", body, "application/json", auth);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Json::parse(res->body)["type"], "LimitExceeded");
  EXPECT_EQ(reg_->members()->total, 0);
  EXPECT_EQ(last_audit().result, "LimitExceeded");
}

TEST_P(AdminApiTest, ConcurrentConflictingChangesOneWins) {
  for (int round = 0; round < 4; ++round) {
    const Json member = {
        {"member_class", "GOV"}, {"member_code", "race" + std::to_string(round)}, {"name", "x"}};
    std::vector<int> statuses(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto client = AdminClient::create(base_url_, operator_token_);
        auto res = (*client)->request("POST", "/api/v1/members", member.dump());
        statuses[t] = res.ok() ? res->status : -1;
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    std::multiset<int> got(statuses.begin(), statuses.end());
    EXPECT_EQ(got, (std::multiset<int>{201, 409})) << statuses[0] << " " << statuses[1];
  }
  EXPECT_EQ(reg_->members()->total, 4);
}

TEST_P(AdminApiTest, PaginationIsBoundedAndConsistent) {
  for (int i = 0; i < 12; ++i) {
    char code[8];
    std::snprintf(code, sizeof code, "m%02d", i);
    ASSERT_EQ(call("POST", "/api/v1/members",
                   {{"member_class", "GOV"}, {"member_code", code}, {"name", "M"}})
                  .status,
              201);
  }
  auto page = json_of(call("GET", "/api/v1/members?limit=5&offset=10"));
  EXPECT_EQ(page["total"], 12);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["member_code"], "m10");
  page = json_of(call("GET", "/api/v1/members"));
  EXPECT_EQ(page["items"].size(), 12u);
  EXPECT_EQ(page["limit"], 100);
  for (const char* bad : {"limit=0", "limit=501", "limit=abc", "offset=-1", "limit=1e3"}) {
    EXPECT_EQ(call("GET", std::string("/api/v1/members?") + bad).status, 400) << bad;
  }
  EXPECT_EQ(json_of(call("GET", "/api/v1/audit?limit=3"))["items"].size(), 3u);
  EXPECT_EQ(json_of(call("GET", "/api/v1/audit?action=member.create"))["total"], 12);
}

TEST_P(AdminApiTest, ManagesTheWholeRegistry) {
  ASSERT_EQ(
      call("POST", "/api/v1/member-classes", {{"code", "COM"}, {"description", "Com"}}).status,
      201);
  EXPECT_EQ(call("PATCH", "/api/v1/member-classes/COM", {{"description", "Commercial"}}).status,
            200);
  EXPECT_EQ(json_of(call("GET", "/api/v1/member-classes"))["total"], 2);
  ASSERT_EQ(call("POST", "/api/v1/members",
                 {{"member_class", "GOV"}, {"member_code", "1234"}, {"name", "Gov"}})
                .status,
            201);
  ASSERT_EQ(call("POST", "/api/v1/members",
                 {{"member_class", "COM"}, {"member_code", "4321"}, {"name", "Com"}})
                .status,
            201);
  EXPECT_EQ(call("PATCH", "/api/v1/members/GOV:1234", {{"name", "Government"}}).status, 200);
  EXPECT_EQ(json_of(call("GET", "/api/v1/members/GOV:1234"))["name"], "Government");
  EXPECT_EQ(call("POST", "/api/v1/members/GOV:1234/subsystems",
                 {{"subsystem_code", "MANAGEMENT"}, {"name", "Management"}})
                .status,
            201);
  EXPECT_EQ(call("GET", "/api/v1/members/GOV:9999").status, 404);

  // Servers, auth certificates, clients.
  auto res = call("POST", "/api/v1/servers",
                  {{"owner_class", "GOV"},
                   {"owner_code", "1234"},
                   {"server_code", "SS1"},
                   {"address", "ss1.example"}});
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(call("POST", "/api/v1/servers",
                 {{"owner_class", "GOV"}, {"owner_code", "7777"}, {"server_code", "SS1"}})
                .status,
            400);
  const std::string auth_pem = read_text(std::string(HANSA_TEST_PKI_DIR) + "/nodes/SS1/auth.pem");
  res = call("POST", "/api/v1/servers/GOV:1234:SS1/auth-certs", {{"cert", auth_pem}});
  ASSERT_EQ(res.status, 201) << res.body;
  const std::string hash = json_of(res)["auth_certs"][0]["hash"];
  EXPECT_EQ(hash, pki_cert("nodes/SS1/auth.pem").fingerprint_hex(crypto::DigestAlgorithm::kSha256));
  EXPECT_EQ(
      call("POST", "/api/v1/servers/GOV:1234:SS1/auth-certs", {{"cert", "not a cert"}}).status,
      400);
  res = call("POST", "/api/v1/servers/GOV:1234:SS1/clients",
             {{"member_class", "GOV"}, {"member_code", "1234"}, {"subsystem_code", "MANAGEMENT"}});
  ASSERT_EQ(res.status, 201) << res.body;
  res = call("POST", "/api/v1/servers/GOV:1234:SS1/clients",
             {{"member_class", "COM"}, {"member_code", "4321"}});
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(json_of(call("GET", "/api/v1/servers/GOV:1234:SS1"))["clients"].size(), 2u);
  EXPECT_EQ(call("PATCH", "/api/v1/servers/GOV:1234:SS1", {{"address", "10.1.1.1"}}).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/servers/GOV:1234:SS1/clients/COM:4321").status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/servers/GOV:1234:SS1/clients/COM:4321").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/servers/GOV:1234:SS1/auth-certs/" + hash).status, 204);

  // Groups.
  ASSERT_EQ(call("POST", "/api/v1/groups", {{"code", "owners"}, {"description", "Owners"}}).status,
            201);
  EXPECT_EQ(call("POST", "/api/v1/groups/owners/members",
                 {{"member_class", "GOV"}, {"member_code", "1234"}})
                .status,
            201);
  EXPECT_EQ(json_of(call("GET", "/api/v1/groups/owners"))["members"].size(), 1u);
  EXPECT_EQ(call("DELETE", "/api/v1/groups/owners/members/GOV:1234").status, 204);
  EXPECT_EQ(call("PATCH", "/api/v1/groups/owners", {{"description", "x"}}).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/groups/owners").status, 204);

  // CAs and TSAs.
  const std::string pki = HANSA_TEST_PKI_DIR;
  const Json ca = {{"name", "Dev CA"},
                   {"top_ca", {{"cert", read_text(pki + "/ca/root.pem")}}},
                   {"intermediate_cas",
                    {{{"cert", read_text(pki + "/ca/intermediate.pem")},
                      {"ocsp", {{{"url", "http://127.0.0.1:8899/ocsp"}}}}}}},
                   {"certificate_profile_info", crypto::kHansaDefaultProfileName}};
  res = call("POST", "/api/v1/cas", ca);
  ASSERT_EQ(res.status, 201) << res.body;
  const auto ca_id = json_of(res)["id"].get<std::int64_t>();
  EXPECT_EQ(call("POST", "/api/v1/cas", ca).status, 409);
  Json not_ca = ca;
  not_ca["name"] = "TSA as CA";
  not_ca["top_ca"]["cert"] = read_text(pki + "/tsa/tsa.pem");
  EXPECT_EQ(call("POST", "/api/v1/cas", not_ca).status, 400);
  Json renamed = ca;
  renamed["name"] = "Renamed";
  EXPECT_EQ(call("PUT", "/api/v1/cas/" + std::to_string(ca_id), renamed).status, 200);
  EXPECT_EQ(json_of(call("GET", "/api/v1/cas/" + std::to_string(ca_id)))["name"], "Renamed");
  res = call("POST", "/api/v1/tsas",
             {{"name", "TSA"},
              {"url", "http://127.0.0.1:8899/tsa"},
              {"cert", read_text(pki + "/tsa/tsa.pem")}});
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(
      call("POST", "/api/v1/tsas", {{"name", "Auth"}, {"url", "http://x"}, {"cert", auth_pem}})
          .status,
      400);
  EXPECT_EQ(json_of(call("GET", "/api/v1/tsas"))["total"], 1);
  EXPECT_EQ(call("DELETE", "/api/v1/cas/" + std::to_string(ca_id)).status, 204);

  // Settings.
  res = call("PATCH", "/api/v1/settings",
             {{"time_stamping_interval_seconds", 120},
              {"management_service_provider", "SUBSYSTEM:DEV/GOV/1234/MANAGEMENT"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json_of(res)["time_stamping_interval_seconds"], 120);
  EXPECT_EQ(json_of(res)["ocsp_freshness_seconds"], 3600);
  EXPECT_EQ(call("PATCH", "/api/v1/settings", {{"ocsp_freshness_seconds", -5}}).status, 400);
  EXPECT_EQ(call("PATCH", "/api/v1/settings", {{"management_service_provider", nullptr}}).status,
            200);
  EXPECT_TRUE(json_of(call("GET", "/api/v1/settings"))["management_service_provider"].is_null());

  // Member deletion: refused while it owns a server, cascades on request.
  EXPECT_EQ(call("DELETE", "/api/v1/members/GOV:1234").status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/members/GOV:1234?cascade=true").status, 204);
  EXPECT_EQ(call("GET", "/api/v1/servers/GOV:1234:SS1").status, 404);

  // Instance and routing errors.
  EXPECT_EQ(json_of(call("GET", "/api/v1/instance"))["instance_identifier"], "DEV");
  EXPECT_EQ(call("GET", "/api/v1/nothing").status, 404);
  EXPECT_EQ(call("PUT", "/api/v1/members").status, 405);
}

TEST_P(AdminApiTest, TokensAreCreatedListedAndRevoked) {
  auto res = call("POST", "/api/v1/tokens", {{"name", "ci"}, {"role", "read-only"}});
  ASSERT_EQ(res.status, 201) << res.body;
  const auto created = json_of(res);
  const std::string secret = created["secret"];
  EXPECT_EQ(call("GET", "/api/v1/members", nullptr, &secret).status, 200);
  const auto list = json_of(call("GET", "/api/v1/tokens"));
  EXPECT_EQ(list["total"], 3);
  EXPECT_EQ(list.dump().find(secret), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/tokens", {{"name", "x"}, {"role", "root"}}).status, 400);
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + std::to_string(created["id"].get<int>())).status,
            204);
  EXPECT_EQ(call("GET", "/api/v1/members", nullptr, &secret).status, 401);
  EXPECT_EQ(last_audit().action, "api.auth");
}

TEST_P(AdminApiTest, ManagementRequestsAndStatus) {
#ifdef HANSA_CENTRAL_API_WITH_SERVICES
  auto list = call("GET", "/api/v1/management-requests?state=pending");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json_of(list)["total"], 0);
  EXPECT_EQ(call("GET", "/api/v1/management-requests?state=bogus").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/management-requests/42").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/management-requests/42/approve").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/management-requests/42/reject", {{"why", "x"}}).status, 400);
  auto status = call("GET", "/api/v1/status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(json_of(status)["published"], false);
#else
  EXPECT_EQ(call("GET", "/api/v1/management-requests").status, 503);
  EXPECT_EQ(call("GET", "/api/v1/status").status, 503);
#endif
}

// Every route the server serves is documented in schemas/central-admin-api.yaml, and every
// documented operation is served.
TEST(AdminApiDocument, EveryRouteIsInTheOpenApiDocument) {
  std::ifstream in(std::string(HANSA_SOURCE_DIR) + "/schemas/central-admin-api.yaml");
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
    if (!line.empty() && line[0] != ' ') {
      break;  // the next top-level key
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

  TestDatabase database;
  std::string skip;
  ASSERT_TRUE(database.create(db::Backend::kSqlite, skip));
  auto reg = Registry::open(database.db());
  ASSERT_TRUE(reg.ok());
  AdminApi api(**reg);
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
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminApiTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param));
                         });

}  // namespace
}  // namespace hansa::central
