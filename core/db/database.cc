#include "core/db/database.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/db/driver.h"

namespace hansa::db {

std::string_view backend_name(Backend backend) noexcept {
  switch (backend) {
    case Backend::kSqlite:
      return "sqlite";
    case Backend::kPostgres:
      return "postgresql";
  }
  return "unknown";
}

namespace internal {

Error db_error(std::string message, std::string detail) {
  return Error(FaultCode::kDatabaseError, std::move(message), std::move(detail));
}

Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->release(std::move(conn_));
  }
}

Pool::Pool(std::unique_ptr<Connector> connector, std::size_t max_size,
           std::chrono::milliseconds acquire_timeout)
    : connector_(std::move(connector)), max_size_(max_size), acquire_timeout_(acquire_timeout) {}

Result<std::unique_ptr<Lease>> Pool::acquire() {
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  std::unique_lock lock(mu_);
  while (idle_.empty() && open_ >= max_size_) {
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_size_) {
      return Error(FaultCode::kTimeout,
                   "no database connection became free within " +
                       std::to_string(acquire_timeout_.count()) + " ms",
                   "pool size " + std::to_string(max_size_));
    }
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return std::make_unique<Lease>(shared_from_this(), std::move(conn));
  }
  // Reserve the slot, then connect without holding the lock.
  ++open_;
  lock.unlock();
  auto conn = connector_->connect();
  if (!conn.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return std::move(conn).error();
  }
  return std::make_unique<Lease>(shared_from_this(), std::move(conn).value());
}

void Pool::release(std::unique_ptr<Connection> conn) noexcept {
  std::unique_ptr<Connection> discard;
  {
    std::lock_guard lock(mu_);
    if (conn->broken()) {
      discard = std::move(conn);
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
  // `discard` closes outside the lock.
}

PoolStats Pool::stats() const {
  std::lock_guard lock(mu_);
  return PoolStats{.open = open_, .in_use = open_ - idle_.size(), .max = max_size_};
}

}  // namespace internal

// ---- Row ----

bool Row::is_null(std::size_t column) const noexcept {
  return column >= values_.size() || values_[column].is_null();
}

const Value& Row::value(std::size_t column) const {
  HANSA_CHECK(column < values_.size());
  return values_[column];
}

Result<const Value*> Row::get(std::size_t column) const {
  if (column >= values_.size()) {
    return internal::db_error("column index out of range",
                              std::to_string(column) + " of " + std::to_string(values_.size()));
  }
  if (values_[column].is_null()) {
    return internal::db_error("unexpected NULL", "column " + std::to_string(column));
  }
  return &values_[column];
}

namespace {

Error type_mismatch(std::size_t column, std::string_view wanted) {
  return internal::db_error("column does not hold " + std::string(wanted),
                            "column " + std::to_string(column));
}

}  // namespace

Result<std::int64_t> Row::int64(std::size_t column) const {
  HANSA_ASSIGN_OR_RETURN(const Value* v, get(column));
  switch (v->type()) {
    case Value::Type::kInt64:
      return v->as_int64();
    case Value::Type::kBool:
      return std::int64_t{v->as_bool() ? 1 : 0};
    case Value::Type::kText: {
      // PostgreSQL NUMERIC (e.g. SUM of a BIGINT column) arrives as text.
      const std::string& t = v->as_text();
      std::int64_t out = 0;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
      if (ec == std::errc() && p == t.data() + t.size() && !t.empty()) {
        return out;
      }
      return type_mismatch(column, "an integer");
    }
    default:
      return type_mismatch(column, "an integer");
  }
}

Result<double> Row::real(std::size_t column) const {
  HANSA_ASSIGN_OR_RETURN(const Value* v, get(column));
  switch (v->type()) {
    case Value::Type::kDouble:
      return v->as_double();
    case Value::Type::kInt64:
      return static_cast<double>(v->as_int64());
    case Value::Type::kText: {
      // PostgreSQL NUMERIC arrives as text.
      const std::string& t = v->as_text();
      char* end = nullptr;
      const double d = std::strtod(t.c_str(), &end);
      if (!t.empty() && end == t.c_str() + t.size()) {
        return d;
      }
      return type_mismatch(column, "a number");
    }
    default:
      return type_mismatch(column, "a number");
  }
}

Result<bool> Row::boolean(std::size_t column) const {
  HANSA_ASSIGN_OR_RETURN(const Value* v, get(column));
  switch (v->type()) {
    case Value::Type::kBool:
      return v->as_bool();
    case Value::Type::kInt64:
      if (v->as_int64() == 0 || v->as_int64() == 1) {
        return v->as_int64() == 1;
      }
      return type_mismatch(column, "a boolean");
    default:
      return type_mismatch(column, "a boolean");
  }
}

Result<std::string> Row::text(std::size_t column) const {
  HANSA_ASSIGN_OR_RETURN(const Value* v, get(column));
  if (v->type() != Value::Type::kText) {
    return type_mismatch(column, "text");
  }
  return v->as_text();
}

Result<std::string> Row::blob(std::size_t column) const {
  HANSA_ASSIGN_OR_RETURN(const Value* v, get(column));
  switch (v->type()) {
    case Value::Type::kBlob:
      return v->as_blob();
    case Value::Type::kText:
      return v->as_text();
    default:
      return type_mismatch(column, "binary data");
  }
}

Result<std::optional<std::int64_t>> Row::optional_int64(std::size_t column) const {
  if (column < values_.size() && values_[column].is_null()) {
    return std::optional<std::int64_t>();
  }
  HANSA_ASSIGN_OR_RETURN(auto v, int64(column));
  return std::optional<std::int64_t>(v);
}

Result<std::optional<std::string>> Row::optional_text(std::size_t column) const {
  if (column < values_.size() && values_[column].is_null()) {
    return std::optional<std::string>();
  }
  HANSA_ASSIGN_OR_RETURN(auto v, text(column));
  return std::optional<std::string>(std::move(v));
}

Result<std::optional<std::string>> Row::optional_blob(std::size_t column) const {
  if (column < values_.size() && values_[column].is_null()) {
    return std::optional<std::string>();
  }
  HANSA_ASSIGN_OR_RETURN(auto v, blob(column));
  return std::optional<std::string>(std::move(v));
}

const Row& Rows::operator[](std::size_t i) const {
  HANSA_CHECK(i < rows_.size());
  return rows_[i];
}

// ---- Transaction ----

Transaction::Transaction(std::unique_ptr<internal::Lease> lease, Backend backend) noexcept
    : lease_(std::move(lease)), backend_(backend) {}

Transaction::Transaction(Transaction&& other) noexcept
    : lease_(std::move(other.lease_)),
      backend_(other.backend_),
      done_(other.done_),
      failed_(std::move(other.failed_)) {
  other.done_ = true;
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    rollback();
    lease_ = std::move(other.lease_);
    backend_ = other.backend_;
    done_ = other.done_;
    failed_ = std::move(other.failed_);
    other.done_ = true;
  }
  return *this;
}

