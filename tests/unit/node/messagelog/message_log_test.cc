// The message log on SQLite always and on PostgreSQL when HANSA_TEST_PG_URI is set: group commit,
// body policies, crash safety (SIGKILL, ended database sessions), time-stamping against hansa-trust
// (TSA down and back), archives verified by hansa-verify's library, xmlsec1 and openssl ts, and
// retention.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "certs/hansa-trust/trust_server.h"
#include "core/asic/asic.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/db/database.h"
#include "core/hashchain/hashchain.h"
#include "core/http/client.h"
#include "core/http/server.h"
#include "core/signature/signature.h"
#include "core/timestamp/batch.h"
#include "node/api/admin_api.h"
#include "node/api/admin_store.h"
#include "node/messagelog/find_query.h"
#include "node/messagelog/message_log.h"
#include "tests/unit/core/signature/signature_fixtures.h"
#include "tools/hansa-verify/verifier.h"

// libpqxx 6.4 leaks libpq's PGresult when a connection breaks while it prepares a statement or
// begins a transaction; only the test that ends sessions on purpose reaches it.
extern "C" __attribute__((used)) const char* __lsan_default_suppressions() {
  return "leak:libpqxx-6.4.so\n";
}

namespace hansa::messagelog {
namespace {

using namespace std::chrono_literals;
using signature::testing::DevPki;
using signature::testing::read_file;
using signature::testing::run_quiet;
using signature::testing::TempDir;
using signature::testing::write_file;

constexpr const char* kPgEnv = "HANSA_TEST_PG_URI";

// `r` failed with `code`, and its message names `text`.
template <typename T>
void expect_fault(const Result<T>& r, FaultCode code, std::string_view text) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code);
  EXPECT_NE(r.error().to_string().find(text), std::string::npos) << r.error().to_string();
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

std::string with_options(const std::string& uri, const std::string& schema,
                         const std::string& app) {
  if (uri.find("://") != std::string::npos) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema + "&application_name=" + app;
  }
  return uri + " options='-csearch_path=" + schema + "' application_name=" + app;
}

ids::ClientId client_id(const std::string& member_code, const std::string& subsystem = "Client") {
  auto c = ids::ClientId::create("DEV", "COM", member_code, subsystem);
  HANSA_CHECK(c.ok());
  return *c;
}

ids::ServiceId service_id() {
  auto s = ids::ServiceId::parse("SERVICE:DEV/COM/4321/Provider/getThing");
  HANSA_CHECK(s.ok());
  return *s;
}

// A record whose message is derived from its query id (to check it comes back whole).
LogRecord plain_record(const std::string& query_id, std::size_t body = 1000) {
  LogRecord r{.query_id = query_id,
              .x_request_id = "x-" + query_id,
              .client = client_id("1234"),
              .service = service_id(),
              .response = false,
              .rest = false,
              .message = {},
              .attachments = {},
              .signature = {},
              .hash_chain_result = {},
              .hash_chain = {},
              .time = {}};
  r.message = "<m>" + query_id + "</m>" + std::string(body, 'b');
  r.attachments = {"att-" + query_id};
  r.signature = "<sig>" + query_id + "</sig>";
  r.time = Clock::now();
  return r;
}

// `threads` threads each append `per_thread` plain records named "<prefix>-<thread>-<i>",
// expecting every append to succeed. Returns once all are done, with the threads' ids.
std::set<std::thread::id> append_from_threads(MessageLog& log, const std::string& prefix,
                                              int threads, int per_thread) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        EXPECT_TRUE(
            log.append(plain_record(prefix + "-" + std::to_string(t) + "-" + std::to_string(i)))
                .ok());
      }
    });
  }
  std::set<std::thread::id> ids;
  for (auto& w : workers) {
    ids.insert(w.get_id());
  }
  for (auto& w : workers) {
    w.join();
  }
  return ids;
}

// ---------------- the database under test ----------------

class LogTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv(kPgEnv);
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << kPgEnv << " is not set: PostgreSQL tests skipped";
      }
      base_uri_ = base;
      schema_ = "mlog_" + unique_suffix();
      app_ = "hansa_mlog_" + unique_suffix();
      auto admin = open_uri(base_uri_, 1);
      ASSERT_TRUE(admin);
      admin_ = std::move(admin);
      exec_admin("CREATE SCHEMA " + schema_);
      uri_ = with_options(base_uri_, schema_, app_);
    } else {
      uri_ = "sqlite://" + (tmp_.path() / "node.db").string();
    }
  }
  void TearDown() override {
    if (admin_ && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
  }
  static std::unique_ptr<db::Database> open_uri(const std::string& uri, std::size_t pool = 8) {
    db::DbConfig c;
    c.uri = uri;
    c.pool_size = pool;
    auto d = db::Database::open(c);
    EXPECT_TRUE(d.ok()) << d.error().to_string();
    return d.ok() ? std::move(d).value() : nullptr;
  }
  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    auto r = tx->execute_script(sql);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }
  std::unique_ptr<db::Database> open_db() { return open_uri(uri_); }
  std::unique_ptr<MessageLog> make_log(db::Database& db, MessageLogOptions options = {},
                                       TsaSource tsas = {}, std::function<TimePoint()> clock = {}) {
    auto log = MessageLog::create(db, std::move(options), std::move(tsas), std::move(clock));
    EXPECT_TRUE(log.ok()) << log.error().to_string();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  // count() conditions for a record's state: time-stamped (linked to a time-stamp), archived
  // (stamped and out of the archive queue), waiting for the archive.
  static constexpr const char* kStamped = "id IN (SELECT record_id FROM mlog_record_ts)";
  static constexpr const char* kArchived =
      "id IN (SELECT record_id FROM mlog_record_ts) AND "
      "id NOT IN (SELECT record_id FROM mlog_unarchived)";
  static constexpr const char* kAwaitingArchive = "id IN (SELECT record_id FROM mlog_unarchived)";
  // The integer `sql` selects (one row, one column); -1 when there is none.
  static std::int64_t scalar(db::Database& db, const std::string& sql) {
    auto tx = db.begin(db::Access::kReadOnly);
    EXPECT_TRUE(tx.ok());
    auto row = tx->query_one(sql);
    EXPECT_TRUE(row.ok() && row->has_value()) << sql;
    return row.ok() && row->has_value() ? (**row).int64(0).value_or(-1) : -1;
  }
  static std::int64_t count(db::Database& db, const std::string& where = "1 = 1") {
    return scalar(db, "SELECT COUNT(*) FROM mlog_record WHERE " + where);
  }
  static std::int64_t count_signatures(db::Database& db) {
    return scalar(db, "SELECT COUNT(*) FROM mlog_signature");
  }
  // Runs `statements` in one transaction; BYTEA becomes BLOB on SQLite.
  void run_statements(db::Database& db, std::initializer_list<const char*> statements) {
    auto tx = db.begin();
    ASSERT_TRUE(tx.ok());
    for (const char* sql : statements) {
      std::string text = sql;
      if (!pg() && text.find("BYTEA") != std::string::npos) {
        text.replace(text.find("BYTEA"), 5, "BLOB");
      }
      auto r = tx->execute(text);
      ASSERT_TRUE(r.ok()) << text << ": " << r.error().to_string();
    }
    ASSERT_TRUE(tx->commit().ok());
  }
  bool pg() const { return GetParam() == db::Backend::kPostgres; }
  // From now on the database fails every commit that stores a record with query_id "poison".
  void refuse_poison(db::Database& db) const {
    auto tx = db.begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(
                      pg() ? "ALTER TABLE mlog_record ADD CONSTRAINT poison CHECK (query_id <> "
                             "'poison')"
                           : "CREATE TRIGGER poison BEFORE INSERT ON mlog_record WHEN "
                             "NEW.query_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END")
                    .ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  TempDir tmp_;
  std::string uri_;
  std::string base_uri_;
  std::string schema_;
  std::string app_;
  std::unique_ptr<db::Database> admin_;
};

std::string backend_name_param(const ::testing::TestParamInfo<db::Backend>& info) {
  return std::string(db::backend_name(info.param));
}

// ---------------- store and group commit ----------------

using StoreTest = LogTest;

// PostgreSQL: the migrations set lz4 on the large columns (they keep the default, silently, only
// on a server without lz4).
TEST_P(StoreTest, PostgresLargeColumnsAreCompressedWithLz4) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only";
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  auto tx = db->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto has_lz4 = tx->query_one(
      "SELECT COUNT(*) FROM pg_settings WHERE name = 'default_toast_compression' AND "
      "'lz4' = ANY(enumvals)");
  ASSERT_TRUE(has_lz4.ok() && has_lz4->has_value());
  if (*(**has_lz4).int64(0) == 0) {
    GTEST_SKIP() << "this PostgreSQL server has no lz4";
  }
  auto columns = tx->execute(
      "SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = "
      "a.attrelid WHERE a.attrelid IN ('mlog_record'::regclass, 'mlog_record_ts'::regclass, "
      "'mlog_signature'::regclass) AND "
      "a.attcompression = 'l' AND NOT a.attisdropped ORDER BY 1");
  ASSERT_TRUE(columns.ok()) << columns.error().to_string();
  std::vector<std::string> names;
  for (const auto& row : *columns) {
    names.push_back(*row.text(0));
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "mlog_record.attachments", "mlog_record.hash_chain",
                       "mlog_record.hash_chain_result", "mlog_record.message",
                       "mlog_record.signature", "mlog_record_ts.ts_hash_chain",
                       "mlog_signature.hash_chain_result", "mlog_signature.signature"}));
}

// PostgreSQL: a record with an incompressible 1.2 KB body and a hash chain of markup and digests
// (about 3.3 KB raw, 2.1 KB compressed) stays in its row, so storing it takes no TOAST insert; a
// body of 3 KB still goes to the TOAST table. Searches by time find both kinds.
TEST_P(StoreTest, PostgresKeepsASmallRecordInline) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only";
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  // Random bytes do not compress.
  auto record = [](const std::string& id, std::size_t body) {
    LogRecord r = plain_record(id, 300);
    r.attachments = {crypto::random_bytes(body)};
    r.hash_chain_result = "<result>" + std::string(600, 'r') + "</result>";
    r.hash_chain = "<chain>" + std::string(1100, 'c') +
                   crypto::hex_encode(crypto::random_bytes(300)) + "</chain>";
    return r;
  };
  // Bytes in this schema's mlog_record TOAST table: none until a value goes there.
  auto toast_bytes = [&] {
    return scalar(*db,
                  "SELECT pg_relation_size(reltoastrelid) FROM pg_class "
                  "WHERE oid = 'mlog_record'::regclass");
  };

  ASSERT_TRUE(log->append(record("inline-1", 1200)).ok());
  ASSERT_TRUE(log->append(record("inline-2", 1200)).ok());
  EXPECT_EQ(toast_bytes(), 0);
  ASSERT_TRUE(log->append(record("toasted", 3 * 1024)).ok());
  EXPECT_GT(toast_bytes(), 0);

  RecordQuery last_hour;
  last_hour.from = Clock::now() - 1h;
  last_hour.to = Clock::now() + 1min;
  auto found = log->find(last_hour);
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[2].query_id, "toasted");
  RecordQuery earlier;
  earlier.from = Clock::now() - 3h;
  earlier.to = Clock::now() - 1h;
  found = log->find(earlier);
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  EXPECT_TRUE(found->empty());
}

