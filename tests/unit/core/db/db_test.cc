// The storage interface, run on both backends: SQLite always (a temporary file), PostgreSQL when
// HANSA_TEST_PG_URI names a server (tests/run starts a throw-away cluster and sets it). Each
// PostgreSQL test works in its own schema, so tests can run in parallel against one database.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.h"
#include "core/db/migrate.h"
#include "core/db/sqlite_gather_vfs.h"

// libpqxx 6.4 leaks libpq's PGresult when a connection breaks while it prepares a statement or
// begins a transaction (its error path throws before taking ownership). Only the tests that end
// sessions on purpose reach it; the leak is in the library, a few KiB per broken connection.
extern "C" __attribute__((used)) const char* __lsan_default_suppressions() {
  return "leak:libpqxx-6.4.so\n";
}

namespace hansa::db {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPgEnv = "HANSA_TEST_PG_URI";

DbConfig pool_config(std::size_t pool_size, std::chrono::milliseconds acquire_timeout = 5s,
                     std::chrono::milliseconds busy_timeout = 5s) {
  DbConfig c;
  c.pool_size = pool_size;
  c.acquire_timeout = acquire_timeout;
  c.busy_timeout = busy_timeout;
  return c;
}

DbConfig uri_config(std::string uri, std::size_t pool_size = 8) {
  DbConfig c;
  c.uri = std::move(uri);
  c.pool_size = pool_size;
  return c;
}

Migration mig(std::int64_t version, std::string name, std::string sql, std::string sqlite_sql = {},
              std::string postgres_sql = {}) {
  Migration m;
  m.version = version;
  m.name = std::move(name);
  m.sql = std::move(sql);
  m.sqlite_sql = std::move(sqlite_sql);
  m.postgres_sql = std::move(postgres_sql);
  return m;
}

std::string pg_base_uri() {
  const char* uri = std::getenv(kPgEnv);
  return uri != nullptr ? uri : "";
}

// Adds `options=-csearch_path=<schema>` to a URI or keyword string.
std::string with_search_path(const std::string& uri, const std::string& schema) {
  if (uri.find("://") != std::string::npos) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  return uri + " options='-csearch_path=" + schema + "'";
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

class DbTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      const std::string base = pg_base_uri();
      if (base.empty()) {
        GTEST_SKIP() << kPgEnv << " is not set: PostgreSQL tests skipped "
                     << "(tests/run starts a cluster; or run tests/pg-cluster.sh start)";
      }
      schema_ = "t_" + unique_suffix();
      auto admin = Database::open(uri_config(base, 1));
      ASSERT_TRUE(admin.ok()) << admin.error().to_string();
      admin_ = std::move(admin).value();
      exec_admin("CREATE SCHEMA " + schema_);
      uri_ = with_search_path(base, schema_);
    } else {
      std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-db-XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      uri_ = "sqlite://" + (dir_ / "test.db").string();
    }
  }

  void TearDown() override {
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Runs one statement on a connection outside the database under test.
  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    auto r = tx->execute_script(sql);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }

  std::unique_ptr<Database> open(DbConfig config = {}) {
    config.uri = uri_;
    auto db = Database::open(config);
    EXPECT_TRUE(db.ok()) << db.error().to_string();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  bool pg() const { return GetParam() == Backend::kPostgres; }
  // DDL that differs between the backends.
  std::string id_column() const {
    return pg() ? "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "id INTEGER PRIMARY KEY";
  }
  std::string blob_type() const { return pg() ? "BYTEA" : "BLOB"; }

  void script(Database& db, const std::string& sql) {
    auto tx = db.begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    auto st = tx->execute_script(sql);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }

  std::int64_t count(Database& db, const std::string& table) {
    auto tx = db.begin(Access::kReadOnly);
    EXPECT_TRUE(tx.ok()) << tx.error().to_string();
    auto row = tx->query_one("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(row.ok()) << row.error().to_string();
    return row->value().int64(0).value();
  }

  std::unique_ptr<Database> admin_;
  std::string schema_;
  std::filesystem::path dir_;
  std::string uri_;
};

// ---- Basic statements ----

TEST_P(DbTest, CrudWithReturningAndAffectedRows) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->backend(), GetParam());
  script(*db, "CREATE TABLE member (" + id_column() + ", code TEXT NOT NULL UNIQUE, name TEXT)");

  auto tx = db->begin();
  ASSERT_TRUE(tx.ok()) << tx.error().to_string();
  auto ins = tx->execute("INSERT INTO member (code, name) VALUES ($1, $2) RETURNING id",
                         {"GOV-1", "Agency One"});
  ASSERT_TRUE(ins.ok()) << ins.error().to_string();
  ASSERT_EQ(ins->size(), 1u);
  EXPECT_EQ(ins->affected_rows(), 1);
  const std::int64_t id1 = (*ins)[0].int64(0).value();
  auto ins2 = tx->execute("INSERT INTO member (code, name) VALUES ($1, $2) RETURNING id",
                          {"GOV-2", nullptr});
  ASSERT_TRUE(ins2.ok());
  const std::int64_t id2 = (*ins2)[0].int64(0).value();
  EXPECT_NE(id1, id2);
  ASSERT_TRUE(tx->commit().ok());

  auto rtx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(rtx.ok());
  auto rows = rtx->execute("SELECT id, code, name FROM member ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 2u);
  ASSERT_EQ(rows->columns().size(), 3u);
  EXPECT_EQ(rows->columns()[1], "code");
  EXPECT_EQ((*rows)[0].text(1).value(), "GOV-1");
  EXPECT_EQ((*rows)[0].text(2).value(), "Agency One");
  EXPECT_TRUE((*rows)[1].is_null(2));
  EXPECT_FALSE((*rows)[1].text(2).ok());  // NULL is not text
  EXPECT_EQ((*rows)[1].optional_text(2).value(), std::nullopt);
  rtx->rollback();

  auto utx = db->begin();
  ASSERT_TRUE(utx.ok());
  auto upd = utx->execute("UPDATE member SET name = $1 WHERE code LIKE $2", {"renamed", "GOV-%"});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->affected_rows(), 2);
  auto none = utx->execute("UPDATE member SET name = $1 WHERE id = $2", {"x", id2 + 1000});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->affected_rows(), 0);
  auto del = utx->execute("DELETE FROM member WHERE id = $1", {id1});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->affected_rows(), 1);
  auto one = utx->query_one("SELECT name FROM member WHERE id = $1", {id2});
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->text(0).value(), "renamed");
  auto missing = utx->query_one("SELECT name FROM member WHERE id = $1", {id1});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(utx->commit().ok());
  EXPECT_EQ(count(*db, "member"), 1);
}

