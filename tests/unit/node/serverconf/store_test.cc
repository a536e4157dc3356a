// Tests of ServerConfStore and ServerConfSnapshot on SQLite and (when HANSA_TEST_PG_URI is set)
// PostgreSQL: validation, descriptions, endpoints, access rights, local groups, refresh,
// reloading, concurrency and hostile inputs (nothing half-stored).

#include "node/serverconf/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/crypto/encoding.h"
#include "core/http/server.h"
#include "tests/unit/node/serverconf/test_documents.h"

namespace hansa::serverconf {
namespace {

using testing::person_wsdl;
using testing::pets_openapi_json;
using testing::pets_openapi_yaml;

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

// One throw-away database: a SQLite file in a temp dir, or a PostgreSQL schema.
class TestDatabase final {
 public:
  bool create(db::Backend backend, std::string& skip_reason) {
    if (backend == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        skip_reason = "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
        return false;
      }
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      auto admin = db::Database::open(admin_config);
      if (!admin.ok()) {
        ADD_FAILURE() << admin.error().to_string();
        return false;
      }
      admin_ = std::move(admin).value();
      schema_ = "sc_" + unique_suffix();
      exec_admin("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri_ = b.find("://") != std::string::npos
                 ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                       schema_
                 : b + " options='-csearch_path=" + schema_ + "'";
    } else {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "hansa-serverconf-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) {
        ADD_FAILURE() << "mkdtemp";
        return false;
      }
      dir_ = tmpl;
      uri_ = "sqlite://" + (dir_ / "node.db").string();
    }
    db_ = open();
    return db_ != nullptr;
  }

  // Another connection pool on the same database (a second node instance).
  std::unique_ptr<db::Database> open() const {
    db::DbConfig config;
    config.uri = uri_;
    auto db = db::Database::open(config);
    if (!db.ok()) {
      ADD_FAILURE() << db.error().to_string();
      return nullptr;
    }
    return std::move(db).value();
  }

  ~TestDatabase() {
    db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  db::Database& db() { return *db_; }

 private:
  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  std::unique_ptr<db::Database> admin_;
  std::unique_ptr<db::Database> db_;
  std::string schema_;
  std::filesystem::path dir_;
  std::string uri_;
};

ids::ClientId client(const std::string& text) { return ids::ClientId::parse(text).value(); }
ids::ServiceId service(const std::string& text) { return ids::ServiceId::parse(text).value(); }
AccessSubject subject(const std::string& text) { return parse_subject(text).value(); }

const ids::SecurityServerId kServer =
    ids::SecurityServerId::parse("SERVER:EE/GOV/70000310/ss1").value();
const ids::ClientId kOwner = client("MEMBER:EE/GOV/70000310");
const ids::ClientId kProvider = client("SUBSYSTEM:EE/GOV/70000310/provider");
const ids::ClientId kConsumer = client("SUBSYSTEM:EE/COM/12345/consumer");
const ids::ClientId kOther = client("SUBSYSTEM:EE/COM/99999/other");

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const auto& r_ = (expr);                                         \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().to_string(); \
  } while (false)

#define EXPECT_CODE(expr, fault)                                                    \
  do {                                                                              \
    const auto& r_ = (expr);                                                        \
    EXPECT_FALSE(r_.ok()) << #expr;                                                 \
    if (!r_.ok()) {                                                                 \
      EXPECT_EQ(r_.error().code, fault) << #expr << ": " << r_.error().to_string(); \
    }                                                                               \
  } while (false)

// Serves documents by URL to the store (hermetic: no network).
class FakeFetcher {
 public:
  void set(const std::string& url, std::string doc) {
    std::lock_guard lock(mu_);
    docs_[url] = std::move(doc);
  }
  DescriptionFetcher fetcher() {
    return [this](std::string_view url, const DescriptionLimits& limits) -> Result<std::string> {
      std::lock_guard lock(mu_);
      const auto it = docs_.find(std::string(url));
      if (it == docs_.end()) {
        return Error(FaultCode::kNetworkError, "connection refused", std::string(url));
      }
      if (it->second.size() > limits.max_document_bytes) {
        return Error(FaultCode::kLimitExceeded, "response body too large");
      }
      return it->second;
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> docs_;
};

class StoreTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    if (!database_.create(GetParam(), skip)) {
      GTEST_SKIP() << skip;
    }
    store_ = open_store(database_.db());
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<ServerConfStore> open_store(db::Database& db) {
    StoreOptions options;
    options.fetcher = fetcher_.fetcher();
    auto store = ServerConfStore::open(db, options);
    if (!store.ok()) {
      ADD_FAILURE() << store.error().to_string();
      return nullptr;
    }
    return std::move(store).value();
  }

  void init_with_provider() {
    ASSERT_OK(store_->initialize(kServer));
    ASSERT_OK(store_->add_client(kProvider));
  }

  // Row counts of every table plus the change counter: "nothing half-stored" means unchanged.
  std::string db_state() {
    auto tx = database_.db().begin(db::Access::kReadOnly);
    EXPECT_TRUE(tx.ok());
    std::string out;
    for (const char* table :
         {"serverconf_clients", "serverconf_is_certs", "serverconf_descriptions",
          "serverconf_services", "serverconf_endpoints", "serverconf_access_rights",
          "serverconf_local_groups", "serverconf_local_group_members"}) {
      auto row = tx->query_one(std::string("SELECT COUNT(*) FROM ") + table);
      EXPECT_TRUE(row.ok() && row->has_value());
      out += std::string(table) + "=" + std::to_string((*row)->int64(0).value()) + " ";
    }
    auto counter = tx->query_one("SELECT change_counter FROM serverconf_state WHERE id = 1");
    out += "counter=" + std::to_string((*counter)->int64(0).value());
    return out;
  }

  TestDatabase database_;
  FakeFetcher fetcher_;
  std::unique_ptr<ServerConfStore> store_;
};

TEST_P(StoreTest, InitializationAndClients) {
  EXPECT_FALSE(store_->snapshot()->server().has_value());
  EXPECT_CODE(store_->add_client(kProvider), FaultCode::kInvalidRequest);  // not initialized
  ASSERT_OK(store_->initialize(kServer));
  EXPECT_CODE(store_->initialize(kServer), FaultCode::kConflict);
  auto snap = store_->snapshot();
  ASSERT_TRUE(snap->server().has_value());
  EXPECT_EQ(*snap->server(), kServer);
  ASSERT_NE(snap->find_client(kOwner), nullptr);

  ASSERT_OK(store_->add_client(kProvider));
  EXPECT_CODE(store_->add_client(kProvider), FaultCode::kConflict);
  EXPECT_CODE(store_->add_client(client("SUBSYSTEM:FI/GOV/1/x")),
              FaultCode::kInvalidClientIdentifier);
  const ClientEntry* c = store_->snapshot()->find_client(kProvider);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, RegistrationState::kSaved);
  EXPECT_EQ(c->is_connection, IsConnectionType::kHttpsAuth);  // X-Road's default
  EXPECT_FALSE(store_->snapshot()->is_registered_client(kProvider));

