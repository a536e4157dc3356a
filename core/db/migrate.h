#pragma once

// Numbered schema migrations, applied at start-up.
//
// Each component that owns tables (central registry, node serverconf, message log, ...) declares
// an ordered list of migrations under its own component name; several components can share one
// database. Applied versions are recorded in the table `schema_migrations` (component, version,
// name, applied_at).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/db/database.h"
#include "core/errors/errors.h"

namespace hansa::db {

// One schema change. `sql` is used on both backends unless a backend-specific text is given
// (identity columns, BLOB vs BYTEA, ...). Texts may hold several `;`-separated statements and no
// parameters. Plain value.
struct Migration {
  std::int64_t version = 0;  // > 0, strictly increasing within a component
  std::string name;          // short description, recorded and checked
  std::string sql;           // portable text
  std::string sqlite_sql;    // replaces `sql` on SQLite when not empty
  std::string postgres_sql;  // replaces `sql` on PostgreSQL when not empty
};

// What migrate() did.
struct MigrationOutcome {
  std::size_t applied = 0;   // migrations applied by this call
  std::int64_t version = 0;  // the component's schema version now
};

// Applies, in order, each migration of `component` not yet recorded: one transaction per
// migration (the DDL and its record commit together). Safe to call from several processes at
// once: on PostgreSQL an advisory lock serializes them, on SQLite the single writer does; a
// migration is never applied twice. Fails with kDatabaseError when the database records a version
// newer than the newest in `migrations` (this program is older than the schema) or a recorded
// version whose name differs; kInternalError for a malformed list (bad versions or texts).
[[nodiscard]] Result<MigrationOutcome> migrate(Database& db, std::string_view component,
                                               std::span<const Migration> migrations);

}  // namespace hansa::db