Transaction::~Transaction() { rollback(); }

Status Transaction::usable() const {
  if (failed_.has_value()) {
    Error e = *failed_;
    e.message = "transaction aborted by an earlier error: " + e.message;
    return e;
  }
  if (done_ || lease_ == nullptr) {
    return internal::db_error("transaction already finished");
  }
  return ok_status();
}

namespace {

// PostgreSQL text cannot hold NUL; refuse on both backends so code stays portable.
Status check_params(std::span<const Value> params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].type() == Value::Type::kText &&
        params[i].as_text().find('\0') != std::string::npos) {
      std::string where = "$";
      where += std::to_string(i + 1);
      return internal::db_error("text parameter contains a NUL byte (bind binary data as a Blob)",
                                where);
    }
  }
  return ok_status();
}

}  // namespace

Result<Rows> Transaction::execute(std::string_view sql, std::span<const Value> params) {
  HANSA_RETURN_IF_ERROR(usable());
  HANSA_RETURN_IF_ERROR(check_params(params));
  auto rows = lease_->connection().execute(sql, params);
  if (!rows.ok()) {
    failed_ = rows.error();
  }
  return rows;
}

Result<std::optional<Row>> Transaction::query_one(std::string_view sql,
                                                  std::span<const Value> params) {
  HANSA_ASSIGN_OR_RETURN(Rows rows, execute(sql, params));
  if (rows.size() > 1) {
    return internal::db_error("statement returned more than one row",
                              std::to_string(rows.size()) + " rows");
  }
  if (rows.empty()) {
    return std::optional<Row>();
  }
  return std::optional<Row>(rows[0]);
}

Result<std::int64_t> Transaction::insert_rows(std::string_view table,
                                              std::span<const std::string_view> columns,
                                              std::span<const Value> values) {
  HANSA_RETURN_IF_ERROR(usable());
  auto identifier = [](std::string_view s) {
    if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) {
      return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  };
  if (!identifier(table)) {
    return internal::db_error("insert_rows: invalid table name", std::string(table));
  }
  if (columns.empty()) {
    return internal::db_error("insert_rows: no columns");
  }
  for (std::string_view c : columns) {
    if (!identifier(c)) {
      return internal::db_error("insert_rows: invalid column name", std::string(c));
    }
  }
  if (values.size() % columns.size() != 0) {
    return internal::db_error("insert_rows: values do not fill whole rows",
                              std::to_string(values.size()) + " values for " +
                                  std::to_string(columns.size()) + " columns");
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].type() == Value::Type::kText &&
        values[i].as_text().find('\0') != std::string::npos) {
      return internal::db_error("text value contains a NUL byte (bind binary data as a Blob)",
                                "row " + std::to_string(i / columns.size() + 1) + ", column " +
                                    std::string(columns[i % columns.size()]));
    }
  }
  if (values.empty()) {
    return std::int64_t{0};
  }
  auto n = lease_->connection().insert_rows(table, columns, values);
  if (!n.ok()) {
    failed_ = n.error();
  }
  return n;
}

