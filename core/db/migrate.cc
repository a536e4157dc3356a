#include "core/db/migrate.h"

#include <map>
#include <string>
#include <utility>

namespace hansa::db {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL,"
    " version BIGINT NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (component, version))";

// A stable 64-bit key per component for pg_advisory_xact_lock (FNV-1a).
std::int64_t advisory_key(std::string_view component) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : std::string("hansa.migrate.") + std::string(component)) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return static_cast<std::int64_t>(h);
}

// Serializes migrators of one component across processes until the transaction ends, then makes
// sure the bookkeeping table exists.
Status lock_and_prepare(Transaction& tx, std::string_view component) {
  if (tx.backend() == Backend::kPostgres) {
    HANSA_RETURN_IF_ERROR(
        tx.execute("SELECT pg_advisory_xact_lock($1)", {advisory_key(component)}));
  }
  return tx.execute_script(kCreateTable);
}

Result<std::map<std::int64_t, std::string>> recorded_versions(Transaction& tx,
                                                              std::string_view component) {
  HANSA_ASSIGN_OR_RETURN(
      Rows rows,
      tx.execute("SELECT version, name FROM schema_migrations WHERE component = $1", {component}));
  std::map<std::int64_t, std::string> out;
  for (const Row& row : rows) {
    HANSA_ASSIGN_OR_RETURN(std::int64_t version, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(std::string name, row.text(1));
    out.emplace(version, std::move(name));
  }
  return out;
}

Status check_compatible(const std::map<std::int64_t, std::string>& recorded,
                        std::string_view component, std::span<const Migration> migrations) {
  const std::int64_t newest_known = migrations.empty() ? 0 : migrations.back().version;
  if (!recorded.empty() && recorded.rbegin()->first > newest_known) {
    return Error(FaultCode::kDatabaseError,
                 "the database schema of " + std::string(component) + " is at version " +
                     std::to_string(recorded.rbegin()->first) +
                     ", newer than this program knows (" + std::to_string(newest_known) +
                     "); run a newer release",
                 "schema_migrations");
  }
  for (const Migration& m : migrations) {
    auto it = recorded.find(m.version);
    if (it != recorded.end() && it->second != m.name) {
      return Error(FaultCode::kDatabaseError,
                   "schema migration " + std::string(component) + " " + std::to_string(m.version) +
                       " was recorded as '" + it->second + "' but this program calls it '" +
                       m.name + "'",
                   "schema_migrations");
    }
  }
  return ok_status();
}

const std::string& text_for(const Migration& m, Backend backend) {
  if (backend == Backend::kSqlite && !m.sqlite_sql.empty()) {
    return m.sqlite_sql;
  }
  if (backend == Backend::kPostgres && !m.postgres_sql.empty()) {
    return m.postgres_sql;
  }
  return m.sql;
}

Status validate(std::string_view component, std::span<const Migration> migrations,
                Backend backend) {
  if (component.empty()) {
    return Error(FaultCode::kInternalError, "migration component name is empty");
  }
  std::int64_t previous = 0;
  for (const Migration& m : migrations) {
    const std::string where = std::string(component) + " " + std::to_string(m.version);
    if (m.version <= previous) {
      return Error(FaultCode::kInternalError,
                   "migration versions must be positive and strictly increasing", where);
    }
    if (m.name.empty()) {
      return Error(FaultCode::kInternalError, "migration has no name", where);
    }
    if (text_for(m, backend).empty()) {
      return Error(FaultCode::kInternalError,
                   "migration has no SQL for " + std::string(backend_name(backend)), where);
    }
    previous = m.version;
  }
  return ok_status();
}

Error in_migration(Error e, std::string_view component, const Migration& m) {
  e.message = "schema migration " + std::string(component) + " " + std::to_string(m.version) +
              " (" + m.name + ") failed: " + e.message;
  return e;
}

}  // namespace

Result<MigrationOutcome> migrate(Database& db, std::string_view component,
                                 std::span<const Migration> migrations) {
  HANSA_RETURN_IF_ERROR(validate(component, migrations, db.backend()));

  std::vector<const Migration*> pending;
  {
    HANSA_ASSIGN_OR_RETURN(Transaction tx, db.begin());
    HANSA_RETURN_IF_ERROR(lock_and_prepare(tx, component));
    HANSA_ASSIGN_OR_RETURN(auto recorded, recorded_versions(tx, component));
    HANSA_RETURN_IF_ERROR(check_compatible(recorded, component, migrations));
    for (const Migration& m : migrations) {
      if (!recorded.contains(m.version)) {
        pending.push_back(&m);
      }
    }
    HANSA_RETURN_IF_ERROR(tx.commit());
  }

  MigrationOutcome outcome;
  for (const Migration* m : pending) {
    HANSA_ASSIGN_OR_RETURN(Transaction tx, db.begin());
    HANSA_RETURN_IF_ERROR(lock_and_prepare(tx, component));
    // Another instance may have applied it between our check and our lock.
    HANSA_ASSIGN_OR_RETURN(auto recorded, recorded_versions(tx, component));
    HANSA_RETURN_IF_ERROR(check_compatible(recorded, component, migrations));
    if (recorded.contains(m->version)) {
      continue;
    }
    auto st = tx.execute_script(text_for(*m, db.backend()));
    if (!st.ok()) {
      return in_migration(std::move(st).error(), component, *m);
    }
    auto rec = tx.execute(
        "INSERT INTO schema_migrations (component, version, name, applied_at)"
        " VALUES ($1, $2, $3, CAST(CURRENT_TIMESTAMP AS TEXT))",
        {component, m->version, m->name});
    if (!rec.ok()) {
      return in_migration(std::move(rec).error(), component, *m);
    }
    st = tx.commit();
    if (!st.ok()) {
      return in_migration(std::move(st).error(), component, *m);
    }
    ++outcome.applied;
  }
  outcome.version = migrations.empty() ? 0 : migrations.back().version;
  return outcome;
}

}  // namespace hansa::db
