// PostgreSQL backend through libpqxx 6.
//
// Bulk inserts (insert_rows) bypass libpqxx: COPY FROM STDIN in binary format straight through
// libpq on the same connection, inside the open transaction (libpqxx 6 only streams COPY as text,
// which would send every blob hex-encoded). The libpq handle is captured by a connection policy
// when libpqxx opens the connection and forgotten when libpqxx drops it. A write transaction's
// BEGIN, COMMIT and ROLLBACK are this driver's own (around a libpqxx nontransaction), so that a
// commit can carry the transaction's last statement (commit_after); a read transaction is
// libpqxx's read_transaction.
//
// Parameters travel in text format: numbers in their shortest exact decimal form, booleans as
// true/false, blobs as bytea hex ("\x0a0b", so a blob parameter needs a bytea context: a bytea
// column or `$1::bytea`). libpqxx's automatic reconnection is switched off: a broken connection
// is reported, discarded by the pool and replaced by a fresh one, so no session state (prepared
// statements, settings, an open transaction) is ever silently lost.

#include <libpq-fe.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
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

constexpr unsigned kOidText = 25;
constexpr unsigned kOidBpchar = 1042;
constexpr unsigned kOidVarchar = 1043;

// Where a connection policy reports the libpq handle of its connection (null once dropped).
struct HandleBox {
  PGconn* handle = nullptr;
};
thread_local HandleBox* t_next_box = nullptr;  // set around the construction of one connection

// connect_direct that tells its HandleBox about the handle libpqxx opened.
class CapturingPolicy final : public pqxx::connect_direct {
 public:
  explicit CapturingPolicy(const std::string& opts) : connect_direct(opts), box_(t_next_box) {}
  handle do_startconnect(handle orig) override {
    handle h = connect_direct::do_startconnect(orig);
    note(h);
    return h;
  }
  handle do_completeconnect(handle orig) override {
    handle h = connect_direct::do_completeconnect(orig);
    note(h);
    return h;
  }
  handle do_dropconnect(handle orig) noexcept override {
    note(nullptr);
    return connect_direct::do_dropconnect(orig);
  }
  handle do_disconnect(handle orig) noexcept override {
    note(nullptr);
    return connect_direct::do_disconnect(orig);
  }

 private:
  void note(handle h) noexcept {
    if (box_ != nullptr) {
      box_->handle = h;
    }
  }
  HandleBox* box_;
};
using CapturingConnection = pqxx::basic_connection_base<CapturingPolicy>;

// Big-endian appends for the binary COPY stream.
void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

