// Tests of OpMonitor on SQLite and (when HANSA_TEST_PG_URI is set) PostgreSQL.

#include "node/opmonitor/opmonitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/metrics/metrics.h"

namespace hansa::opmonitor {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

ids::ClientId client(std::string_view text) { return ids::ClientId::parse(text).value(); }
ids::ServiceId service(std::string_view text) { return ids::ServiceId::parse(text).value(); }

const char* kA = "SUBSYSTEM:EE/GOV/A/app";
const char* kB = "SUBSYSTEM:EE/GOV/B/app";
const char* kC = "SUBSYSTEM:EE/COM/C/app";
const char* kServiceB = "SERVICE:EE/GOV/B/app/getData/v1";
const char* kServiceC = "SERVICE:EE/COM/C/app/listThings";

constexpr std::int64_t kT0 = 1'800'000'000;  // a fixed "now" for the injected clock

class OpMonitorTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    db::DbConfig config;
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
      }
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      admin_ = db::Database::open(admin_config).value();
      schema_ = "opm_" + unique_suffix();
      exec_admin("CREATE SCHEMA " + schema_);
      const std::string b(base);
      config.uri = b.find("://") != std::string::npos
                       ? b + (b.find('?') == std::string::npos ? "?" : "&") +
                             "options=-csearch_path%3D" + schema_
                       : b + " options='-csearch_path=" + schema_ + "'";
    } else {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "hansa-opmonitor-XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      config.uri = "sqlite://" + (dir_ / "node.db").string();
    }
    auto db = db::Database::open(config);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();
  }

  void TearDown() override {
    monitor_.reset();
    db_.reset();
    if (admin_ && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  OpMonitorOptions options() {
    OpMonitorOptions o;
    o.clock = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(now_)); };
    o.flush_interval = 20ms;
    return o;
  }

  OpMonitor& make(OpMonitorOptions o, metrics::Registry* registry = nullptr) {
    auto m = OpMonitor::create(*db_, std::move(o), registry);
    EXPECT_TRUE(m.ok()) << m.error().to_string();
    monitor_ = std::move(m).value();
    return *monitor_;
  }

  static CallRecord call(const char* c, const char* s, bool ok = true) {
    CallRecord r;
    r.side = CallRecord::Side::kClient;
    r.client = client(c);
    r.service = service(s);
    r.query_id = "q-" + unique_suffix();
    r.x_request_id = "x-1";
    r.protocol_version = "4.0";
    r.service_type = "WSDL";
    r.request_in = std::chrono::system_clock::time_point(1'700'000'000'123ms);
    r.request_out = r.request_in + 5ms;
    r.response_in = r.request_in + 50ms;
    r.response_out = r.request_in + 55ms;
    r.request_size = 1629;
    r.response_size = 1518;
    r.succeeded = ok;
    if (!ok) {
      r.fault_code = "Server.ServerProxy.AccessDenied";
      r.fault_string = "no access";
    }
    r.http_status = ok ? 200 : 500;
    return r;
  }

  // Feeds `n` calls at monitoring time `ts`.
  void feed(std::int64_t ts, const char* c, const char* s, int n = 1, bool ok = true) {
    const auto saved = now_.load();
    now_ = ts;
    for (int i = 0; i < n; ++i) {
      monitor_->on_call(call(c, s, ok));
    }
    now_ = saved;
    ASSERT_TRUE(monitor_->flush().ok());
  }

  std::unique_ptr<db::Database> admin_;
  std::string schema_;
  std::filesystem::path dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<OpMonitor> monitor_;
  std::atomic<std::int64_t> now_{kT0};
};

