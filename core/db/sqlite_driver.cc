// SQLite backend.
//
// Each connection: WAL journal (readers never block the writer), foreign keys on, a busy timeout
// for locks held by other processes, and `synchronous` as configured. With WAL, FULL syncs the log
// on every commit, so commit() returning success means the transaction survives a power loss;
// NORMAL would only sync at checkpoints. The message log tells callers their record is durable, so
// FULL is the default; group commit above this layer amortizes the sync. With FULL, connections
// open through the gather VFS (sqlite_gather_vfs.h): a commit's WAL frames leave in one write.
//
// Writers take turns inside the process, first come first served (WriterTurn): BEGIN IMMEDIATE
// then never waits on a sibling connection of this process, waiters wake at once instead of
// polling in SQLite's busy handler, and a thread that writes in a loop (the message log's
// time-stamp pass) cannot take the turn again ahead of one already waiting (the group commit).
// The busy timeout still covers other processes on the same file.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/db/driver.h"
#include "core/db/sqlite_gather_vfs.h"

namespace hansa::db::internal {
namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const int ext = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Error(FaultCode::kConflict, "duplicate: " + msg, std::string(what));
  }
  return Error(FaultCode::kDatabaseError, "sqlite: " + msg,
               std::string(what) + " (code " + std::to_string(ext) + ")");
}

// The write turn of one database, handed over in arrival order. A released turn goes straight to
// the longest waiter, so the releasing thread cannot take it back before that waiter runs (a
// semaphore lets it: the waiter still has to be scheduled, and the releasing thread is running).
// Threading: thread-safe: guarded by mu_.
class WriterTurn {
 public:
  // False when the turn did not come within `timeout`.
  bool acquire_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!held_ && waiters_.empty()) {
      held_ = true;
      return true;
    }
    Waiter self;
    waiters_.push_back(&self);
    if (self.cv.wait_for(lock, timeout, [&] { return self.granted; })) {
      return true;  // handed over: held_ stayed true
    }
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
    return false;
  }

  void release() {
    std::lock_guard lock(mu_);
    if (waiters_.empty()) {
      held_ = false;
      return;
    }
    Waiter* next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;
    next->cv.notify_one();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  std::mutex mu_;
  bool held_ = false;
  std::deque<Waiter*> waiters_;
};

// Shared by all connections of one Database.
struct SqliteShared {
  std::string path;
  DbConfig config;
  WriterTurn writer;
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(std::shared_ptr<SqliteShared> shared, sqlite3* db)
      : shared_(std::move(shared)),
        db_(db),
        cache_(shared_->config.max_cached_statements,
               [](sqlite3_stmt*& s) { sqlite3_finalize(s); }) {}

  ~SqliteConnection() override {
    rollback();
    cache_.clear();
    sqlite3_close_v2(db_);
  }

  Status begin(Access access) override {
    if (access == Access::kReadWrite) {
      if (!shared_->writer.acquire_for(shared_->config.acquire_timeout)) {
        return Error(FaultCode::kTimeout,
                     "another transaction kept the SQLite database busy for " +
                         std::to_string(shared_->config.acquire_timeout.count()) + " ms");
      }
      holds_writer_ = true;
    }
    // query_only makes a read transaction refuse writes (as PostgreSQL's READ ONLY does) instead
    // of silently upgrading to a write lock outside the writer turn.
    read_only_ = access == Access::kReadOnly;
    auto st = exec_simple(access == Access::kReadWrite ? "BEGIN IMMEDIATE"
                                                       : "PRAGMA query_only=1; BEGIN DEFERRED");
    if (!st.ok()) {
      end_transaction();
      return st;
    }
    in_tx_ = true;
    return ok_status();
  }