  ASSERT_OK(store_->set_registration_state(kProvider, RegistrationState::kRegistered));
  ASSERT_OK(store_->set_is_connection(kProvider, IsConnectionType::kHttp));
  snap = store_->snapshot();
  EXPECT_TRUE(snap->is_registered_client(kProvider));
  EXPECT_EQ(snap->find_client(kProvider)->is_connection, IsConnectionType::kHttp);

  EXPECT_CODE(store_->set_registration_state(kOther, RegistrationState::kRegistered),
              FaultCode::kNotFound);
  EXPECT_CODE(store_->delete_client(kOwner), FaultCode::kConflict);
  EXPECT_CODE(store_->delete_client(kOther), FaultCode::kNotFound);
  ASSERT_OK(store_->delete_client(kProvider));
  EXPECT_EQ(store_->snapshot()->find_client(kProvider), nullptr);
}

TEST_P(StoreTest, IsCertificates) {
  init_with_provider();
  std::ifstream in(std::string(HANSA_VECTORS_DIR) + "/gconf-v6-shared-params.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string xml = ss.str();
  const auto b = xml.find("<cert>") + 6;
  auto pem = crypto::base64_decode(xml.substr(b, xml.find("</cert>", b) - b));
  ASSERT_OK(pem);
  auto hex = store_->add_is_cert(kProvider, *pem);
  ASSERT_OK(hex);
  EXPECT_EQ(hex->size(), 64u);
  EXPECT_CODE(store_->add_is_cert(kProvider, *pem), FaultCode::kConflict);
  EXPECT_CODE(store_->add_is_cert(kProvider, "not a certificate"), FaultCode::kInvalidCertificate);
  EXPECT_CODE(store_->add_is_cert(kOther, *pem), FaultCode::kNotFound);
  auto snap = store_->snapshot();
  EXPECT_TRUE(snap->is_cert_registered(kProvider, *hex));
  EXPECT_FALSE(snap->is_cert_registered(kOwner, *hex));
  EXPECT_EQ(snap->find_client(kProvider)->is_certs.size(), 1u);
  ASSERT_OK(store_->remove_is_cert(kProvider, *hex));
  EXPECT_CODE(store_->remove_is_cert(kProvider, *hex), FaultCode::kNotFound);
  EXPECT_FALSE(store_->snapshot()->is_cert_registered(kProvider, *hex));
}

TEST_P(StoreTest, WsdlDescriptionBecomesSoapServices) {
  init_with_provider();
  auto id = store_->add_wsdl(kProvider, {"http://wsdl.example.org/person.wsdl", person_wsdl(), {}});
  ASSERT_OK(id);
  auto snap = store_->snapshot();
  const ServiceEntry* get =
      snap->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v1"));
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->type, ServiceType::kSoap);
  EXPECT_EQ(get->description_type, DescriptionType::kWsdl);
  EXPECT_EQ(get->url, "http://10.0.0.5:8080/person");
  EXPECT_EQ(get->title, "Look up a person");
  EXPECT_EQ(get->timeout, kDefaultServiceTimeout);
  EXPECT_TRUE(get->ssl_verify);
  EXPECT_TRUE(get->enabled);
  // Without a version, the only service with the code is found; a wrong version is not.
  EXPECT_EQ(snap->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson")), get);
  EXPECT_EQ(snap->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v9")), nullptr);
  EXPECT_EQ(snap->services_of(kProvider).size(), 2u);
  // Every service has its service-wide endpoint.
  const auto eps = snap->endpoints_of(kProvider, "getPerson");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0]->key(), kServiceEndpoint);
  EXPECT_TRUE(eps[0]->generated);
  // The document is kept for getWsdl.
  auto doc = store_->description_document(*id);
  ASSERT_OK(doc);
  EXPECT_EQ(*doc, person_wsdl());

  // Settings, enable/disable.
  ServiceSettings settings;
  settings.timeout = std::chrono::seconds(5);
  settings.ssl_verify = false;
  settings.url = "https://10.0.0.6/person";
  ASSERT_OK(
      store_->update_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v1"), settings));
  EXPECT_CODE(store_->update_service(service("SERVICE:EE/GOV/70000310/provider/nope"), settings),
              FaultCode::kNotFound);
  settings.url = "ftp://x";
  EXPECT_CODE(
      store_->update_service(service("SERVICE:EE/GOV/70000310/provider/getPerson"), settings),
      FaultCode::kInvalidRequest);
  ASSERT_OK(store_->set_description_enabled(*id, false, "maintenance until Monday"));
  snap = store_->snapshot();
  get = snap->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v1"));
  EXPECT_EQ(get->timeout, std::chrono::seconds(5));
  EXPECT_FALSE(get->ssl_verify);
  EXPECT_EQ(get->url, "https://10.0.0.6/person");
  EXPECT_FALSE(get->enabled);
  EXPECT_EQ(get->disabled_notice, "maintenance until Monday");
  EXPECT_CODE(store_->set_description_enabled(*id, false, std::string(2000, 'x')),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->set_description_enabled(9999, true), FaultCode::kNotFound);
}

TEST_P(StoreTest, OpenApiAndRestDescriptionsBecomeRestServicesWithEndpoints) {
  init_with_provider();
  ASSERT_OK(store_->add_openapi(kProvider, "pets", {"pets.json", pets_openapi_json(), {}}));
  ASSERT_OK(store_->add_openapi(kProvider, "petsYaml", {"pets.yaml", pets_openapi_yaml(), {}}));
  ASSERT_OK(store_->add_rest(kProvider, "weather", "https://weather.example.org/api"));
  auto snap = store_->snapshot();
  const ServiceEntry* pets = snap->find_service(service("SERVICE:EE/GOV/70000310/provider/pets"));
  ASSERT_NE(pets, nullptr);
  EXPECT_EQ(pets->type, ServiceType::kRest);
  EXPECT_EQ(pets->url, "https://pets.example.org/api/v1");
  std::vector<EndpointKey> keys;
  for (const auto* e : snap->endpoints_of(kProvider, "pets")) {
    keys.push_back(e->key());
    EXPECT_TRUE(e->generated);
  }
  std::sort(keys.begin(), keys.end());
  const std::vector<EndpointKey> expected = {{"*", "**"},
                                             {"DELETE", "/pets/{petId}"},
                                             {"GET", "/pets"},
                                             {"GET", "/pets/{petId}"},
                                             {"POST", "/pets"}};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(snap->endpoints_of(kProvider, "petsYaml").size(), 3u);
  ASSERT_EQ(snap->endpoints_of(kProvider, "weather").size(), 1u);

  // Manual endpoints on REST services only; generated ones cannot be removed.
  ASSERT_OK(store_->add_endpoint(kProvider, "weather", {"GET", "/forecast/{city}"}));
  EXPECT_CODE(store_->add_endpoint(kProvider, "weather", {"GET", "/forecast/{city}"}),
              FaultCode::kConflict);
  EXPECT_CODE(store_->add_endpoint(kProvider, "weather", {"FETCH", "/x"}),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->add_endpoint(kProvider, "nope", {"GET", "/x"}), FaultCode::kNotFound);
  ASSERT_OK(store_->add_wsdl(kProvider, {"person.wsdl", person_wsdl(), {}}));
  EXPECT_CODE(store_->add_endpoint(kProvider, "getPerson", {"GET", "/x"}),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->delete_endpoint(kProvider, "pets", {"GET", "/pets"}), FaultCode::kForbidden);
  EXPECT_CODE(store_->delete_endpoint(kProvider, "weather", kServiceEndpoint),
              FaultCode::kForbidden);
  ASSERT_OK(store_->delete_endpoint(kProvider, "weather", {"GET", "/forecast/{city}"}));
  EXPECT_CODE(store_->delete_endpoint(kProvider, "weather", {"GET", "/forecast/{city}"}),
              FaultCode::kNotFound);

  // Deleting a description removes its services and endpoints.
  snap = store_->snapshot();
  const ServiceEntry* pets_service =
      snap->find_service(service("SERVICE:EE/GOV/70000310/provider/pets"));
  ASSERT_NE(pets_service, nullptr);
  const std::int64_t pets_description = pets_service->description_id;
  ASSERT_OK(store_->delete_description(pets_description));
  snap = store_->snapshot();
  EXPECT_EQ(snap->find_service(service("SERVICE:EE/GOV/70000310/provider/pets")), nullptr);
  EXPECT_TRUE(snap->endpoints_of(kProvider, "pets").empty());
  EXPECT_CODE(store_->delete_description(pets_description), FaultCode::kNotFound);
  EXPECT_CODE(store_->description_document(pets_description), FaultCode::kNotFound);
}

TEST_P(StoreTest, ServiceAccessRightsWithEverySubjectKind) {
  init_with_provider();
  ASSERT_OK(store_->add_wsdl(kProvider, {"person.wsdl", person_wsdl(), {}}));
  const auto v1 = service("SERVICE:EE/GOV/70000310/provider/getPerson/v1");
  const auto v7 = service("SERVICE:EE/GOV/70000310/provider/getPerson/v7");
  const auto update = service("SERVICE:EE/GOV/70000310/provider/updatePerson/v2");
  const std::vector<ids::GlobalGroupId> none;
  // Deny by default.
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, v1, std::nullopt, std::nullopt, none));