TEST_P(StoreTest, FindReturnsRecordsInTimeOrderAndPagesAfterTheLastShown) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  // Appended out of time order, three of them in the same millisecond.
  const TimePoint tie =
      std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now()) - 1min;
  const std::vector<std::pair<std::string, TimePoint>> appended = {
      {"now", Clock::now()},         {"tie-1", tie}, {"3min", Clock::now() - 3min}, {"tie-2", tie},
      {"2min", Clock::now() - 2min}, {"tie-3", tie}};
  for (const auto& [name, time] : appended) {
    LogRecord r = plain_record(name);
    r.time = time;
    ASSERT_TRUE(log->append(r).ok());
  }
  const std::vector<std::string> in_time_order = {"3min", "2min", "tie-1", "tie-2", "tie-3", "now"};
  auto page_through = [&](RecordQuery q) {
    std::vector<std::string> seen;
    for (int pages = 0; pages < 10; ++pages) {
      auto found = log->find(q);
      EXPECT_TRUE(found.ok()) << found.error().to_string();
      if (!found.ok() || found->empty()) {
        break;
      }
      EXPECT_LE(found->size(), q.limit);
      for (const RecordInfo& r : *found) {
        seen.push_back(r.query_id);
      }
      q.after_id = found->back().id;
    }
    return seen;
  };
  RecordQuery all;
  all.limit = 2;
  EXPECT_EQ(page_through(all), in_time_order);  // a page boundary falls inside the tie
  all.limit = 4;
  EXPECT_EQ(page_through(all), in_time_order);
  RecordQuery by_client;
  by_client.client = client_id("1234").to_string();
  by_client.limit = 1;
  EXPECT_EQ(page_through(by_client), in_time_order);
  RecordQuery window;  // from inclusive, to exclusive
  window.from = tie;
  window.to = Clock::now() - 10s;
  window.limit = 2;
  EXPECT_EQ(page_through(window), (std::vector<std::string>{"tie-1", "tie-2", "tie-3"}));

  // A page cannot continue after a record the log no longer holds.
  RecordQuery gone;
  gone.after_id = 999999;
  expect_fault(log->find(gone), FaultCode::kInvalidRequest, "no longer in the log");
}

// A search reads its page, not the log: on a log of 20,000 records each backend plans a recent
// window (with and without a page to continue after) as a range scan of the time index, in its
// order, without sorting and without the primary key.
TEST_P(StoreTest, SearchByTimeIsARangeScanOfTheTimeIndex) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count();
  // One record every 10 ms over the last 200 s.
  run_statements(*db, {("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                        "WHERE n < 20000) "
                        "INSERT INTO mlog_record (time_ms, query_id, x_request_id, client_id, "
                        "service_id, group_member, group_subsystem, response, rest, body_mode, "
                        "body_bytes, signature, signature_hash) "
                        "SELECT " +
                        std::to_string(now_ms - 200'000) +
                        " + n * 10, 'q' || n, 'x' || n, 'c', 's', '', '', 0, 1, 0, 0, '', '' "
                        "FROM g")
                           .c_str(),
                       "ANALYZE"});
  auto plan_of = [&](const FindStatement& st) {
    auto tx = db->begin(db::Access::kReadOnly);
    EXPECT_TRUE(tx.ok());
    auto rows = tx->execute((pg() ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + st.sql, st.params);
    EXPECT_TRUE(rows.ok()) << rows.error().to_string();
    std::string text;
    for (const auto& row : rows.ok() ? *rows : db::Rows{}) {
      text += row.text(pg() ? 0 : 3).value_or("?") + "\n";
    }
    return text;
  };
  RecordQuery recent;
  recent.from = Clock::now() - 5s;
  recent.to = Clock::now() + 1min;
  for (const auto& after :
       {std::optional<FindAfter>{}, std::optional<FindAfter>{FindAfter{now_ms - 3'000, 19'700}}}) {
    const std::string plan = plan_of(find_statement(recent, after));
    if (pg()) {
      EXPECT_NE(plan.find("Index Scan using mlog_record_time on mlog_record r"), std::string::npos)
          << plan;
      EXPECT_EQ(plan.find("mlog_record_pkey"), std::string::npos) << plan;
    } else {
      EXPECT_NE(plan.find("USING INDEX mlog_record_time (time_ms>? AND time_ms<?)"),
                std::string::npos)
          << plan;
    }
    EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  }
}

TEST_P(StoreTest, AppendStoresTheRecordAndFindsItByEachFilter) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  LogRecord req = plain_record("q-1");
  req.time = Clock::now() - 10min;
  ASSERT_TRUE(log->append(req).ok());
  LogRecord resp = plain_record("q-1");
  resp.response = true;
  resp.client = client_id("5555");
  ASSERT_TRUE(log->append(resp).ok());
  ASSERT_TRUE(log->append(plain_record("q-2")).ok());

  RecordQuery by_query;
  by_query.query_id = "q-1";
  auto found = log->find(by_query);
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_FALSE((*found)[0].response);
  EXPECT_TRUE((*found)[1].response);
  EXPECT_EQ((*found)[0].x_request_id, "x-q-1");
  EXPECT_EQ((*found)[0].client, client_id("1234").to_string());
  EXPECT_EQ((*found)[0].service, service_id().to_string());
  EXPECT_EQ((*found)[0].body_mode, BodyMode::kFull);
  EXPECT_FALSE((*found)[0].timestamp_id.has_value());
  EXPECT_FALSE((*found)[0].archived);

  RecordQuery by_client;
  by_client.client = client_id("5555").to_string();
  EXPECT_EQ(log->find(by_client)->size(), 1u);
  RecordQuery by_service;
  by_service.service = service_id().to_string();
  EXPECT_EQ(log->find(by_service)->size(), 3u);
  RecordQuery by_time;
  by_time.from = Clock::now() - 5min;
  by_time.to = Clock::now() + 1min;
  EXPECT_EQ(log->find(by_time)->size(), 2u);
  // Paging after the last record shown.
  RecordQuery page;
  page.limit = 2;
  auto first = log->find(page);
  ASSERT_EQ(first->size(), 2u);
  page.after_id = first->back().id;
  EXPECT_EQ(log->find(page)->size(), 1u);
  // Hostile queries.
  RecordQuery huge;
  huge.limit = 1'000'000;
  EXPECT_EQ(log->find(huge).error().code, FaultCode::kInvalidRequest);
  RecordQuery unbounded;
  unbounded.from = TimePoint{};
  unbounded.to = Clock::now();
  EXPECT_EQ(log->find(unbounded).error().code, FaultCode::kInvalidRequest);
  RecordQuery inverted;
  inverted.from = Clock::now();
  inverted.to = Clock::now() - 1h;
  EXPECT_EQ(log->find(inverted).error().code, FaultCode::kInvalidRequest);
  RecordQuery injection;
  injection.query_id = "q-1' OR '1'='1";
  EXPECT_TRUE(log->find(injection)->empty());
  // Not time-stamped yet: no container.
  EXPECT_EQ(log->container((*found)[0].id).error().code, FaultCode::kAsicContainerNotFound);
  EXPECT_EQ(log->container(999999).error().code, FaultCode::kNotFound);
}

TEST_P(StoreTest, GroupCommitStoresConcurrentRecordsInFewerTransactions) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log->append(plain_record("g-" + std::to_string(t) + "-" + std::to_string(i))).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  MessageLogStats stats = log->stats();
  EXPECT_EQ(stats.records, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_LT(stats.transactions, stats.records) << "no batching happened";
  EXPECT_EQ(count(*db), kThreads * kPerThread);
  // Every record is whole.
  auto tx = db->begin(db::Access::kReadOnly);
  auto rows = tx->execute(
      "SELECT query_id, message, COALESCE(g.signature, r.signature)"
      " FROM mlog_record r LEFT JOIN mlog_signature g ON g.id = r.signature_id");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    std::string q = *row.text(0);
    EXPECT_EQ(*row.blob(1), plain_record(q).message);
    EXPECT_EQ(*row.blob(2), plain_record(q).signature);
  }
}

// PostgreSQL: a log draws ids from each sequence 1,024 at a time, so most commits take theirs
// without a round trip for nextval. Two logs sharing the database draw disjoint ids, and a log
// that uses up its ids draws more.
TEST_P(StoreTest, PostgresDrawsIdsAheadOfTheCommitsThatUseThem) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only: SQLite assigns the ids as it inserts";
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  auto last_value = [&](const char* table) {
    return scalar(*db, std::string("SELECT last_value FROM pg_sequences WHERE schemaname = "
                                   "current_schema() AND sequencename = ") +
                           "'" + table + "_id_seq'");
  };
  ASSERT_TRUE(log->append(plain_record("ahead-0")).ok());
  const std::int64_t first = scalar(*db, "SELECT MIN(id) FROM mlog_record");
  const std::int64_t first_signature = scalar(*db, "SELECT MIN(id) FROM mlog_signature");
  EXPECT_EQ(last_value("mlog_record"), first + 1023);
  EXPECT_EQ(last_value("mlog_signature"), first_signature + 1023);
  for (int i = 1; i < 5; ++i) {
    ASSERT_TRUE(log->append(plain_record("ahead-" + std::to_string(i))).ok());
  }
  // Four more commits, no nextval: the ids came from the log's reserve, in order.
  EXPECT_EQ(last_value("mlog_record"), first + 1023);
  EXPECT_EQ(last_value("mlog_signature"), first_signature + 1023);
  EXPECT_EQ(scalar(*db, "SELECT MAX(id) FROM mlog_record"), first + 4);
  EXPECT_EQ(scalar(*db, "SELECT id FROM mlog_record WHERE query_id = 'ahead-3'"), first + 3);

  // A second instance on the same database has a reserve of its own.
  auto db2 = open_db();
  ASSERT_TRUE(db2);
  auto log2 = make_log(*db2);
  ASSERT_TRUE(log2);
  ASSERT_TRUE(log2->append(plain_record("other-0")).ok());
  EXPECT_EQ(scalar(*db, "SELECT id FROM mlog_record WHERE query_id = 'other-0'"), first + 1024);
  EXPECT_EQ(last_value("mlog_record"), first + 2047);

  // The first log uses up its reserve (1,024 ids, 5 used) and draws another, past the second's.
  append_from_threads(*log, "more", 4, 300);
  EXPECT_EQ(count(*db), 5 + 1 + 1200);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(DISTINCT id) FROM mlog_record"), 5 + 1 + 1200);
  EXPECT_EQ(scalar(*db, "SELECT COUNT(*) FROM mlog_record WHERE id BETWEEN " +
                            std::to_string(first) + " AND " + std::to_string(first + 1023)),
            1024);
  EXPECT_GT(scalar(*db, "SELECT MAX(id) FROM mlog_record"), first + 2047);
  // Every record reads back its own signature, and every stored record is queued for its
  // time-stamp under its own id.
  EXPECT_EQ(scalar(*db,
                   "SELECT COUNT(*) FROM mlog_record r JOIN mlog_signature g ON "
                   "g.id = r.signature_id WHERE g.signature = convert_to('<sig>' || "
                   "r.query_id || '</sig>', 'UTF8')"),
            5 + 1 + 1200);
  EXPECT_EQ(scalar(*db,
                   "SELECT COUNT(*) FROM mlog_unstamped u JOIN mlog_record r ON "
                   "r.id = u.record_id"),
            5 + 1 + 1200);
}

