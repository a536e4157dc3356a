// PostgreSQL backend through libpqxx 6.
//
// Parameters travel in text format: numbers in their shortest exact decimal form, booleans as
// true/false, blobs as bytea hex ("\x0a0b", so a blob parameter needs a bytea context: a bytea
// column or `$1::bytea`). libpqxx's automatic reconnection is switched off: a broken connection
// is reported, discarded by the pool and replaced by a fresh one, so no session state (prepared
// statements, settings, an open transaction) is ever silently lost.

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "core/db/driver.h"

namespace hansa::db::internal {
namespace {

// PostgreSQL type OIDs (pg_type.dat) that map to non-text values.
constexpr unsigned kOidBool = 16;
constexpr unsigned kOidBytea = 17;
constexpr unsigned kOidInt8 = 20;
constexpr unsigned kOidInt2 = 21;
constexpr unsigned kOidInt4 = 23;
constexpr unsigned kOidOid = 26;
constexpr unsigned kOidFloat4 = 700;
constexpr unsigned kOidFloat8 = 701;

std::string to_param_text(double d) {
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::isinf(d)) {
    return d > 0 ? "Infinity" : "-Infinity";
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, end);
}

std::string hex_bytea(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// bytea output in hex format (the default since PostgreSQL 9.0); escape format goes through
// libpqxx's decoder.
Result<std::string> decode_bytea(const pqxx::field& f) {
  std::string_view text(f.c_str(), f.size());
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    text.remove_prefix(2);
    if (text.size() % 2 != 0) {
      return db_error("malformed bytea value from server");
    }
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
      const int hi = hex_nibble(text[i]);
      const int lo = hex_nibble(text[i + 1]);
      if (hi < 0 || lo < 0) {
        return db_error("malformed bytea value from server");
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
  }
  pqxx::binarystring bs(f);
  return bs.str();
}

Result<Value> convert_field(const pqxx::field& f) {
  if (f.is_null()) {
    return Value();
  }
  std::string_view text(f.c_str(), f.size());
  switch (static_cast<unsigned>(f.type())) {
    case kOidBool:
      return Value(text == "t");
    case kOidInt2:
    case kOidInt4:
    case kOidInt8:
    case kOidOid: {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) {
        return db_error("malformed integer from server");
      }
      return Value(v);
    }
    case kOidFloat4:
    case kOidFloat8: {
      std::string s(text);
      if (s == "NaN") {
        return Value(std::nan(""));
      }
      if (s == "Infinity") {
        return Value(HUGE_VAL);
      }
      if (s == "-Infinity") {
        return Value(-HUGE_VAL);
      }
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size()) {
        return db_error("malformed number from server");
      }
      return Value(d);
    }
    case kOidBytea: {
      HANSA_ASSIGN_OR_RETURN(std::string bytes, decode_bytea(f));
      return Value::blob(std::move(bytes));
    }
    default:
      return Value(std::string(text));
  }
}

class PgConnection final : public Connection {
 public:
  PgConnection(std::unique_ptr<pqxx::connection> conn, std::size_t max_cached)
      : conn_(std::move(conn)),
        cache_(max_cached, [this](std::string& name) { pending_unprepare_.push_back(name); }) {}

  ~PgConnection() override {
    rollback();
    cache_.clear();
    // Closing the connection drops its prepared statements; nothing to unprepare.
    pending_unprepare_.clear();
    try {
      conn_->disconnect();
    } catch (...) {
    }
  }

  Status begin(Access access) override {
    drain_unprepare();
    try {
      if (access == Access::kReadOnly) {
        tx_ = std::make_unique<pqxx::read_transaction>(*conn_);
      } else {
        tx_ = std::make_unique<pqxx::work>(*conn_);
      }
      // libpqxx 6 sends BEGIN from the constructor, so a pooled connection that the server has
      // closed fails here, where the caller may safely retry on another one.
      return ok_status();
    } catch (const std::exception& e) {
      tx_.reset();
      return map_exception(e, "begin");
    }
  }

  Result<Rows> execute(std::string_view sql, std::span<const Value> params) override {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    std::string key(sql);
    std::string name;
    if (std::string* cached = cache_.find(key)) {
      name = *cached;
    } else {
      name = "hansa_" + std::to_string(++statement_counter_);
      try {
        conn_->prepare(name, key);
      } catch (const std::exception& e) {
        return map_exception(e, "prepare");
      }
      cache_.insert(key, name);
    }
    std::vector<std::optional<std::string>> args;
    args.reserve(params.size());
    for (const Value& v : params) {
      switch (v.type()) {
        case Value::Type::kNull:
          args.emplace_back(std::nullopt);
          break;
        case Value::Type::kInt64:
          args.emplace_back(std::to_string(v.as_int64()));
          break;
        case Value::Type::kDouble:
          args.emplace_back(to_param_text(v.as_double()));
          break;
        case Value::Type::kBool:
          args.emplace_back(v.as_bool() ? "true" : "false");
          break;
        case Value::Type::kText:
          args.emplace_back(v.as_text());
          break;
        case Value::Type::kBlob:
          args.emplace_back(hex_bytea(v.as_blob()));
          break;
      }
    }
    try {
      pqxx::result r = tx_->exec_prepared(name, pqxx::prepare::make_dynamic_params(args));
      const auto ncols = static_cast<std::size_t>(r.columns());
      std::vector<std::string> columns;
      columns.reserve(ncols);
      for (std::size_t c = 0; c < ncols; ++c) {
        const char* col = r.column_name(static_cast<pqxx::row::size_type>(c));
        columns.emplace_back(col != nullptr ? col : "");
      }
      std::vector<Row> rows;
      rows.reserve(r.size());
      for (const auto& row : r) {
        std::vector<Value> values;
        values.reserve(ncols);
        for (const auto& f : row) {
          HANSA_ASSIGN_OR_RETURN(Value v, convert_field(f));
          values.push_back(std::move(v));
        }
        rows.emplace_back(std::move(values));
      }
      return Rows(std::move(columns), std::move(rows),
                  static_cast<std::int64_t>(r.affected_rows()));
    } catch (const std::exception& e) {
      return map_exception(e, "execute");
    }
  }