  ASSERT_OK(store_->grant_service(v1, kConsumer));
  EXPECT_CODE(store_->grant_service(v1, kConsumer), FaultCode::kConflict);
  auto snap = store_->snapshot();
  EXPECT_TRUE(snap->is_allowed(kConsumer, v1, std::nullopt, std::nullopt, none));
  EXPECT_TRUE(
      snap->is_allowed(kConsumer, v7, std::nullopt, std::nullopt, none));  // version ignored
  EXPECT_FALSE(snap->is_allowed(kConsumer, update, std::nullopt, std::nullopt, none));
  EXPECT_FALSE(snap->is_allowed(kOther, v1, std::nullopt, std::nullopt, none));
  // A member subject does not grant its subsystems.
  ASSERT_OK(store_->grant_service(update, client("MEMBER:EE/COM/12345")));
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, update, std::nullopt, std::nullopt, none));
  EXPECT_TRUE(store_->snapshot()->is_allowed(client("MEMBER:EE/COM/12345"), update, std::nullopt,
                                             std::nullopt, none));

  // Global group.
  const auto group = ids::GlobalGroupId::parse("GLOBALGROUP:EE/readers").value();
  ASSERT_OK(store_->grant_service(update, group));
  const std::vector<ids::GlobalGroupId> groups = {group};
  EXPECT_TRUE(store_->snapshot()->is_allowed(kOther, update, std::nullopt, std::nullopt, groups));
  EXPECT_FALSE(store_->snapshot()->is_allowed(kOther, update, std::nullopt, std::nullopt, none));

  // Local group: must exist; membership decides.
  EXPECT_CODE(store_->grant_service(v1, subject("LOCALGROUP:partners")), FaultCode::kNotFound);
  ASSERT_OK(store_->add_local_group(kProvider, "partners", "Partner agencies"));
  EXPECT_CODE(store_->add_local_group(kProvider, "partners", "again"), FaultCode::kConflict);
  ASSERT_OK(store_->grant_service(v1, subject("LOCALGROUP:partners")));
  EXPECT_FALSE(store_->snapshot()->is_allowed(kOther, v1, std::nullopt, std::nullopt, none));
  ASSERT_OK(store_->add_local_group_member(kProvider, "partners", kOther));
  EXPECT_CODE(store_->add_local_group_member(kProvider, "partners", kOther), FaultCode::kConflict);
  snap = store_->snapshot();
  EXPECT_TRUE(snap->is_local_group_member(kProvider, "partners", kOther));
  EXPECT_TRUE(snap->is_allowed(kOther, v1, std::nullopt, std::nullopt, none));
  ASSERT_OK(store_->remove_local_group_member(kProvider, "partners", kOther));
  EXPECT_CODE(store_->remove_local_group_member(kProvider, "partners", kOther),
              FaultCode::kNotFound);
  EXPECT_FALSE(store_->snapshot()->is_allowed(kOther, v1, std::nullopt, std::nullopt, none));
  ASSERT_OK(store_->add_local_group_member(kProvider, "partners", kOther));
  // Deleting the group takes its rights with it.
  ASSERT_OK(store_->delete_local_group(kProvider, "partners"));
  EXPECT_CODE(store_->delete_local_group(kProvider, "partners"), FaultCode::kNotFound);
  EXPECT_TRUE(
      store_->snapshot()->subjects_of_endpoint(kProvider, "getPerson", kServiceEndpoint).size() ==
      1);

  // Revoke.
  ASSERT_OK(store_->revoke_service(v7, kConsumer));
  EXPECT_CODE(store_->revoke_service(v7, kConsumer), FaultCode::kNotFound);
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, v1, std::nullopt, std::nullopt, none));

  // SOAP services take service-wide rights only; unknown services and clients are refused.
  EXPECT_CODE(store_->grant_endpoint(kProvider, "getPerson", {"GET", "/x"}, kConsumer),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->grant_service(service("SERVICE:EE/GOV/70000310/provider/nope"), kConsumer),
              FaultCode::kNotFound);
  EXPECT_CODE(
      store_->grant_service(service("SERVICE:EE/GOV/70000310/unknown/getPerson"), kConsumer),
      FaultCode::kNotFound);
}

