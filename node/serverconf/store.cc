#include "node/serverconf/store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/db/migrate.h"
#include "node/serverconf/path_pattern.h"

namespace hansa::serverconf {
namespace {

using db::Row;
using db::Transaction;
using db::Value;

// Portable DDL with two placeholders: {ID} (identity primary key) and {BLOB}.
constexpr const char* kSchemaV1 = R"SQL(
CREATE TABLE serverconf_state (
  id INTEGER PRIMARY KEY,
  server_owner TEXT,
  server_code TEXT,
  change_counter BIGINT NOT NULL
);
INSERT INTO serverconf_state (id, server_owner, server_code, change_counter) VALUES (1, NULL, NULL, 0);
CREATE TABLE serverconf_clients (
  id {ID},
  client_id TEXT NOT NULL UNIQUE,
  registration_state TEXT NOT NULL,
  is_connection TEXT NOT NULL
);
CREATE TABLE serverconf_is_certs (
  client_ref BIGINT NOT NULL REFERENCES serverconf_clients (id) ON DELETE CASCADE,
  sha256_hex TEXT NOT NULL,
  cert {BLOB} NOT NULL,
  PRIMARY KEY (client_ref, sha256_hex)
);
CREATE TABLE serverconf_descriptions (
  id {ID},
  client_ref BIGINT NOT NULL REFERENCES serverconf_clients (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  provider_url TEXT,
  document {BLOB},
  disabled BOOLEAN NOT NULL,
  disabled_notice TEXT NOT NULL,
  refreshed_at BIGINT NOT NULL,
  UNIQUE (client_ref, source)
);
CREATE TABLE serverconf_services (
  id {ID},
  description_ref BIGINT NOT NULL REFERENCES serverconf_descriptions (id) ON DELETE CASCADE,
  client_ref BIGINT NOT NULL REFERENCES serverconf_clients (id) ON DELETE CASCADE,
  service_code TEXT NOT NULL,
  service_version TEXT NOT NULL,
  title TEXT NOT NULL,
  url TEXT NOT NULL,
  timeout_seconds BIGINT NOT NULL,
  ssl_verify BOOLEAN NOT NULL,
  UNIQUE (client_ref, service_code, service_version)
);
CREATE INDEX serverconf_services_description ON serverconf_services (description_ref);
CREATE TABLE serverconf_endpoints (
  id {ID},
  client_ref BIGINT NOT NULL REFERENCES serverconf_clients (id) ON DELETE CASCADE,
  service_code TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  generated BOOLEAN NOT NULL,
  UNIQUE (client_ref, service_code, method, path)
);
CREATE TABLE serverconf_access_rights (
  endpoint_ref BIGINT NOT NULL REFERENCES serverconf_endpoints (id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (endpoint_ref, subject)
);
CREATE INDEX serverconf_access_rights_subject ON serverconf_access_rights (subject);
CREATE TABLE serverconf_local_groups (
  id {ID},
  client_ref BIGINT NOT NULL REFERENCES serverconf_clients (id) ON DELETE CASCADE,
  group_code TEXT NOT NULL,
  description TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (client_ref, group_code)
);
CREATE TABLE serverconf_local_group_members (
  group_ref BIGINT NOT NULL REFERENCES serverconf_local_groups (id) ON DELETE CASCADE,
  member_id TEXT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (group_ref, member_id)
)
)SQL";

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::vector<db::Migration> migrations() {
  db::Migration m;
  m.version = 1;
  m.name = "server configuration";
  m.sqlite_sql = replace_all(replace_all(kSchemaV1, "{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
                             "{BLOB}", "BLOB");
  m.postgres_sql =
      replace_all(replace_all(kSchemaV1, "{ID}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
                  "{BLOB}", "BYTEA");
  m.sql = m.sqlite_sql;
  return {m};
}

std::int64_t now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error not_found(std::string message, std::string detail = {}) {
  return Error(FaultCode::kNotFound, std::move(message), std::move(detail));
}
Error conflict(std::string message, std::string detail = {}) {
  return Error(FaultCode::kConflict, std::move(message), std::move(detail));
}
Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidRequest, std::move(message), std::move(detail));
}
Error corrupt(std::string message) {
  return Error(FaultCode::kDatabaseError, "server configuration in the database is unreadable",
               std::move(message));
}

// Turns a unique violation into a Conflict with this message; other errors pass.
template <typename T>
Result<T> on_conflict(Result<T> r, const std::string& message, const std::string& detail = {}) {
  if (!r.ok() && r.error().code == FaultCode::kConflict) {
    return conflict(message, detail);
  }
  return r;
}

bool is_url(std::string_view s) { return validate_url(s).ok(); }

// Reads the whole configuration in `tx` into snapshot data.
Result<SnapshotData> load(Transaction& tx) {
  SnapshotData data;
  HANSA_ASSIGN_OR_RETURN(
      auto state,
      tx.query_one("SELECT server_owner, server_code, change_counter FROM serverconf_state WHERE "
                   "id = 1"));
  if (!state) {
    return corrupt("serverconf_state has no row");
  }
  HANSA_ASSIGN_OR_RETURN(data.change_counter, state->int64(2));
  HANSA_ASSIGN_OR_RETURN(auto owner, state->optional_text(0));
  HANSA_ASSIGN_OR_RETURN(auto code, state->optional_text(1));
  if (owner && code) {
    auto member = ids::MemberId::parse(*owner);
    if (!member.ok()) {
      return corrupt("owner: " + member.error().to_string());
    }
    auto server = ids::SecurityServerId::create(*member, *code);
    if (!server.ok()) {
      return corrupt("server code: " + server.error().to_string());
    }
    data.server = std::move(server).value();
  }

  std::map<std::int64_t, std::size_t> client_pos;
  HANSA_ASSIGN_OR_RETURN(auto clients,
                         tx.execute("SELECT id, client_id, registration_state, is_connection FROM "
                                    "serverconf_clients ORDER BY id"));
  for (const Row& r : clients) {
    HANSA_ASSIGN_OR_RETURN(auto ref, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto text, r.text(1));
    HANSA_ASSIGN_OR_RETURN(auto state_name, r.text(2));
    HANSA_ASSIGN_OR_RETURN(auto conn_name, r.text(3));
    auto id = ids::ClientId::parse(text);
    const auto st = registration_state_from_name(state_name);
    const auto conn = is_connection_from_name(conn_name);
    if (!id.ok() || !st || !conn) {
      return corrupt("client row " + std::to_string(ref));
    }
    client_pos[ref] = data.clients.size();
    data.clients.push_back(ClientEntry{std::move(id).value(), *st, *conn, {}, {}});
  }
  auto client_of = [&](std::int64_t ref) -> Result<std::size_t> {
    const auto it = client_pos.find(ref);
    if (it == client_pos.end()) {
      return corrupt("dangling client reference " + std::to_string(ref));
    }
    return it->second;
  };

  HANSA_ASSIGN_OR_RETURN(auto certs, tx.execute("SELECT client_ref, sha256_hex, cert FROM "
                                                "serverconf_is_certs ORDER BY client_ref, "
                                                "sha256_hex"));
  for (const Row& r : certs) {
    HANSA_ASSIGN_OR_RETURN(auto ref, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto hex, r.text(1));
    HANSA_ASSIGN_OR_RETURN(auto der, r.blob(2));
    HANSA_ASSIGN_OR_RETURN(auto pos, client_of(ref));
    auto cert = crypto::Certificate::from_der(der);
    if (!cert.ok()) {
      return corrupt("IS certificate " + hex);
    }
    data.clients[pos].is_certs.push_back(std::move(cert).value());
    data.clients[pos].is_cert_sha256_hex.insert(hex);
  }

  std::map<std::int64_t, std::size_t> desc_pos;
  HANSA_ASSIGN_OR_RETURN(
      auto descs,
      tx.execute("SELECT id, client_ref, type, source, provider_url, disabled, disabled_notice, "
                 "refreshed_at FROM serverconf_descriptions ORDER BY id"));
  for (const Row& r : descs) {
    HANSA_ASSIGN_OR_RETURN(auto ref, r.int64(1));
    HANSA_ASSIGN_OR_RETURN(auto pos, client_of(ref));
    DescriptionEntry d{.id = 0, .client = data.clients[pos].id};
    HANSA_ASSIGN_OR_RETURN(d.id, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto type_name, r.text(2));
    const auto type = description_type_from_name(type_name);
    if (!type) {
      return corrupt("description type " + type_name);
    }
    d.type = *type;
    HANSA_ASSIGN_OR_RETURN(d.source, r.text(3));
    HANSA_ASSIGN_OR_RETURN(d.provider_url, r.optional_text(4));
    HANSA_ASSIGN_OR_RETURN(bool disabled, r.boolean(5));
    d.enabled = !disabled;
    HANSA_ASSIGN_OR_RETURN(d.disabled_notice, r.text(6));
    HANSA_ASSIGN_OR_RETURN(d.refreshed_at, r.int64(7));
    desc_pos[d.id] = data.descriptions.size();
    data.descriptions.push_back(std::move(d));
  }

  HANSA_ASSIGN_OR_RETURN(
      auto services,
      tx.execute("SELECT description_ref, client_ref, service_code, service_version, title, url, "
                 "timeout_seconds, ssl_verify FROM serverconf_services ORDER BY id"));
  for (const Row& r : services) {
    HANSA_ASSIGN_OR_RETURN(auto dref, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto cref, r.int64(1));
    HANSA_ASSIGN_OR_RETURN(auto code, r.text(2));
    HANSA_ASSIGN_OR_RETURN(auto version, r.text(3));
    HANSA_ASSIGN_OR_RETURN(auto pos, client_of(cref));
    const auto dit = desc_pos.find(dref);
    if (dit == desc_pos.end()) {
      return corrupt("dangling description reference");
    }
    const DescriptionEntry& d = data.descriptions[dit->second];
    auto sid = ids::ServiceId::create(
        data.clients[pos].id, code,
        version.empty() ? std::nullopt : std::optional<std::string_view>(version));
    if (!sid.ok()) {
      return corrupt("service " + code);
    }
    ServiceEntry s{.id = std::move(sid).value()};
    s.description_id = d.id;
    s.description_type = d.type;
    s.type = d.type == DescriptionType::kWsdl ? ServiceType::kSoap : ServiceType::kRest;
    HANSA_ASSIGN_OR_RETURN(s.title, r.text(4));
    HANSA_ASSIGN_OR_RETURN(s.url, r.text(5));
    HANSA_ASSIGN_OR_RETURN(auto timeout, r.int64(6));
    s.timeout = std::chrono::seconds(timeout);
    HANSA_ASSIGN_OR_RETURN(s.ssl_verify, r.boolean(7));
    s.enabled = d.enabled;
    s.disabled_notice = d.disabled_notice;
    data.services.push_back(std::move(s));
  }

  std::map<std::int64_t, std::size_t> ep_pos;
  HANSA_ASSIGN_OR_RETURN(auto endpoints,
                         tx.execute("SELECT id, client_ref, service_code, method, path, generated "
                                    "FROM serverconf_endpoints ORDER BY id"));
  for (const Row& r : endpoints) {
    HANSA_ASSIGN_OR_RETURN(auto id, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto cref, r.int64(1));
    HANSA_ASSIGN_OR_RETURN(auto pos, client_of(cref));
    HANSA_ASSIGN_OR_RETURN(auto code, r.text(2));
    EndpointKey key;
    HANSA_ASSIGN_OR_RETURN(key.method, r.text(3));
    HANSA_ASSIGN_OR_RETURN(key.path, r.text(4));
    HANSA_ASSIGN_OR_RETURN(bool generated, r.boolean(5));
    auto pattern = PathPattern::create(key);
    if (!pattern.ok()) {
      return corrupt("endpoint " + key.method + " " + key.path);
    }
    ep_pos[id] = data.endpoints.size();
    data.endpoints.push_back(EndpointEntry{
        id, data.clients[pos].id, std::move(code), std::move(pattern).value(), generated, {}});
  }
  HANSA_ASSIGN_OR_RETURN(auto rights, tx.execute("SELECT endpoint_ref, subject FROM "
                                                 "serverconf_access_rights ORDER BY endpoint_ref, "
                                                 "subject"));
  for (const Row& r : rights) {
    HANSA_ASSIGN_OR_RETURN(auto eref, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto text, r.text(1));
    const auto it = ep_pos.find(eref);
    auto subject = parse_subject(text);
    if (it == ep_pos.end() || !subject.ok()) {
      return corrupt("access right " + text);
    }
    data.endpoints[it->second].subjects.push_back(std::move(subject).value());
  }

  std::map<std::int64_t, std::size_t> group_pos;
  HANSA_ASSIGN_OR_RETURN(auto groups, tx.execute("SELECT id, client_ref, group_code, description "
                                                 "FROM serverconf_local_groups ORDER BY id"));
  for (const Row& r : groups) {
    HANSA_ASSIGN_OR_RETURN(auto id, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto cref, r.int64(1));
    HANSA_ASSIGN_OR_RETURN(auto pos, client_of(cref));
    LocalGroupEntry g{.client = data.clients[pos].id};
    HANSA_ASSIGN_OR_RETURN(g.code, r.text(2));
    HANSA_ASSIGN_OR_RETURN(g.description, r.text(3));
    group_pos[id] = data.local_groups.size();
    data.local_groups.push_back(std::move(g));
  }
  HANSA_ASSIGN_OR_RETURN(auto members, tx.execute("SELECT group_ref, member_id FROM "
                                                  "serverconf_local_group_members ORDER BY "
                                                  "group_ref, member_id"));
  for (const Row& r : members) {
    HANSA_ASSIGN_OR_RETURN(auto gref, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto text, r.text(1));
    const auto it = group_pos.find(gref);
    auto member = ids::ClientId::parse(text);
    if (it == group_pos.end() || !member.ok()) {
      return corrupt("local group member " + text);
    }
    data.local_groups[it->second].members.insert(std::move(member).value());
  }
  return data;
}

Result<ids::SecurityServerId> require_server(Transaction& tx) {
  HANSA_ASSIGN_OR_RETURN(
      auto row,
      tx.query_one("SELECT server_owner, server_code FROM serverconf_state WHERE id = 1"));
  if (!row || row->is_null(0) || row->is_null(1)) {
    return invalid("the node is not initialized (no owner member and server code)");
  }
  HANSA_ASSIGN_OR_RETURN(auto owner, row->text(0));
  HANSA_ASSIGN_OR_RETURN(auto code, row->text(1));
  HANSA_ASSIGN_OR_RETURN(auto member, ids::MemberId::parse(owner));
  return ids::SecurityServerId::create(member, code);
}

Result<std::int64_t> client_ref(Transaction& tx, const ids::ClientId& client) {
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id FROM serverconf_clients WHERE "
                                                "client_id = $1",
                                                {client.to_string()}));
  if (!row) {
    return not_found("not a client of this node", client.to_string());
  }
  return row->int64(0);
}

struct DescriptionRow {
  std::int64_t id = 0;
  std::int64_t client_ref = 0;
  DescriptionType type = DescriptionType::kWsdl;
  std::string source;
  std::optional<std::string> provider_url;
};

Result<DescriptionRow> description_row(Transaction& tx, std::int64_t id) {
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id, client_ref, type, source, provider_url "
                                                "FROM serverconf_descriptions WHERE id = $1",
                                                {id}));
  if (!row) {
    return not_found("no such service description", std::to_string(id));
  }
  DescriptionRow d;
  HANSA_ASSIGN_OR_RETURN(d.id, row->int64(0));
  HANSA_ASSIGN_OR_RETURN(d.client_ref, row->int64(1));
  HANSA_ASSIGN_OR_RETURN(auto type_name, row->text(2));
  const auto type = description_type_from_name(type_name);
  if (!type) {
    return corrupt("description type " + type_name);
  }
  d.type = *type;
  HANSA_ASSIGN_OR_RETURN(d.source, row->text(3));
  HANSA_ASSIGN_OR_RETURN(d.provider_url, row->optional_text(4));
  return d;
}