// Owns a PGresult.
struct PgResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PgConnection final : public Connection {
 public:
  PgConnection(std::unique_ptr<CapturingConnection> conn, std::unique_ptr<HandleBox> box,
               std::size_t max_cached)
      : box_(std::move(box)),
        conn_(std::move(conn)),
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
        // A write transaction is this class's own BEGIN and COMMIT around a libpqxx
        // nontransaction (which sends nothing itself), so that commit_after() can send its last
        // statement and the COMMIT in one round trip.
        tx_ = std::make_unique<pqxx::nontransaction>(*conn_);
        own_tx_ = true;
        tx_->exec("BEGIN");
      }
      // BEGIN goes out here, so a pooled connection that the server has closed fails here, where
      // the caller may safely retry on another one.
      return ok_status();
    } catch (const std::exception& e) {
      tx_.reset();
      own_tx_ = false;
      return map_exception(e, "begin");
    }
  }

  Result<Rows> execute(std::string_view sql, std::span<const Value> params) override {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    HANSA_ASSIGN_OR_RETURN(std::string name, prepared(sql));
    std::vector<std::optional<std::string>> args = param_texts(params);
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
    if (own_tx_) {
      return finish_own("COMMIT");
    }
    try {
      tx_->commit();
      tx_.reset();
      return ok_status();
    } catch (const pqxx::in_doubt_error& e) {
      tx_.reset();
      return outcome_unknown(e.what());
    } catch (const pqxx::broken_connection& e) {
      tx_.reset();
      return outcome_unknown(e.what());
    } catch (const std::exception& e) {
      tx_.reset();
      return map_exception(e, "commit");
    }
  }

  // The statement goes out as an EXECUTE of its prepared form (prepared once per connection, as
  // for execute()), with its parameters as quoted literals, and the COMMIT in the same message.
  Status commit_after(std::string_view sql, std::span<const Value> params) override {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    if (!own_tx_) {
      auto rows = execute(sql, params);
      if (!rows.ok()) {
        return rows.error();
      }
      return commit();
    }
    auto name = prepared(sql);
    if (name.ok()) {
      // libpqxx prepares a statement on the server at its first exec_prepared(); EXECUTE needs it
      // there now (a round trip the first time on a connection, nothing after).
      try {
        conn_->prepare_now(*name);
      } catch (const std::exception& e) {
        name = map_exception(e, "prepare");
      }
    }
    if (!name.ok()) {
      rollback();
      return name.error();
    }
    PGconn* pg = live_handle();
    if (pg == nullptr) {
      end_own();
      return lost_before_commit();
    }
    std::string script = "EXECUTE " + *name;
    const std::vector<std::optional<std::string>> args = param_texts(params);
    for (std::size_t i = 0; i < args.size(); ++i) {
      script += i == 0 ? "(" : ", ";
      if (!args[i]) {
        script += "NULL";
        continue;
      }
      char* literal = PQescapeLiteral(pg, args[i]->data(), args[i]->size());
      if (literal == nullptr) {
        Error e = db_error("commit: cannot quote a parameter", PQerrorMessage(pg));
        rollback();
        return e;
      }
      script += literal;
      PQfreemem(literal);
    }
    script += args.empty() ? ";\nCOMMIT" : ");\nCOMMIT";
    return finish_own(script);
  }

  void rollback() noexcept override {
    if (tx_ == nullptr) {
      return;
    }
    if (own_tx_) {
      end_own();
      rollback_own();
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

  Result<std::int64_t> insert_rows(std::string_view table,
                                   std::span<const std::string_view> columns,
                                   std::span<const Value> values) override {
    auto n = copy_rows(table, columns, values);
    if (!n.ok()) {
      // The cached column types may be stale (the table changed): look them up again next time.
      column_types_.erase(ascii_lower(table));
    }
    return n;
  }

 private:
  // The name of `sql` prepared on this connection (prepared now when not cached).
  Result<std::string> prepared(std::string_view sql) {
    std::string key(sql);
    if (std::string* cached = cache_.find(key)) {
      return *cached;
    }
    std::string name = "hansa_" + std::to_string(++statement_counter_);
    try {
      conn_->prepare(name, key);
    } catch (const std::exception& e) {
      return map_exception(e, "prepare");
    }
    cache_.insert(key, name);
    return name;
  }

  // Parameters in text format: numbers in their shortest exact decimal form, booleans as
  // true/false, blobs as bytea hex.
  static std::vector<std::optional<std::string>> param_texts(std::span<const Value> params) {
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
    return args;
  }

  // The libpq handle while the connection is usable; otherwise null, and the connection is
  // marked broken.
  PGconn* live_handle() noexcept {
    PGconn* pg = box_->handle;
    if (pg == nullptr || broken_ || PQstatus(pg) != CONNECTION_OK) {
      broken_ = true;
      return nullptr;
    }
    return pg;
  }

  // The connection was gone before COMMIT went out: the server rolls the transaction back.
  static Error lost_before_commit() {
    return db_error("database connection lost", "commit: nothing was committed");
  }

  // The connection broke after COMMIT may have reached the server: never claim either outcome.
  Error outcome_unknown(const char* detail) {
    broken_ = true;
    return Error(FaultCode::kCommitOutcomeUnknown,
                 "connection lost while committing: the transaction may or may not be durable",
                 detail);
  }

  // Ends the libpqxx side of a write transaction (a nontransaction: nothing goes to the server).
  void end_own() noexcept {
    own_tx_ = false;
    try {
      tx_.reset();
    } catch (...) {
      broken_ = true;
    }
  }

  // ROLLBACK of a write transaction whose libpqxx side has ended.
  void rollback_own() noexcept {
    PGconn* pg = live_handle();
    if (pg == nullptr) {
      return;
    }
    PgResult r(PQexec(pg, "ROLLBACK"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      broken_ = true;
    }
  }

  // Sends `script` (statements without parameters, the last of them COMMIT) in one message and
  // reads every result. A failed statement makes the server skip the rest, the COMMIT included,
  // and leaves the transaction to roll back; COMMIT of a transaction that failed earlier answers
  // ROLLBACK. Once the script has gone out, a broken connection leaves the outcome unknown.
  Status finish_own(const std::string& script) {
    end_own();
    PGconn* pg = live_handle();
    if (pg == nullptr) {
      return lost_before_commit();
    }
    if (PQsendQuery(pg, script.c_str()) != 1) {
      return outcome_unknown(PQerrorMessage(pg));
    }
    std::optional<Error> error;
    std::string last;
    while (PGresult* raw = PQgetResult(pg)) {
      PgResult r(raw);
      const ExecStatusType status = PQresultStatus(r.get());
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        last = PQcmdStatus(r.get());
      } else if (!error) {
        error = result_error(pg, r.get(), "commit");
      }
    }
    if (PQstatus(pg) != CONNECTION_OK) {
      return outcome_unknown(PQerrorMessage(pg));
    }
    if (error) {
      rollback_own();
      return *error;
    }
    if (last != "COMMIT") {
      return db_error("the transaction was rolled back, not committed", "commit: " + last);
    }
    return ok_status();
  }

  Result<std::int64_t> copy_rows(std::string_view table, std::span<const std::string_view> columns,
                                 std::span<const Value> values) {
    if (tx_ == nullptr) {
      return db_error("no transaction open");
    }
    PGconn* pg = live_handle();
    if (pg == nullptr) {
      return db_error("database connection lost", "insert_rows");
    }
    HANSA_ASSIGN_OR_RETURN(const auto* types, column_types(pg, table));
    if (std::any_of(columns.begin(), columns.end(),
                    [&](std::string_view c) { return !types->contains(ascii_lower(c)); })) {
      column_types_.erase(ascii_lower(table));  // cached before the column was added?
      HANSA_ASSIGN_OR_RETURN(types, column_types(pg, table));
    }
    std::vector<unsigned> oids;
    oids.reserve(columns.size());
    std::string list;
    for (std::string_view c : columns) {
      std::string lower = ascii_lower(c);
      auto it = types->find(lower);
      if (it == types->end()) {
        return fail_copy(
            pg, false,
            db_error("insert_rows: no such column", std::string(table) + "." + std::string(c)));
      }
      oids.push_back(it->second);
      list += (list.empty() ? "" : ", ") + lower;
    }
    const std::string sql =
        "COPY " + std::string(table) + " (" + list + ") FROM STDIN (FORMAT binary)";
    {
      PgResult r(PQexec(pg, sql.c_str()));
      if (PQresultStatus(r.get()) != PGRES_COPY_IN) {
        return fail_copy(pg, false, result_error(pg, r.get(), "copy"));
      }
    }
    // Header: signature, flags, header extension length.
    std::string buf("PGCOPY\n\xff\r\n\0", 11);
    put_be(buf, 0, 4);
    put_be(buf, 0, 4);
    // Below malloc's mmap threshold on both ends: larger messages cost page faults per batch.
    constexpr std::size_t kChunk = 64 * 1024;
    const std::size_t ncols = columns.size();
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < values.size(); i += ncols) {
      put_be(buf, ncols, 2);
      for (std::size_t c = 0; c < ncols; ++c) {
        Status st = encode_field(buf, values[i + c], oids[c]);
        if (!st.ok()) {
          Error e = st.error();
          e.detail = std::string(table) + "." + std::string(columns[c]) + ", row " +
                     std::to_string(rows + 1);
          return fail_copy(pg, true, e);
        }
      }
      ++rows;
      if (buf.size() >= kChunk) {
        if (PQputCopyData(pg, buf.data(), static_cast<int>(buf.size())) != 1) {
          broken_ = true;
          return db_error("database connection lost", std::string("copy: ") + PQerrorMessage(pg));
        }
        buf.clear();
      }
    }
    put_be(buf, 0xffff, 2);  // trailer: -1
    if (PQputCopyData(pg, buf.data(), static_cast<int>(buf.size())) != 1 ||
        PQputCopyEnd(pg, nullptr) != 1) {
      broken_ = true;
      return db_error("database connection lost", std::string("copy: ") + PQerrorMessage(pg));
    }
    HANSA_ASSIGN_OR_RETURN(std::int64_t copied, finish_copy(pg));
    if (copied != rows) {
      return db_error("insert_rows: the server stored an unexpected number of rows",
                      std::to_string(copied) + " of " + std::to_string(rows));
    }
    return rows;
  }

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

  static std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) {
      if (ch >= 'A' && ch <= 'Z') {
        ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
    return out;
  }

  // The type OID of each column of `table` (looked up once per connection; an identifier is
  // folded to lower case as PostgreSQL folds an unquoted one).
  Result<const std::map<std::string, unsigned>*> column_types(PGconn* pg, std::string_view table) {
    std::string key = ascii_lower(table);
    if (auto it = column_types_.find(key); it != column_types_.end()) {
      return &it->second;
    }
    const char* params[1] = {key.c_str()};
    PgResult r(PQexecParams(pg,
                            "SELECT attname, atttypid::bigint FROM pg_attribute WHERE attrelid = "
                            "to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                            1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return result_error(pg, r.get(), "insert_rows: column types");
    }
    if (PQntuples(r.get()) == 0) {
      return db_error("insert_rows: no such table", key);
    }
    std::map<std::string, unsigned> types;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      types[PQgetvalue(r.get(), i, 0)] =
          static_cast<unsigned>(std::strtoul(PQgetvalue(r.get(), i, 1), nullptr, 10));
    }
    return &column_types_.emplace(key, std::move(types)).first->second;
  }

  // One field of the binary COPY stream: its length, then PostgreSQL's binary form of the value.
  static Status encode_field(std::string& out, const Value& v, unsigned oid) {
    if (v.is_null()) {
      put_be(out, 0xffffffffu, 4);
      return ok_status();
    }
    auto integer = [&](std::int64_t n, int bytes) -> Status {
      const std::int64_t max = bytes == 8 ? INT64_MAX : (std::int64_t{1} << (8 * bytes - 1)) - 1;
      const std::int64_t min = bytes == 8 ? INT64_MIN : -max - 1;
      if (n < min || n > max) {
        return db_error("insert_rows: integer out of range for the column", std::to_string(n));
      }
      put_be(out, static_cast<std::uint32_t>(bytes), 4);
      put_be(out, static_cast<std::uint64_t>(n), bytes);
      return ok_status();
    };
    auto bytes = [&](const std::string& b) {
      put_be(out, static_cast<std::uint32_t>(b.size()), 4);
      out += b;
    };
    const Value::Type t = v.type();
    switch (oid) {
      case kOidInt2:
      case kOidInt4:
      case kOidInt8:
        if (t == Value::Type::kInt64 || t == Value::Type::kBool) {
          const int width = oid == kOidInt2 ? 2 : oid == kOidInt4 ? 4 : 8;
          return integer(t == Value::Type::kBool ? (v.as_bool() ? 1 : 0) : v.as_int64(), width);
        }
        break;
      case kOidBool:
        if (t == Value::Type::kBool || t == Value::Type::kInt64) {
          const bool b = t == Value::Type::kBool ? v.as_bool() : v.as_int64() != 0;
          put_be(out, 1, 4);
          out.push_back(b ? 1 : 0);
          return ok_status();
        }
        break;
      case kOidFloat4:
      case kOidFloat8:
        if (t == Value::Type::kDouble || t == Value::Type::kInt64) {
          const double d =
              t == Value::Type::kDouble ? v.as_double() : static_cast<double>(v.as_int64());
          if (oid == kOidFloat4) {
            put_be(out, 4, 4);
            put_be(out, std::bit_cast<std::uint32_t>(static_cast<float>(d)), 4);
          } else {
            put_be(out, 8, 4);
            put_be(out, std::bit_cast<std::uint64_t>(d), 8);
          }
          return ok_status();
        }
        break;
      case kOidText:
      case kOidVarchar:
      case kOidBpchar:
        if (t == Value::Type::kText) {
          bytes(v.as_text());
          return ok_status();
        }
        break;
      case kOidBytea:
        if (t == Value::Type::kBlob) {
          bytes(v.as_blob());
          return ok_status();
        }
        break;
      default:
        return db_error("insert_rows: unsupported column type (oid " + std::to_string(oid) + ")");
    }
    return db_error("insert_rows: value does not match the column type (oid " +
                    std::to_string(oid) + ")");
  }

  // Reads the results of a finished COPY: the number of rows stored.
  Result<std::int64_t> finish_copy(PGconn* pg) {
    std::optional<Error> error;
    std::int64_t copied = 0;
    while (PGresult* raw = PQgetResult(pg)) {
      PgResult r(raw);
      if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
        copied = std::strtoll(PQcmdTuples(r.get()), nullptr, 10);
      } else if (!error) {
        error = result_error(pg, r.get(), "copy");
      }
    }
    if (PQstatus(pg) != CONNECTION_OK) {
      broken_ = true;
      if (!error) {
        error = db_error("database connection lost", std::string("copy: ") + PQerrorMessage(pg));
      }
    }
    if (error) {
      return *error;
    }
    return copied;
  }

  // Abandons a COPY (when `started`) and returns `e`; the server aborts the transaction.
  Error fail_copy(PGconn* pg, bool started, Error e) {
    if (started) {
      if (PQputCopyEnd(pg, "insert_rows: bad value") != 1) {
        broken_ = true;
      } else {
        (void)finish_copy(pg);
      }
    }
    if (PQstatus(pg) != CONNECTION_OK) {
      broken_ = true;
    }
    return e;
  }

  // The error of a failed libpq result, with its SQLSTATE (kConflict for unique violations).
  Error result_error(PGconn* pg, const PGresult* r, std::string_view what) {
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = r != nullptr ? PQresultErrorMessage(r) : "";
    if (msg.empty()) {
      msg = PQerrorMessage(pg);
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    if (PQstatus(pg) != CONNECTION_OK) {
      broken_ = true;
      return db_error("database connection lost", std::string(what) + ": " + msg);
    }
    const std::string sqlstate = state != nullptr ? state : "";
    if (sqlstate == "23505") {
      return Error(FaultCode::kConflict, "duplicate: " + msg,
                   std::string(what) + " (SQLSTATE " + sqlstate + ")");
    }
    return db_error("postgresql: " + msg, std::string(what) + " (SQLSTATE " + sqlstate + ")");
  }

  std::unique_ptr<HandleBox> box_;  // before conn_: the policy writes to it while closing
  std::unique_ptr<CapturingConnection> conn_;
  std::map<std::string, std::map<std::string, unsigned>> column_types_;
  std::unique_ptr<pqxx::transaction_base> tx_;
  StatementCache<std::string> cache_;
  std::vector<std::string> pending_unprepare_;
  std::uint64_t statement_counter_ = 0;
  bool own_tx_ = false;  // tx_ is a write transaction's nontransaction (see begin())
  bool broken_ = false;
};

class PgConnector final : public Connector {
 public:
  PgConnector(std::string conninfo, const DbConfig& config)
      : conninfo_(std::move(conninfo)), config_(config) {}

  Result<std::unique_ptr<Connection>> connect() override {
    try {
      auto box = std::make_unique<HandleBox>();
      t_next_box = box.get();
      std::unique_ptr<CapturingConnection> conn;
      try {
        conn = std::make_unique<CapturingConnection>(conninfo_);
      } catch (...) {
        t_next_box = nullptr;
        throw;
      }
      t_next_box = nullptr;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
      {
        pqxx::nontransaction setup(*conn);
        setup.exec("SET statement_timeout = " + std::to_string(config_.statement_timeout.count()));
        setup.commit();
      }
      return std::unique_ptr<Connection>(std::make_unique<PgConnection>(
          std::move(conn), std::move(box), config_.max_cached_statements));
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