TEST_P(DbTest, AggregatesReadTheSameOnBothBackends) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db,
         "CREATE TABLE n (i BIGINT, d DOUBLE PRECISION);"
         "INSERT INTO n VALUES (4000000000, 0.5); INSERT INTO n VALUES (2, 1.25)");
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  // PostgreSQL's SUM(BIGINT) is NUMERIC, SQLite's an integer: both read as int64.
  auto row = tx->query_one("SELECT SUM(i), SUM(d), COUNT(*), MAX(i), AVG(i) FROM n");
  ASSERT_TRUE(row.ok()) << row.error().to_string();
  EXPECT_EQ((*row)->int64(0).value(), 4000000002);
  EXPECT_EQ((*row)->real(1).value(), 1.75);
  EXPECT_EQ((*row)->int64(2).value(), 2);
  EXPECT_EQ((*row)->int64(3).value(), 4000000000);
  EXPECT_EQ((*row)->real(4).value(), 2000000001.0);
}

TEST_P(DbTest, ParameterReusedAndOutOfOrder) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto row =
      tx->query_one("SELECT CAST($2 AS TEXT) || CAST($1 AS TEXT) || CAST($2 AS TEXT)", {"a", "b"});
  ASSERT_TRUE(row.ok()) << row.error().to_string();
  EXPECT_EQ((*row)->text(0).value(), "bab");
}

TEST_P(DbTest, TypesRoundTrip) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db,
         "CREATE TABLE v (k INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, b BOOLEAN, t "
         "TEXT, bl " +
             blob_type() + ")");
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) {
    all_bytes.push_back(static_cast<char>(i));
  }
  std::string zeros("\0\0a\0", 4);
  std::string large_text;
  for (int i = 0; large_text.size() < (2u << 20); ++i) {
    large_text += "řida ŠÕ 日本 line " + std::to_string(i) + "\n";
  }
  std::string large_blob(3u << 20, '\0');
  for (std::size_t i = 0; i < large_blob.size(); i += 7) {
    large_blob[i] = static_cast<char>(i % 251);
  }
  struct Case {
    std::int64_t i;
    double d;
    bool b;
    std::string t;
    std::string bl;
  };
  const std::vector<Case> cases = {
      {std::numeric_limits<std::int64_t>::min(), -1.5e300, false, "", ""},
      {std::numeric_limits<std::int64_t>::max(), 0.1, true, "x", all_bytes},
      {0, -0.0, true, large_text, zeros},
      {-1, 1e-300, false, "quote ' and \" and $1 and ?", large_blob},
  };
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const Case& c = cases[k];
      auto r = tx->execute("INSERT INTO v (k, i, d, b, t, bl) VALUES ($1, $2, $3, $4, $5, $6)",
                           {k, c.i, c.d, c.b, c.t, Value::blob(c.bl)});
      ASSERT_TRUE(r.ok()) << r.error().to_string();
    }
    auto r = tx->execute("INSERT INTO v (k, i, d, b, t, bl) VALUES ($1, $2, $3, $4, $5, $6)",
                         {99, nullptr, std::optional<double>(), Value(), std::nullopt,
                          std::optional<std::string>()});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute("SELECT i, d, b, t, bl FROM v ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->size(), cases.size() + 1);
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Row& row = (*rows)[k];
    SCOPED_TRACE(k);
    EXPECT_EQ(row.int64(0).value(), cases[k].i);
    EXPECT_EQ(row.real(1).value(), cases[k].d);
    EXPECT_EQ(row.boolean(2).value(), cases[k].b);
    EXPECT_EQ(row.text(3).value(), cases[k].t);  // empty text stays text, not NULL
    EXPECT_FALSE(row.is_null(4));
    EXPECT_EQ(row.blob(4).value(), cases[k].bl);
    EXPECT_EQ(row.value(4).type(), Value::Type::kBlob);
  }
  const Row& nulls = (*rows)[cases.size()];
  for (std::size_t c = 0; c < 5; ++c) {
    EXPECT_TRUE(nulls.is_null(c)) << c;
  }
  EXPECT_FALSE(nulls.int64(0).ok());
  EXPECT_EQ(nulls.optional_int64(0).value(), std::nullopt);
  EXPECT_EQ(nulls.optional_blob(4).value(), std::nullopt);
  // Wrong-type access is an error, not a crash.
  EXPECT_EQ((*rows)[0].int64(3).error().code, FaultCode::kDatabaseError);
  EXPECT_EQ((*rows)[0].text(0).error().code, FaultCode::kDatabaseError);
  EXPECT_FALSE((*rows)[0].int64(17).ok());
  EXPECT_TRUE((*rows)[0].is_null(17));
}

TEST_P(DbTest, TextWithNulByteIsRefused) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("SELECT $1", {std::string("a\0b", 3)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
}

TEST_P(DbTest, WrongParameterCountFails) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT, b TEXT)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("INSERT INTO t (a, b) VALUES ($1, $2)", {"only one"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
}

TEST_P(DbTest, SeveralStatementsInExecuteAreRefused) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("INSERT INTO t (a) VALUES ('x'); DROP TABLE t");
  ASSERT_FALSE(r.ok());
  tx->rollback();
  EXPECT_EQ(count(*db, "t"), 0);
}

TEST_P(DbTest, SyntaxErrorIsDatabaseError) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
}

// ---- Transactions ----

TEST_P(DbTest, CommitMakesVisibleRollbackDiscards) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"kept"}).ok());
    ASSERT_TRUE(tx->commit().ok());
    // Finished: further use fails instead of running outside a transaction.
    EXPECT_FALSE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"late"}).ok());
    EXPECT_FALSE(tx->commit().ok());
  }
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"rolled back"}).ok());
    tx->rollback();
    tx->rollback();  // idempotent
    EXPECT_FALSE(tx->commit().ok());
  }
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"dropped"}).ok());
    // Destroyed without commit.
  }
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"moved"}).ok());
    Transaction other = std::move(tx).value();
    // The moved-to transaction owns the work; destroying it rolls back.
  }
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute("SELECT a FROM t");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0).value(), "kept");
  EXPECT_EQ(db->stats().in_use, 1u);
}

TEST_P(DbTest, UncommittedChangesInvisibleToOthers) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  auto writer = db->begin();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->execute("INSERT INTO t (a) VALUES ('pending')").ok());
  EXPECT_EQ(count(*db, "t"), 0);
  ASSERT_TRUE(writer->commit().ok());
  EXPECT_EQ(count(*db, "t"), 1);
}

TEST_P(DbTest, FailedStatementEndsTransaction) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT PRIMARY KEY)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ('one')").ok());
  ASSERT_FALSE(tx->execute("INSERT INTO nonexistent (a) VALUES ('x')").ok());
  auto later = tx->execute("INSERT INTO t (a) VALUES ('two')");
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.error().message.find("earlier error"), std::string::npos);
  EXPECT_FALSE(tx->commit().ok());
  EXPECT_EQ(count(*db, "t"), 0);
}

