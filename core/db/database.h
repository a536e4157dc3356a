#pragma once

// Storage: one narrow interface over SQLite (the default, embedded) and PostgreSQL (production,
// several instances sharing one database).
//
// Statements are written once, in a portable form: positional parameters are `$1`, `$2`, ... on
// both backends (a parameter may be used more than once; `?` is refused). Write SQL that both
// backends accept (`INSERT ... RETURNING id`, `ON CONFLICT DO NOTHING`, `CAST(x AS TEXT)`, ...);
// where DDL has to differ (identity columns, BYTEA vs BLOB), migrations carry one text per
// backend. Text parameters holding a NUL byte are refused on both (PostgreSQL cannot store them).
//
// Portable habits: bind binary columns as Blob (never as text); store instants as BIGINT epoch
// values (the backends render timestamps differently); write a read-modify-write as one
// statement (`UPDATE ... SET n = n + 1 ... RETURNING n`): PostgreSQL runs READ COMMITTED, so a
// SELECT followed by an UPDATE in one transaction can lose a concurrent update there.
//
// Every failure is a Result: FaultCode::kDatabaseError, kConflict for a unique-constraint
// violation, kTimeout when no connection is free in time, kCommitOutcomeUnknown when the connection
// broke during COMMIT (the change may or may not be durable: never treat it as success; only
// PostgreSQL can report it, SQLite's commit is atomic and local).

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::db {

namespace internal {
class Pool;
class Lease;
}  // namespace internal

enum class Backend : std::uint8_t { kSqlite, kPostgres };

// "sqlite" or "postgresql".
[[nodiscard]] std::string_view backend_name(Backend backend) noexcept;

// SQLite's `synchronous` setting. kFull (the default) syncs the write-ahead log on every commit, so
// a transaction is durable once commit() returns; that is what the message log promises its
// callers. kNormal may lose the last commits on power loss (the database stays consistent); use it
// only for data that can be rebuilt.
enum class SqliteSync : std::uint8_t { kFull, kNormal };

// How to reach a database, and its limits. Plain value.
struct DbConfig {
  // `sqlite:///abs/path.db`, `sqlite:relative.db` or a plain file path: SQLite (created if
  // missing). `postgresql://...` / `postgres://...` URI or a libpq keyword string (`host=...
  // dbname=...`): PostgreSQL. The URI may hold a password: it is never put into error messages.
  std::string uri;
  // Most connections open at once (PostgreSQL: per process; plan max_connections for all
  // instances). SQLite also keeps a pool (readers run in parallel; writers take turns).
  std::size_t pool_size = 8;
  // How long begin() waits for a free connection (and, on SQLite, for the writer turn).
  std::chrono::milliseconds acquire_timeout{5000};
  // SQLite: how long a statement waits for a lock held by another process.
  std::chrono::milliseconds busy_timeout{5000};
  // PostgreSQL: libpq connect_timeout (rounded up to whole seconds; ignored when the URI sets it).
  std::chrono::milliseconds connect_timeout{10000};
  // PostgreSQL: server-side statement_timeout per statement; 0 disables it.
  std::chrono::milliseconds statement_timeout{30000};
  // Prepared statements kept per connection (least recently used ones are dropped).
  std::size_t max_cached_statements = 128;
  SqliteSync sqlite_sync = SqliteSync::kFull;
};

// Binary data, kept apart from text so it binds as BLOB / BYTEA.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// One statement parameter or one result column value. Plain value.
class Value final {
 public:
  enum class Type : std::uint8_t { kNull, kInt64, kDouble, kBool, kText, kBlob };

  // Implicit by design, so parameters read as `{42, "name", nullptr}`.
  Value() noexcept = default;                        // NULL
  Value(std::nullptr_t) noexcept {}                  // NOLINT: NULL
  Value(std::nullopt_t) noexcept {}                  // NOLINT: NULL
  Value(bool v) noexcept : v_(v) {}                  // NOLINT
  Value(double v) noexcept : v_(v) {}                // NOLINT
  Value(std::string v) : v_(std::move(v)) {}         // NOLINT: text
  Value(std::string_view v) : v_(std::string(v)) {}  // NOLINT: text
  Value(const char* v) : v_(std::string(v)) {}       // NOLINT: text
  Value(Blob v) : v_(std::move(v)) {}                // NOLINT: binary
  template <std::integral T>
  requires(!std::same_as<T, bool>) Value(T v)
  noexcept : v_(static_cast<std::int64_t>(v)) {  // NOLINT
    // Unsigned values above INT64_MAX cannot be stored: a caller bug.
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      HANSA_CHECK(v <= static_cast<T>(std::numeric_limits<std::int64_t>::max()));
    }
  }
  template <typename T>
  Value(const std::optional<T>& v) : Value() {  // NOLINT: NULL when empty
    if (v.has_value()) {
      *this = Value(*v);
    }
  }

  // Binary parameter from bytes: Value::blob(digest).
  [[nodiscard]] static Value blob(std::string bytes) { return Value(Blob{std::move(bytes)}); }

  [[nodiscard]] Type type() const noexcept { return static_cast<Type>(v_.index()); }
  [[nodiscard]] bool is_null() const noexcept { return type() == Type::kNull; }

  // Raw access; calling the wrong one for type() is a bug (aborts). Row's getters convert.
  [[nodiscard]] std::int64_t as_int64() const { return checked<std::int64_t>(); }
  [[nodiscard]] double as_double() const { return checked<double>(); }
  [[nodiscard]] bool as_bool() const { return checked<bool>(); }
  [[nodiscard]] const std::string& as_text() const { return checked<std::string>(); }
  [[nodiscard]] const std::string& as_blob() const { return checked<Blob>().bytes; }

  bool operator==(const Value&) const = default;

 private:
  template <typename T>
  const T& checked() const {
    const T* p = std::get_if<T>(&v_);
    HANSA_CHECK(p != nullptr);
    return *p;
  }

  // Order matches Type.
  std::variant<std::monostate, std::int64_t, double, bool, std::string, Blob> v_;
};