TEST_P(OpMonitorTest, StoresAndReadsBackEveryField) {
  auto& m = make(options());
  CallRecord r = call(kA, kServiceB);
  r.side = CallRecord::Side::kProducer;
  r.user_id = "EE37701010101";
  r.issue = "453465";
  r.represented_party_class = "COM";
  r.represented_party_code = "MEMBER123";
  r.client_security_server = "SERVER:EE/GOV/A/ss1";
  r.service_security_server = "SERVER:EE/GOV/B/ss0";
  r.rest_method = "GET";
  r.rest_path = "/things/1";
  r.request_mime_size = 2000;
  r.request_attachment_count = 1;
  r.response_mime_size = 3000;
  r.response_attachment_count = 2;
  r.succeeded = false;  // a failed call carries a fault too
  r.fault_code = "Server.ServerProxy.ServiceFailed";
  r.fault_string = "provider answered 502";
  r.http_status = 502;
  m.on_call(r);
  ASSERT_TRUE(m.flush().ok());
  auto page = m.query(RecordQuery{.from = kT0 - 10});
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->records.size(), 1u);
  const auto& got = page->records[0];
  EXPECT_EQ(got.monitoring_ts, kT0);
  const CallRecord& c = got.call;
  EXPECT_EQ(c.side, CallRecord::Side::kProducer);
  EXPECT_EQ(c.client, r.client);
  EXPECT_EQ(c.service, r.service);
  EXPECT_EQ(c.query_id, r.query_id);
  EXPECT_EQ(c.x_request_id, "x-1");
  EXPECT_EQ(c.user_id, r.user_id);
  EXPECT_EQ(c.issue, r.issue);
  EXPECT_EQ(c.protocol_version, "4.0");
  EXPECT_EQ(c.represented_party_class, "COM");
  EXPECT_EQ(c.represented_party_code, "MEMBER123");
  EXPECT_EQ(c.client_security_server, r.client_security_server);
  EXPECT_EQ(c.service_security_server, r.service_security_server);
  EXPECT_EQ(c.service_type, "WSDL");
  EXPECT_EQ(c.rest_method, "GET");
  EXPECT_EQ(c.rest_path, "/things/1");
  EXPECT_EQ(c.request_in, r.request_in);
  EXPECT_EQ(c.request_out, r.request_out);
  EXPECT_EQ(c.response_in, r.response_in);
  EXPECT_EQ(c.response_out, r.response_out);
  EXPECT_EQ(c.request_size, 1629u);
  EXPECT_EQ(c.request_mime_size, 2000u);
  EXPECT_EQ(c.request_attachment_count, 1u);
  EXPECT_EQ(c.response_size, 1518u);
  EXPECT_EQ(c.response_mime_size, 3000u);
  EXPECT_EQ(c.response_attachment_count, 2u);
  EXPECT_FALSE(c.succeeded);
  EXPECT_EQ(c.fault_code, "Server.ServerProxy.ServiceFailed");
  EXPECT_EQ(c.fault_string, "provider answered 502");
  EXPECT_EQ(c.http_status, 502);
  EXPECT_EQ(m.stats().stored, 1u);
}

TEST_P(OpMonitorTest, RecordWithoutIdentityIsStored) {
  auto& m = make(options());
  CallRecord r;
  r.fault_code = "Client.InvalidSoap";
  m.on_call(r);
  ASSERT_TRUE(m.flush().ok());
  auto page = m.query(RecordQuery{.from = kT0 - 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_FALSE(page->records[0].call.client.has_value());
  EXPECT_FALSE(page->records[0].call.succeeded);
  // An anonymous record is never shown to a member asking for its own records.
  now_ = kT0 + 3600;
  auto data =
      m.operational_data({.caller = client(kA), .records_from = kT0 - 10, .records_to = kT0 + 10});
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->records_count, 0u);
}

TEST_P(OpMonitorTest, QueryFiltersAndPaging) {
  make(options());
  feed(kT0 - 100, kA, kServiceB, 3);
  feed(kT0 - 90, kC, kServiceB, 2, false);
  feed(kT0 - 80, kA, kServiceC, 1);
  auto& m = *monitor_;

  auto all = m.query({.from = kT0 - 200});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->records.size(), 6u);
  EXPECT_FALSE(all->more);

  EXPECT_EQ(m.query({.from = kT0 - 200, .client = client(kA)})->records.size(), 4u);
  EXPECT_EQ(m.query({.from = kT0 - 200, .provider = client(kB)})->records.size(), 5u);
  EXPECT_EQ(m.query({.from = kT0 - 200, .service_code = "listThings"})->records.size(), 1u);
  EXPECT_EQ(m.query({.from = kT0 - 200, .succeeded = false})->records.size(), 2u);
  EXPECT_EQ(m.query({.from = kT0 - 95, .to = kT0 - 85})->records.size(), 2u);

  auto p1 = m.query({.from = kT0 - 200, .limit = 4});
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->records.size(), 4u);
  EXPECT_TRUE(p1->more);
  auto p2 = m.query({.from = kT0 - 200, .limit = 4, .offset = 4});
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->records.size(), 2u);
  EXPECT_FALSE(p2->more);
  EXPECT_GT(p2->records[0].id, p1->records[3].id);  // oldest first, no overlap
}