TEST_P(StoreTest, EndpointAccessRightsAndPrecedence) {
  init_with_provider();
  ASSERT_OK(store_->add_openapi(kProvider, "pets", {"pets.json", pets_openapi_json(), {}}));
  ASSERT_OK(store_->add_endpoint(kProvider, "pets", {"*", "/pets/**"}));
  ASSERT_OK(store_->add_endpoint(kProvider, "pets", {"*", "/pets/special"}));
  const auto pets = service("SERVICE:EE/GOV/70000310/provider/pets");
  const std::vector<ids::GlobalGroupId> none;

  ASSERT_OK(store_->grant_endpoint(kProvider, "pets", {"GET", "/pets/{petId}"}, kConsumer));
  EXPECT_CODE(store_->grant_endpoint(kProvider, "pets", {"PUT", "/pets/{petId}"}, kConsumer),
              FaultCode::kNotFound);
  EXPECT_CODE(store_->grant_endpoint(kProvider, "pets", {"GET", "/pets/{petId}"}, kConsumer),
              FaultCode::kConflict);
  auto snap = store_->snapshot();
  EXPECT_TRUE(snap->is_allowed(kConsumer, pets, "GET", "/pets/42", none));
  EXPECT_FALSE(snap->is_allowed(kConsumer, pets, "DELETE", "/pets/42", none));
  EXPECT_FALSE(snap->is_allowed(kConsumer, pets, "GET", "/pets", none));
  EXPECT_FALSE(snap->is_allowed(kConsumer, pets, "GET", "/pets/42/toys", none));
  // A SOAP-style check (no method) needs a service-wide right.
  EXPECT_FALSE(snap->is_allowed(kConsumer, pets, std::nullopt, std::nullopt, none));
  EXPECT_FALSE(snap->is_allowed(kOther, pets, "GET", "/pets/42", none));

  // A service-wide right covers every endpoint.
  ASSERT_OK(store_->grant_service(pets, kOther));
  snap = store_->snapshot();
  EXPECT_TRUE(snap->is_allowed(kOther, pets, "DELETE", "/pets/42/toys", none));
  EXPECT_TRUE(snap->is_allowed(kOther, pets, "PATCH", "/", none));

  // The most specific endpoint wins.
  auto match = [&](const char* method, const char* path) -> std::string {
    const EndpointEntry* e = snap->match_endpoint(pets, method, path);
    return e == nullptr ? "none" : e->key().method + " " + e->key().path;
  };
  EXPECT_EQ(match("GET", "/pets/42"), "GET /pets/{petId}");
  EXPECT_EQ(match("GET", "/pets/special"), "* /pets/special");
  EXPECT_EQ(match("DELETE", "/pets/42"), "DELETE /pets/{petId}");
  EXPECT_EQ(match("PUT", "/pets/42"), "* /pets/**");
  EXPECT_EQ(match("GET", "/pets"), "GET /pets");
  EXPECT_EQ(match("PUT", "/pets"), "* /pets/**");
  EXPECT_EQ(match("GET", "/owners"), "* **");

  // Revoking an endpoint right; removing a manual endpoint takes its rights.
  ASSERT_OK(store_->grant_endpoint(kProvider, "pets", {"*", "/pets/special"}, kConsumer));
  EXPECT_TRUE(store_->snapshot()->is_allowed(kConsumer, pets, "POST", "/pets/special", none));
  ASSERT_OK(store_->delete_endpoint(kProvider, "pets", {"*", "/pets/special"}));
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, pets, "POST", "/pets/special", none));
  ASSERT_OK(store_->revoke_endpoint(kProvider, "pets", {"GET", "/pets/{petId}"}, kConsumer));
  EXPECT_CODE(store_->revoke_endpoint(kProvider, "pets", {"GET", "/pets/{petId}"}, kConsumer),
              FaultCode::kNotFound);
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, pets, "GET", "/pets/42", none));
}