// One result row. Getters convert between the backends' representations (SQLite keeps booleans
// as integers, text in BLOB columns, ...) and fail with kDatabaseError on NULL, a column index out
// of range or a type that does not convert. Plain value.
class Row final {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }
  // True for NULL and for an index out of range.
  [[nodiscard]] bool is_null(std::size_t column) const noexcept;
  // The raw value; HANSA_CHECKs the index.
  [[nodiscard]] const Value& value(std::size_t column) const;

  // integer, bool, numeric text (PostgreSQL NUMERIC, e.g. SUM of BIGINT)
  [[nodiscard]] Result<std::int64_t> int64(std::size_t column) const;
  [[nodiscard]] Result<double> real(std::size_t column) const;   // double, integer, numeric text
  [[nodiscard]] Result<bool> boolean(std::size_t column) const;  // bool, integer 0/1
  [[nodiscard]] Result<std::string> text(std::size_t column) const;  // text
  [[nodiscard]] Result<std::string> blob(std::size_t column) const;  // blob, text

  // Same, but NULL gives nullopt instead of an error.
  [[nodiscard]] Result<std::optional<std::int64_t>> optional_int64(std::size_t column) const;
  [[nodiscard]] Result<std::optional<std::string>> optional_text(std::size_t column) const;
  [[nodiscard]] Result<std::optional<std::string>> optional_blob(std::size_t column) const;

 private:
  Result<const Value*> get(std::size_t column) const;

  std::vector<Value> values_;
};

// The outcome of one statement: its rows (materialized) and the affected-row count. Plain value.
class Rows final {
 public:
  Rows() = default;
  Rows(std::vector<std::string> columns, std::vector<Row> rows, std::int64_t affected)
      : columns_(std::move(columns)), rows_(std::move(rows)), affected_(affected) {}

  [[nodiscard]] std::size_t size() const noexcept { return rows_.size(); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }
  // HANSA_CHECKs the index.
  [[nodiscard]] const Row& operator[](std::size_t i) const;
  [[nodiscard]] std::vector<Row>::const_iterator begin() const noexcept { return rows_.begin(); }
  [[nodiscard]] std::vector<Row>::const_iterator end() const noexcept { return rows_.end(); }
  // Column names as the backend reports them.
  [[nodiscard]] const std::vector<std::string>& columns() const noexcept { return columns_; }
  // Rows inserted, updated or deleted by INSERT/UPDATE/DELETE (also with RETURNING); for a SELECT
  // the number of rows returned.
  [[nodiscard]] std::int64_t affected_rows() const noexcept { return affected_; }

 private:
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
  std::int64_t affected_ = 0;
};

enum class Access : std::uint8_t {
  kReadWrite,  // SQLite: BEGIN IMMEDIATE, one writer at a time; PostgreSQL: READ COMMITTED
  kReadOnly,   // a consistent snapshot for reading; runs beside writers
};