// Fails with Conflict when a service code of `parsed` belongs to another description of the client.
Status check_codes_free(Transaction& tx, std::int64_t cref, const ParsedDescription& parsed,
                        std::int64_t own_description) {
  std::set<std::string> codes;
  for (const auto& s : parsed.services) {
    codes.insert(s.service_code);
  }
  for (const auto& code : codes) {
    HANSA_ASSIGN_OR_RETURN(
        auto rows,
        tx.execute("SELECT d.source FROM serverconf_services s JOIN serverconf_descriptions d ON "
                   "d.id = s.description_ref WHERE s.client_ref = $1 AND s.service_code = $2 AND "
                   "s.description_ref <> $3",
                   {cref, code, own_description}));
    if (!rows.empty()) {
      HANSA_ASSIGN_OR_RETURN(auto source, rows[0].text(0));
      return conflict("service code " + code + " already exists for this client",
                      "in description " + source);
    }
  }
  return ok_status();
}

// Makes sure an endpoint exists and is marked generated (a manual one with the same method and
// path becomes generated and keeps its rights).
Status upsert_generated_endpoint(Transaction& tx, std::int64_t cref, const std::string& code,
                                 const EndpointKey& key) {
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one("SELECT id FROM serverconf_endpoints WHERE client_ref = $1 "
                                      "AND service_code = $2 AND method = $3 AND path = $4",
                                      {cref, code, key.method, key.path}));
  if (row) {
    HANSA_ASSIGN_OR_RETURN(auto id, row->int64(0));
    return tx.execute("UPDATE serverconf_endpoints SET generated = $1 WHERE id = $2", {true, id})
                   .ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "cannot update endpoint"));
  }
  auto r = tx.execute(
      "INSERT INTO serverconf_endpoints (client_ref, service_code, method, path, generated) "
      "VALUES ($1, $2, $3, $4, $5)",
      {cref, code, key.method, key.path, true});
  if (!r.ok()) {
    return std::move(r).error();
  }
  return ok_status();
}