TEST_P(StoreTest, RefreshReplacesServicesAndKeepsSurvivingRights) {
  init_with_provider();
  const std::string url = "http://wsdl.example.org/person.wsdl";
  fetcher_.set(url, person_wsdl("updatePerson"));
  auto id = store_->add_wsdl(kProvider, {url, std::nullopt, std::nullopt});
  ASSERT_OK(id);
  const auto get = service("SERVICE:EE/GOV/70000310/provider/getPerson/v1");
  const auto update = service("SERVICE:EE/GOV/70000310/provider/updatePerson/v2");
  ASSERT_OK(store_->grant_service(get, kConsumer));
  ASSERT_OK(store_->grant_service(update, kConsumer));
  ServiceSettings settings;
  settings.timeout = std::chrono::seconds(7);
  ASSERT_OK(store_->update_service(get, settings));

  // The new document drops updatePerson and adds deletePerson.
  fetcher_.set(url, person_wsdl("deletePerson"));
  ASSERT_OK(store_->refresh_description(*id));
  auto snap = store_->snapshot();
  const std::vector<ids::GlobalGroupId> none;
  ASSERT_NE(snap->find_service(get), nullptr);
  EXPECT_EQ(snap->find_service(get)->timeout, std::chrono::seconds(7));
  EXPECT_TRUE(snap->is_allowed(kConsumer, get, std::nullopt, std::nullopt, none));
  EXPECT_EQ(snap->find_service(update), nullptr);
  EXPECT_TRUE(snap->endpoints_of(kProvider, "updatePerson").empty());
  const auto del = service("SERVICE:EE/GOV/70000310/provider/deletePerson/v2");
  ASSERT_NE(snap->find_service(del), nullptr);
  EXPECT_FALSE(snap->is_allowed(kConsumer, del, std::nullopt, std::nullopt, none));
  // Bringing updatePerson back does not resurrect its old right.
  ASSERT_OK(store_->refresh_description(*id, person_wsdl("updatePerson")));
  EXPECT_FALSE(store_->snapshot()->is_allowed(kConsumer, update, std::nullopt, std::nullopt, none));
  EXPECT_EQ(*store_->description_document(*id), person_wsdl("updatePerson"));

  // OpenAPI: generated endpoints follow the document, manual ones and surviving rights stay.
  auto api = store_->add_openapi(kProvider, "pets", {"pets.json", pets_openapi_json(), {}});
  ASSERT_OK(api);
  ASSERT_OK(store_->add_endpoint(kProvider, "pets", {"GET", "/pets/{petId}/photo"}));
  ASSERT_OK(store_->add_endpoint(kProvider, "pets", {"POST", "/pets/{petId}/toys"}));
  ASSERT_OK(store_->grant_endpoint(kProvider, "pets", {"GET", "/pets/{petId}"}, kConsumer));
  ASSERT_OK(store_->grant_endpoint(kProvider, "pets", {"DELETE", "/pets/{petId}"}, kConsumer));
  ASSERT_OK(store_->grant_endpoint(kProvider, "pets", {"POST", "/pets/{petId}/toys"}, kOther));
  std::string doc = pets_openapi_json(
      R"(, "/pets/{petId}/toys": {"post": {"responses": {"200": {"description": "ok"}}}})");
  doc.replace(doc.find(R"("delete")"), 8, R"("x-gone")");  // DELETE /pets/{petId} removed
  ASSERT_OK(store_->refresh_description(*api, doc));
  snap = store_->snapshot();
  const auto pets = service("SERVICE:EE/GOV/70000310/provider/pets");
  EXPECT_TRUE(snap->is_allowed(kConsumer, pets, "GET", "/pets/1", none));
  EXPECT_FALSE(snap->is_allowed(kConsumer, pets, "DELETE", "/pets/1", none));
  // The manual endpoint that the document now lists became generated and kept its right.
  EXPECT_TRUE(snap->is_allowed(kOther, pets, "POST", "/pets/1/toys", none));
  bool photo_kept = false;
  for (const auto* e : snap->endpoints_of(kProvider, "pets")) {
    if (e->key() == EndpointKey{"GET", "/pets/{petId}/photo"}) {
      photo_kept = !e->generated;
    }
    if (e->key() == EndpointKey{"POST", "/pets/{petId}/toys"}) {
      EXPECT_TRUE(e->generated);
    }
    EXPECT_NE(e->key(), (EndpointKey{"DELETE", "/pets/{petId}"}));
  }
  EXPECT_TRUE(photo_kept);

  // A REST base-URL description has nothing to re-read.
  auto rest = store_->add_rest(kProvider, "weather", "https://weather.example.org");
  ASSERT_OK(rest);
  ASSERT_OK(store_->refresh_description(*rest));
  EXPECT_CODE(store_->refresh_description(*rest, "x"), FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->refresh_description(4242), FaultCode::kNotFound);
}