TEST_P(DbTest, UniqueViolationIsConflict) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE m (code TEXT PRIMARY KEY, name TEXT UNIQUE)");
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO m VALUES ($1, $2)", {"A", "alpha"}).ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  for (const auto& [code, name] : {std::pair{"A", "other"}, std::pair{"B", "alpha"}}) {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto r = tx->execute("INSERT INTO m VALUES ($1, $2)", {code, name});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, FaultCode::kConflict) << r.error().to_string();
  }
  // The portable way to skip duplicates.
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("INSERT INTO m VALUES ($1, $2) ON CONFLICT DO NOTHING", {"A", "alpha"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->affected_rows(), 0);
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(count(*db, "m"), 1);
}

TEST_P(DbTest, ForeignKeysAreEnforced) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(
      *db,
      "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
      "CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES parent(id))");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto r = tx->execute("INSERT INTO child VALUES (1, 42)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
}

TEST_P(DbTest, ReadOnlyTransactionRefusesWrites) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  {
    auto tx = db->begin(Access::kReadOnly);
    ASSERT_TRUE(tx.ok());
    auto r = tx->execute("INSERT INTO t (a) VALUES ('x')");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
  }
  // The connection is writable again afterwards.
  for (int i = 0; i < 3; ++i) {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ('y')").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  EXPECT_EQ(count(*db, "t"), 3);
}

TEST_P(DbTest, TransactionKeepsPoolAliveAfterDatabaseIsGone) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  db.reset();
  ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ('x')").ok());
  EXPECT_TRUE(tx->commit().ok());
  db = open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(count(*db, "t"), 1);
}

TEST_P(DbTest, StatementCacheEvictsAndStillWorks) {
  auto db = open([] {
    auto c = pool_config(1);
    c.max_cached_statements = 2;
    return c;
  }());
  ASSERT_NE(db, nullptr);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 5; ++k) {
      auto tx = db->begin();
      ASSERT_TRUE(tx.ok()) << tx.error().to_string();
      auto row = tx->query_one("SELECT " + std::to_string(k) + " + CAST($1 AS BIGINT)", {round});
      ASSERT_TRUE(row.ok()) << row.error().to_string();
      EXPECT_EQ((*row)->int64(0).value(), k + round);
      ASSERT_TRUE(tx->commit().ok());
    }
  }
}

// ---- Migrations ----

std::vector<Migration> registry_migrations() {
  return {
      mig(1, "members", "CREATE TABLE mig_member (code TEXT PRIMARY KEY, name TEXT NOT NULL)"),
      mig(2, "nodes", "",
          "CREATE TABLE mig_node (id INTEGER PRIMARY KEY, hash BLOB);"
          "CREATE INDEX mig_node_hash ON mig_node (hash)",
          "CREATE TABLE mig_node (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "hash BYTEA); CREATE INDEX mig_node_hash ON mig_node (hash)"),
  };
}

TEST_P(DbTest, MigrationsApplyOnceAndAreIdempotent) {
  auto migrations = registry_migrations();
  {
    auto db = open();
    ASSERT_NE(db, nullptr);
    auto out = migrate(*db, "registry", migrations);
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(out->applied, 2u);
    EXPECT_EQ(out->version, 2);
    auto again = migrate(*db, "registry", migrations);
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_EQ(again->applied, 0u);
  }
  // A restart finds everything applied; a new release adds one.
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto restart = migrate(*db, "registry", migrations);
  ASSERT_TRUE(restart.ok()) << restart.error().to_string();
  EXPECT_EQ(restart->applied, 0u);
  migrations.push_back(mig(3, "member class", "ALTER TABLE mig_member ADD COLUMN class TEXT"));
  auto upgrade = migrate(*db, "registry", migrations);
  ASSERT_TRUE(upgrade.ok()) << upgrade.error().to_string();
  EXPECT_EQ(upgrade->applied, 1u);
  EXPECT_EQ(upgrade->version, 3);
  // Another component in the same database has its own numbering.
  std::vector<Migration> other = {mig(1, "log", "CREATE TABLE mig_log (n BIGINT)")};
  auto other_out = migrate(*db, "messagelog", other);
  ASSERT_TRUE(other_out.ok()) << other_out.error().to_string();
  EXPECT_EQ(other_out->applied, 1u);

  EXPECT_EQ(count(*db, "schema_migrations"), 4);
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE(
      tx->execute("INSERT INTO mig_member (code, name, class) VALUES ('a', 'b', 'GOV')").ok());
  EXPECT_TRUE(tx->execute("INSERT INTO mig_node (hash) VALUES ($1)", {Value::blob("\x01")}).ok());
}

TEST_P(DbTest, MigrationRefusesNewerSchema) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto migrations = registry_migrations();
  migrations.push_back(mig(3, "three", "CREATE TABLE mig_three (a TEXT)"));
  ASSERT_TRUE(migrate(*db, "registry", migrations).ok());
  migrations.pop_back();  // an older program
  auto out = migrate(*db, "registry", migrations);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, FaultCode::kDatabaseError);
  EXPECT_NE(out.error().message.find("newer"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("version 3"), std::string::npos) << out.error().message;
}

TEST_P(DbTest, MigrationWithDifferentNameIsRefused) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto migrations = registry_migrations();
  ASSERT_TRUE(migrate(*db, "registry", migrations).ok());
  migrations[1].name = "something else";
  auto out = migrate(*db, "registry", migrations);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, FaultCode::kDatabaseError);
}

TEST_P(DbTest, FailedMigrationLeavesNoTrace) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  auto migrations = registry_migrations();
  migrations.push_back(
      mig(3, "broken", "CREATE TABLE mig_half (a TEXT); CREATE TABLE mig_member (x TEXT)"));
  auto out = migrate(*db, "registry", migrations);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, FaultCode::kDatabaseError);
  EXPECT_NE(out.error().message.find("broken"), std::string::npos);
  EXPECT_EQ(count(*db, "schema_migrations"), 2);
  // The first statement of the failed migration was rolled back with it.
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE(tx->execute("SELECT * FROM mig_half").ok());
}

TEST_P(DbTest, MalformedMigrationListIsRefused) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  std::vector<Migration> unordered = {mig(2, "b", "SELECT 1"), mig(1, "a", "SELECT 1")};
  EXPECT_EQ(migrate(*db, "x", unordered).error().code, FaultCode::kInternalError);
  std::vector<Migration> unnamed = {mig(1, "", "SELECT 1")};
  EXPECT_EQ(migrate(*db, "x", unnamed).error().code, FaultCode::kInternalError);
  std::vector<Migration> empty_sql = {mig(1, "a", "")};
  EXPECT_EQ(migrate(*db, "x", empty_sql).error().code, FaultCode::kInternalError);
  EXPECT_EQ(migrate(*db, "", registry_migrations()).error().code, FaultCode::kInternalError);
}