struct KeptSettings {
  std::int64_t timeout_seconds = kDefaultServiceTimeout.count();
  bool ssl_verify = true;
};

// Inserts the services of `parsed` into description `did` and its generated endpoints; removes
// endpoints of codes that `old_codes` had and `parsed` has not, and generated endpoints that the
// new document no longer lists.
Status store_services(Transaction& tx, std::int64_t cref, std::int64_t did,
                      const ParsedDescription& parsed,
                      const std::map<std::pair<std::string, std::string>, KeptSettings>& kept,
                      const std::set<std::string>& old_codes) {
  std::set<std::string> new_codes;
  for (const auto& s : parsed.services) {
    const std::string version = s.service_version.value_or("");
    KeptSettings settings;
    if (const auto it = kept.find({s.service_code, version}); it != kept.end()) {
      settings = it->second;
    }
    auto r = on_conflict(
        tx.execute("INSERT INTO serverconf_services (description_ref, client_ref, service_code, "
                   "service_version, title, url, timeout_seconds, ssl_verify) VALUES ($1, $2, $3, "
                   "$4, $5, $6, $7, $8)",
                   {did, cref, s.service_code, version, s.title, s.url, settings.timeout_seconds,
                    settings.ssl_verify}),
        "service " + s.service_code + " (version " + (version.empty() ? "none" : version) +
            ") already exists for this client");
    if (!r.ok()) {
      return std::move(r).error();
    }
    new_codes.insert(s.service_code);
  }
  for (const auto& code : old_codes) {
    if (!new_codes.contains(code)) {
      auto r =
          tx.execute("DELETE FROM serverconf_endpoints WHERE client_ref = $1 AND service_code = $2",
                     {cref, code});
      if (!r.ok()) {
        return std::move(r).error();
      }
    }
  }
  for (const auto& code : new_codes) {
    HANSA_RETURN_IF_ERROR(upsert_generated_endpoint(tx, cref, code, kServiceEndpoint));
  }
  if (parsed.type == DescriptionType::kOpenApi) {
    const std::string& code = parsed.services.front().service_code;
    HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("SELECT id, method, path FROM "
                                                 "serverconf_endpoints WHERE client_ref = $1 AND "
                                                 "service_code = $2 AND generated = $3",
                                                 {cref, code, true}));
    const std::set<EndpointKey> wanted(parsed.endpoints.begin(), parsed.endpoints.end());
    for (const Row& r : rows) {
      HANSA_ASSIGN_OR_RETURN(auto id, r.int64(0));
      EndpointKey key;
      HANSA_ASSIGN_OR_RETURN(key.method, r.text(1));
      HANSA_ASSIGN_OR_RETURN(key.path, r.text(2));
      if (key != kServiceEndpoint && !wanted.contains(key)) {
        auto d = tx.execute("DELETE FROM serverconf_endpoints WHERE id = $1", {id});
        if (!d.ok()) {
          return std::move(d).error();
        }
      }
    }
    for (const auto& key : parsed.endpoints) {
      HANSA_RETURN_IF_ERROR(upsert_generated_endpoint(tx, cref, code, key));
    }
  }
  return ok_status();
}