TEST_P(StoreTest, HostileDescriptionsStoreNothing) {
  init_with_provider();
  ASSERT_OK(store_->add_wsdl(kProvider, {"person.wsdl", person_wsdl(), {}}));
  const std::string before = db_state();

  const std::string huge(50 * 1024 * 1024, ' ');
  EXPECT_CODE(store_->add_wsdl(kProvider, {"huge.wsdl", huge + person_wsdl(), {}}),
              FaultCode::kLimitExceeded);
  EXPECT_CODE(store_->add_openapi(kProvider, "huge", {"huge.json", "{" + huge + "}", {}}),
              FaultCode::kLimitExceeded);
  fetcher_.set("http://big.example.org/x.wsdl", huge);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"http://big.example.org/x.wsdl", {}, {}}),
              FaultCode::kLimitExceeded);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"http://down.example.org/x.wsdl", {}, {}}),
              FaultCode::kNetworkError);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"not-a-url", {}, {}}), FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"broken.wsdl", person_wsdl().substr(0, 1500), {}}),
              FaultCode::kInvalidXml);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"empty.wsdl",
                                           "<wsdl:definitions "
                                           "xmlns:wsdl='http://schemas.xmlsoap.org/"
                                           "wsdl/'/>",
                                           {}}),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->add_openapi(kProvider, "v2", {"v2.json", R"({"swagger": "2.0"})", {}}),
              FaultCode::kInvalidRequest);
  EXPECT_CODE(
      store_->add_openapi(kProvider, "deep",
                          {"deep.yaml", "openapi: 3.0.0\nx: " + std::string(5000, '['), {}}),
      FaultCode::kLimitExceeded);
  // Duplicates: the same source, a service code of another description (the second WSDL's
  // getPerson clashes after its first service would have been inserted).
  EXPECT_CODE(store_->add_wsdl(kProvider, {"person.wsdl", person_wsdl("other"), {}}),
              FaultCode::kConflict);
  EXPECT_CODE(store_->add_wsdl(kProvider, {"person2.wsdl", person_wsdl("brandNew"), {}}),
              FaultCode::kConflict);
  EXPECT_CODE(store_->add_rest(kProvider, "getPerson", "http://x.example.org"),
              FaultCode::kConflict);
  // Unknown client, bad identifiers, bad URLs.
  EXPECT_CODE(store_->add_wsdl(kOther, {"p.wsdl", person_wsdl(), {}}), FaultCode::kNotFound);
  EXPECT_CODE(store_->add_rest(kProvider, "bad code", "http://x.example.org"),
              FaultCode::kInvalidServiceIdentifier);
  EXPECT_CODE(store_->add_rest(kProvider, "weather", "gopher://x"), FaultCode::kInvalidRequest);
  EXPECT_CODE(store_->add_local_group(kProvider, "bad/code", ""), FaultCode::kInvalidIdentifier);
  EXPECT_CODE(store_->add_local_group(kOther, "ok", ""), FaultCode::kNotFound);
  EXPECT_CODE(parse_subject("SERVER:EE/GOV/70000310/ss1"), FaultCode::kInvalidIdentifier);
  EXPECT_CODE(parse_subject("SUBSYSTEM:EE/GOV/1"), FaultCode::kInvalidClientIdentifier);
  EXPECT_CODE(parse_subject("nonsense"), FaultCode::kInvalidIdentifier);
  EXPECT_CODE(store_->add_local_group_member(kProvider, "nope", kOther), FaultCode::kNotFound);

  // A refresh with a broken document changes nothing either.
  const auto held = store_->snapshot();
  const auto* get = held->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v1"));
  ASSERT_NE(get, nullptr);
  EXPECT_CODE(store_->refresh_description(get->description_id, "<oops"), FaultCode::kInvalidXml);
  EXPECT_CODE(store_->refresh_description(get->description_id, huge), FaultCode::kLimitExceeded);
  EXPECT_CODE(store_->refresh_description(get->description_id), FaultCode::kInvalidRequest);

  EXPECT_EQ(db_state(), before);
  EXPECT_EQ(store_->snapshot()->services().size(), 2u);
}