// A batch signature is stored once however its records reach the log: in one commit, in later
// commits, or from several threads at once. Every record reads back its own signature and its
// SHA-512 (taken from the log's memo of recent signatures when it has seen them).
TEST_P(StoreTest, RecordsOfABatchShareOneStoredSignature) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  auto with_signature = [](const std::string& q, const std::string& sig) {
    LogRecord r = plain_record(q);
    r.signature = "<batch-signature>" + sig + std::string(5000, 's') + "</batch-signature>";
    return r;
  };
  // One after another (separate commits): a, a, a, b, b, c.
  std::map<std::string, std::string> expected;  // query id -> signature
  for (const auto& [q, sig] : std::vector<std::pair<std::string, std::string>>{
           {"s1", "a"}, {"s2", "a"}, {"s3", "a"}, {"s4", "b"}, {"s5", "b"}, {"s6", "c"}}) {
    LogRecord r = with_signature(q, sig);
    expected[q] = r.signature;
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  EXPECT_EQ(count_signatures(*db), 3);
  EXPECT_EQ(count(*db, "signature_id IS NOT NULL"), 6);
  // Concurrently: 16 threads, each record sharing its signature with 7 records of other threads.
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::mutex mu;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string q = "c-" + std::to_string(t) + "-" + std::to_string(i);
        LogRecord r = with_signature(q, "c" + std::to_string(i) + "-" + std::to_string(t % 2));
        {
          std::lock_guard lock(mu);
          expected[q] = r.signature;
        }
        if (!log->append(std::move(r)).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  // 80 distinct signatures over 640 records. Two writers (or the cache's first seconds) may
  // store one twice; far fewer rows than records either way.
  const std::int64_t stored = count_signatures(*db) - 3;
  EXPECT_GE(stored, 80);
  EXPECT_LE(stored, 160);
  auto tx = db->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute(
      "SELECT query_id, COALESCE(g.signature, r.signature), length(r.signature), signature_hash "
      "FROM mlog_record r LEFT JOIN mlog_signature g ON g.id = r.signature_id");
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  std::size_t seen = 0;
  for (const auto& row : *rows) {
    ++seen;
    const std::string q = *row.text(0);
    EXPECT_EQ(*row.blob(1), expected[q]) << q;
    EXPECT_EQ(*row.int64(2), 0) << q << ": the signature is stored on the record row too";
    // The hash the time-stamp covers, also for signatures the log has seen before.
    EXPECT_EQ(*row.blob(3), crypto::digest(crypto::DigestAlgorithm::kSha512, expected[q])) << q;
  }
  EXPECT_EQ(seen, expected.size());
}

// A record whose stored signature has gone (a damaged database) gets a clear error, not an
// empty signature.
TEST_P(StoreTest, MissingStoredSignatureIsReportedForTheRecord) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append(plain_record("gone")).ok());
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("DELETE FROM mlog_signature").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  RecordQuery q;
  q.query_id = "gone";
  auto found = log->find(q);
  ASSERT_TRUE(found.ok() && found->size() == 1u);
  expect_fault(log->container(found->front().id), FaultCode::kDatabaseError,
               "signature is missing");
}

// A commit in time-stamp-immediately mode is one time-stamp batch, whose inputs a container is
// later written from: a batch larger than a stored time-stamp may claim is refused at start.
TEST_P(StoreTest, CommitBatchIsBounded) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  for (std::size_t bad : {std::size_t{0}, std::size_t{100'001}}) {
    options.max_commit_batch = bad;
    auto refused = MessageLog::create(*db, options, {});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code, FaultCode::kInvalidConfiguration);
    EXPECT_NE(refused.error().to_string().find("max_commit_batch must be 1..100000"),
              std::string::npos)
        << refused.error().to_string();
  }
  options.max_commit_batch = 100'000;
  EXPECT_TRUE(make_log(*db, options));
}

// Each commit writer holds a pooled connection: as many writers as connections is refused, and
// the default keeps one writer on a pool too small for two.
TEST_P(StoreTest, CommitWritersMustLeaveAPooledConnection) {
  auto db = open_uri(uri_, 2);
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.commit_writers = 2;
  expect_fault(MessageLog::create(*db, options, {}), FaultCode::kInvalidConfiguration,
               "commit_writers");
  options.commit_writers = 0;
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->append(plain_record("small-pool")).ok());
  EXPECT_EQ(count(*db, "query_id = 'small-pool'"), 1);
}

// The commit observer (the node's /metrics) sees every group commit: its records, its outcome
// and how long it took.
TEST_P(StoreTest, CommitObserverSeesEveryBatch) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> timed{true};
  MessageLogOptions options;
  options.on_commit = [&](std::chrono::nanoseconds took, std::size_t n, bool ok) {
    if (took.count() <= 0) {
      timed = false;
    }
    if (ok) {
      ++commits;
      records += n;
    } else {
      ++failed;
    }
  };
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  append_from_threads(*log, "c", 8, 25);
  EXPECT_EQ(records.load(), 200u);
  EXPECT_EQ(commits.load(), log->stats().transactions);
  EXPECT_EQ(failed.load(), 0u);
  EXPECT_TRUE(timed.load());
  // A record the database refuses: the observer hears of the failed commit.
  refuse_poison(*db);
  EXPECT_FALSE(log->append(plain_record("poison")).ok());
  EXPECT_EQ(failed.load(), 1u);
  EXPECT_EQ(records.load(), 200u);
}

// Group commit without a writer thread: each commit runs on the thread of one of the callers
// whose records it stores, a lone append commits its own record, and no more commits run at once
// than commit_writers allows.
TEST_P(StoreTest, CommitsRunOnTheCallersThreadsWithinTheWriterLimit) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::mutex mu;
  std::set<std::thread::id> committers;
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  MessageLogOptions options;
  options.on_commit = [&](std::chrono::nanoseconds, std::size_t, bool) {
    const int now = ++running;
    int seen = most_running.load();
    while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // widen the window for overlaps
    {
      std::lock_guard lock(mu);
      committers.insert(std::this_thread::get_id());
    }
    --running;
  };
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append(plain_record("alone")).ok());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(committers, std::set<std::thread::id>{std::this_thread::get_id()});
    committers.clear();
  }
  const std::set<std::thread::id> callers = append_from_threads(*log, "w", 8, 25);
  EXPECT_EQ(count(*db), 201);
  EXPECT_LT(log->stats().transactions, 201u) << "no batching happened";
  std::lock_guard lock(mu);
  EXPECT_FALSE(committers.empty());
  for (const auto& id : committers) {
    EXPECT_TRUE(callers.contains(id)) << "a commit ran on a thread that appended nothing";
  }
  // SQLite: one commit at a time; PostgreSQL: the default two.
  EXPECT_LE(most_running.load(), pg() ? 2 : 1);
}

// After a failed commit the next one waits retry_delay (a restarting database is not hammered),
// and stop() ends that wait: the records queued meanwhile are still committed.
TEST_P(StoreTest, FailedCommitDelaysTheNextByRetryDelay) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.retry_delay = 400ms;
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  refuse_poison(*db);
  EXPECT_FALSE(log->append(plain_record("poison")).ok());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(log->append(plain_record("next")).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 390ms);
  // Another failure, then stop() while a caller waits out the delay.
  options.retry_delay = 60s;
  auto slow = make_log(*db, options);
  ASSERT_TRUE(slow);
  EXPECT_FALSE(slow->append(plain_record("poison")).ok());
  Status waiting = ok_status();
  std::thread t([&] { waiting = slow->append(plain_record("waits")); });
  std::this_thread::sleep_for(300ms);  // the caller is in its append by then
  started = std::chrono::steady_clock::now();
  slow->stop();
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  EXPECT_TRUE(waiting.ok()) << waiting.error().to_string();
  EXPECT_EQ(count(*db, "query_id = 'waits'"), 1);
}

TEST_P(StoreTest, BodyPoliciesAreNeverSilent) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.max_body_bytes = 4096;
  options.client_body_logging[client_id("7777").to_string()] = BodyLogging::kMetadataOnly;
  {
    auto log = make_log(*db, options);
    ASSERT_TRUE(log);
    // Too large: refused with LoggingFailed, nothing stored.
    Status big = log->append(plain_record("big", 10'000));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, FaultCode::kLoggingFailed);
    EXPECT_EQ(count(*db), 0);
    // Metadata only for one client.
    LogRecord meta = plain_record("meta");
    meta.client = client_id("7777");
    ASSERT_TRUE(log->append(meta).ok());
    RecordQuery q;
    q.query_id = "meta";
    auto found = log->find(q);
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ((*found)[0].body_mode, BodyMode::kMetadataPolicy);
    EXPECT_EQ(count(*db, "message IS NULL AND attachments IS NULL"), 1);
  }
  options.oversize_policy = OversizePolicy::kMetadataOnly;
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->append(plain_record("big2", 10'000)).ok());
  RecordQuery q;
  q.query_id = "big2";
  auto found = log->find(q);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].body_mode, BodyMode::kMetadataOversize);
  EXPECT_GT((*found)[0].body_bytes, 10'000);
  EXPECT_EQ(count(*db, "query_id = 'big2' AND message IS NULL"), 1);
}

TEST_P(StoreTest, FullQueueWaitsThenFailsAndStoppedLogRefuses) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.max_queue = 1;
  options.max_commit_batch = 1;
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  // A queue of one still serves many callers: they wait for room.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        ok += log->append(plain_record("bp-" + std::to_string(t) + "-" + std::to_string(i))).ok();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(ok.load(), 40);
  log->stop();
  Status after = log->append(plain_record("late"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, FaultCode::kLoggingFailed);
}

// stop() while callers are appending: each append either succeeds and its record is stored, or
// fails with LoggingFailed and nothing of it is stored. Records already queued are committed.
TEST_P(StoreTest, StopWhileAppendingLosesNoAcknowledgedRecord) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  // Each caller appends until an append fails: after stop() every append does.
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        Status s = log->append(plain_record("st-" + std::to_string(t) + "-" + std::to_string(i)));
        if (s.ok()) {
          ++ok;
          continue;
        }
        ++(s.error().code == FaultCode::kLoggingFailed ? refused : other);
        return;
      }
    });
  }
  while (ok.load() < 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  log->stop();
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(refused.load(), kThreads);
  EXPECT_EQ(count(*db), ok.load());
}

// Bodies, signatures and hash chains are binary-safe: every byte value comes back unchanged.
TEST_P(StoreTest, EveryByteValueRoundTrips) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  std::string reversed(all.rbegin(), all.rend());
  LogRecord r = plain_record("bytes-řida-日本");
  r.message = all + all + reversed;
  r.attachments = {all, "", reversed, std::string(1, '\0')};
  r.signature = reversed + all;
  r.hash_chain_result = all;
  r.hash_chain = reversed;
  ASSERT_TRUE(log->append(r).ok());
  auto tx = db->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto row = tx->query_one(
      "SELECT query_id, message, attachments, COALESCE(g.signature, r.signature), signature_hash, "
      "COALESCE(r.hash_chain_result, g.hash_chain_result), hash_chain FROM mlog_record r "
      "LEFT JOIN mlog_signature g ON g.id = r.signature_id");
  ASSERT_TRUE(row.ok() && row->has_value());
  const db::Row& got = **row;
  EXPECT_EQ(*got.text(0), "bytes-řida-日本");
  EXPECT_EQ(*got.blob(1), r.message);
  std::string parts;
  for (const auto& a : r.attachments) {
    for (int i = 7; i >= 0; --i) {
      parts.push_back(static_cast<char>((a.size() >> (8 * i)) & 0xff));
    }
    parts += a;
  }
  EXPECT_EQ(*got.blob(2), parts);
  EXPECT_EQ(*got.blob(3), r.signature);
  EXPECT_EQ(*got.blob(4), crypto::digest(crypto::DigestAlgorithm::kSha512, r.signature));
  EXPECT_EQ(*got.blob(5), r.hash_chain_result);
  EXPECT_EQ(*got.blob(6), r.hash_chain);
}

// Records larger than one bulk-insert chunk (PostgreSQL streams COPY data in 64 KB pieces), in
// concurrent batches: every record is stored whole.
TEST_P(StoreTest, BatchesLargerThanOneCopyChunkAreStoredWhole) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  constexpr int kThreads = 12;
  constexpr int kPerThread = 3;
  constexpr std::size_t kBody = 300'000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log->append(plain_record("big-" + std::to_string(t) + "-" + std::to_string(i), kBody))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count(*db), kThreads * kPerThread);
  auto tx = db->begin(db::Access::kReadOnly);
  auto rows = tx->execute(
      "SELECT query_id, message, COALESCE(g.signature, r.signature)"
      " FROM mlog_record r LEFT JOIN mlog_signature g ON g.id = r.signature_id");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    std::string q = *row.text(0);
    EXPECT_EQ(*row.blob(1), plain_record(q, kBody).message) << q;
    EXPECT_EQ(*row.blob(2), plain_record(q, kBody).signature) << q;
  }
}