Status Transaction::execute_script(std::string_view sql) {
  HANSA_RETURN_IF_ERROR(usable());
  auto st = lease_->connection().execute_script(sql);
  if (!st.ok()) {
    failed_ = st.error();
  }
  return st;
}

Status Transaction::commit() {
  HANSA_RETURN_IF_ERROR(usable());
  done_ = true;
  auto st = lease_->connection().commit();
  lease_.reset();  // back to the pool (discarded there if broken)
  return st;
}

Status Transaction::commit_after(std::string_view sql, std::span<const Value> params) {
  HANSA_RETURN_IF_ERROR(usable());
  HANSA_RETURN_IF_ERROR(check_params(params));
  done_ = true;
  auto st = lease_->connection().commit_after(sql, params);
  lease_.reset();
  return st;
}

void Transaction::rollback() noexcept {
  if (lease_ == nullptr) {
    return;
  }
  if (!done_) {
    lease_->connection().rollback();
    done_ = true;
  }
  lease_.reset();
}

// ---- Database ----

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A libpq keyword string has `key=value` words and no URI scheme.
bool looks_like_keyword_string(std::string_view uri) {
  auto eq = uri.find('=');
  if (eq == std::string_view::npos || uri.find("://") != std::string_view::npos) {
    return false;
  }
  auto key = uri.substr(0, eq);
  while (!key.empty() && key.front() == ' ') {
    key.remove_prefix(1);
  }
  while (!key.empty() && key.back() == ' ') {
    key.remove_suffix(1);
  }
  if (key.empty()) {
    return false;
  }
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Database::Database(std::shared_ptr<internal::Pool> pool, Backend backend) noexcept
    : pool_(std::move(pool)), backend_(backend) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(const DbConfig& config) {
  if (config.uri.empty()) {
    return Error(FaultCode::kInvalidConfiguration, "database URI is empty");
  }
  if (config.pool_size == 0) {
    return Error(FaultCode::kInvalidConfiguration, "database pool_size must be at least 1");
  }
  std::string_view uri = config.uri;
  Backend backend;
  Result<std::unique_ptr<internal::Connector>> connector = Error();
  if (starts_with(uri, "postgresql://") || starts_with(uri, "postgres://") ||
      looks_like_keyword_string(uri)) {
    backend = Backend::kPostgres;
    connector = internal::make_postgres_connector(std::string(uri), config);
  } else {
    backend = Backend::kSqlite;
    std::string_view path = uri;
    if (starts_with(path, "sqlite://")) {
      path.remove_prefix(9);  // sqlite:///abs -> /abs
    } else if (starts_with(path, "sqlite:")) {
      path.remove_prefix(7);  // sqlite:relative
    } else if (path.find("://") != std::string_view::npos) {
      return Error(FaultCode::kInvalidConfiguration, "unsupported database URI scheme",
                   std::string(uri.substr(0, uri.find("://"))));
    }
    if (path.empty()) {
      return Error(FaultCode::kInvalidConfiguration, "SQLite database path is empty");
    }
    if (path == ":memory:") {
      // Every pooled connection would see its own empty database.
      return Error(FaultCode::kInvalidConfiguration,
                   "in-memory SQLite databases are not supported; use a file");
    }
    connector = internal::make_sqlite_connector(std::string(path), config);
  }
  if (!connector.ok()) {
    return std::move(connector).error();
  }
  auto pool = std::make_shared<internal::Pool>(std::move(connector).value(), config.pool_size,
                                               config.acquire_timeout);
  // Connect once now so a bad address or an unwritable file fails at start-up.
  { HANSA_ASSIGN_OR_RETURN(auto lease, pool->acquire()); }
  return std::unique_ptr<Database>(new Database(std::move(pool), backend));
}

Result<Transaction> Database::begin(Access access) {
  // A pooled connection may have been closed by the server since its last use; such a failure
  // happens before anything ran, so retry on another (at most every pooled one plus a new one).
  Error last;
  for (std::size_t attempt = 0; attempt <= pool_->max_size(); ++attempt) {
    HANSA_ASSIGN_OR_RETURN(auto lease, pool_->acquire());
    auto st = lease->connection().begin(access);
    if (st.ok()) {
      return Transaction(std::move(lease), backend_);
    }
    if (!lease->connection().broken()) {
      return std::move(st).error();
    }
    last = std::move(st).error();
  }
  return last;
}

PoolStats Database::stats() const { return pool_->stats(); }

}  // namespace hansa::db