TEST_P(StoreTest, ConflictInsideTransactionRollsBackEverything) {
  init_with_provider();
  ASSERT_OK(store_->add_rest(kProvider, "updatePerson", "http://x.example.org"));
  const std::string before = db_state();
  // getPerson would be inserted first, then updatePerson clashes: nothing may remain.
  EXPECT_CODE(store_->add_wsdl(kProvider, {"person.wsdl", person_wsdl(), {}}),
              FaultCode::kConflict);
  EXPECT_EQ(db_state(), before);
  EXPECT_EQ(
      store_->snapshot()->find_service(service("SERVICE:EE/GOV/70000310/provider/getPerson/v1")),
      nullptr);
}

TEST_P(StoreTest, SecondInstanceReloadsWhenTheCounterMoves) {
  init_with_provider();
  auto other_db = database_.open();
  ASSERT_NE(other_db, nullptr);
  auto other = open_store(*other_db);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->snapshot()->find_client(kProvider), nullptr);
  auto r = other->reload_if_changed();
  ASSERT_OK(r);
  EXPECT_FALSE(*r);

  ASSERT_OK(store_->add_rest(kProvider, "weather", "https://weather.example.org"));
  const auto weather = service("SERVICE:EE/GOV/70000310/provider/weather");
  EXPECT_EQ(other->snapshot()->find_service(weather), nullptr);
  r = other->reload_if_changed();
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_NE(other->snapshot()->find_service(weather), nullptr);
  EXPECT_EQ(other->snapshot()->change_counter(), store_->snapshot()->change_counter());
  // Changes through the second instance reach the first.
  ASSERT_OK(other->grant_service(weather, kConsumer));
  ASSERT_OK(store_->reload_if_changed());
  const std::vector<ids::GlobalGroupId> none;
  EXPECT_TRUE(store_->snapshot()->is_allowed(kConsumer, weather, "GET", "/", none));
}