// A batch whose insert fails part-way (a record the database rejects): every caller in that batch
// gets LoggingFailed and none of its records is stored; other batches and later appends succeed.
TEST_P(StoreTest, FailedBatchFailsEveryCallerInItAndStoresNone) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.retry_delay = 5ms;
  auto log = make_log(*db, options);
  ASSERT_TRUE(log);
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto st = tx->execute_script(
        pg() ? "ALTER TABLE mlog_record ADD CONSTRAINT poison CHECK (query_id NOT LIKE 'poison%')"
             : "CREATE TRIGGER poison BEFORE INSERT ON mlog_record WHEN NEW.query_id LIKE "
               "'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned record'); END");
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  std::mutex mu;
  std::set<std::string> acked;
  std::set<std::string> failed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string q =
            (i % 7 == 3 ? "poison-" : "good-") + std::to_string(t) + "-" + std::to_string(i);
        Status s = log->append(plain_record(q, 3000));
        std::lock_guard lock(mu);
        if (s.ok()) {
          acked.insert(q);
        } else {
          EXPECT_EQ(s.error().code, FaultCode::kLoggingFailed) << s.error().to_string();
          failed.insert(q);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(acked.size() + failed.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& q : acked) {
    EXPECT_FALSE(q.starts_with("poison")) << "a rejected record was acknowledged: " << q;
  }
  std::set<std::string> stored;
  {
    auto tx = db->begin(db::Access::kReadOnly);
    auto rows = tx->execute("SELECT query_id, message FROM mlog_record");
    ASSERT_TRUE(rows.ok());
    for (const auto& row : *rows) {
      std::string q = *row.text(0);
      EXPECT_EQ(*row.blob(1), plain_record(q, 3000).message) << q;
      stored.insert(q);
    }
  }
  EXPECT_EQ(stored, acked) << "stored records differ from acknowledged ones";
  EXPECT_GT(log->stats().failed_commits, 0u);
  // The log carries on.
  EXPECT_TRUE(log->append(plain_record("after")).ok());
}

// PostgreSQL runs two commit writers by default: a batch whose commit is slow (here a trigger
// sleeping for one record) does not hold up the records appended after it, which another writer
// commits meanwhile. With a single writer the later record would wait for the slow batch.
TEST_P(StoreTest, SlowCommitDoesNotHoldUpTheNextBatchOnPostgres) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only (SQLite has one writer)";
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto st = tx->execute_script(
        "CREATE FUNCTION slow_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.query_id LIKE 'slow%' THEN PERFORM pg_sleep(4); END IF; RETURN NEW; END $$; "
        "CREATE TRIGGER slow BEFORE INSERT ON mlog_record FOR EACH ROW "
        "EXECUTE FUNCTION slow_record()");
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }
  std::atomic<bool> slow_done{false};
  Status slow_status = ok_status();
  std::thread slow([&] {
    slow_status = log->append(plain_record("slow-1"));
    slow_done = true;
  });
  // Wait until the slow record's COPY sleeps in the trigger, so it is in a batch of its own.
  bool sleeping = false;
  for (int i = 0; i < 200 && !sleeping; ++i) {
    auto tx = db->begin(db::Access::kReadOnly);
    ASSERT_TRUE(tx.ok());
    auto row = tx->query_one(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND "
        "query LIKE 'COPY%mlog_record%' AND query_start IS NOT NULL");
    ASSERT_TRUE(row.ok() && row->has_value());
    sleeping = (**row).int64(0).value_or(0) > 0;
    if (!sleeping) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_TRUE(sleeping) << "the slow record never reached the trigger";
  Status fast = log->append(plain_record("fast-1"));
  EXPECT_TRUE(fast.ok()) << fast.error().to_string();
  EXPECT_FALSE(slow_done.load()) << "the later record waited for the slow commit";
  EXPECT_EQ(count(*db, "query_id = 'fast-1'"), 1);
  slow.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error().to_string();
  EXPECT_EQ(count(*db, "query_id = 'slow-1'"), 1);
}

// Throughput of durable 1 KB records (issue 9 target: 20,000/s on PostgreSQL); run by hand with
// --gtest_also_run_disabled_tests, prints the rate.
TEST_P(StoreTest, DISABLED_Throughput) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  constexpr int kThreads = 64;
  constexpr int kPerThread = 500;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(
            log->append(plain_record("t-" + std::to_string(t) + "-" + std::to_string(i), 1000))
                .ok());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d records in %.2f s: %.0f records/s, %llu transactions\n", kThreads * kPerThread,
              seconds, kThreads * kPerThread / seconds,
              static_cast<unsigned long long>(log->stats().transactions));
}

// A child process appends from several threads and reports each acknowledged query id on a
// pipe; it is killed with SIGKILL mid-stream. Every acknowledged record must be there, whole.
TEST_P(StoreTest, SigkillDuringGroupCommitLosesNoAcknowledgedRecord) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    db::DbConfig c;
    c.uri = uri_;
    auto db = db::Database::open(c);
    if (!db.ok()) {
      ::_exit(3);
    }
    auto log = MessageLog::create(**db, {}, {});
    if (!log.ok()) {
      ::_exit(4);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string q = "k-" + std::to_string(t) + "-" + std::to_string(i);
          if ((*log)->append(plain_record(q, 200)).ok()) {
            std::string line = q + "\n";
            (void)!::write(fds[1], line.data(), line.size());
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string acked;
  char buf[4096];
  std::size_t lines = 0;
  while (lines < 400) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    acked.append(buf, static_cast<std::size_t>(n));
    lines = static_cast<std::size_t>(std::count(acked.begin(), acked.end(), '\n'));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    acked.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  ASSERT_GE(lines, 400u);

  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);  // reopens (migrations, recovery) as a restarted node does
  ASSERT_TRUE(log);
  std::set<std::string> stored;
  auto tx = db->begin(db::Access::kReadOnly);
  auto rows = tx->execute(
      "SELECT query_id, message, attachments, COALESCE(g.signature, r.signature)"
      " FROM mlog_record r LEFT JOIN mlog_signature g ON g.id = r.signature_id");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    std::string q = *row.text(0);
    LogRecord expected = plain_record(q, 200);
    EXPECT_EQ(*row.blob(1), expected.message) << "half-written record " << q;
    EXPECT_EQ(*row.blob(3), expected.signature) << "half-written record " << q;
    stored.insert(q);
  }
  std::size_t start = 0;
  std::size_t checked = 0;
  while (start < acked.size()) {
    std::size_t end = acked.find('\n', start);
    if (end == std::string::npos) {
      break;
    }
    std::string q = acked.substr(start, end - start);
    EXPECT_TRUE(stored.count(q)) << "acknowledged record missing: " << q;
    ++checked;
    start = end + 1;
  }
  EXPECT_GE(checked, 400u);
}

// PostgreSQL: the server ends every session of the log mid-stream (as a restart does). Appends
// in flight fail with LoggingFailed (never a false ok); the log recovers on fresh connections.
TEST_P(StoreTest, DatabaseSessionsEndedMidBatchRecover) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only (SQLite has no server to restart)";
  }
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db);
  ASSERT_TRUE(log);
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acked;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::string q = "pg-" + std::to_string(t) + "-" + std::to_string(i);
        Status s = log->append(plain_record(q, 200));
        if (s.ok()) {
          std::lock_guard lock(mu);
          acked.push_back(q);
        } else {
          EXPECT_EQ(s.error().code, FaultCode::kLoggingFailed);
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  for (int round = 0; round < 3; ++round) {
    exec_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
               app_ + "'");
    std::this_thread::sleep_for(200ms);
  }
  std::size_t before;
  {
    std::lock_guard lock(mu);
    before = acked.size();
  }
  std::this_thread::sleep_for(500ms);
  stop = true;
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_GT(acked.size(), before) << "the log did not recover";
  std::set<std::string> stored;
  auto tx = db->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok()) << tx.error().to_string();
  auto rows = tx->execute("SELECT query_id FROM mlog_record");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    stored.insert(*row.text(0));
  }
  for (const auto& q : acked) {
    EXPECT_TRUE(stored.count(q)) << "acknowledged record missing: " << q;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         backend_name_param);

// ---------------- time-stamping and archiving (dev PKI, hansa-trust) ----------------

class TrustedLogTest : public LogTest {
 protected:
  void SetUp() override {
    LogTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    if (!pki_.load()) {
      GTEST_SKIP() << "development PKI not generated in " << HANSA_TEST_PKI_DIR;
    }
    conf_ = pki_.conf();
    auto member = ids::MemberId::parse("MEMBER:" + pki_.member_id());
    ASSERT_TRUE(member.ok());
    member_ = std::make_unique<ids::MemberId>(*member);
    start_tsa();
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    LogTest::TearDown();
  }
  void start_tsa() {
    auto server = trust::TrustServer::create(
        trust::dev_pki_config(HANSA_TEST_PKI_DIR, tmp_.path() / ("trust" + unique_suffix())));
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->start().ok());
    std::lock_guard lock(url_mu_);
    tsa_url_ = "http://127.0.0.1:" + std::to_string(server_->tsa_port()) + "/tsa";
  }
  void stop_tsa() {
    server_->stop();
    server_.reset();
  }
  TsaSource tsas() {
    return [this] {
      std::lock_guard lock(url_mu_);
      return std::vector<TsaTarget>{
          {"http://127.0.0.1:1/tsa", {read_file(pki_.env()["TSA_CERT"])}},  // refused: next one
          {tsa_url_, {read_file(pki_.env()["TSA_CERT"])}}};
    };
  }

  std::string soap(const std::string& query_id, bool response = false) {
    return R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd">
<s:Header>
<xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>)" +
           member_->instance() + "</id:xRoadInstance><id:memberClass>" + member_->member_class() +
           "</id:memberClass><id:memberCode>" + member_->member_code() +
           R"(</id:memberCode><id:subsystemCode>Client</id:subsystemCode></xroad:client>
<xroad:service id:objectType="SERVICE"><id:xRoadInstance>)" +
           member_->instance() + "</id:xRoadInstance><id:memberClass>" + member_->member_class() +
           "</id:memberClass><id:memberCode>" + member_->member_code() +
           R"(</id:memberCode><id:subsystemCode>Provider</id:subsystemCode><id:serviceCode>getThing</id:serviceCode></xroad:service>
<xroad:id>)" +
           query_id +
           R"(</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion></s:Header>