TEST_P(DbTest, ConcurrentStartupAppliesEachMigrationOnce) {
  // Each migration also inserts a row, so a double application would show as two rows (or fail).
  std::vector<Migration> migrations;
  migrations.push_back(mig(1, "table", "CREATE TABLE mig_applied (version BIGINT NOT NULL)"));
  for (int v = 2; v <= 6; ++v) {
    migrations.push_back(
        mig(v, "step " + std::to_string(v),
            "INSERT INTO mig_applied (version) VALUES (" + std::to_string(v) + ")"));
  }
  constexpr int kInstances = 4;
  std::vector<std::unique_ptr<Database>> instances;
  for (int i = 0; i < kInstances; ++i) {
    instances.push_back(open(pool_config(2, 20s, 20s)));
    ASSERT_NE(instances.back(), nullptr);
  }
  std::atomic<std::size_t> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      auto out = migrate(*instances[i], "concurrent", migrations);
      if (out.ok()) {
        applied += out->applied;
      } else {
        ADD_FAILURE() << out.error().to_string();
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), migrations.size());
  EXPECT_EQ(count(*instances[0], "mig_applied"), 5);
}

// ---- Concurrency and the pool ----

TEST_P(DbTest, ConcurrentWritersLoseNoUpdates) {
  // Two instances (as two processes sharing one database would), several threads each.
  auto db = open(pool_config(3, 30s, 30s));
  auto db2 = open(pool_config(2, 30s, 30s));
  ASSERT_NE(db, nullptr);
  ASSERT_NE(db2, nullptr);
  script(*db,
         "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
         "INSERT INTO counter VALUES (1, 0);"
         "CREATE TABLE seen (n BIGINT PRIMARY KEY, thread BIGINT NOT NULL)");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Database& instance = t % 2 == 0 ? *db : *db2;
      for (int k = 0; k < kPerThread; ++k) {
        auto tx = instance.begin();
        if (!tx.ok()) {
          ++errors;
          continue;
        }
        // Atomic read-modify-write: every increment yields a distinct value.
        auto row = tx->query_one("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n");
        if (!row.ok() || !row->has_value()) {
          ++errors;
          continue;
        }
        // A duplicate n (a lost update) would be a kConflict here.
        auto ins = tx->execute("INSERT INTO seen (n, thread) VALUES ($1, $2)",
                               {(*row)->int64(0).value(), t});
        if (!ins.ok() || !tx->commit().ok()) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(count(*db, "seen"), kThreads * kPerThread);
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto row = tx->query_one("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ((*row)->int64(0).value(), kThreads * kPerThread);
  EXPECT_LE(db->stats().open, 3u);
}

TEST_P(DbTest, PoolExhaustionTimesOut) {
  auto db = open(pool_config(2, 300ms));
  ASSERT_NE(db, nullptr);
  auto a = db->begin(Access::kReadOnly);
  auto b = db->begin(Access::kReadOnly);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(db->stats().in_use, 2u);
  EXPECT_EQ(db->stats().max, 2u);
  const auto start = std::chrono::steady_clock::now();
  auto c = db->begin(Access::kReadOnly);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, FaultCode::kTimeout);
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 5s);
  // A connection handed back wakes a waiter at once.
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    a->rollback();
  });
  auto d = db->begin(Access::kReadOnly);
  releaser.join();
  EXPECT_TRUE(d.ok()) << d.error().to_string();
}

TEST_P(DbTest, WritersTakeTurns) {
  auto db = open(pool_config(4, 300ms));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a BIGINT PRIMARY KEY)");
  auto first = db->begin();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->execute("INSERT INTO t VALUES (1)").ok());
  // Readers are never blocked by the writer.
  auto reader = db->begin(Access::kReadOnly);
  ASSERT_TRUE(reader.ok());
  auto rows = reader->execute("SELECT a FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 0u);
  if (!pg()) {
    // SQLite: one writer at a time; a second writer waits its turn (here: times out).
    auto second = db->begin();
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, FaultCode::kTimeout);
    // Another instance on the same file (as another process) waits busy_timeout for the lock.
    auto other = open(pool_config(1, 5s, 200ms));
    ASSERT_NE(other, nullptr);
    const auto start = std::chrono::steady_clock::now();
    auto blocked = other->begin();
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().code, FaultCode::kDatabaseError);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  }
  ASSERT_TRUE(first->commit().ok());
  auto second = db->begin();
  ASSERT_TRUE(second.ok()) << second.error().to_string();
}

TEST_P(DbTest, SqliteWriteTurnGoesToTheLongestWaiterFirst) {
  if (pg()) {
    GTEST_SKIP() << "SQLite only: PostgreSQL writers do not take turns";
  }
  // One thread writes in a loop (as the message log's time-stamp pass stores its links); another
  // asks for the turn once (as a group commit does). The turn reaches the second thread when the
  // first one ends its current transaction, not whenever the loop happens to let go.
  auto db = open(pool_config(4, 10s));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE turns (seq INTEGER PRIMARY KEY, who TEXT NOT NULL, n BIGINT NOT NULL)");
  std::atomic<int> loop_commits{0};
  std::atomic<bool> waiter_done{false};
  std::atomic<int> seen_before_asking{-1};
  std::atomic<int> errors{0};
  std::thread waiter([&] {
    std::this_thread::sleep_for(30ms);
    seen_before_asking = loop_commits.load();
    auto tx = db->begin();
    if (!tx.ok() || !tx->execute("INSERT INTO turns (who, n) VALUES ('waiter', 0)").ok() ||
        !tx->commit().ok()) {
      ++errors;
    }
    waiter_done = true;
  });
  for (int i = 0; i < 2000 && !waiter_done; ++i) {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute("INSERT INTO turns (who, n) VALUES ('loop', $1)", {i}).ok());
    std::this_thread::sleep_for(2ms);  // the transaction's work; the waiter queues meanwhile
    ASSERT_TRUE(tx->commit().ok());
    ++loop_commits;
  }
  waiter.join();
  ASSERT_EQ(errors.load(), 0);
  ASSERT_TRUE(waiter_done);
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute("SELECT who, n FROM turns ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  // Loop transactions committed after the waiter asked and before its own: at most the one in
  // progress when it asked and, if it asked between two of them, the next.
  int after_asking = 0;
  bool found = false;
  for (const auto& row : *rows) {
    if (row.text(0).value() == "waiter") {
      found = true;
      break;
    }
    if (row.int64(1).value() >= seen_before_asking) {
      ++after_asking;
    }
  }
  ASSERT_TRUE(found);
  EXPECT_LE(after_asking, 2);
}