TEST_P(OpMonitorTest, HostileQueriesAreRefused) {
  auto o = options();
  o.max_query_range = 3600s;
  o.max_page_size = 50;
  o.default_page_size = 10;
  o.max_offset = 1000;
  auto& m = make(o);
  auto expect_bad = [](const Result<RecordPage>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, FaultCode::kBadRequest) << r.error().to_string();
  };
  expect_bad(m.query({.from = kT0, .to = kT0 - 1}));        // reversed
  expect_bad(m.query({.from = 0}));                         // unbounded: up to now from 1970
  expect_bad(m.query({.from = kT0 - 7200, .to = kT0}));     // wider than the limit
  expect_bad(m.query({.from = -5, .to = 10}));              // negative
  expect_bad(m.query({.from = kT0 - 10, .limit = 0}));      // empty page
  expect_bad(m.query({.from = kT0 - 10, .limit = 51}));     // huge page
  expect_bad(m.query({.from = kT0 - 10, .offset = 1001}));  // deep offset
  EXPECT_TRUE(m.query({.from = kT0 - 3600, .limit = 50, .offset = 1000}).ok());
}

TEST_P(OpMonitorTest, FullQueueDropsAndCounts) {
  auto o = options();
  o.queue_capacity = 3;
  auto& m = make(o);
  for (int i = 0; i < 10; ++i) {
    m.on_call(call(kA, kServiceB));
  }
  auto s = m.stats();
  EXPECT_EQ(s.received, 10u);
  EXPECT_EQ(s.queued, 3u);
  EXPECT_EQ(s.dropped, 7u);
  ASSERT_TRUE(m.flush().ok());
  EXPECT_EQ(m.stats().stored, 3u);
  EXPECT_EQ(m.stats().queued, 0u);
}

TEST_P(OpMonitorTest, LongAndBinaryFieldsAreCut) {
  auto o = options();
  o.max_field_bytes = 16;
  o.max_fault_string_bytes = 32;
  auto& m = make(o);
  CallRecord r = call(kA, kServiceB, false);
  r.user_id = std::string(10000, 'u');
  r.query_id = std::string("a\0b", 3) + std::string(100, 'q');
  r.fault_string = std::string(100000, 'f');
  r.issue = "\xff\xfe ok \xed\xa0\x80 \xc3\xa4";  // invalid bytes, a surrogate, a valid a-umlaut
  m.on_call(r);
  ASSERT_TRUE(m.flush().ok());
  auto page = m.query({.from = kT0 - 1});
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].call.user_id.size(), 16u);
  EXPECT_EQ(page->records[0].call.query_id.substr(0, 2), "ab");
  EXPECT_EQ(page->records[0].call.fault_string.size(), 32u);
  EXPECT_EQ(page->records[0].call.issue, "?? ok ??? \xc3\xa4");
  // The JSON rendering survives invalid UTF-8.
  EXPECT_TRUE(Json::accept(record_json(page->records[0])));
}