Status check_notice(std::string_view text, std::string_view what) {
  if (text.size() > kMaxNoticeLength) {
    return invalid(std::string(what) + " is longer than " + std::to_string(kMaxNoticeLength) +
                   " bytes");
  }
  for (char c : text) {
    if (c == '\0') {
      return invalid(std::string(what) + " holds a NUL byte");
    }
  }
  return ok_status();
}

Result<std::int64_t> endpoint_ref(Transaction& tx, std::int64_t cref, std::string_view code,
                                  const EndpointKey& key) {
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one("SELECT id FROM serverconf_endpoints WHERE client_ref = $1 "
                                      "AND service_code = $2 AND method = $3 AND path = $4",
                                      {cref, std::string(code), key.method, key.path}));
  if (!row) {
    return not_found("no such endpoint of service " + std::string(code),
                     key.method + " " + key.path);
  }
  return row->int64(0);
}

// Fails with NotFound when the client has no service with this code; returns its description type.
Result<DescriptionType> service_type(Transaction& tx, std::int64_t cref, std::string_view code) {
  HANSA_ASSIGN_OR_RETURN(auto rows,
                         tx.execute("SELECT d.type FROM serverconf_services s JOIN "
                                    "serverconf_descriptions d ON d.id = s.description_ref WHERE "
                                    "s.client_ref = $1 AND s.service_code = $2",
                                    {cref, std::string(code)}));
  if (rows.empty()) {
    return not_found("no such service", std::string(code));
  }
  HANSA_ASSIGN_OR_RETURN(auto name, rows[0].text(0));
  const auto type = description_type_from_name(name);
  if (!type) {
    return corrupt("description type " + name);
  }
  return *type;
}

Status check_subject(Transaction& tx, std::int64_t cref, const AccessSubject& subject) {
  if (const auto* local = std::get_if<ids::LocalGroupId>(&subject)) {
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id FROM serverconf_local_groups WHERE "
                                                  "client_ref = $1 AND group_code = $2",
                                                  {cref, local->group_code()}));
    if (!row) {
      return not_found("no such local group of this client", local->to_string());
    }
  }
  return ok_status();
}

Result<std::int64_t> local_group_ref(Transaction& tx, std::int64_t cref, std::string_view code) {
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id FROM serverconf_local_groups WHERE "
                                                "client_ref = $1 AND group_code = $2",
                                                {cref, std::string(code)}));
  if (!row) {
    return not_found("no such local group of this client", std::string(code));
  }
  return row->int64(0);
}

Status affected_or(Result<db::Rows> r, Error if_none) {
  if (!r.ok()) {
    return std::move(r).error();
  }
  if (r->affected_rows() == 0) {
    return if_none;
  }
  return ok_status();
}

}  // namespace

struct ServerConfStore::Impl {
  Impl(db::Database& d, StoreOptions o) : db(d), options(std::move(o)) {}