TEST_P(DbTest, BrokenConnectionsAreReplaced) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only: a server can end a session";
  }
  auto db = open(pool_config(3));
  ASSERT_NE(db, nullptr);
  // Open all three pooled connections and learn their server process ids.
  std::vector<std::int64_t> pids;
  {
    std::vector<Transaction> held;
    for (int i = 0; i < 3; ++i) {
      auto tx = db->begin();
      ASSERT_TRUE(tx.ok());
      auto row = tx->query_one("SELECT pg_backend_pid()");
      ASSERT_TRUE(row.ok());
      pids.push_back((*row)->int64(0).value());
      held.push_back(std::move(tx).value());
    }
  }
  ASSERT_EQ(db->stats().open, 3u);
  for (std::int64_t pid : pids) {
    exec_admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  }
  // Wait until the server has really ended them.
  for (int i = 0; i < 100; ++i) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok());
    auto row = tx->query_one("SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN (" +
                             std::to_string(pids[0]) + "," + std::to_string(pids[1]) + "," +
                             std::to_string(pids[2]) + ")");
    ASSERT_TRUE(row.ok());
    if ((*row)->int64(0).value() == 0) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  // Every pooled connection is dead; each begin() replaces one transparently.
  std::vector<Transaction> held;
  for (int i = 0; i < 3; ++i) {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    auto row = tx->query_one("SELECT pg_backend_pid()");
    ASSERT_TRUE(row.ok()) << row.error().to_string();
    EXPECT_EQ(std::count(pids.begin(), pids.end(), (*row)->int64(0).value()), 0);
    held.push_back(std::move(tx).value());
  }
  EXPECT_EQ(db->stats().open, 3u);
}

TEST_P(DbTest, ConnectionLostInsideTransactionIsReported) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only: a server can end a session";
  }
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto pid = tx->query_one("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(tx->execute("INSERT INTO t VALUES ('lost')").ok());
  exec_admin("SELECT pg_terminate_backend(" + std::to_string((*pid)->int64(0).value()) + ")");
  std::this_thread::sleep_for(100ms);
  auto r = tx->execute("INSERT INTO t VALUES ('after')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kDatabaseError);
  EXPECT_FALSE(tx->commit().ok());
  tx->rollback();
  // The pool recovers with a new connection.
  auto next = db->begin();
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  ASSERT_TRUE(next->execute("INSERT INTO t VALUES ('new')").ok());
  ASSERT_TRUE(next->commit().ok());
  EXPECT_EQ(count(*db, "t"), 1);
}

// Both ways of committing: commit(), and commit_after() with the last statement.
TEST_P(DbTest, CommitWithUnknownOutcomeIsNotSuccess) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only: needs a connection that breaks during COMMIT";
  }
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  // A deferred constraint trigger runs inside COMMIT; it ends its own session there, so the
  // client sees the connection drop after sending COMMIT.
  script(*db,
         "CREATE TABLE t (a TEXT);"
         "CREATE FUNCTION die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;"
         "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED "
         "FOR EACH ROW EXECUTE FUNCTION die_at_commit()");
  for (bool with_statement : {false, true}) {
    SCOPED_TRACE(with_statement ? "commit_after()" : "commit()");
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    Status st = ok_status();
    if (with_statement) {
      st = tx->commit_after("INSERT INTO t VALUES ($1)", {"maybe"});
    } else {
      ASSERT_TRUE(tx->execute("INSERT INTO t VALUES ('maybe')").ok());
      st = tx->commit();
    }
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, FaultCode::kCommitOutcomeUnknown) << st.error().to_string();
    // The pool carries on.
    auto next = db->begin(Access::kReadOnly);
    ASSERT_TRUE(next.ok()) << next.error().to_string();
  }
}

// commit_after() runs its statement and the COMMIT together (one round trip on PostgreSQL, the
// statement prepared and its parameters quoted as literals): both commit, or, when the statement
// fails, none of the transaction does, and the connection is clean for the next transaction.
TEST_P(DbTest, CommitAfterCommitsItsStatementWithTheTransaction) {
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE t (a TEXT PRIMARY KEY, b " + blob_type() + ", n BIGINT)");
  // Values that need quoting: quotes, backslashes, bytes of every kind, NULL.
  const std::string text = "it's \\x41 'quoted' \\ $1 ; COMMIT";
  std::string bytes;
  for (int c = 0; c < 256; ++c) {
    bytes.push_back(static_cast<char>(c));
  }
  for (int round = 0; round < 2; ++round) {  // the second time, the statement is prepared
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    const std::string key = "one-" + std::to_string(round);
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {key}).ok());
    auto st = tx->commit_after("INSERT INTO t (a, b, n) VALUES ($1, $2, $3)",
                               {text + std::to_string(round), Value::blob(bytes), Value()});
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    // Finished, as after commit().
    EXPECT_FALSE(tx->execute("INSERT INTO t (a) VALUES ('late')").ok());
    EXPECT_FALSE(tx->commit().ok());
  }
  EXPECT_EQ(count(*db, "t"), 4);
  {
    auto read = db->begin(Access::kReadOnly);
    ASSERT_TRUE(read.ok());
    auto row = read->query_one("SELECT b, n FROM t WHERE a = $1", {text + "1"});
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_EQ((*row)->blob(0).value(), bytes);
    EXPECT_TRUE((*row)->is_null(1));
  }
  {
    // The statement fails: the rows before it in the transaction are not committed.
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"four"}).ok());
    auto st = tx->commit_after("INSERT INTO t (a, b, n) VALUES ($1, $2, $3)",
                               {"one-0", Value(), Value(std::int64_t{1})});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, FaultCode::kConflict) << st.error().to_string();
  }
  {
    // A statement that does not prepare fails the same way.
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"five"}).ok());
    EXPECT_FALSE(tx->commit_after("INSERT INTO nonexistent (a) VALUES ($1)", {"x"}).ok());
  }
  {
    // A statement failed earlier: commit_after() reports it and commits nothing.
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"six"}).ok());
    ASSERT_FALSE(tx->execute("INSERT INTO nonexistent (a) VALUES ('x')").ok());
    EXPECT_FALSE(tx->commit_after("INSERT INTO t (a) VALUES ($1)", {"seven"}).ok());
  }
  EXPECT_EQ(count(*db, "t"), 4);
  // The one pooled connection carries on, outside any transaction.
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok()) << tx.error().to_string();
  ASSERT_TRUE(tx->execute("INSERT INTO t (a) VALUES ($1)", {"eight"}).ok());
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(count(*db, "t"), 5);
}

// ---- Bulk insert ----

