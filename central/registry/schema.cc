// Database schema of the central registry (migration component "central_registry").

#include <string>
#include <vector>

#include "central/registry/registry.h"

namespace hansa::central {
namespace {

// The portable DDL with two placeholders: {ID} (an identity primary key) and {BLOB}.
constexpr const char* kSchemaV1 = R"SQL(
CREATE TABLE registry_state (
  id INTEGER PRIMARY KEY,
  instance_identifier TEXT,
  change_version BIGINT NOT NULL
);
INSERT INTO registry_state (id, instance_identifier, change_version) VALUES (1, NULL, 0);
CREATE TABLE registry_member_classes (
  code TEXT PRIMARY KEY,
  description TEXT NOT NULL
);
CREATE TABLE registry_members (
  member_class TEXT NOT NULL REFERENCES registry_member_classes (code),
  member_code TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (member_class, member_code)
);
CREATE TABLE registry_subsystems (
  member_class TEXT NOT NULL,
  member_code TEXT NOT NULL,
  subsystem_code TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (member_class, member_code, subsystem_code),
  FOREIGN KEY (member_class, member_code)
    REFERENCES registry_members (member_class, member_code) ON DELETE CASCADE
);
CREATE TABLE registry_servers (
  id {ID},
  owner_class TEXT NOT NULL,
  owner_code TEXT NOT NULL,
  server_code TEXT NOT NULL,
  address TEXT NOT NULL,
  UNIQUE (owner_class, owner_code, server_code),
  FOREIGN KEY (owner_class, owner_code) REFERENCES registry_members (member_class, member_code)
);
CREATE TABLE registry_auth_certs (
  hash_hex TEXT PRIMARY KEY,
  server_id BIGINT NOT NULL REFERENCES registry_servers (id) ON DELETE CASCADE,
  cert {BLOB}
);
CREATE INDEX registry_auth_certs_server ON registry_auth_certs (server_id);
CREATE TABLE registry_server_clients (
  server_id BIGINT NOT NULL REFERENCES registry_servers (id) ON DELETE CASCADE,
  member_class TEXT NOT NULL,
  member_code TEXT NOT NULL,
  subsystem_code TEXT NOT NULL,
  PRIMARY KEY (server_id, member_class, member_code, subsystem_code)
);
CREATE INDEX registry_server_clients_client
  ON registry_server_clients (member_class, member_code, subsystem_code);
CREATE TABLE registry_groups (
  group_code TEXT PRIMARY KEY,
  description TEXT NOT NULL
);
CREATE TABLE registry_group_members (
  group_code TEXT NOT NULL REFERENCES registry_groups (group_code) ON DELETE CASCADE,
  member_class TEXT NOT NULL,
  member_code TEXT NOT NULL,
  subsystem_code TEXT NOT NULL,
  PRIMARY KEY (group_code, member_class, member_code, subsystem_code)
);
CREATE INDEX registry_group_members_client
  ON registry_group_members (member_class, member_code, subsystem_code);
CREATE TABLE registry_cas (
  id {ID},
  name TEXT NOT NULL UNIQUE,
  top_hash TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL
);
CREATE TABLE registry_tsas (
  id {ID},
  name TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL UNIQUE,
  cert {BLOB} NOT NULL
);
CREATE TABLE registry_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE registry_audit_log (
  id {ID},
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  summary TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE registry_admin_tokens (
  id {ID},
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
)
)SQL";

std::string substitute(std::string text, bool postgres) {
  const std::string id =
      postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY";
  const std::string blob = postgres ? "BYTEA" : "BLOB";
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"{ID}", id}, {"{BLOB}", blob}}) {
    for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
      text.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  return text;
}

std::vector<db::Migration> build_migrations() {
  db::Migration v1;
  v1.version = 1;
  v1.name = "registry, audit log and admin tokens";
  v1.sql = substitute(kSchemaV1, false);
  v1.sqlite_sql = v1.sql;
  v1.postgres_sql = substitute(kSchemaV1, true);
  return {v1};
}

}  // namespace

std::span<const db::Migration> Registry::migrations() {
  static const std::vector<db::Migration> kMigrations = build_migrations();
  return kMigrations;
}

}  // namespace hansa::central