  db::Database& db;
  StoreOptions options;
  std::mutex write_mu;
  mutable std::mutex snapshot_mu;
  std::shared_ptr<const ServerConfSnapshot> snap;  // guarded by snapshot_mu

  void publish(std::shared_ptr<const ServerConfSnapshot> s) {
    std::lock_guard lock(snapshot_mu);
    if (!snap || s->change_counter() >= snap->change_counter()) {
      snap = std::move(s);
    }
  }

  // Runs `fn` in one read-write transaction after bumping the change counter, commits, and
  // publishes the snapshot read in the same transaction.
  template <typename F>
  Status mutate(F&& fn) {
    std::lock_guard lock(write_mu);
    HANSA_ASSIGN_OR_RETURN(Transaction tx, db.begin());
    HANSA_ASSIGN_OR_RETURN(
        auto bumped, tx.query_one("UPDATE serverconf_state SET change_counter = "
                                  "change_counter + 1 WHERE id = 1 RETURNING change_counter"));
    if (!bumped) {
      return corrupt("serverconf_state has no row");
    }
    HANSA_RETURN_IF_ERROR(fn(tx));
    HANSA_ASSIGN_OR_RETURN(auto data, load(tx));
    HANSA_RETURN_IF_ERROR(tx.commit());
    publish(std::make_shared<const ServerConfSnapshot>(std::move(data)));
    return ok_status();
  }

  Result<std::string> fetch(const std::string& url) {
    if (!is_url(url)) {
      return invalid("the description has no http(s) URL to fetch; upload the document", url);
    }
    return options.fetcher(url, options.limits);
  }

  Result<std::int64_t> add_description(const ids::ClientId& client, DescriptionType type,
                                       const std::string& source,
                                       const std::optional<std::string>& document,
                                       const std::optional<std::string>& provider_url,
                                       const ParsedDescription& parsed) {
    if (source.empty()) {
      return invalid("a service description needs a URL or a name");
    }
    HANSA_RETURN_IF_ERROR(check_notice(source, "description source"));
    std::int64_t id = 0;
    HANSA_RETURN_IF_ERROR(mutate([&](Transaction& tx) -> Status {
      HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
      HANSA_RETURN_IF_ERROR(check_codes_free(tx, cref, parsed, -1));
      auto inserted = on_conflict(
          tx.query_one("INSERT INTO serverconf_descriptions (client_ref, type, source, "
                       "provider_url, document, disabled, disabled_notice, refreshed_at) VALUES "
                       "($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                       {cref, description_type_name(type), source, provider_url,
                        document ? Value::blob(*document) : Value(), false, "", now_epoch()}),
          "a service description with this URL or name already exists for the client", source);
      if (!inserted.ok()) {
        return std::move(inserted).error();
      }
      HANSA_ASSIGN_OR_RETURN(id, (*inserted)->int64(0));
      return store_services(tx, cref, id, parsed, {}, {});
    }));
    return id;
  }
};

ServerConfStore::ServerConfStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerConfStore::~ServerConfStore() = default;

Result<std::unique_ptr<ServerConfStore>> ServerConfStore::open(db::Database& db,
                                                               StoreOptions options) {
  const auto list = migrations();
  HANSA_RETURN_IF_ERROR(db::migrate(db, kMigrationComponent, list));
  if (!options.fetcher) {
    options.fetcher = make_http_fetcher();
  }
  auto impl = std::make_unique<Impl>(db, std::move(options));
  std::unique_ptr<ServerConfStore> store(new ServerConfStore(std::move(impl)));
  auto reloaded = store->reload_if_changed();
  if (!reloaded.ok()) {
    return std::move(reloaded).error();
  }
  return store;
}

std::shared_ptr<const ServerConfSnapshot> ServerConfStore::snapshot() const {
  std::lock_guard lock(impl_->snapshot_mu);
  return impl_->snap;
}

Result<bool> ServerConfStore::reload_if_changed() {
  HANSA_ASSIGN_OR_RETURN(Transaction tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT change_counter FROM serverconf_state "
                                                "WHERE id = 1"));
  if (!row) {
    return corrupt("serverconf_state has no row");
  }
  HANSA_ASSIGN_OR_RETURN(const std::int64_t counter, row->int64(0));
  if (const auto current = snapshot(); current && current->change_counter() == counter) {
    return false;
  }
  HANSA_ASSIGN_OR_RETURN(auto data, load(tx));
  impl_->publish(std::make_shared<const ServerConfSnapshot>(std::move(data)));
  return true;
}

Status ServerConfStore::initialize(const ids::SecurityServerId& server) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT server_owner FROM serverconf_state "
                                                  "WHERE id = 1"));
    if (row && !row->is_null(0)) {
      return conflict("the node is already initialized", server.to_string());
    }
    HANSA_RETURN_IF_ERROR(
        tx.execute("UPDATE serverconf_state SET server_owner = $1, server_code = $2 WHERE id = 1",
                   {server.owner().to_string(), server.server_code()}));
    return tx.execute(
                 "INSERT INTO serverconf_clients (client_id, registration_state, is_connection) "
                 "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                 {ids::ClientId(server.owner()).to_string(),
                  registration_state_name(RegistrationState::kSaved),
                  is_connection_name(IsConnectionType::kHttpsAuth)})
                   .ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "cannot add the owner client"));
  });
}

Status ServerConfStore::add_client(const ids::ClientId& client) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(auto server, require_server(tx));
    if (client.instance() != server.instance()) {
      return Error(FaultCode::kInvalidClientIdentifier,
                   "a client must belong to the node's instance " + server.instance(),
                   client.to_string());
    }
    auto r = on_conflict(
        tx.execute("INSERT INTO serverconf_clients (client_id, registration_state, "
                   "is_connection) VALUES ($1, $2, $3)",
                   {client.to_string(), registration_state_name(RegistrationState::kSaved),
                    is_connection_name(IsConnectionType::kHttpsAuth)}),
        "the client already exists", client.to_string());
    if (!r.ok()) {
      return std::move(r).error();
    }
    return ok_status();
  });
}