TEST_P(StoreTest, TwoInstancesWritingAtOnceLoseNothing) {
  init_with_provider();
  ASSERT_OK(store_->add_local_group(kProvider, "g", "group"));
  auto other_db = database_.open();
  ASSERT_NE(other_db, nullptr);
  auto other = open_store(*other_db);
  ASSERT_NE(other, nullptr);
  constexpr int kEach = 10;
  std::atomic<int> errors{0};
  auto writer = [&](ServerConfStore* s, const std::string& prefix) {
    for (int i = 0; i < kEach; ++i) {
      if (!s->add_local_group_member(kProvider, "g",
                                     client("SUBSYSTEM:EE/COM/1/" + prefix + std::to_string(i)))
               .ok()) {
        ++errors;
      }
    }
  };
  std::thread a(writer, store_.get(), "a");
  std::thread b(writer, other.get(), "b");
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_OK(store_->reload_if_changed());
  ASSERT_OK(other->reload_if_changed());
  EXPECT_EQ(store_->snapshot()->change_counter(), other->snapshot()->change_counter());
  EXPECT_EQ(store_->snapshot()->find_local_group(kProvider, "g")->members.size(),
            static_cast<std::size_t>(2 * kEach));
  EXPECT_EQ(other->snapshot()->find_local_group(kProvider, "g")->members.size(),
            static_cast<std::size_t>(2 * kEach));
}

TEST_P(StoreTest, ConcurrentReadersSeeConsistentSnapshots) {
  init_with_provider();
  ASSERT_OK(store_->add_rest(kProvider, "weather", "https://weather.example.org"));
  ASSERT_OK(store_->add_local_group(kProvider, "g", "group"));
  ASSERT_OK(store_->grant_service(service("SERVICE:EE/GOV/70000310/provider/weather"),
                                  subject("LOCALGROUP:g")));
  constexpr int kWrites = 30;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      const auto weather = service("SERVICE:EE/GOV/70000310/provider/weather");
      const std::vector<ids::GlobalGroupId> none;
      while (!done.load()) {
        auto snap = store_->snapshot();
        if (snap->change_counter() < last) {
          ++failures;  // snapshots never go back in time
        }
        last = snap->change_counter();
        const LocalGroupEntry* g = snap->find_local_group(kProvider, "g");
        if (g == nullptr) {
          ++failures;
          continue;
        }
        // Membership and the access decision agree within one snapshot.
        for (const auto& m : g->members) {
          if (!snap->is_allowed(m, weather, "GET", "/x", none)) {
            ++failures;
          }
        }
        // Every endpoint belongs to an existing service.
        for (const auto& s : snap->services()) {
          if (snap->endpoints_of(s.id.provider(), s.id.service_code()).empty()) {
            ++failures;
          }
        }
      }
    });
  }
  int write_errors = 0;
  for (int i = 0; i < kWrites; ++i) {
    const auto member = client("SUBSYSTEM:EE/COM/1/s" + std::to_string(i));
    if (!store_->add_local_group_member(kProvider, "g", member).ok() ||
        !store_
             ->add_rest(kProvider, "svc" + std::to_string(i),
                        "http://svc" + std::to_string(i) + ".example.org")
             .ok()) {
      ++write_errors;
    }
  }
  done = true;
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(write_errors, 0);
  const auto snap = store_->snapshot();
  EXPECT_EQ(snap->find_local_group(kProvider, "g")->members.size(),
            static_cast<std::size_t>(kWrites));
  EXPECT_EQ(snap->services().size(), static_cast<std::size_t>(kWrites + 1));
}

TEST_P(StoreTest, FetchesOverHttpWithSizeCapAndTimeout) {
  init_with_provider();
  http::ServerOptions options;
  auto server = http::Server::create(options);
  ASSERT_OK(server);
  (*server)->route("GET", "/person.wsdl", [](const http::Request&, http::Response& res) {
    res.set_body(person_wsdl(), "text/xml");
  });
  (*server)->route("GET", "/big.wsdl", [](const http::Request&, http::Response& res) {
    res.set_body(std::string(64 * 1024, ' ') + person_wsdl(), "text/xml");
  });
  (*server)->route("GET", "/missing.wsdl",
                   [](const http::Request&, http::Response& res) { res.status = 404; });
  (*server)->route("GET", "/slow.wsdl", [](const http::Request&, http::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_body(person_wsdl(), "text/xml");
  });
  ASSERT_OK((*server)->start());
  const std::string base = "http://127.0.0.1:" + std::to_string((*server)->port());

  StoreOptions store_options;  // the real HTTP fetcher
  store_options.limits.max_document_bytes = 32 * 1024;
  store_options.limits.fetch_timeout = std::chrono::milliseconds(300);
  auto other_db = database_.open();
  auto store = ServerConfStore::open(*other_db, store_options);
  ASSERT_OK(store);
  ASSERT_OK((*store)->add_wsdl(kProvider, {base + "/person.wsdl", {}, {}}));
  EXPECT_CODE((*store)->add_wsdl(kProvider, {base + "/big.wsdl", {}, {}}),
              FaultCode::kLimitExceeded);
  EXPECT_CODE((*store)->add_wsdl(kProvider, {base + "/missing.wsdl", {}, {}}),
              FaultCode::kInvalidRequest);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_CODE((*store)->add_wsdl(kProvider, {base + "/slow.wsdl", {}, {}}), FaultCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1400));
  EXPECT_EQ((*store)->snapshot()->services().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param)) == "sqlite"
                                      ? std::string("Sqlite")
                                      : std::string("Postgres");
                         });

}  // namespace
}  // namespace hansa::serverconf