// A database transaction on one pooled connection. Commit explicitly; a transaction destroyed
// without commit() is rolled back. After any failed statement the transaction is finished (both
// backends behave like PostgreSQL): later calls fail and commit() reports the first error.
// It keeps its pool alive, so it may outlive the Database it came from.
// Threading: one owner; use it from one thread at a time.
class Transaction final {
 public:
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Runs one statement with `$n` parameters and returns its rows and affected-row count. The
  // statement is prepared once per connection and cached. Fails with kConflict on a unique
  // violation, kDatabaseError otherwise.
  [[nodiscard]] Result<Rows> execute(std::string_view sql, std::span<const Value> params = {});
  [[nodiscard]] Result<Rows> execute(std::string_view sql, std::initializer_list<Value> params) {
    return execute(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Runs a statement expected to return at most one row: nullopt when none, kDatabaseError when
  // several.
  [[nodiscard]] Result<std::optional<Row>> query_one(std::string_view sql,
                                                     std::span<const Value> params = {});
  [[nodiscard]] Result<std::optional<Row>> query_one(std::string_view sql,
                                                     std::initializer_list<Value> params) {
    return query_one(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Bulk insert: appends rows to `table` (an unquoted identifier, resolved like one in SQL) with
  // `values` holding the rows one after another, `columns.size()` values each. Same outcome as one
  // INSERT per row in this transaction (kConflict on a unique violation, kDatabaseError otherwise;
  // after a failure the transaction is finished and nothing of it commits), but much cheaper:
  // PostgreSQL streams the rows with COPY FROM STDIN in binary format (blobs travel as raw bytes;
  // supported column types: smallint, integer, bigint, boolean, real, double precision, text,
  // varchar, bytea), SQLite runs one cached prepared INSERT per row. Returns the number of rows.
  [[nodiscard]] Result<std::int64_t> insert_rows(std::string_view table,
                                                 std::span<const std::string_view> columns,
                                                 std::span<const Value> values);

  // Runs several `;`-separated statements without parameters (DDL in migrations). Not cached.
  [[nodiscard]] Status execute_script(std::string_view sql);

  // Commits. Success means the change is durable. kCommitOutcomeUnknown when the connection broke
  // while committing; kDatabaseError (and nothing committed) otherwise.
  [[nodiscard]] Status commit();

  // Runs one statement with `$n` parameters (as execute(), its rows discarded) and commits, as
  // execute() then commit() would; PostgreSQL sends both in one round trip, the statement as an
  // EXECUTE of its prepared form. Success means the statement ran and the change is durable.
  // kCommitOutcomeUnknown when the connection broke while committing; otherwise (the statement
  // failed: kConflict or kDatabaseError) nothing commits.
  [[nodiscard]] Status commit_after(std::string_view sql, std::span<const Value> params = {});
  [[nodiscard]] Status commit_after(std::string_view sql, std::initializer_list<Value> params) {
    return commit_after(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Rolls back now (the destructor does it too). Idempotent.
  void rollback() noexcept;

  [[nodiscard]] Backend backend() const noexcept { return backend_; }

 private:
  friend class Database;
  Transaction(std::unique_ptr<internal::Lease> lease, Backend backend) noexcept;
  Status usable() const;

  std::unique_ptr<internal::Lease> lease_;
  Backend backend_;
  bool done_ = false;
  std::optional<Error> failed_;
};

// Counters of the connection pool, for metrics and tests.
struct PoolStats {
  std::size_t open = 0;    // connections open now (idle + in use)
  std::size_t in_use = 0;  // leased to transactions
  std::size_t max = 0;     // DbConfig::pool_size
};

// An open database: a bounded pool of connections. Threading: thread-safe; share one per process.
class Database final {
 public:
  // Opens (SQLite: creates if missing) the database and checks that one connection works.
  // kInvalidConfiguration for an unusable config, kDatabaseError when it cannot connect.
  [[nodiscard]] static Result<std::unique_ptr<Database>> open(const DbConfig& config);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  [[nodiscard]] Backend backend() const noexcept { return backend_; }

  // Starts a transaction on a pooled connection, waiting up to acquire_timeout for one (kTimeout).
  // A pooled connection found broken (the server restarted or ended the session) is replaced
  // transparently before anything ran on it.
  [[nodiscard]] Result<Transaction> begin(Access access = Access::kReadWrite);

  [[nodiscard]] PoolStats stats() const;

 private:
  Database(std::shared_ptr<internal::Pool> pool, Backend backend) noexcept;

  std::shared_ptr<internal::Pool> pool_;
  Backend backend_;
};

}  // namespace hansa::db