<s:Body><p:getThing)" +
           (response ? std::string("Response") : std::string()) +
           R"( xmlns:p="urn:p"/></s:Body></s:Envelope>)";
  }

  ids::ClientId own_client(const std::string& subsystem = "Client") {
    return *ids::ClientId::create(member_->instance(), member_->member_class(),
                                  member_->member_code(), subsystem);
  }

  // Records signed by member 1 as the proxy would log them: one by one, or in one batch.
  std::vector<LogRecord> signed_records(const std::vector<std::string>& query_ids, bool batch,
                                        const std::string& subsystem = "Client") {
    std::vector<LogRecord> out;
    std::vector<signature::BatchItem> items;
    for (const auto& q : query_ids) {
      LogRecord r{.query_id = q,
                  .x_request_id = "x-" + q,
                  .client = own_client(subsystem),
                  .service = *ids::ServiceId::parse("SERVICE:" + member_->instance() + "/" +
                                                    member_->member_class() + "/" +
                                                    member_->member_code() + "/Provider/getThing"),
                  .response = false,
                  .rest = false,
                  .message = {},
                  .attachments = {},
                  .signature = {},
                  .hash_chain_result = {},
                  .hash_chain = {},
                  .time = {}};
      r.message = soap(q);
      if (subsystem != "Client") {
        std::size_t at = r.message.find("<id:subsystemCode>Client");
        r.message.replace(at, 24, "<id:subsystemCode>" + subsystem);
      }
      r.attachments = {"attachment of " + q};
      r.time = Clock::now();
      items.push_back({crypto::digest(crypto::DigestAlgorithm::kSha512, r.message),
                       {crypto::digest(crypto::DigestAlgorithm::kSha512, r.attachments[0])}});
      out.push_back(std::move(r));
    }
    std::string ocsp = pki_.ocsp();
    if (batch) {
      auto signed_batch = signature::sign_batch(items, pki_.cert(), ocsp, pki_.signer());
      EXPECT_TRUE(signed_batch.ok());
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].signature = (*signed_batch)[i].signature_xml;
        out[i].hash_chain_result = (*signed_batch)[i].hash_chain_result;
        out[i].hash_chain = (*signed_batch)[i].hash_chain;
      }
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) {
        auto one = signature::sign_batch({items[i]}, pki_.cert(), ocsp, pki_.signer());
        EXPECT_TRUE(one.ok());
        out[i].signature = (*one)[0].signature_xml;
      }
    }
    return out;
  }
  // Appends `n` records named `prefix`0, `prefix`1, ... signed as one batch.
  void append_signed_batch(MessageLog& log, const std::string& prefix, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(prefix + std::to_string(i));
    }
    for (auto& r : signed_records(ids, true)) {
      ASSERT_TRUE(log.append(std::move(r)).ok());
    }
  }

  // A log that archives into `dir` under the test's temporary directory.
  std::unique_ptr<MessageLog> archiving_log(db::Database& db, const std::string& dir) {
    MessageLogOptions options;
    options.archive_dir = tmp_.path() / dir;
    return make_log(db, options, tsas());
  }

  // Appends a batch of three time-stamped records (`prefix`1-3) and one unstamped record
  // (`prefix`4) through an archiving log, then closes it: where the upgrade tests start.
  void log_batch_and_lone_record(db::Database& db, const std::string& prefix) {
    auto log = archiving_log(db, "archive");
    ASSERT_TRUE(log);
    for (auto& r : signed_records({prefix + "1", prefix + "2", prefix + "3"}, true)) {
      ASSERT_TRUE(log->append(std::move(r)).ok());
    }
    ASSERT_TRUE(log->timestamp_now().ok());
    for (auto& r : signed_records({prefix + "4"}, false)) {
      ASSERT_TRUE(log->append(std::move(r)).ok());
    }
  }

  // Schema version 6 undone: each batch-stamped record's time-stamp hash chain stored on its link
  // (written here from the time-stamp's inputs, as version 5 stored it), no inputs, no places;
  // each record's signature hash-chain result on its own row.
  void back_to_version_5(db::Database& db) {
    {
      auto tx = db.begin();
      ASSERT_TRUE(tx.ok());
      auto links = tx->execute(
          "SELECT s.record_id, s.input_index, t.inputs FROM mlog_record_ts s "
          "JOIN mlog_timestamp t ON t.id = s.timestamp_id WHERE s.input_index IS NOT NULL");
      ASSERT_TRUE(links.ok()) << links.error().to_string();
      for (const auto& row : *links) {
        const std::string inputs = *row.blob(2);
        std::vector<hashchain::ChainInput> leaves;
        for (std::size_t at = 0; at < inputs.size(); at += 64) {
          leaves.push_back({inputs.substr(at, 64), {}});
        }
        auto tree = hashchain::Tree::build(leaves, timestamp::BatchOptions{}.chain);
        ASSERT_TRUE(tree.ok());
        auto chain = tree->chain_xml(static_cast<std::size_t>(*row.int64(1)));
        ASSERT_TRUE(chain.ok());
        auto updated =
            tx->execute("UPDATE mlog_record_ts SET ts_hash_chain = $1 WHERE record_id = $2",
                        {db::Value::blob(*chain), *row.int64(0)});
        ASSERT_TRUE(updated.ok()) << updated.error().to_string();
      }
      ASSERT_TRUE(tx->commit().ok());
    }
    ASSERT_NO_FATAL_FAILURE(run_statements(
        db, {
                "ALTER TABLE mlog_record_ts DROP COLUMN input_index",
                "ALTER TABLE mlog_timestamp DROP COLUMN inputs",
                "UPDATE mlog_record SET hash_chain_result = (SELECT g.hash_chain_result FROM "
                "mlog_signature g WHERE g.id = mlog_record.signature_id) "
                "WHERE hash_chain_result IS NULL",
                "ALTER TABLE mlog_signature DROP COLUMN hash_chain_result",
                "DELETE FROM schema_migrations WHERE component = 'node_messagelog' AND "
                "version = 6",
            }));
  }

  // Schema versions 6 and 5 undone: `stamped` and `archived` flags on the record rows instead of
  // the queues, with the partial indexes of version 4.
  void back_to_version_4(db::Database& db) {
    ASSERT_NO_FATAL_FAILURE(back_to_version_5(db));
    ASSERT_NO_FATAL_FAILURE(run_statements(
        db, {
                "ALTER TABLE mlog_record ADD COLUMN stamped INTEGER NOT NULL DEFAULT 0",
                "UPDATE mlog_record SET stamped = 1 WHERE id IN "
                "(SELECT record_id FROM mlog_record_ts)",
                "ALTER TABLE mlog_record ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
                "UPDATE mlog_record SET archived = 1 WHERE stamped = 1 AND id NOT IN "
                "(SELECT record_id FROM mlog_unarchived)",
                "CREATE INDEX mlog_record_unstamped ON mlog_record (id) WHERE stamped = 0",
                "CREATE INDEX mlog_record_unarchived ON mlog_record (id) "
                "WHERE archived = 0 AND stamped = 1",
                "DROP TABLE mlog_unstamped",
                "DROP TABLE mlog_unarchived",
                "DELETE FROM schema_migrations WHERE component = 'node_messagelog' AND "
                "version = 5",
            }));
  }

  // Archives what is time-stamped: one file of `records` containers, verified by hansa-verify's
  // library.
  void expect_one_verified_archive(MessageLog& log, std::size_t records) {
    auto archived = log.archive_now();
    ASSERT_TRUE(archived.ok()) << archived.error().to_string();
    EXPECT_EQ(archived->records, records);
    ASSERT_EQ(archived->files.size(), 1u);
    auto report = verify::Verifier(conf_).verify_archive(read_file(archived->files[0]), "");
    EXPECT_TRUE(report.ok()) << verify::to_text(report);
    EXPECT_EQ(report.containers.size(), records);
  }

  verify::ContainerReport verify_container(const std::string& c) {
    return verify::Verifier(conf_).verify_container(c, "record.asice");
  }

  // The one record with `query_id` has a container that verifies.
  void expect_container_verifies(const MessageLog& log, const std::string& query_id) {
    RecordQuery q;
    q.query_id = query_id;
    auto found = log.find(q);
    ASSERT_TRUE(found.ok() && found->size() == 1u) << query_id;
    auto c = log.container(found->front().id);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    EXPECT_TRUE(verify_container(*c).ok()) << query_id;
  }

  DevPki pki_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  std::unique_ptr<ids::MemberId> member_;
  std::unique_ptr<trust::TrustServer> server_;
  std::mutex url_mu_;
  std::string tsa_url_;
};

TEST_P(TrustedLogTest, BatchAndSingleTimeStampsGiveContainersThatVerify) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.timestamp_batch = 3;
  std::vector<std::size_t> tokens;  // on_timestamp: records linked per stored token
  options.on_timestamp = [&tokens](std::size_t linked) { tokens.push_back(linked); };
  auto log = make_log(*db, options, tsas());
  ASSERT_TRUE(log);
  for (auto& r : signed_records({"b1", "b2", "b3", "b4"}, true)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  EXPECT_EQ(log->timestamper_status()->backlog, 4);
  EXPECT_EQ(log->stats().timestamp_batches, 0u);
  auto first = log->timestamp_now();  // three records: batch layout
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(*first, 3u);
  auto second = log->timestamp_now();  // the fourth alone: single layout
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(*second, 1u);
  EXPECT_EQ(tokens, (std::vector<std::size_t>{3, 1}));
  EXPECT_EQ(log->stats().timestamp_batches, 2u);
  EXPECT_EQ(log->stats().timestamped_records, 4u);
  ASSERT_TRUE(log->timestamp_now().ok());  // nothing left: no token, nothing counted
  EXPECT_EQ(log->stats().timestamp_batches, 2u);
  auto status = log->timestamper_status();
  EXPECT_EQ(status->backlog, 0);
  EXPECT_TRUE(status->last_success.has_value());
  RecordQuery all;
  all.from = Clock::now() - 1h;
  auto found = log->find(all);
  ASSERT_EQ(found->size(), 4u);
  for (const auto& info : *found) {
    auto c = log->container(info.id);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    auto report = verify_container(*c);
    EXPECT_TRUE(report.ok()) << verify::to_text(report);
    auto read = asic::read_container(*c);
    ASSERT_TRUE(read.ok());
    bool batch_layout = info.id != found->back().id;
    EXPECT_EQ(read->find("META-INF/timestamp.tst") != nullptr, batch_layout);
  }
}

TEST_P(TrustedLogTest, TsaDownBlocksAfterTheFailurePeriodAndRecovers) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.acceptable_failure_period = 700ms;
  options.timestamp_interval = 100ms;
  options.tsa_connect_timeout = 500ms;
  auto log = make_log(*db, options, tsas());
  ASSERT_TRUE(log);
  log->start();
  stop_tsa();
  for (auto& r : signed_records({"d1", "d2"}, false)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  // Failing, but within the period: exchange continues and the backlog grows.
  std::this_thread::sleep_for(250ms);
  EXPECT_TRUE(log->check_usable().ok());
  for (auto& r : signed_records({"d3"}, false)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  EXPECT_EQ(log->timestamper_status()->backlog, 3);
  // Past the period: TimestampingFailed, nothing stored.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (log->check_usable().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  Status usable = log->check_usable();
  ASSERT_FALSE(usable.ok());
  EXPECT_EQ(usable.error().code, FaultCode::kTimestampingFailed);
  auto refused = log->append(signed_records({"d4"}, false)[0]);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kTimestampingFailed);
  auto status = log->timestamper_status();
  EXPECT_TRUE(status->blocking);
  EXPECT_FALSE(status->last_error.empty());
  EXPECT_EQ(status->backlog, 3);
  // The TSA is back: the next pass stamps the backlog and exchange resumes.
  start_tsa();
  log->trigger_timestamping();
  deadline = std::chrono::steady_clock::now() + 20s;
  while (!log->check_usable().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(log->check_usable().ok());
  EXPECT_EQ(log->timestamper_status()->backlog, 0);
  EXPECT_TRUE(log->append(signed_records({"d5"}, false)[0]).ok());
}

TEST_P(TrustedLogTest, TimestampImmediatelyStampsBeforeAppendReturns) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.timestamp_immediately = true;
  auto log = make_log(*db, options, tsas());
  ASSERT_TRUE(log);
  auto records = signed_records({"i1", "i2", "i3"}, true);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (auto& r : records) {
    threads.emplace_back([&, rec = r]() mutable { ok += log->append(std::move(rec)).ok(); });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(log->timestamper_status()->backlog, 0);
  // One token per group commit: three records in one to three commits.
  const MessageLogStats stamped = log->stats();
  EXPECT_EQ(stamped.timestamped_records, 3u);
  EXPECT_EQ(stamped.timestamp_batches, stamped.transactions);
  EXPECT_GE(stamped.timestamp_batches, 1u);
  RecordQuery q;
  q.query_id = "i2";
  auto found = log->find(q);
  ASSERT_EQ(found->size(), 1u);
  auto c = log->container((*found)[0].id);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(verify_container(*c).ok()) << verify::to_text(verify_container(*c));
  // No TSA: the call fails and nothing is stored.
  stop_tsa();
  Status s = log->append(signed_records({"i4"}, false)[0]);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, FaultCode::kTimestampingFailed);
  EXPECT_EQ(count(*db), 3);
  EXPECT_EQ(log->stats().timestamp_batches, stamped.timestamp_batches);
  EXPECT_EQ(log->stats().timestamped_records, 3u);
}