TEST_P(DbTest, InsertRowsRoundTripsEveryTypeAcrossManyChunks) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db,
         "CREATE TABLE bulk (k INTEGER PRIMARY KEY, s SMALLINT, i BIGINT, d DOUBLE PRECISION, "
         "b BOOLEAN, t TEXT, bl " +
             blob_type() + ")");
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) {
    all_bytes.push_back(static_cast<char>(i));
  }
  std::string big(700'000, '\0');  // larger than one COPY chunk on its own
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 131) % 256);
  }
  constexpr std::array<std::string_view, 7> kColumns = {"k", "s", "i", "d", "b", "t", "bl"};
  constexpr std::int64_t kRows = 3000;  // ~1.5 MB: several chunks
  std::vector<Value> values;
  auto blob_of = [&](std::int64_t k) {
    return k == 0   ? all_bytes
           : k == 1 ? std::string()
           : k == 2 ? big
                    : all_bytes + std::to_string(k);
  };
  for (std::int64_t k = 0; k < kRows; ++k) {
    values.emplace_back(k);
    values.emplace_back(k % 3 == 0 ? Value() : Value(static_cast<std::int64_t>(-32768 + k)));
    values.emplace_back(k == 0   ? std::numeric_limits<std::int64_t>::min()
                        : k == 1 ? std::numeric_limits<std::int64_t>::max()
                                 : k * 1'000'003);
    values.emplace_back(k == 5 ? Value() : Value(static_cast<double>(k) / 7.0));
    values.emplace_back(k % 2 == 0);
    values.emplace_back("text ' \" \\ \t\n řida " + std::to_string(k));
    values.emplace_back(k == 4 ? Value() : Value::blob(blob_of(k)));
  }
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto n = tx->insert_rows("bulk", kColumns, values);
    ASSERT_TRUE(n.ok()) << n.error().to_string();
    EXPECT_EQ(*n, kRows);
    // The transaction goes on after a bulk insert.
    ASSERT_TRUE(tx->execute("UPDATE bulk SET t = $1 WHERE k = 7", {"seven"}).ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute("SELECT k, s, i, d, b, t, bl FROM bulk ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(static_cast<std::int64_t>(rows->size()), kRows);
  for (std::int64_t k = 0; k < kRows; ++k) {
    const Row& row = (*rows)[static_cast<std::size_t>(k)];
    SCOPED_TRACE(k);
    ASSERT_EQ(row.int64(0).value(), k);
    if (k % 3 == 0) {
      EXPECT_TRUE(row.is_null(1));
    } else {
      EXPECT_EQ(row.int64(1).value(), -32768 + k);
    }
    EXPECT_EQ(row.int64(2).value(), values[static_cast<std::size_t>(k) * 7 + 2].as_int64());
    if (k == 5) {
      EXPECT_TRUE(row.is_null(3));
    } else {
      EXPECT_EQ(row.real(3).value(), static_cast<double>(k) / 7.0);
    }
    EXPECT_EQ(row.boolean(4).value(), k % 2 == 0);
    EXPECT_EQ(row.text(5).value(),
              k == 7 ? "seven" : "text ' \" \\ \t\n řida " + std::to_string(k));
    if (k == 4) {
      EXPECT_TRUE(row.is_null(6));
    } else {
      EXPECT_FALSE(row.is_null(6));
      EXPECT_EQ(row.blob(6).value(), blob_of(k));
    }
  }
}

TEST_P(DbTest, InsertRowsFailureMidStreamStoresNothing) {
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE bulk (k INTEGER PRIMARY KEY, t TEXT NOT NULL)");
  constexpr std::array<std::string_view, 2> kColumns = {"k", "t"};
  auto rows_with = [](std::int64_t n, std::int64_t bad_at, Value bad) {
    std::vector<Value> v;
    for (std::int64_t k = 0; k < n; ++k) {
      v.emplace_back(k == bad_at ? Value(std::int64_t{0}) : Value(k));
      v.emplace_back(k == bad_at ? bad : Value(std::string(500, 'x')));
    }
    return v;
  };
  // A duplicate key far into the stream (after several chunks): kConflict, nothing stored.
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("INSERT INTO bulk (k, t) VALUES (-1, 'before')").ok());
    auto values = rows_with(2000, 1500, Value("dup"));
    auto n = tx->insert_rows("bulk", kColumns, values);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, FaultCode::kConflict) << n.error().to_string();
    EXPECT_FALSE(tx->commit().ok()) << "a transaction with a failed bulk insert committed";
  }
  EXPECT_EQ(count(*db, "bulk"), 0);
  // A NULL into a NOT NULL column, mid-stream.
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto values = rows_with(2000, 1200, Value());
    values[1200 * 2] = Value(std::int64_t{1200});
    auto n = tx->insert_rows("bulk", kColumns, values);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, FaultCode::kDatabaseError);
    EXPECT_FALSE(tx->commit().ok());
  }
  EXPECT_EQ(count(*db, "bulk"), 0);
  if (pg()) {
    // A value the client cannot encode for the column (abandons the COPY from the client side).
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    auto values = rows_with(2000, 1300, Value(std::int64_t{1300}));
    values[1300 * 2] = Value(std::int64_t{1} << 40);  // out of range for INTEGER
    values[1300 * 2 + 1] = Value("x");
    auto n = tx->insert_rows("bulk", kColumns, values);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, FaultCode::kDatabaseError);
    EXPECT_FALSE(tx->commit().ok());
  }
  EXPECT_EQ(count(*db, "bulk"), 0);
  // The (single) connection is still usable.
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok()) << tx.error().to_string();
  auto values = rows_with(10, -1, Value());
  auto n = tx->insert_rows("bulk", kColumns, values);
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(count(*db, "bulk"), 10);
}