  Result<Rows> execute(std::string_view sql, std::span<const Value> params) override {
    std::string key(sql);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_stmt** cached = cache_.find(key)) {
      stmt = *cached;
    } else {
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
      if (rc != SQLITE_OK) {
        return sqlite_error(db_, rc, "prepare");
      }
      if (stmt == nullptr) {
        return db_error("empty statement");
      }
      if (tail != nullptr && *tail != '\0' &&
          std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        sqlite3_finalize(stmt);
        return db_error("more than one statement; use execute_script for scripts");
      }
      cache_.insert(key, stmt);
    }
    auto rows = run(stmt, params);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rows;
  }

  Status execute_script(std::string_view sql) override { return exec_simple(std::string(sql)); }

  // One cached single-row INSERT run per row: SQLite has no round trips to save, and a statement
  // with few parameters binds fast.
  Result<std::int64_t> insert_rows(std::string_view table,
                                   std::span<const std::string_view> columns,
                                   std::span<const Value> values) override {
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      sql += (c == 0 ? "" : ", ") + std::string(columns[c]);
    }
    sql += ") VALUES (";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      sql += (c == 0 ? "$" : ", $") + std::to_string(c + 1);
    }
    sql += ")";
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < values.size(); i += columns.size()) {
      HANSA_RETURN_IF_ERROR(execute(sql, values.subspan(i, columns.size())));
      ++rows;
    }
    return rows;
  }

  Status commit() override {
    auto st = exec_simple("COMMIT");
    if (!st.ok()) {
      // SQLite's commit is atomic: a failed COMMIT left nothing behind; end the transaction.
      rollback();
      return st;
    }
    end_transaction();
    return ok_status();
  }

  Status commit_after(std::string_view sql, std::span<const Value> params) override {
    auto rows = execute(sql, params);
    if (!rows.ok()) {
      rollback();
      return rows.error();
    }
    return commit();
  }

  void rollback() noexcept override {
    if (in_tx_ || sqlite3_get_autocommit(db_) == 0) {
      // Reset active statements first so ROLLBACK is not refused.
      sqlite3_stmt* s = nullptr;
      while ((s = sqlite3_next_stmt(db_, s)) != nullptr) {
        sqlite3_reset(s);
      }
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    end_transaction();
  }

  bool broken() const noexcept override { return broken_; }

 private:
  void end_transaction() noexcept {
    in_tx_ = false;
    if (read_only_) {
      read_only_ = false;
      if (sqlite3_exec(db_, "PRAGMA query_only=0", nullptr, nullptr, nullptr) != SQLITE_OK) {
        broken_ = true;
      }
    }
    if (holds_writer_) {
      holds_writer_ = false;
      shared_->writer.release();
    }
  }

  Status exec_simple(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) {
      return sqlite_error(db_, rc, "exec");
    }
    return ok_status();
  }

  Status bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(expected) != params.size()) {
      return db_error("statement expects " + std::to_string(expected) + " parameters, got " +
                      std::to_string(params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string name = "$";
      name += std::to_string(i + 1);
      const int idx = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (idx == 0) {
        return db_error("parameter " + name + " missing: write parameters as $1, $2, ...");
      }
      const Value& v = params[i];
      int rc = SQLITE_OK;
      switch (v.type()) {
        case Value::Type::kNull:
          rc = sqlite3_bind_null(stmt, idx);
          break;
        case Value::Type::kInt64:
          rc = sqlite3_bind_int64(stmt, idx, v.as_int64());
          break;
        case Value::Type::kDouble:
          rc = sqlite3_bind_double(stmt, idx, v.as_double());
          break;
        case Value::Type::kBool:
          rc = sqlite3_bind_int64(stmt, idx, v.as_bool() ? 1 : 0);
          break;
        case Value::Type::kText:
          rc = sqlite3_bind_text64(stmt, idx, v.as_text().data(), v.as_text().size(), SQLITE_STATIC,
                                   SQLITE_UTF8);
          break;
        case Value::Type::kBlob:
          // A null data pointer would bind NULL; an empty blob is still a blob.
          rc = v.as_blob().empty() ? sqlite3_bind_zeroblob(stmt, idx, 0)
                                   : sqlite3_bind_blob64(stmt, idx, v.as_blob().data(),
                                                         v.as_blob().size(), SQLITE_STATIC);
          break;
      }
      if (rc != SQLITE_OK) {
        return sqlite_error(db_, rc, "bind " + name);
      }
    }
    return ok_status();
  }

  Result<Rows> run(sqlite3_stmt* stmt, std::span<const Value> params) {
    HANSA_RETURN_IF_ERROR(bind(stmt, params));
    const int ncols = sqlite3_column_count(stmt);
    std::vector<std::string> columns;
    columns.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      const char* name = sqlite3_column_name(stmt, c);
      columns.emplace_back(name != nullptr ? name : "");
    }
    std::vector<Row> rows;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        return sqlite_error(db_, rc, "step");
      }
      std::vector<Value> values;
      values.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            const int n = sqlite3_column_bytes(stmt, c);
            values.emplace_back(std::string(p != nullptr ? p : "", n));
            break;
          }
          case SQLITE_BLOB: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            const int n = sqlite3_column_bytes(stmt, c);
            values.emplace_back(Value::blob(p != nullptr ? std::string(p, n) : std::string()));
            break;
          }
          default:
            values.emplace_back(nullptr);
            break;
        }
      }
      rows.emplace_back(std::move(values));
    }
    const std::int64_t affected = sqlite3_stmt_readonly(stmt) != 0
                                      ? static_cast<std::int64_t>(rows.size())
                                      : static_cast<std::int64_t>(sqlite3_changes64(db_));
    return Rows(std::move(columns), std::move(rows), affected);
  }

  std::shared_ptr<SqliteShared> shared_;
  sqlite3* db_;
  StatementCache<sqlite3_stmt*> cache_;
  bool in_tx_ = false;
  bool holds_writer_ = false;
  bool read_only_ = false;
  bool broken_ = false;
};