TEST_P(OpMonitorTest, PurgeRemovesOldRecords) {
  make(options());
  feed(kT0 - 10 * 86400, kA, kServiceB, 2);
  feed(kT0 - 100, kA, kServiceB, 1);
  auto n =
      monitor_->purge(std::chrono::system_clock::time_point(std::chrono::seconds(kT0 - 86400)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  auto o = options();
  EXPECT_EQ(monitor_->query({.from = kT0 - 1000})->records.size(), 1u);
  EXPECT_EQ(monitor_->stats().purged, 2u);
}

TEST_P(OpMonitorTest, WorkerStoresInBackgroundAndPurges) {
  auto o = options();
  o.batch_size = 2;
  o.retention = 3600s;
  auto& m = make(o);
  m.on_call(call(kA, kServiceB));  // at kT0
  now_ = kT0 + 7200;               // the first record is now past retention
  m.on_call(call(kA, kServiceB));
  m.on_call(call(kA, kServiceB));
  m.start();
  for (int i = 0; i < 200 && m.stats().stored < 3; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  m.stop();
  EXPECT_EQ(m.stats().stored, 3u);
  // The worker's first purge may have run before or after the first batch; run one more now.
  ASSERT_TRUE(
      m.purge(std::chrono::system_clock::time_point(std::chrono::seconds(kT0 + 3600))).ok());
  EXPECT_EQ(m.query({.from = kT0 - 10, .to = kT0 + 7200})->records.size(), 2u);
  m.start();  // restartable
  m.stop();
}

TEST_P(OpMonitorTest, StopStoresWhatIsQueued) {
  auto o = options();
  o.flush_interval = 10s;
  o.batch_size = 1000;
  auto& m = make(o);
  m.start();
  for (int i = 0; i < 5; ++i) {
    m.on_call(call(kA, kServiceB));
  }
  m.stop();
  EXPECT_EQ(m.stats().stored, 5u);
}

TEST_P(OpMonitorTest, OperationalDataEachClientSeesOnlyItsOwnRecords) {
  make(options());
  feed(kT0 - 1000, kA, kServiceB, 2);  // A calls B
  feed(kT0 - 900, kC, kServiceC, 3);   // C calls itself
  feed(kT0 - 800, kC, kServiceB, 1);   // C calls B
  auto& m = *monitor_;
  auto count = [&](const char* caller, Visibility v, std::optional<ids::ClientId> provider = {}) {
    auto r = m.operational_data({.caller = client(caller),
                                 .visibility = v,
                                 .records_from = kT0 - 2000,
                                 .records_to = kT0 - 100,
                                 .client = provider});
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? r->records_count : 999;
  };
  EXPECT_EQ(count(kA, Visibility::kOwnRecords), 2u);  // as client
  EXPECT_EQ(count(kB, Visibility::kOwnRecords), 3u);  // as provider
  EXPECT_EQ(count(kC, Visibility::kOwnRecords), 4u);  // both
  EXPECT_EQ(count("SUBSYSTEM:EE/GOV/Z/none", Visibility::kOwnRecords), 0u);
  EXPECT_EQ(count(kA, Visibility::kAllRecords), 6u);  // owner / monitoring client
  // searchCriteria/client filters by provider, within what the caller may see.
  EXPECT_EQ(count(kC, Visibility::kOwnRecords, client(kB)), 1u);
  EXPECT_EQ(count(kA, Visibility::kAllRecords, client(kC)), 3u);
  // A caller asking for another client's records as provider filter sees nothing of theirs.
  EXPECT_EQ(count(kA, Visibility::kOwnRecords, client(kC)), 0u);
}

TEST_P(OpMonitorTest, OperationalDataJsonFormat) {
  auto o = options();
  o.software_version = "hansa 0.1.0";
  make(o);
  feed(kT0 - 1000, kA, kServiceB, 1);
  auto r = monitor_->operational_data(
      {.caller = client(kA), .records_from = kT0 - 2000, .records_to = kT0 - 100});
  ASSERT_TRUE(r.ok());
  auto j = Json::parse(r->payload_json);
  ASSERT_EQ(j["records"].size(), 1u);
  const auto& rec = j["records"][0];
  EXPECT_EQ(rec["monitoringDataTs"], kT0 - 1000);
  EXPECT_EQ(rec["securityServerType"], "Client");
  EXPECT_EQ(rec["requestInTs"], 1'700'000'000'123);
  EXPECT_EQ(rec["responseOutTs"], 1'700'000'000'178);
  EXPECT_EQ(rec["clientXRoadInstance"], "EE");
  EXPECT_EQ(rec["clientMemberClass"], "GOV");
  EXPECT_EQ(rec["clientMemberCode"], "A");
  EXPECT_EQ(rec["clientSubsystemCode"], "app");
  EXPECT_EQ(rec["serviceMemberCode"], "B");
  EXPECT_EQ(rec["serviceCode"], "getData");
  EXPECT_EQ(rec["serviceVersion"], "v1");
  EXPECT_EQ(rec["messageProtocolVersion"], "4.0");
  EXPECT_EQ(rec["requestSize"], 1629);
  EXPECT_EQ(rec["succeeded"], true);
  EXPECT_EQ(rec["serviceType"], "WSDL");
  EXPECT_EQ(rec["xRoadVersion"], "hansa 0.1.0");
  EXPECT_EQ(rec["xRequestId"], "x-1");
  EXPECT_FALSE(rec.contains("faultCode"));
  EXPECT_FALSE(r->next_records_from.has_value());
  // outputSpec selects fields.
  r = monitor_->operational_data({.caller = client(kA),
                                  .records_from = kT0 - 2000,
                                  .records_to = kT0 - 100,
                                  .output_fields = {"serviceCode", "succeeded"}});
  ASSERT_TRUE(r.ok());
  j = Json::parse(r->payload_json);
  EXPECT_EQ(j["records"][0].size(), 2u);
  EXPECT_EQ(j["records"][0]["serviceCode"], "getData");
}

TEST_P(OpMonitorTest, OperationalDataPagesWithNextRecordsFrom) {
  auto o = options();
  o.max_records_in_payload = 3;
  make(o);
  feed(kT0 - 1000, kA, kServiceB, 2);
  feed(kT0 - 999, kA, kServiceB, 2);
  feed(kT0 - 998, kA, kServiceB, 1);
  OperationalDataRequest req{.caller = client(kA),
                             .visibility = Visibility::kOwnRecords,
                             .records_from = kT0 - 1000,
                             .records_to = kT0 - 500};
  auto r = monitor_->operational_data(req);
  ASSERT_TRUE(r.ok());
  // Three fit, but the third shares its second with a fourth: stop before that second.
  EXPECT_EQ(r->records_count, 2u);
  ASSERT_TRUE(r->next_records_from.has_value());
  EXPECT_EQ(*r->next_records_from, kT0 - 999);
  req.records_from = *r->next_records_from;
  r = monitor_->operational_data(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_count, 3u);
  EXPECT_FALSE(r->next_records_from.has_value());
}

TEST_P(OpMonitorTest, OperationalDataOneCrowdedSecond) {
  auto o = options();
  o.max_records_in_payload = 3;
  make(o);
  feed(kT0 - 1000, kA, kServiceB, 5);
  auto r = monitor_->operational_data(
      {.caller = client(kA), .records_from = kT0 - 1000, .records_to = kT0 - 500});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_count, 3u);  // never more than the limit
  EXPECT_EQ(*r->next_records_from, kT0 - 999);
}

TEST_P(OpMonitorTest, OperationalDataTimeRules) {
  make(options());
  feed(kT0 - 30, kA, kServiceB, 1);  // within the availability offset (60 s)
  auto& m = *monitor_;
  // recordsTo in the future is shifted back; nextRecordsFrom tells where to resume.
  auto r = m.operational_data(
      {.caller = client(kA), .records_from = kT0 - 1000, .records_to = kT0 + 1000});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_count, 0u);  // the fresh record is not served yet
  EXPECT_EQ(*r->next_records_from, kT0 - 60);
  // recordsFrom too recent, reversed range, negative values, unknown output field.
  for (auto req : std::vector<OperationalDataRequest>{
           {.caller = client(kA), .records_from = kT0 - 10, .records_to = kT0},
           {.caller = client(kA), .records_from = kT0 - 100, .records_to = kT0 - 200},
           {.caller = client(kA), .records_from = -1, .records_to = 5},
           {.caller = client(kA),
           .records_from = kT0 - 1000,
           .records_to = kT0 - 900,
           .output_fields = {"payload"}}}) {
    auto bad = m.operational_data(req);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, FaultCode::kBadRequest);
  }
}