TEST_P(DbTest, InsertRowsRefusesBadArguments) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE bulk (k INTEGER, t TEXT)");
  auto attempt = [&](std::string_view table, std::vector<std::string_view> columns,
                     std::vector<Value> values) {
    auto tx = db->begin();
    EXPECT_TRUE(tx.ok());
    auto n = tx->insert_rows(table, columns, values);
    EXPECT_FALSE(n.ok());
    return n.ok() ? FaultCode::kInternalError : n.error().code;
  };
  EXPECT_EQ(attempt("bulk; DROP TABLE bulk", {"k"}, {1}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("bulk", {"k) VALUES (1); --"}, {1}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("bulk", {}, {}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("bulk", {"k", "t"}, {1, "a", 2}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("bulk", {"k", "t"}, {1, std::string("a\0b", 3)}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("no_such_table", {"k"}, {1}), FaultCode::kDatabaseError);
  EXPECT_EQ(attempt("bulk", {"nope"}, {1}), FaultCode::kDatabaseError);
  if (pg()) {
    // Binary data for a text column (and text for a number) is a caller bug, reported.
    EXPECT_EQ(attempt("bulk", {"t"}, {Value::blob("x")}), FaultCode::kDatabaseError);
    EXPECT_EQ(attempt("bulk", {"k"}, {"1"}), FaultCode::kDatabaseError);
  }
  EXPECT_EQ(count(*db, "bulk"), 0);
  // No rows: nothing to do.
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto n = tx->insert_rows("bulk", std::vector<std::string_view>{"k"}, std::vector<Value>{});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST_P(DbTest, InsertRowsSeesColumnsAddedLater) {
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE bulk (k INTEGER, t TEXT)");
  auto insert = [&](std::vector<std::string_view> columns, std::vector<Value> values) {
    auto tx = db->begin();
    EXPECT_TRUE(tx.ok());
    auto n = tx->insert_rows("bulk", columns, values);
    EXPECT_TRUE(n.ok()) << n.error().to_string();
    EXPECT_TRUE(tx->commit().ok());
  };
  insert({"k", "t"}, {1, "a"});
  script(*db, "ALTER TABLE bulk ADD COLUMN extra BIGINT");
  insert({"k", "t", "extra"}, {2, "b", std::int64_t{1} << 40});
  auto tx = db->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto row = tx->query_one("SELECT extra FROM bulk WHERE k = 2");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->int64(0).value(), std::int64_t{1} << 40);
}

TEST_P(DbTest, InsertRowsOnALostConnectionFails) {
  if (!pg()) {
    GTEST_SKIP() << "PostgreSQL only: a server can end a session";
  }
  auto db = open(pool_config(1));
  ASSERT_NE(db, nullptr);
  script(*db, "CREATE TABLE bulk (k INTEGER, t TEXT)");
  auto tx = db->begin();
  ASSERT_TRUE(tx.ok());
  auto pid = tx->query_one("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  exec_admin("SELECT pg_terminate_backend(" + std::to_string((*pid)->int64(0).value()) + ")");
  std::this_thread::sleep_for(100ms);
  std::vector<Value> values{1, "a", 2, "b"};
  auto n = tx->insert_rows("bulk", std::vector<std::string_view>{"k", "t"}, values);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, FaultCode::kDatabaseError);
  EXPECT_FALSE(tx->commit().ok());
  tx->rollback();
  auto next = db->begin();
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  ASSERT_TRUE(next->insert_rows("bulk", std::vector<std::string_view>{"k", "t"}, values).ok());
  ASSERT_TRUE(next->commit().ok());
  EXPECT_EQ(count(*db, "bulk"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? std::string("Sqlite")
                                                                 : std::string("Postgres");
                         });

// ---- Opening ----

TEST(DbOpen, RejectsUnusableConfiguration) {
  EXPECT_EQ(Database::open(uri_config("")).error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(Database::open(uri_config("mysql://localhost/x")).error().code,
            FaultCode::kInvalidConfiguration);
  EXPECT_EQ(Database::open(uri_config("sqlite://")).error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(Database::open(uri_config("sqlite::memory:")).error().code,
            FaultCode::kInvalidConfiguration);
  EXPECT_EQ(Database::open(uri_config("/tmp/x.db", 0)).error().code,
            FaultCode::kInvalidConfiguration);
}

TEST(DbOpen, UnreachableServerOrFileIsDatabaseError) {
  auto pg =
      Database::open(uri_config("postgresql://hansa:secret-pw@/nodb?host=/nonexistent-hansa-dir"));
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.error().code, FaultCode::kDatabaseError);
  EXPECT_EQ(pg.error().to_string().find("secret-pw"), std::string::npos);
  auto kw = Database::open(uri_config("host=/nonexistent-hansa-dir dbname=nodb"));
  ASSERT_FALSE(kw.ok());
  EXPECT_EQ(kw.error().code, FaultCode::kDatabaseError);
  auto sq = Database::open(uri_config("sqlite:///nonexistent-hansa-dir/sub/x.db"));
  ASSERT_FALSE(sq.ok());
  EXPECT_EQ(sq.error().code, FaultCode::kDatabaseError);
}

// A fresh directory for SQLite files, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-db-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::filesystem::remove_all(path_);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(DbOpen, SqliteUsesWalFullSyncAndForeignKeys) {
  TempDir temp;
  ASSERT_FALSE(temp.path().empty());
  const std::filesystem::path& dir = temp.path();
  for (const std::string& uri : {"sqlite:" + (dir / "a.db").string(), (dir / "b.db").string()}) {
    auto db = Database::open(uri_config(uri));
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    EXPECT_EQ((*db)->backend(), Backend::kSqlite);
    auto tx = (*db)->begin(Access::kReadOnly);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(tx->query_one("PRAGMA journal_mode").value()->text(0).value(), "wal");
    EXPECT_EQ(tx->query_one("PRAGMA synchronous").value()->int64(0).value(), 2);  // FULL
    EXPECT_EQ(tx->query_one("PRAGMA foreign_keys").value()->int64(0).value(), 1);
  }
  auto normal = Database::open([&] {
    auto c = uri_config((dir / "c.db").string());
    c.sqlite_sync = SqliteSync::kNormal;
    return c;
  }());
  ASSERT_TRUE(normal.ok());
  auto tx = (*normal)->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->query_one("PRAGMA synchronous").value()->int64(0).value(), 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "a.db"));
  EXPECT_TRUE(std::filesystem::exists(dir / "b.db"));
}

std::int64_t rows_in(Database& db, const std::string& table) {
  auto tx = db.begin(Access::kReadOnly);
  if (!tx.ok()) {
    return -1;
  }
  auto row = tx->query_one("SELECT COUNT(*) FROM " + table);
  return row.ok() && *row ? (*row)->int64(0).value_or(-1) : -1;
}

// With synchronous=FULL a commit's WAL frames (24-byte header and page, two writes each in
// SQLite) leave in one write, and every other connection sees the commit whole.
TEST(DbSqliteWal, FullSyncSendsACommitsFramesInOneWrite) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto db = Database::open(uri_config((dir.path() / "g.db").string(), 4));
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  ASSERT_NE(internal::gather_vfs_name(), nullptr);
  {
    auto tx = (*db)->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").ok());
    ASSERT_TRUE(tx->execute("CREATE INDEX t_v ON t (v)").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  for (int round = 0; round < 3; ++round) {
    const std::uint64_t before = internal::gather_vfs_wal_writes();
    auto tx = (*db)->begin();
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < 100; ++i) {  // about 20 KB of rows and as much index: a dozen pages
      ASSERT_TRUE(tx->execute("INSERT INTO t (v) VALUES ($1)",
                              {Value::blob(std::string(200, static_cast<char>('a' + i % 26)) +
                                           std::to_string(round * 100 + i))})
                      .ok());
    }
    ASSERT_TRUE(tx->commit().ok());
    EXPECT_EQ(internal::gather_vfs_wal_writes() - before, 1u) << "round " << round;
    EXPECT_EQ(rows_in(**db, "t"), (round + 1) * 100);
  }
  // synchronous=NORMAL does not sync the WAL at commit: it keeps SQLite's own VFS.
  DbConfig normal = uri_config((dir.path() / "n.db").string(), 2);
  normal.sqlite_sync = SqliteSync::kNormal;
  auto plain = Database::open(normal);
  ASSERT_TRUE(plain.ok());
  const std::uint64_t before = internal::gather_vfs_wal_writes();
  auto tx = (*plain)->begin();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(tx->execute("CREATE TABLE t (v TEXT)").ok());
  ASSERT_TRUE(tx->execute("INSERT INTO t (v) VALUES ('x')").ok());
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(internal::gather_vfs_wal_writes(), before);
}

// Transactions larger than the gathering limit and SQLite's page cache (pages spilled into the
// WAL and read back before the commit), readers on other connections throughout, the checkpoints
// of commits that pass 1,000 WAL pages, and a reopened file: every commit is read whole and the
// file stays intact.
TEST(DbSqliteWal, LargeTransactionsReadersAndCheckpointsStayConsistent) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = (dir.path() / "big.db").string();
  constexpr int kRowsPerCommit = 400;
  constexpr std::size_t kRowBytes = 8 * 1024;  // 3.2 MB per commit
  {
    auto db = Database::open(uri_config(path, 4));
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    {
      auto tx = (*db)->begin();
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE(tx->execute("PRAGMA cache_size=50").ok());  // this connection spills early
      ASSERT_TRUE(tx->execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").ok());
      ASSERT_TRUE(tx->commit().ok());
    }
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::thread reader([&] {
      while (!done) {
        std::int64_t n = rows_in(**db, "t");
        if (n < 0 || n % kRowsPerCommit != 0) {
          ++torn;
        }
      }
    });
    auto join = [&](std::thread* t) {
      done = true;
      t->join();
    };
    std::unique_ptr<std::thread, decltype(join)> stop_reader(&reader, join);
    for (int commit = 0; commit < 4; ++commit) {
      auto tx = (*db)->begin();
      ASSERT_TRUE(tx.ok());
      for (int i = 0; i < kRowsPerCommit; ++i) {
        auto inserted = tx->execute("INSERT INTO t (v) VALUES ($1)",
                                    {Value::blob(std::string(kRowBytes, static_cast<char>(i)))});
        ASSERT_TRUE(inserted.ok()) << inserted.error().to_string();
      }
      // Reads its own spilled pages back before committing.
      auto own = tx->query_one("SELECT COUNT(*), SUM(LENGTH(v)) FROM t");
      ASSERT_TRUE(own.ok() && *own);
      EXPECT_EQ((*own)->int64(0).value(), (commit + 1) * kRowsPerCommit);
      ASSERT_TRUE(tx->commit().ok());  // over 1,000 WAL pages: the commit checkpoints
    }
    stop_reader.reset();
    EXPECT_EQ(torn, 0);
  }
  auto db = Database::open(uri_config(path, 1));
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(rows_in(**db, "t"), 4 * kRowsPerCommit);
  auto tx = (*db)->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->query_one("PRAGMA integrity_check").value()->text(0).value(), "ok");
  EXPECT_EQ(tx->query_one("SELECT SUM(LENGTH(v)) FROM t").value()->int64(0).value(),
            static_cast<std::int64_t>(4 * kRowsPerCommit * kRowBytes));
}

// A commit that returned is in the file even when the process ends at once, without closing
// the database (nothing of it is left gathered in memory).
TEST(DbSqliteWal, CommittedDataSurvivesAnAbruptExit) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = (dir.path() / "exit.db").string();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Database::open(uri_config(path, 1));
    if (!db.ok()) {
      _exit(2);
    }
    auto tx = (*db)->begin();
    if (!tx.ok() || !tx->execute("CREATE TABLE t (v TEXT)").ok() ||
        !tx->execute("INSERT INTO t (v) VALUES ('committed')").ok() || !tx->commit().ok()) {
      _exit(3);
    }
    auto open_tx = (*db)->begin();  // a second transaction, never committed
    if (!open_tx.ok() || !open_tx->execute("INSERT INTO t (v) VALUES ('lost')").ok()) {
      _exit(4);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto db = Database::open(uri_config(path, 1));
  ASSERT_TRUE(db.ok());
  auto tx = (*db)->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  auto rows = tx->execute("SELECT v FROM t");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0).value(), "committed");
  EXPECT_EQ(tx->query_one("PRAGMA integrity_check").value()->text(0).value(), "ok");
}