class SqliteConnector final : public Connector {
 public:
  explicit SqliteConnector(std::shared_ptr<SqliteShared> shared) : shared_(std::move(shared)) {}

  Result<std::unique_ptr<Connection>> connect() override {
    sqlite3* db = nullptr;
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    // With synchronous=FULL a commit's WAL frames go out in one write (see sqlite_gather_vfs.h).
    const char* vfs =
        shared_->config.sqlite_sync == SqliteSync::kFull ? gather_vfs_name() : nullptr;
    int rc = sqlite3_open_v2(shared_->path.c_str(), &db, flags, vfs);
    if (rc != SQLITE_OK) {
      Error e = sqlite_error(db, rc, "open");
      sqlite3_close_v2(db);
      return e;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(shared_->config.busy_timeout.count()));
    auto conn = std::make_unique<SqliteConnection>(shared_, db);
    // journal_mode answers with the mode in effect; anything but "wal" (e.g. on a file system
    // without shared memory) is refused rather than silently weaker.
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return sqlite_error(db, rc, "PRAGMA journal_mode");
    }
    rc = sqlite3_step(stmt);
    std::string mode;
    if (rc == SQLITE_ROW) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      mode = p != nullptr ? p : "";
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) {
      return sqlite_error(db, rc, "PRAGMA journal_mode");
    }
    if (mode != "wal") {
      return db_error("SQLite database cannot use write-ahead logging", "journal_mode " + mode);
    }
    const char* sync = shared_->config.sqlite_sync == SqliteSync::kFull
                           ? "PRAGMA synchronous=FULL"
                           : "PRAGMA synchronous=NORMAL";
    for (const char* pragma : {sync, "PRAGMA foreign_keys=ON"}) {
      rc = sqlite3_exec(db, pragma, nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) {
        return sqlite_error(db, rc, pragma);
      }
    }
    return std::unique_ptr<Connection>(std::move(conn));
  }

 private:
  std::shared_ptr<SqliteShared> shared_;
};

}  // namespace

Result<std::unique_ptr<Connector>> make_sqlite_connector(std::string path, const DbConfig& config) {
  if (sqlite3_threadsafe() == 0) {
    return db_error("SQLite library was built without thread support");
  }
  auto shared = std::make_shared<SqliteShared>();
  shared->path = std::move(path);
  shared->config = config;
  return std::unique_ptr<Connector>(std::make_unique<SqliteConnector>(std::move(shared)));
}

}  // namespace hansa::db::internal