TEST_P(TrustedLogTest, ArchivesLinkVerifyAndRecoverFromACrashBetweenFileAndDatabase) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::filesystem::path dir = tmp_.path() / "archive";
  MessageLogOptions options;
  options.archive_dir = dir;
  options.archive_max_bytes = 40'000;  // a few containers per archive: rotation
  options.archive_transfer_command =
      "echo $HANSA_ARCHIVE_FILES >> " + (tmp_.path() / "transferred").string();
  auto log = make_log(*db, options, tsas());
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(append_signed_batch(*log, "a", 12));
  ASSERT_TRUE(log->timestamp_now().ok());
  auto first = log->archive_now();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->records, 12u);
  ASSERT_GE(first->files.size(), 2u) << "no rotation";
  EXPECT_EQ(count(*db, kArchived), 12);
  EXPECT_NE(read_file(tmp_.path() / "transferred").find(first->files[0].filename().string()),
            std::string::npos);

  // A crash after the file is in place but before the database step: the restarted log completes
  // the step from the file (no lost or duplicated link).
  for (auto& r : signed_records({"c1", "c2"}, true)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  log.reset();
  MessageLogOptions crashing = options;
  crashing.archive_written_hook = [](const std::filesystem::path&) { return false; };
  auto crashed = make_log(*db, crashing, tsas());
  ASSERT_FALSE(crashed->archive_now().ok());
  EXPECT_EQ(count(*db, kAwaitingArchive), 2);
  crashed.reset();
  auto restarted = make_log(*db, options, tsas());
  ASSERT_TRUE(restarted);
  EXPECT_EQ(count(*db, kAwaitingArchive), 0) << "recovery did not complete the archiving step";
  auto again = restarted->archive_now();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->files.empty()) << "records archived twice";

  // Every archive verifies, each linked to the one before, in name order of creation.
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << "temporary file left";
    files.push_back(e.path());
  }
  ASSERT_EQ(files.size(), first->files.size() + 1);
  // Order the chain by following the links.
  verify::Verifier verifier(conf_);
  std::string previous;
  std::size_t containers = 0;
  std::set<std::filesystem::path> used;
  for (std::size_t n = 0; n < files.size(); ++n) {
    bool advanced = false;
    for (const auto& f : files) {
      if (used.count(f)) {
        continue;
      }
      auto archive = asic::read_archive(read_file(f));
      ASSERT_TRUE(archive.ok());
      if (archive->linking.previous_digest != previous) {
        continue;
      }
      auto report = verifier.verify_archive(read_file(f), previous);
      EXPECT_TRUE(report.ok()) << verify::to_text(report);
      containers += report.containers.size();
      EXPECT_NE(f.filename().string().find(report.last_digest.substr(0, 16)), std::string::npos);
      EXPECT_TRUE(f.filename().string().starts_with("mlog-"));
      previous = report.last_digest;
      used.insert(f);
      advanced = true;
      break;
    }
    ASSERT_TRUE(advanced) << "archive chain broken after " << previous;
  }
  EXPECT_EQ(containers, 14u);
  auto tx = db->begin(db::Access::kReadOnly);
  auto last = tx->query_one("SELECT digest FROM mlog_last_archive WHERE group_key = ''");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(*(**last).text(0), previous);
}