Status ServerConfStore::delete_client(const ids::ClientId& client) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(auto server, require_server(tx));
    if (client == ids::ClientId(server.owner())) {
      return conflict("the owner member cannot be deleted", client.to_string());
    }
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    return affected_or(tx.execute("DELETE FROM serverconf_clients WHERE id = $1", {cref}),
                       not_found("not a client of this node", client.to_string()));
  });
}

Status ServerConfStore::set_registration_state(const ids::ClientId& client,
                                               RegistrationState state) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    return affected_or(tx.execute("UPDATE serverconf_clients SET registration_state = $1 WHERE "
                                  "client_id = $2",
                                  {registration_state_name(state), client.to_string()}),
                       not_found("not a client of this node", client.to_string()));
  });
}

Status ServerConfStore::set_is_connection(const ids::ClientId& client, IsConnectionType type) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    return affected_or(tx.execute("UPDATE serverconf_clients SET is_connection = $1 WHERE "
                                  "client_id = $2",
                                  {is_connection_name(type), client.to_string()}),
                       not_found("not a client of this node", client.to_string()));
  });
}

Result<std::string> ServerConfStore::add_is_cert(const ids::ClientId& client,
                                                 std::string_view cert) {
  auto parsed = cert.find("-----BEGIN") != std::string_view::npos
                    ? crypto::Certificate::from_pem(cert)
                    : crypto::Certificate::from_der(cert);
  if (!parsed.ok()) {
    Error e = std::move(parsed).error();
    if (e.code != FaultCode::kLimitExceeded) {
      e.code = FaultCode::kInvalidCertificate;
    }
    e.message = "not a certificate: " + e.message;
    return e;
  }
  const std::string hex = parsed->fingerprint_hex(crypto::DigestAlgorithm::kSha256);
  HANSA_RETURN_IF_ERROR(impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    auto r = on_conflict(tx.execute("INSERT INTO serverconf_is_certs (client_ref, sha256_hex, "
                                    "cert) VALUES ($1, $2, $3)",
                                    {cref, hex, Value::blob(parsed->der())}),
                         "the IS certificate is already registered for this client", hex);
    if (!r.ok()) {
      return std::move(r).error();
    }
    return ok_status();
  }));
  return hex;
}

Status ServerConfStore::remove_is_cert(const ids::ClientId& client, std::string_view sha256_hex) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    return affected_or(
        tx.execute("DELETE FROM serverconf_is_certs WHERE client_ref = $1 AND "
                   "sha256_hex = $2",
                   {cref, std::string(sha256_hex)}),
        not_found("no such IS certificate for this client", std::string(sha256_hex)));
  });
}

Result<std::int64_t> ServerConfStore::add_wsdl(const ids::ClientId& client,
                                               const DescriptionSource& source) {
  std::string document;
  if (source.document) {
    document = *source.document;
  } else {
    HANSA_ASSIGN_OR_RETURN(document, impl_->fetch(source.url));
  }
  HANSA_ASSIGN_OR_RETURN(auto parsed,
                         parse_wsdl(document, impl_->options.limits, source.provider_url));
  return impl_->add_description(client, DescriptionType::kWsdl, source.url, document,
                                source.provider_url, parsed);
}

Result<std::int64_t> ServerConfStore::add_openapi(const ids::ClientId& client,
                                                  std::string_view service_code,
                                                  const DescriptionSource& source) {
  std::string document;
  if (source.document) {
    document = *source.document;
  } else {
    HANSA_ASSIGN_OR_RETURN(document, impl_->fetch(source.url));
  }
  HANSA_ASSIGN_OR_RETURN(auto parsed, parse_openapi(document, service_code, impl_->options.limits,
                                                    source.provider_url));
  return impl_->add_description(client, DescriptionType::kOpenApi, source.url, document,
                                source.provider_url, parsed);
}

Result<std::int64_t> ServerConfStore::add_rest(const ids::ClientId& client,
                                               std::string_view service_code,
                                               std::string_view base_url) {
  HANSA_ASSIGN_OR_RETURN(auto parsed, rest_description(service_code, base_url));
  return impl_->add_description(client, DescriptionType::kRest, std::string(base_url), std::nullopt,
                                std::nullopt, parsed);
}

Status ServerConfStore::refresh_description(std::int64_t description_id,
                                            std::optional<std::string> document) {
  // Read what to refresh, then fetch and parse outside any transaction.
  DescriptionRow desc;
  std::string service_code;
  {
    HANSA_ASSIGN_OR_RETURN(Transaction tx, impl_->db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(desc, description_row(tx, description_id));
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT MIN(service_code) FROM "
                                                  "serverconf_services WHERE description_ref = $1",
                                                  {description_id}));
    if (row && !row->is_null(0)) {
      HANSA_ASSIGN_OR_RETURN(service_code, row->text(0));
    }
  }
  std::optional<ParsedDescription> parsed;
  if (desc.type == DescriptionType::kRest) {
    if (document) {
      return invalid("a REST base-URL description has no document to refresh");
    }
  } else {
    if (!document) {
      HANSA_ASSIGN_OR_RETURN(document, impl_->fetch(desc.source));
    }
    if (desc.type == DescriptionType::kWsdl) {
      HANSA_ASSIGN_OR_RETURN(parsed,
                             parse_wsdl(*document, impl_->options.limits, desc.provider_url));
    } else {
      HANSA_ASSIGN_OR_RETURN(
          parsed, parse_openapi(*document, service_code, impl_->options.limits, desc.provider_url));
    }
  }
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(auto current, description_row(tx, description_id));
    if (current.client_ref != desc.client_ref || current.type != desc.type) {
      return conflict("the description changed while it was refreshed; try again");
    }
    if (!parsed) {
      return tx.execute("UPDATE serverconf_descriptions SET refreshed_at = $1 WHERE id = $2",
                        {now_epoch(), description_id})
                     .ok()
                 ? ok_status()
                 : Status(Error(FaultCode::kDatabaseError, "cannot update the description"));
    }
    HANSA_RETURN_IF_ERROR(check_codes_free(tx, desc.client_ref, *parsed, description_id));
    HANSA_ASSIGN_OR_RETURN(auto old,
                           tx.execute("SELECT service_code, service_version, timeout_seconds, "
                                      "ssl_verify FROM serverconf_services WHERE "
                                      "description_ref = $1",
                                      {description_id}));
    std::map<std::pair<std::string, std::string>, KeptSettings> kept;
    std::set<std::string> old_codes;
    for (const Row& r : old) {
      HANSA_ASSIGN_OR_RETURN(auto code, r.text(0));
      HANSA_ASSIGN_OR_RETURN(auto version, r.text(1));
      KeptSettings k;
      HANSA_ASSIGN_OR_RETURN(k.timeout_seconds, r.int64(2));
      HANSA_ASSIGN_OR_RETURN(k.ssl_verify, r.boolean(3));
      kept[{code, version}] = k;
      old_codes.insert(code);
    }
    HANSA_RETURN_IF_ERROR(
        tx.execute("DELETE FROM serverconf_services WHERE description_ref = $1", {description_id}));
    HANSA_RETURN_IF_ERROR(
        store_services(tx, desc.client_ref, description_id, *parsed, kept, old_codes));
    HANSA_RETURN_IF_ERROR(
        tx.execute("UPDATE serverconf_descriptions SET document = $1, refreshed_at = $2 WHERE id "
                   "= $3",
                   {Value::blob(*document), now_epoch(), description_id}));
    return ok_status();
  });
}