TEST_P(OpMonitorTest, RegistersItsMetrics) {
  metrics::Registry registry;
  auto o = options();
  o.queue_capacity = 1;
  auto& m = make(o, &registry);
  m.on_call(call(kA, kServiceB));
  m.on_call(call(kA, kServiceB));
  std::string text = registry.render();
  EXPECT_NE(text.find("hansa_node_opmonitor_queue_records 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hansa_node_opmonitor_dropped_records 1\n"), std::string::npos);
  ASSERT_TRUE(m.flush().ok());
  monitor_.reset();
  // The registry may outlive the monitor.
  text = registry.render();
  EXPECT_NE(text.find("hansa_node_opmonitor_stored_records 1\n"), std::string::npos) << text;
}

TEST_P(OpMonitorTest, InvalidOptionsAreRefused) {
  auto o = options();
  o.batch_size = 0;
  auto m = OpMonitor::create(*db_, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, FaultCode::kInvalidConfiguration);
  o = options();
  o.default_page_size = 10;
  o.max_page_size = 5;
  EXPECT_FALSE(OpMonitor::create(*db_, o).ok());
}

TEST_P(OpMonitorTest, ConcurrentCallersWhileWorkerRuns) {
  auto o = options();
  o.batch_size = 50;
  auto& m = make(o);
  m.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        m.on_call(call(kA, kServiceB));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  m.stop();
  EXPECT_EQ(m.stats().stored, 1000u);
  EXPECT_EQ(m.query({.from = kT0 - 1, .limit = 1000})->records.size(), 1000u);
}