// A pass over more records than one link transaction takes stores them all under one token.
TEST_P(TrustedLogTest, LargePassLinksEveryRecordToOneTimeStamp) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db, {}, tsas());
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(append_signed_batch(*log, "p", 1'100));
  auto stamped = log->timestamp_now();
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  EXPECT_EQ(*stamped, 1'100u);
  EXPECT_EQ(log->timestamper_status()->backlog, 0);
  EXPECT_EQ(count(*db, kStamped), 1'100);
  // One token; its links were stored over several transactions, all of them counted.
  EXPECT_EQ(log->stats().timestamp_batches, 1u);
  EXPECT_EQ(log->stats().timestamped_records, 1'100u);
  auto tx = db->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto links = tx->query_one(
      "SELECT COUNT(*), COUNT(DISTINCT timestamp_id), COUNT(DISTINCT input_index), "
      "MAX(input_index) FROM mlog_record_ts");
  ASSERT_TRUE(links.ok() && links->has_value());
  EXPECT_EQ(*(**links).int64(0), 1'100);
  EXPECT_EQ(*(**links).int64(1), 1);
  EXPECT_EQ(*(**links).int64(2), 1'100);
  EXPECT_EQ(*(**links).int64(3), 1'099);
  for (const char* q : {"p0", "p500", "p1099"}) {
    ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*log, q));
  }
}

// A pass whose third link transaction fails: its token and the 1,000 links stored before count,
// the pass fails, and the next pass stamps the rest with a token of its own.
TEST_P(TrustedLogTest, PassCutShortCountsItsTokenAndTheLinksStored) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db, {}, tsas());
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(append_signed_batch(*log, "c", 1'100));
  std::int64_t first_refused = 0;  // the 1,001st record: the third transaction's first link
  {
    auto tx = db->begin(db::Access::kReadOnly);
    ASSERT_TRUE(tx.ok());
    auto row = tx->query_one("SELECT id FROM mlog_record ORDER BY id LIMIT 1 OFFSET 1000");
    ASSERT_TRUE(row.ok() && row->has_value());
    first_refused = *(**row).int64(0);
  }
  const std::string limit = std::to_string(first_refused);
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(
                      pg() ? "ALTER TABLE mlog_record_ts ADD CONSTRAINT cut CHECK (record_id < " +
                                 limit + ")"
                           : "CREATE TRIGGER cut BEFORE INSERT ON mlog_record_ts WHEN "
                             "NEW.record_id >= " +
                                 limit + " BEGIN SELECT RAISE(ABORT, 'cut'); END")
                    .ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  ASSERT_FALSE(log->timestamp_now().ok());
  EXPECT_EQ(log->stats().timestamp_batches, 1u);
  EXPECT_EQ(log->stats().timestamped_records, 1'000u);
  EXPECT_EQ(log->timestamper_status()->backlog, 100);
  run_statements(*db,
                 {pg() ? "ALTER TABLE mlog_record_ts DROP CONSTRAINT cut" : "DROP TRIGGER cut"});
  auto rest = log->timestamp_now();
  ASSERT_TRUE(rest.ok()) << rest.error().to_string();
  EXPECT_EQ(*rest, 100u);
  EXPECT_EQ(log->stats().timestamp_batches, 2u);
  EXPECT_EQ(log->stats().timestamped_records, 1'100u);
  EXPECT_EQ(count(*db, kStamped), 1'100);
}

// Two instances sharing one database stamp the same queue at once: every record is linked to
// exactly one time-stamp, waits once for the archive, and its container verifies.
TEST_P(TrustedLogTest, ConcurrentPassesOfTwoInstancesLinkEachRecordOnce) {
  auto db_a = open_db();
  auto db_b = open_db();
  ASSERT_TRUE(db_a && db_b);
  auto a = make_log(*db_a, {}, tsas());
  auto b = make_log(*db_b, {}, tsas());
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(append_signed_batch(*a, "t", 1'200));
  Result<std::size_t> from_a = std::size_t{0};
  Result<std::size_t> from_b = std::size_t{0};
  std::thread ta([&] { from_a = a->timestamp_now(); });
  std::thread tb([&] { from_b = b->timestamp_now(); });
  ta.join();
  tb.join();
  ASSERT_TRUE(from_a.ok()) << from_a.error().to_string();
  ASSERT_TRUE(from_b.ok()) << from_b.error().to_string();
  EXPECT_EQ(a->timestamper_status()->backlog, 0);
  EXPECT_EQ(count(*db_a, kStamped), 1'200);
  // Each instance counts the records it linked, not those its token covered: together, each once.
  EXPECT_EQ(a->stats().timestamped_records + b->stats().timestamped_records, 1'200u);
  auto tx = db_a->begin(db::Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto links = tx->query_one("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM mlog_record_ts");
  ASSERT_TRUE(links.ok() && links->has_value());
  EXPECT_EQ(*(**links).int64(0), 1'200);
  EXPECT_EQ(*(**links).int64(1), 1'200);
  auto queued = tx->query_one("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM mlog_unarchived");
  ASSERT_TRUE(queued.ok() && queued->has_value());
  EXPECT_EQ(*(**queued).int64(0), 1'200);
  EXPECT_EQ(*(**queued).int64(1), 1'200);
  for (const char* q : {"t0", "t599", "t1199"}) {
    ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*b, q));
  }
}

// A node upgraded from schema version 2 (time-stamp links stored on the record rows) keeps every
// record's time-stamp: its containers verify, its unstamped records get stamped, and it archives.
TEST_P(TrustedLogTest, UpgradeFromVersion2KeepsTimeStampLinks) {
  auto db = open_db();
  ASSERT_TRUE(db);
  ASSERT_NO_FATAL_FAILURE(log_batch_and_lone_record(*db, "u"));
  ASSERT_NO_FATAL_FAILURE(back_to_version_4(*db));
  // Back to version 2: the links on the record rows, no link table, no flag.
  ASSERT_NO_FATAL_FAILURE(run_statements(
      *db, {
               "ALTER TABLE mlog_record ADD COLUMN timestamp_id BIGINT",
               "ALTER TABLE mlog_record ADD COLUMN ts_hash_chain BYTEA",
               "UPDATE mlog_record SET timestamp_id = (SELECT timestamp_id FROM mlog_record_ts s "
               "WHERE s.record_id = mlog_record.id), ts_hash_chain = (SELECT ts_hash_chain FROM "
               "mlog_record_ts s WHERE s.record_id = mlog_record.id)",
               "DROP INDEX mlog_record_unstamped",
               "DROP INDEX mlog_record_unarchived",
               "ALTER TABLE mlog_record DROP COLUMN stamped",
               "DROP TABLE mlog_record_ts",
               "CREATE INDEX mlog_record_unstamped ON mlog_record (id) WHERE timestamp_id IS NULL",
               "CREATE INDEX mlog_record_unarchived ON mlog_record (id) "
               "WHERE archived = 0 AND timestamp_id IS NOT NULL",
               "DELETE FROM schema_migrations WHERE component = 'node_messagelog' AND version = 3",
           }));
  EXPECT_EQ(count(*db, "timestamp_id IS NOT NULL AND ts_hash_chain IS NOT NULL"), 3);

  auto upgraded = archiving_log(*db, "archive");  // applies versions 3 and 5
  ASSERT_TRUE(upgraded);
  auto status = upgraded->timestamper_status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->backlog, 1);
  EXPECT_EQ(status->unarchived, 3);
  RecordQuery all;
  all.from = Clock::now() - 1h;
  auto found = upgraded->find(all);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 4u);
  for (const auto& info : *found) {
    EXPECT_EQ(info.timestamp_id.has_value(), info.query_id != "u4") << info.query_id;
    if (info.query_id != "u4") {
      auto c = upgraded->container(info.id);
      ASSERT_TRUE(c.ok()) << c.error().to_string();
      EXPECT_TRUE(verify_container(*c).ok()) << info.query_id;
    }
  }
  auto stamped = upgraded->timestamp_now();
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  EXPECT_EQ(*stamped, 1u);
  ASSERT_NO_FATAL_FAILURE(expect_one_verified_archive(*upgraded, 4));
}

// A node upgraded from schema version 3 (each record's signature on its own row) keeps its
// records' signatures: their containers verify, a lone unstamped record is stamped over its own
// signature, the archive verifies, and new records share stored signatures.
TEST_P(TrustedLogTest, UpgradeFromVersion3KeepsSignaturesOnTheRecordRows) {
  auto db = open_db();
  ASSERT_TRUE(db);
  ASSERT_NO_FATAL_FAILURE(log_batch_and_lone_record(*db, "v"));
  ASSERT_NO_FATAL_FAILURE(back_to_version_4(*db));
  // Back to version 3: signatures on the record rows, no signature table.
  ASSERT_NO_FATAL_FAILURE(run_statements(
      *db, {
               "UPDATE mlog_record SET signature = (SELECT g.signature FROM mlog_signature g "
               "WHERE g.id = mlog_record.signature_id)",
               "DROP INDEX mlog_record_signature",
               "ALTER TABLE mlog_record DROP COLUMN signature_id",
               "DROP TABLE mlog_signature",
               "DELETE FROM schema_migrations WHERE component = 'node_messagelog' AND version = 4",
           }));
  EXPECT_EQ(count(*db, "length(signature) > 1000"), 4);

  auto upgraded = archiving_log(*db, "archive");  // applies versions 4 and 5
  ASSERT_TRUE(upgraded);
  EXPECT_EQ(count(*db, "signature_id IS NULL AND length(signature) > 1000"), 4);
  RecordQuery all;
  all.from = Clock::now() - 1h;
  auto found = upgraded->find(all);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 4u);
  for (const auto& info : *found) {
    if (info.query_id != "v4") {
      auto c = upgraded->container(info.id);
      ASSERT_TRUE(c.ok()) << c.error().to_string();
      EXPECT_TRUE(verify_container(*c).ok()) << info.query_id;
    }
  }
  auto stamped = upgraded->timestamp_now();  // v4 alone: its token covers its SignatureValue
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  EXPECT_EQ(*stamped, 1u);
  for (auto& r : signed_records({"v5", "v6"}, true)) {
    ASSERT_TRUE(upgraded->append(std::move(r)).ok());
  }
  EXPECT_EQ(count(*db, "signature_id IS NOT NULL AND length(signature) = 0"), 2);
  EXPECT_EQ(count(*db, "signature_id = (SELECT MIN(id) FROM mlog_signature)"), 2);
  ASSERT_TRUE(upgraded->timestamp_now().ok());
  ASSERT_NO_FATAL_FAILURE(expect_one_verified_archive(*upgraded, 6));
}

// A node upgraded from schema version 4 (flags on the record rows) queues its unstamped and its
// stamped but unarchived records: the next passes stamp and archive exactly those, and retention
// still deletes only archived records.
TEST_P(TrustedLogTest, UpgradeFromVersion4QueuesWaitingRecords) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::atomic<std::int64_t> offset_hours{0};
  auto clock = [&] { return Clock::now() + std::chrono::hours(offset_hours.load()); };
  MessageLogOptions options;
  options.archive_dir = tmp_.path() / "archive";
  options.retention = std::chrono::hours(24);
  {
    auto log = make_log(*db, options, tsas(), clock);
    ASSERT_TRUE(log);
    for (auto& r : signed_records({"w1", "w2"}, true)) {  // stamped and archived
      ASSERT_TRUE(log->append(std::move(r)).ok());
    }
    ASSERT_TRUE(log->timestamp_now().ok());
    ASSERT_NO_FATAL_FAILURE(expect_one_verified_archive(*log, 2));
    for (auto& r : signed_records({"w3", "w4"}, true)) {  // stamped
      ASSERT_TRUE(log->append(std::move(r)).ok());
    }
    ASSERT_TRUE(log->timestamp_now().ok());
    for (auto& r : signed_records({"w5"}, false)) {  // waiting for its time-stamp
      ASSERT_TRUE(log->append(std::move(r)).ok());
    }
  }
  ASSERT_NO_FATAL_FAILURE(back_to_version_4(*db));
  EXPECT_EQ(count(*db, "stamped = 1 AND archived = 1"), 2);
  EXPECT_EQ(count(*db, "stamped = 1 AND archived = 0"), 2);
  EXPECT_EQ(count(*db, "stamped = 0 AND archived = 0"), 1);

  auto upgraded = make_log(*db, options, tsas(), clock);  // applies version 5
  ASSERT_TRUE(upgraded);
  auto status = upgraded->timestamper_status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->backlog, 1);
  EXPECT_EQ(status->unarchived, 2);
  RecordQuery all;
  all.from = Clock::now() - 1h;
  auto found = upgraded->find(all);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 5u);
  for (const auto& info : *found) {
    EXPECT_EQ(info.archived, info.query_id == "w1" || info.query_id == "w2") << info.query_id;
    EXPECT_EQ(info.timestamp_id.has_value(), info.query_id != "w5") << info.query_id;
  }
  auto stamped = upgraded->timestamp_now();
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  EXPECT_EQ(*stamped, 1u);
  EXPECT_EQ(*upgraded->timestamp_now(), 0u);
  // The two archived before the upgrade stay out of the archive; the three waiting go in.
  auto archived = upgraded->archive_now();
  ASSERT_TRUE(archived.ok()) << archived.error().to_string();
  EXPECT_EQ(archived->records, 3u);
  EXPECT_EQ(count(*db, kArchived), 5);
  offset_hours = 24;
  auto deleted = upgraded->cleanup_now();
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_EQ(*deleted, 5);
  EXPECT_EQ(count(*db), 0);
}

// A node upgraded from schema version 5 (each record's time-stamp hash chain stored on its link)
// keeps those chains: the containers of records stamped before the upgrade verify, records
// stamped after it are linked by their place among the time-stamp's inputs and store no chain,
// and one archive of both verifies.
TEST_P(TrustedLogTest, UpgradeFromVersion5KeepsStoredTimeStampChains) {
  auto db = open_db();
  ASSERT_TRUE(db);
  ASSERT_NO_FATAL_FAILURE(log_batch_and_lone_record(*db, "x"));
  ASSERT_NO_FATAL_FAILURE(back_to_version_5(*db));
  auto links = [&](const std::string& where) {
    auto tx = db->begin(db::Access::kReadOnly);
    EXPECT_TRUE(tx.ok());
    auto row = tx->query_one("SELECT COUNT(*) FROM mlog_record_ts WHERE " + where);
    EXPECT_TRUE(row.ok() && row->has_value());
    return (**row).int64(0).value_or(-1);
  };
  EXPECT_EQ(links("ts_hash_chain IS NOT NULL"), 3);
  EXPECT_EQ(count(*db, "hash_chain_result IS NOT NULL"), 3);

  auto upgraded = archiving_log(*db, "archive");  // applies version 6
  ASSERT_TRUE(upgraded);
  EXPECT_EQ(links("ts_hash_chain IS NOT NULL AND input_index IS NULL"), 3);
  for (const char* q : {"x1", "x2", "x3"}) {
    ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*upgraded, q));
  }
  for (auto& r : signed_records({"x5", "x6"}, true)) {
    ASSERT_TRUE(upgraded->append(std::move(r)).ok());
  }
  auto stamped = upgraded->timestamp_now();  // x4, x5 and x6 in one batch
  ASSERT_TRUE(stamped.ok()) << stamped.error().to_string();
  EXPECT_EQ(*stamped, 3u);
  EXPECT_EQ(links("ts_hash_chain IS NULL AND input_index IS NOT NULL"), 3);
  EXPECT_EQ(count(*db, "hash_chain_result IS NOT NULL"), 3);  // x5 and x6 share their signature's
  for (const char* q : {"x4", "x5", "x6"}) {
    ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*upgraded, q));
  }
  ASSERT_NO_FATAL_FAILURE(expect_one_verified_archive(*upgraded, 6));
}

// A batch time-stamp keeps its inputs' digests once (64 bytes a record) and each record its place
// among them, and a batch signature's hash-chain result is stored once with the signature; a link
// whose place or time-stamp inputs are damaged fails its container with a database error instead
// of writing a chain that does not verify.
TEST_P(TrustedLogTest, TimeStampChainsAreWrittenFromTheBatchInputs) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db, MessageLogOptions{}, tsas());
  ASSERT_TRUE(log);
  for (auto& r : signed_records({"i1", "i2", "i3", "i4", "i5"}, true)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  {
    auto tx = db->begin(db::Access::kReadOnly);
    ASSERT_TRUE(tx.ok());
    auto row = tx->query_one(
        "SELECT COUNT(*), COUNT(s.ts_hash_chain), MIN(s.input_index), MAX(s.input_index), "
        "MAX(length(t.inputs)) FROM mlog_record_ts s JOIN mlog_timestamp t ON t.id = "
        "s.timestamp_id");
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ(*(**row).int64(0), 5);
    EXPECT_EQ(*(**row).int64(1), 0);
    EXPECT_EQ(*(**row).int64(2), 0);
    EXPECT_EQ(*(**row).int64(3), 4);
    EXPECT_EQ(*(**row).int64(4), 5 * 64);
    auto results = tx->query_one(
        "SELECT COUNT(*), COUNT(hash_chain_result), MIN(length(hash_chain_result)) "
        "FROM mlog_signature");
    ASSERT_TRUE(results.ok() && results->has_value());
    EXPECT_EQ(*(**results).int64(0), 1);
    EXPECT_EQ(*(**results).int64(1), 1);
    EXPECT_GT(*(**results).int64(2), 100);
  }
  EXPECT_EQ(count(*db, "hash_chain_result IS NULL AND hash_chain IS NOT NULL"), 5);
  for (const char* q : {"i1", "i3", "i5"}) {
    ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*log, q));
  }
  RecordQuery q;
  q.query_id = "i2";
  auto found = log->find(q);
  ASSERT_TRUE(found.ok() && found->size() == 1u);
  const std::int64_t id = found->front().id;
  auto expect_refused = [&](const char* sql, const std::string& why) {
    ASSERT_NO_FATAL_FAILURE(run_statements(*db, {sql}));
    auto c = log->container(id);
    ASSERT_FALSE(c.ok()) << sql;
    EXPECT_EQ(c.error().code, FaultCode::kDatabaseError) << c.error().to_string();
    EXPECT_NE(c.error().to_string().find(why), std::string::npos) << c.error().to_string();
  };
  ASSERT_NO_FATAL_FAILURE(
      expect_refused("UPDATE mlog_record_ts SET input_index = 5", "out of range"));
  ASSERT_NO_FATAL_FAILURE(
      expect_refused("UPDATE mlog_record_ts SET input_index = NULL", "hash chain is missing"));
  ASSERT_NO_FATAL_FAILURE(run_statements(*db, {"UPDATE mlog_record_ts SET input_index = 1"}));
  ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*log, "i2"));
  ASSERT_NO_FATAL_FAILURE(expect_refused(
      "UPDATE mlog_timestamp SET inputs = substr(inputs, 1, 100)", "missing or damaged"));
  ASSERT_NO_FATAL_FAILURE(
      expect_refused("UPDATE mlog_timestamp SET inputs = NULL", "missing or damaged"));
}

TEST_P(TrustedLogTest, GroupingBySubsystemKeepsSeparateChains) {
  auto db = open_db();
  ASSERT_TRUE(db);
  MessageLogOptions options;
  options.archive_dir = tmp_.path() / "grouped";
  options.archive_grouping = ArchiveGrouping::kSubsystem;
  auto log = make_log(*db, options, tsas());
  ASSERT_TRUE(log);
  for (auto& r : signed_records({"s1", "s2"}, true, "Client")) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  for (auto& r : signed_records({"s3"}, true, "Other")) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  auto out = log->archive_now();
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_EQ(out->files.size(), 2u);
  verify::Verifier verifier(conf_);
  for (const auto& f : out->files) {
    std::string name = f.filename().string();
    EXPECT_TRUE(name.find("_Client-") != std::string::npos ||
                name.find("_Other-") != std::string::npos)
        << name;
    auto report = verifier.verify_archive(read_file(f), "");
    EXPECT_TRUE(report.ok()) << verify::to_text(report);
  }
}