Status ServerConfStore::delete_description(std::int64_t description_id) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(auto desc, description_row(tx, description_id));
    HANSA_ASSIGN_OR_RETURN(auto codes, tx.execute("SELECT DISTINCT service_code FROM "
                                                  "serverconf_services WHERE description_ref = $1",
                                                  {description_id}));
    for (const Row& r : codes) {
      HANSA_ASSIGN_OR_RETURN(auto code, r.text(0));
      HANSA_RETURN_IF_ERROR(
          tx.execute("DELETE FROM serverconf_endpoints WHERE client_ref = $1 AND service_code = $2",
                     {desc.client_ref, code}));
    }
    return affected_or(
        tx.execute("DELETE FROM serverconf_descriptions WHERE id = $1", {description_id}),
        not_found("no such service description", std::to_string(description_id)));
  });
}

Status ServerConfStore::set_description_enabled(std::int64_t description_id, bool enabled,
                                                std::string_view disabled_notice) {
  HANSA_RETURN_IF_ERROR(check_notice(disabled_notice, "disabled notice"));
  return impl_->mutate([&](Transaction& tx) -> Status {
    return affected_or(
        tx.execute(
            "UPDATE serverconf_descriptions SET disabled = $1, disabled_notice = $2 WHERE "
            "id = $3",
            {!enabled, enabled ? std::string() : std::string(disabled_notice), description_id}),
        not_found("no such service description", std::to_string(description_id)));
  });
}

Status ServerConfStore::update_service(const ids::ServiceId& service,
                                       const ServiceSettings& settings) {
  if (settings.url) {
    HANSA_RETURN_IF_ERROR(validate_url(*settings.url));
  }
  if (settings.timeout && (settings.timeout->count() <= 0 || settings.timeout->count() > 86400)) {
    return invalid("a service timeout must be between 1 s and 1 day");
  }
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, service.provider()));
    const std::string version = service.service_version().value_or("");
    const bool any_version = !service.service_version().has_value();
    auto r = tx.execute(
        "UPDATE serverconf_services SET url = COALESCE($1, url), timeout_seconds = COALESCE($2, "
        "timeout_seconds), ssl_verify = COALESCE($3, ssl_verify) WHERE client_ref = $4 AND "
        "service_code = $5 AND ($6 OR service_version = $7)",
        {settings.url, settings.timeout ? Value(settings.timeout->count()) : Value(),
         settings.ssl_verify, cref, service.service_code(), any_version, version});
    return affected_or(std::move(r), not_found("no such service", service.to_string()));
  });
}

Result<std::string> ServerConfStore::description_document(std::int64_t description_id) const {
  HANSA_ASSIGN_OR_RETURN(Transaction tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT document FROM serverconf_descriptions "
                                                "WHERE id = $1",
                                                {description_id}));
  if (!row) {
    return not_found("no such service description", std::to_string(description_id));
  }
  if (row->is_null(0)) {
    return not_found("the description has no document (REST base URL)");
  }
  return row->blob(0);
}

Result<std::int64_t> ServerConfStore::add_endpoint(const ids::ClientId& provider,
                                                   std::string_view service_code,
                                                   const EndpointKey& endpoint) {
  HANSA_RETURN_IF_ERROR(validate_endpoint(endpoint));
  std::int64_t id = 0;
  HANSA_RETURN_IF_ERROR(impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, provider));
    HANSA_ASSIGN_OR_RETURN(auto type, service_type(tx, cref, service_code));
    if (type == DescriptionType::kWsdl) {
      return invalid("endpoints belong to REST services; this is a SOAP service",
                     std::string(service_code));
    }
    auto r = on_conflict(
        tx.query_one("INSERT INTO serverconf_endpoints (client_ref, service_code, method, path, "
                     "generated) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                     {cref, std::string(service_code), endpoint.method, endpoint.path, false}),
        "the endpoint already exists", endpoint.method + " " + endpoint.path);
    if (!r.ok()) {
      return std::move(r).error();
    }
    HANSA_ASSIGN_OR_RETURN(id, (*r)->int64(0));
    return ok_status();
  }));
  return id;
}

Status ServerConfStore::delete_endpoint(const ids::ClientId& provider,
                                        std::string_view service_code,
                                        const EndpointKey& endpoint) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, provider));
    HANSA_ASSIGN_OR_RETURN(const std::int64_t eref, endpoint_ref(tx, cref, service_code, endpoint));
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT generated FROM serverconf_endpoints "
                                                  "WHERE id = $1",
                                                  {eref}));
    HANSA_ASSIGN_OR_RETURN(const bool generated, row->boolean(0));
    if (generated) {
      return Error(FaultCode::kForbidden,
                   "a generated endpoint follows its service description and cannot be removed",
                   endpoint.method + " " + endpoint.path);
    }
    return affected_or(tx.execute("DELETE FROM serverconf_endpoints WHERE id = $1", {eref}),
                       not_found("no such endpoint"));
  });
}