  Status execute_script(std::string_view sql) override {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    try {
      tx_->exec(std::string(sql));
      return ok_status();
    } catch (const std::exception& e) {
      return map_exception(e, "script");
    }
  }

  Status commit() override {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    try {
      tx_->commit();
      tx_.reset();
      return ok_status();
    } catch (const pqxx::in_doubt_error& e) {
      tx_.reset();
      broken_ = true;
      return Error(FaultCode::kCommitOutcomeUnknown,
                   "connection lost while committing: the transaction may or may not be durable",
                   e.what());
    } catch (const pqxx::broken_connection& e) {
      // Cannot tell whether COMMIT reached the server: never claim either outcome.
      tx_.reset();
      broken_ = true;
      return Error(FaultCode::kCommitOutcomeUnknown,
                   "connection lost while committing: the transaction may or may not be durable",
                   e.what());
    } catch (const std::exception& e) {
      tx_.reset();
      return map_exception(e, "commit");
    }
  }

  void rollback() noexcept override {
    if (tx_ == nullptr) {
      return;
    }
    try {
      tx_->abort();
    } catch (...) {
      broken_ = true;
    }
    try {
      tx_.reset();
    } catch (...) {
      broken_ = true;
    }
  }

  bool broken() const noexcept override { return broken_ || !conn_->is_open(); }

 private:
  // Deallocates statements evicted from the cache; only outside a transaction.
  void drain_unprepare() {
    while (!pending_unprepare_.empty()) {
      std::string name = std::move(pending_unprepare_.back());
      pending_unprepare_.pop_back();
      try {
        conn_->unprepare(name);
      } catch (...) {
        broken_ = true;
      }
    }
  }

  Error map_exception(const std::exception& e, std::string_view what) {
    if (const auto* bc = dynamic_cast<const pqxx::broken_connection*>(&e)) {
      broken_ = true;
      return db_error("database connection lost", std::string(what) + ": " + bc->what());
    }
    if (const auto* uv = dynamic_cast<const pqxx::unique_violation*>(&e)) {
      return Error(FaultCode::kConflict, std::string("duplicate: ") + uv->what(),
                   std::string(what) + " (SQLSTATE " + uv->sqlstate() + ")");
    }
    if (const auto* se = dynamic_cast<const pqxx::sql_error*>(&e)) {
      std::string msg = se->what();
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
      }
      return db_error("postgresql: " + msg,
                      std::string(what) + " (SQLSTATE " + se->sqlstate() + ")");
    }
    if (!conn_->is_open()) {
      broken_ = true;
    }
    return db_error(std::string("postgresql: ") + e.what(), std::string(what));
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::transaction_base> tx_;
  StatementCache<std::string> cache_;
  std::vector<std::string> pending_unprepare_;
  std::uint64_t statement_counter_ = 0;
  bool broken_ = false;
};

class PgConnector final : public Connector {
 public:
  PgConnector(std::string conninfo, const DbConfig& config)
      : conninfo_(std::move(conninfo)), config_(config) {}

  Result<std::unique_ptr<Connection>> connect() override {
    try {
      auto conn = std::make_unique<pqxx::connection>(conninfo_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
      {
        pqxx::nontransaction setup(*conn);
        setup.exec("SET statement_timeout = " + std::to_string(config_.statement_timeout.count()));
        setup.commit();
      }
      return std::unique_ptr<Connection>(
          std::make_unique<PgConnection>(std::move(conn), config_.max_cached_statements));
    } catch (const std::exception& e) {
      // libpq's messages name host and database but never the password.
      return db_error("cannot connect to PostgreSQL", e.what());
    }
  }

 private:
  std::string conninfo_;
  DbConfig config_;
};

// Adds libpq's connect_timeout unless the caller set one.
std::string with_connect_timeout(std::string conninfo, std::chrono::milliseconds timeout) {
  if (conninfo.find("connect_timeout") != std::string::npos || timeout.count() <= 0) {
    return conninfo;
  }
  const auto seconds = std::to_string((timeout.count() + 999) / 1000);
  if (conninfo.find("://") != std::string::npos) {
    conninfo += conninfo.find('?') == std::string::npos ? '?' : '&';
    conninfo += "connect_timeout=" + seconds;
  } else {
    conninfo += " connect_timeout=" + seconds;
  }
  return conninfo;
}

}  // namespace

Result<std::unique_ptr<Connector>> make_postgres_connector(std::string conninfo,
                                                           const DbConfig& config) {
  if (config.statement_timeout.count() < 0) {
    return Error(FaultCode::kInvalidConfiguration, "statement_timeout must not be negative");
  }
  return std::unique_ptr<Connector>(std::make_unique<PgConnector>(
      with_connect_timeout(std::move(conninfo), config.connect_timeout), config));
}

}  // namespace hansa::db::internal