INSTANTIATE_TEST_SUITE_P(Backends, OpMonitorTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param)) == "sqlite"
                                      ? "Sqlite"
                                      : "Postgres";
                         });

TEST(VisibilityTest, OwnerAndMonitoringClientSeeAll) {
  const auto owner = ids::MemberId::parse("MEMBER:EE/GOV/OWNER").value();
  const std::vector<ids::ClientId> monitoring = {client("SUBSYSTEM:EE/GOV/CENTRAL/monitoring")};
  EXPECT_EQ(visibility_for(client("MEMBER:EE/GOV/OWNER"), owner, monitoring),
            Visibility::kAllRecords);
  EXPECT_EQ(visibility_for(client("SUBSYSTEM:EE/GOV/CENTRAL/monitoring"), owner, monitoring),
            Visibility::kAllRecords);
  // A subsystem of the owner is an ordinary client.
  EXPECT_EQ(visibility_for(client("SUBSYSTEM:EE/GOV/OWNER/app"), owner, monitoring),
            Visibility::kOwnRecords);
  EXPECT_EQ(visibility_for(client("MEMBER:EE/GOV/OTHER"), owner, monitoring),
            Visibility::kOwnRecords);
  // Same codes in another instance are another member.
  EXPECT_EQ(visibility_for(client("MEMBER:FI/GOV/OWNER"), owner, monitoring),
            Visibility::kOwnRecords);
}

TEST(FieldsTest, FieldListMatchesXRoad) {
  const auto& f = operational_data_fields();
  for (const char* name : {"monitoringDataTs", "securityServerType", "requestInTs", "responseOutTs",
                           "clientXRoadInstance", "serviceCode", "messageId", "succeeded",
                           "faultCode", "statusCode", "xRequestId"}) {
    EXPECT_NE(std::find(f.begin(), f.end(), name), f.end()) << name;
  }
}

}  // namespace
}  // namespace hansa::opmonitor