namespace {

Status grant_on(Transaction& tx, std::int64_t cref, std::string_view code, const EndpointKey& key,
                const AccessSubject& subject) {
  HANSA_ASSIGN_OR_RETURN(auto type, service_type(tx, cref, code));
  if (type == DescriptionType::kWsdl && key != kServiceEndpoint) {
    return invalid("SOAP services take access rights on the whole service only", std::string(code));
  }
  HANSA_RETURN_IF_ERROR(check_subject(tx, cref, subject));
  HANSA_ASSIGN_OR_RETURN(const std::int64_t eref, endpoint_ref(tx, cref, code, key));
  const std::string text = subject_to_string(subject);
  auto r = on_conflict(tx.execute("INSERT INTO serverconf_access_rights (endpoint_ref, subject, "
                                  "granted_at) VALUES ($1, $2, $3)",
                                  {eref, text, now_epoch()}),
                       "the access right is already granted", text);
  if (!r.ok()) {
    return std::move(r).error();
  }
  return ok_status();
}

Status revoke_on(Transaction& tx, std::int64_t cref, std::string_view code, const EndpointKey& key,
                 const AccessSubject& subject) {
  HANSA_ASSIGN_OR_RETURN(auto type, service_type(tx, cref, code));
  (void)type;
  HANSA_ASSIGN_OR_RETURN(const std::int64_t eref, endpoint_ref(tx, cref, code, key));
  const std::string text = subject_to_string(subject);
  return affected_or(tx.execute("DELETE FROM serverconf_access_rights WHERE endpoint_ref = $1 AND "
                                "subject = $2",
                                {eref, text}),
                     not_found("no such access right", text));
}

}  // namespace

Status ServerConfStore::grant_service(const ids::ServiceId& service, const AccessSubject& subject) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, service.provider()));
    return grant_on(tx, cref, service.service_code(), kServiceEndpoint, subject);
  });
}

Status ServerConfStore::revoke_service(const ids::ServiceId& service,
                                       const AccessSubject& subject) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, service.provider()));
    return revoke_on(tx, cref, service.service_code(), kServiceEndpoint, subject);
  });
}

Status ServerConfStore::grant_endpoint(const ids::ClientId& provider, std::string_view service_code,
                                       const EndpointKey& endpoint, const AccessSubject& subject) {
  HANSA_RETURN_IF_ERROR(validate_endpoint(endpoint));
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, provider));
    return grant_on(tx, cref, service_code, endpoint, subject);
  });
}

Status ServerConfStore::revoke_endpoint(const ids::ClientId& provider,
                                        std::string_view service_code, const EndpointKey& endpoint,
                                        const AccessSubject& subject) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, provider));
    return revoke_on(tx, cref, service_code, endpoint, subject);
  });
}

Status ServerConfStore::add_local_group(const ids::ClientId& client, std::string_view group_code,
                                        std::string_view description) {
  HANSA_ASSIGN_OR_RETURN(auto gid, ids::LocalGroupId::create(group_code));
  HANSA_RETURN_IF_ERROR(check_notice(description, "local group description"));
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    auto r =
        on_conflict(tx.execute("INSERT INTO serverconf_local_groups (client_ref, group_code, "
                               "description, updated_at) VALUES ($1, $2, $3, $4)",
                               {cref, gid.group_code(), std::string(description), now_epoch()}),
                    "the local group already exists for this client", gid.to_string());
    if (!r.ok()) {
      return std::move(r).error();
    }
    return ok_status();
  });
}

Status ServerConfStore::delete_local_group(const ids::ClientId& client,
                                           std::string_view group_code) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    HANSA_ASSIGN_OR_RETURN(const std::int64_t gref, local_group_ref(tx, cref, group_code));
    auto gid = ids::LocalGroupId::create(group_code);
    if (gid.ok()) {
      HANSA_RETURN_IF_ERROR(tx.execute(
          "DELETE FROM serverconf_access_rights WHERE subject = $1 AND endpoint_ref IN (SELECT id "
          "FROM serverconf_endpoints WHERE client_ref = $2)",
          {gid->to_string(), cref}));
    }
    return affected_or(tx.execute("DELETE FROM serverconf_local_groups WHERE id = $1", {gref}),
                       not_found("no such local group"));
  });
}

Status ServerConfStore::add_local_group_member(const ids::ClientId& client,
                                               std::string_view group_code,
                                               const ids::ClientId& member) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    HANSA_ASSIGN_OR_RETURN(const std::int64_t gref, local_group_ref(tx, cref, group_code));
    auto r = on_conflict(tx.execute("INSERT INTO serverconf_local_group_members (group_ref, "
                                    "member_id, added_at) VALUES ($1, $2, $3)",
                                    {gref, member.to_string(), now_epoch()}),
                         "already a member of the local group", member.to_string());
    if (!r.ok()) {
      return std::move(r).error();
    }
    return tx.execute("UPDATE serverconf_local_groups SET updated_at = $1 WHERE id = $2",
                      {now_epoch(), gref})
                   .ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "cannot update the local group"));
  });
}

Status ServerConfStore::remove_local_group_member(const ids::ClientId& client,
                                                  std::string_view group_code,
                                                  const ids::ClientId& member) {
  return impl_->mutate([&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(const std::int64_t cref, client_ref(tx, client));
    HANSA_ASSIGN_OR_RETURN(const std::int64_t gref, local_group_ref(tx, cref, group_code));
    return affected_or(tx.execute("DELETE FROM serverconf_local_group_members WHERE group_ref = "
                                  "$1 AND member_id = $2",
                                  {gref, member.to_string()}),
                       not_found("not a member of the local group", member.to_string()));
  });
}

}  // namespace hansa::serverconf