// When the gathered frames cannot be written (here: the file size limit, as on a full disk), the
// commit fails instead of being reported durable, and the file keeps exactly the commits that
// succeeded.
TEST(DbSqliteWal, FailedFrameWriteFailsTheCommitAndKeepsEarlierCommits) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = (dir.path() / "full.db").string();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    auto db = Database::open(uri_config(path, 1));
    if (!db.ok()) {
      _exit(2);
    }
    auto setup = (*db)->begin();
    if (!setup.ok() || !setup->execute("CREATE TABLE t (v BLOB)").ok() || !setup->commit().ok()) {
      _exit(3);
    }
    rlimit limit{512 * 1024, 512 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      _exit(4);
    }
    std::int64_t committed = 0;
    for (int i = 0; i < 100; ++i) {  // 100 x 16 KB: the WAL passes 512 KB
      auto tx = (*db)->begin();
      if (!tx.ok()) {
        break;
      }
      if (!tx->execute("INSERT INTO t (v) VALUES ($1)", {Value::blob(std::string(16 * 1024, 'x'))})
               .ok() ||
          !tx->commit().ok()) {
        break;
      }
      ++committed;
    }
    _exit(write(fds[1], &committed, sizeof committed) == sizeof committed ? 0 : 5);
  }
  close(fds[1]);
  std::int64_t committed = -1;
  ASSERT_EQ(read(fds[0], &committed, sizeof committed), static_cast<ssize_t>(sizeof committed));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(committed, 0);
  EXPECT_LT(committed, 100);  // a commit failed
  auto db = Database::open(uri_config(path, 1));
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  EXPECT_EQ(rows_in(**db, "t"), committed);
  auto tx = (*db)->begin(Access::kReadOnly);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->query_one("PRAGMA integrity_check").value()->text(0).value(), "ok");
}

TEST(DbValue, ConstructsFromCommonTypes) {
  EXPECT_EQ(Value().type(), Value::Type::kNull);
  EXPECT_EQ(Value(nullptr).type(), Value::Type::kNull);
  EXPECT_EQ(Value(7).type(), Value::Type::kInt64);
  EXPECT_EQ(Value(7u).as_int64(), 7);
  EXPECT_EQ(Value(std::int64_t{-3}).as_int64(), -3);
  EXPECT_EQ(Value(true).type(), Value::Type::kBool);
  EXPECT_EQ(Value(2.5).type(), Value::Type::kDouble);
  EXPECT_EQ(Value("text").type(), Value::Type::kText);
  EXPECT_EQ(Value(std::string_view("sv")).as_text(), "sv");
  EXPECT_EQ(Value::blob(std::string("\0", 1)).type(), Value::Type::kBlob);
  EXPECT_EQ(Value(std::optional<int>()).type(), Value::Type::kNull);
  EXPECT_EQ(Value(std::optional<int>(4)).as_int64(), 4);
}

}  // namespace
}  // namespace hansa::db