TEST_P(TrustedLogTest, ContainersVerifyWithXmlsecAndOpensslTs) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db, {}, tsas());
  ASSERT_TRUE(log);
  for (auto& r : signed_records({"x1", "x2"}, false)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  RecordQuery q;
  q.query_id = "x1";
  auto found = log->find(q);
  ASSERT_EQ(found->size(), 1u);
  auto c = log->container((*found)[0].id);
  ASSERT_TRUE(c.ok());
  auto read = asic::read_container(*c);
  ASSERT_TRUE(read.ok());
  const auto& dir = tmp_.path();
  write_file(dir / "signatures.xml", *read->find("META-INF/signatures.xml"));
  write_file(dir / "message.xml", *read->find("message.xml"));
  write_file(dir / "attachment1", *read->find("attachment1"));
  write_file(dir / "ts-result.xml", *read->find("ts-hashchainresult.xml"));
  write_file(dir / "token.tst", *read->find("META-INF/timestamp.tst"));
  write_file(dir / "root.pem", read_file(pki_.env()["ROOT_CA_CERT"]));
  write_file(dir / "inter.pem", read_file(pki_.env()["INTERMEDIATE_CA_CERT"]));
  write_file(dir / "ca.pem",
             read_file(pki_.env()["ROOT_CA_CERT"]) + read_file(pki_.env()["INTERMEDIATE_CA_CERT"]));
  EXPECT_TRUE(run_quiet(dir,
                        "xmlsec1 --verify --trusted-pem root.pem --untrusted-pem inter.pem "
                        "--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "
                        "--url-map:/message.xml message.xml --url-map:/attachment1 attachment1 "
                        "signatures.xml > xmlsec.out 2>&1"))
      << read_file(dir / "xmlsec.out");
  EXPECT_TRUE(run_quiet(dir,
                        "openssl ts -verify -data ts-result.xml -in token.tst -token_in "
                        "-CAfile ca.pem -untrusted '" +
                            pki_.env()["TSA_CERT"] + "' > ts.out 2>&1"))
      << read_file(dir / "ts.out");
  // A changed message byte fails xmlsec1 too.
  std::string message = *read->find("message.xml");
  message[message.find("getThing")] = 'G';
  write_file(dir / "message.xml", message);
  EXPECT_FALSE(run_quiet(dir,
                         "xmlsec1 --verify --trusted-pem root.pem --untrusted-pem inter.pem "
                         "--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "
                         "--url-map:/message.xml message.xml --url-map:/attachment1 attachment1 "
                         "signatures.xml > xmlsec.out 2>&1"));
}

TEST_P(TrustedLogTest, RetentionDeletesOnlyArchivedOldRecords) {
  auto db = open_db();
  ASSERT_TRUE(db);
  std::atomic<std::int64_t> offset_hours{0};
  auto clock = [&] { return Clock::now() + std::chrono::hours(offset_hours.load()); };
  MessageLogOptions options;
  options.archive_dir = tmp_.path() / "retention";
  options.retention = std::chrono::hours(24);
  auto log = make_log(*db, options, tsas(), clock);
  ASSERT_TRUE(log);
  for (auto& r : signed_records({"r1", "r2"}, true)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  ASSERT_TRUE(log->archive_now().ok());
  // Stamped, not archived.
  for (auto& r : signed_records({"r3"}, false)) {
    ASSERT_TRUE(log->append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->timestamp_now().ok());
  // Not stamped.
  ASSERT_TRUE(log->append(plain_record("r4")).ok());
  EXPECT_EQ(count_signatures(*db), 3);  // r1 and r2 share their batch's
  // Young: nothing goes.
  EXPECT_EQ(*log->cleanup_now(), 0);
  // Just past the retention period: the records go, their signature stays for the grace period.
  offset_hours = 24;
  auto deleted = log->cleanup_now();
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(count(*db), 2);
  EXPECT_EQ(count(*db, kArchived), 0);
  EXPECT_EQ(count_signatures(*db), 3);
  // Past the grace period: the signature no record refers to goes; r3's and r4's stay.
  offset_hours = 48;
  deleted = log->cleanup_now();
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_EQ(*deleted, 0);
  EXPECT_EQ(count_signatures(*db), 2);
  ASSERT_NO_FATAL_FAILURE(expect_container_verifies(*log, "r3"));
}

TEST_P(TrustedLogTest, AsicFormFindsRequestAndResponseAndForcesTimeStamps) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = make_log(*db, {}, tsas());
  ASSERT_TRUE(log);
  auto records = signed_records({"f1"}, false);
  ASSERT_TRUE(log->append(records[0]).ok());
  std::string client = own_client().to_string();
  auto not_forced = log->asic_records("f1", client, std::nullopt, false);
  ASSERT_FALSE(not_forced.ok());
  EXPECT_EQ(not_forced.error().code, FaultCode::kAsicContainerNotFound);
  auto forced = log->asic_records("f1", client, std::nullopt, true);
  ASSERT_TRUE(forced.ok()) << forced.error().to_string();
  ASSERT_EQ(forced->size(), 1u);
  EXPECT_TRUE(verify_container((*forced)[0].container).ok());
  EXPECT_TRUE(log->asic_records("f1", client, true, false)->empty());
  EXPECT_TRUE(log->asic_records("f1", client_id("9").to_string(), std::nullopt, false)->empty());
}

// The auditor's routes through the node admin API on a real server: roles, filters, paging,
// containers, X-Road's /asic form, hostile queries.
TEST_P(TrustedLogTest, AuditorRoutesOfTheAdminApi) {
  auto db = open_db();
  ASSERT_TRUE(db);
  auto log = archiving_log(*db, "api-archive");
  ASSERT_TRUE(log);
  auto records = signed_records({"api1", "api2"}, true);
  LogRecord response = records[1];
  response.query_id = "api1";
  response.response = true;
  for (auto& r : records) {
    ASSERT_TRUE(log->append(r).ok());
  }
  ASSERT_TRUE(log->append(response).ok());
  ASSERT_TRUE(log->timestamp_now().ok());

  auto store = nodeapi::AdminStore::open(*db);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  nodeapi::AuditContext ctx;
  std::string op = (*store)->create_token(ctx, "op", nodeapi::AdminRole::kOperator)->secret;
  std::string aud = (*store)->create_token(ctx, "aud", nodeapi::AdminRole::kAuditor)->secret;
  std::string ro = (*store)->create_token(ctx, "ro", nodeapi::AdminRole::kReadOnly)->secret;
  http::ServerOptions so;
  so.port = 0;
  auto server = http::Server::create(so);
  ASSERT_TRUE(server.ok());
  nodeapi::NodeAdminApi api(
      nodeapi::NodeApiServices{.admin = store->get(), .messagelog = log.get()});
  api.register_routes(**server);
  ASSERT_TRUE((*server)->start().ok());
  auto client = http::Client::create("http://127.0.0.1:" + std::to_string((*server)->port()));
  ASSERT_TRUE(client.ok());
  // A fresh connection per request (the server may close one after an error answer).
  auto get = [&](const std::string& target, const std::string& token) {
    auto fresh = http::Client::create("http://127.0.0.1:" + std::to_string((*server)->port()));
    EXPECT_TRUE(fresh.ok());
    auto r = (*fresh)->get(target, {{"Authorization", "Bearer " + token}});
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : http::ClientResponse{};
  };

  // Roles: auditor and operator read; read-only may not; only the operator archives.
  auto found = get("/api/v1/messagelog/records?queryId=api1", aud);
  ASSERT_EQ(found.status, 200) << found.body;
  auto j = nlohmann::json::parse(found.body);
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["query_id"], "api1");
  EXPECT_EQ(j["items"][1]["response"], true);
  EXPECT_EQ(j["items"][0]["timestamped"], true);
  EXPECT_EQ(get("/api/v1/messagelog/records?queryId=api1", ro).status, 403);
  EXPECT_EQ(get("/api/v1/messagelog/records?queryId=api1", "nonsense").status, 401);
  std::string client_text = own_client().to_string();
  auto by_client = get("/api/v1/messagelog/records?limit=2&client=" + client_text, op);
  ASSERT_EQ(by_client.status, 200) << by_client.body;
  auto page1 = nlohmann::json::parse(by_client.body);
  ASSERT_EQ(page1["items"].size(), 2u);
  ASSERT_FALSE(page1["next_after"].is_null());
  auto page2 = nlohmann::json::parse(
      get("/api/v1/messagelog/records?limit=2&client=" + client_text +
              "&after=" + std::to_string(page1["next_after"].get<std::int64_t>()),
          op)
          .body);
  EXPECT_EQ(page2["items"].size(), 1u);
  std::int64_t id = j["items"][0]["id"];
  auto one = get("/api/v1/messagelog/records/" + std::to_string(id), aud);
  EXPECT_EQ(one.status, 200);
  auto asic = get("/api/v1/messagelog/records/" + std::to_string(id) + "/asic", aud);
  ASSERT_EQ(asic.status, 200) << asic.body;
  EXPECT_EQ(asic.header("Content-Type").value_or(""), "application/vnd.etsi.asic-e+zip");
  EXPECT_TRUE(verify_container(asic.body).ok());
  EXPECT_EQ(get("/api/v1/messagelog/records/999999/asic", aud).status, 404);
  EXPECT_EQ(get("/api/v1/messagelog/records?after=999999", aud).status, 400);
  auto status = get("/api/v1/messagelog/timestamper", aud);
  ASSERT_EQ(status.status, 200);
  auto stamper = nlohmann::json::parse(status.body);
  EXPECT_EQ(stamper["backlog"], 0);
  EXPECT_EQ(stamper["batches"], 1);  // the one pass above stamped all three records
  EXPECT_EQ(stamper["stamped_records"], 3);
  auto archive_as_auditor = (*client)->post("/api/v1/messagelog/archive", "", "application/json",
                                            {{"Authorization", "Bearer " + aud}});
  ASSERT_TRUE(archive_as_auditor.ok());
  EXPECT_EQ(archive_as_auditor->status, 403);
  auto archive = (*client)->post("/api/v1/messagelog/archive", "", "application/json",
                                 {{"Authorization", "Bearer " + op}});
  ASSERT_TRUE(archive.ok());
  EXPECT_EQ(archive->status, 200) << archive->body;
  EXPECT_EQ(nlohmann::json::parse(archive->body)["records"], 3);

  // Hostile queries: huge page, unbounded or inverted range, malformed filters.
  for (const std::string& bad :
       {std::string("limit=100000"), std::string("limit=0"), std::string("limit=-1"),
        std::string("from=0&to=253402300799"), std::string("from=2030-01-01T00:00:00Z&to=1"),
        std::string("from=yesterday"), std::string("client=DROP%20TABLE"),
        std::string("service=SERVICE:x"), std::string("response=maybe"), std::string("after=abc"),
        std::string("queryId=") + std::string(600, 'q')}) {
    auto r = get("/api/v1/messagelog/records?" + bad, aud);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }

  // X-Road's /asic form, at the root path and under the API.
  const std::string base = "queryId=api1&xRoadInstance=" + member_->instance() +
                           "&memberClass=" + member_->member_class() +
                           "&memberCode=" + member_->member_code() + "&subsystemCode=Client";
  auto both = get("/asic?" + base, aud);
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(both.header("Content-Type").value_or(""), "application/zip");
  auto zip = asic::read_zip(both.body);
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip->size(), 2u);
  auto unique = get("/api/v1/asic?" + base + "&responseOnly&unique", aud);
  ASSERT_EQ(unique.status, 200) << unique.body;
  EXPECT_EQ(unique.header("Content-Type").value_or(""), "application/vnd.etsi.asic-e+zip");
  EXPECT_TRUE(asic::read_container(unique.body).ok());
  EXPECT_EQ(get("/asic?" + base + "&unique", aud).status, 400);
  EXPECT_EQ(get("/asic?" + base + "&requestOnly&responseOnly", aud).status, 400);
  EXPECT_EQ(get("/asic?queryId=api1", aud).status, 400);
  EXPECT_EQ(get("/asic?" + base, ro).status, 403);
  EXPECT_EQ(get("/asic?queryId=nothing&xRoadInstance=DEV&memberClass=COM&memberCode=1", aud).status,
            404);
  (*server)->stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, TrustedLogTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         backend_name_param);

}  // namespace
}  // namespace hansa::messagelog
