#include "node/api/admin_store.h"

#include <array>
#include <utility>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/db/migrate.h"

namespace hansa::nodeapi {

namespace {

constexpr std::string_view kTokenPrefix = "hansa_";
constexpr std::size_t kSecretBytes = 32;
// "hansa_" + 43 base64url characters; anything longer is not one of ours.
constexpr std::size_t kMaxSecretLength = 128;

const std::array<db::Migration, 1> kMigrations = {{
    {1, "admin tokens and audit log", "",
     "CREATE TABLE node_admin_tokens ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, role TEXT NOT NULL,"
     " secret_sha256 BLOB NOT NULL UNIQUE, created_at BIGINT NOT NULL,"
     " revoked BOOLEAN NOT NULL DEFAULT FALSE);"
     "CREATE TABLE node_admin_audit ("
     " id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, actor TEXT NOT NULL,"
     " source TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, result TEXT NOT NULL,"
     " detail TEXT NOT NULL);"
     "CREATE INDEX node_admin_audit_action ON node_admin_audit(action);",
     "CREATE TABLE node_admin_tokens ("
     " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
     " secret_sha256 BYTEA NOT NULL UNIQUE, created_at BIGINT NOT NULL,"
     " revoked BOOLEAN NOT NULL DEFAULT FALSE);"
     "CREATE TABLE node_admin_audit ("
     " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL,"
     " actor TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
     " result TEXT NOT NULL, detail TEXT NOT NULL);"
     "CREATE INDEX node_admin_audit_action ON node_admin_audit(action);"},
}};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TimePoint from_seconds(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

std::string base64url(std::string_view bytes) {
  std::string b = crypto::base64_encode(bytes);
  for (char& c : b) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  while (!b.empty() && b.back() == '=') {
    b.pop_back();
  }
  return b;
}

std::string cut(std::string_view text, std::size_t max) { return std::string(text.substr(0, max)); }

Result<AdminToken> token_from_row(const db::Row& row) {
  AdminToken t;
  HANSA_ASSIGN_OR_RETURN(t.id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(t.name, row.text(1));
  HANSA_ASSIGN_OR_RETURN(auto role, row.text(2));
  auto parsed = admin_role_from_name(role);
  if (!parsed) {
    return Error(FaultCode::kDatabaseError, "unknown role in node_admin_tokens", role);
  }
  t.role = *parsed;
  HANSA_ASSIGN_OR_RETURN(auto created, row.int64(3));
  t.created_at = from_seconds(created);
  HANSA_ASSIGN_OR_RETURN(t.revoked, row.boolean(4));
  return t;
}

}  // namespace

std::string_view admin_role_name(AdminRole role) noexcept {
  switch (role) {
    case AdminRole::kOperator:
      return "operator";
    case AdminRole::kAuditor:
      return "auditor";
    case AdminRole::kReadOnly:
      return "read-only";
  }
  return "read-only";
}

std::optional<AdminRole> admin_role_from_name(std::string_view name) noexcept {
  for (auto r : {AdminRole::kOperator, AdminRole::kAuditor, AdminRole::kReadOnly}) {
    if (admin_role_name(r) == name) {
      return r;
    }
  }
  return std::nullopt;
}

AdminStore::AdminStore(db::Database& db, AdminStoreOptions options) : db_(db), options_(options) {}

AdminStore::~AdminStore() = default;

Result<std::unique_ptr<AdminStore>> AdminStore::open(db::Database& db, AdminStoreOptions options) {
  HANSA_RETURN_IF_ERROR(db::migrate(db, kMigrationComponent, kMigrations));
  return std::unique_ptr<AdminStore>(new AdminStore(db, options));
}

Result<CreatedToken> AdminStore::create_token(const AuditContext& ctx, std::string_view name,
                                              AdminRole role) {
  auto refuse = [&](Error e) -> Result<CreatedToken> {
    (void)record(ctx, "token.create", name, e.message, &e);
    return e;
  };
  if (name.empty() || name.size() > options_.max_name_length) {
    return refuse(Error(
        FaultCode::kInvalidRequest,
        "a token name must have 1 to " + std::to_string(options_.max_name_length) + " characters"));
  }
  CreatedToken out;
  out.secret = std::string(kTokenPrefix) + base64url(crypto::random_bytes(kSecretBytes));
  const std::string hash = crypto::digest(crypto::DigestAlgorithm::kSha256, out.secret);
  const auto now = now_seconds();
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin());
  HANSA_ASSIGN_OR_RETURN(auto count,
                         tx.query_one("SELECT COUNT(*) FROM node_admin_tokens WHERE NOT revoked"));
  HANSA_ASSIGN_OR_RETURN(auto n, count->int64(0));
  if (static_cast<std::size_t>(n) >= options_.max_tokens) {
    tx.rollback();
    return refuse(Error(FaultCode::kLimitExceeded, "too many admin tokens",
                        "limit " + std::to_string(options_.max_tokens)));
  }
  HANSA_ASSIGN_OR_RETURN(
      auto row, tx.query_one("INSERT INTO node_admin_tokens (name, role, secret_sha256, created_at)"
                             " VALUES ($1, $2, $3, $4) RETURNING id",
                             {name, admin_role_name(role), db::Value::blob(hash), now}));
  HANSA_ASSIGN_OR_RETURN(out.token.id, row->int64(0));
  HANSA_RETURN_IF_ERROR(
      tx.execute("INSERT INTO node_admin_audit (at, actor, source, action, target, result, detail)"
                 " VALUES ($1, $2, $3, 'token.create', $4, 'ok', $5)",
                 {now, ctx.actor, ctx.source, "token:" + std::to_string(out.token.id),
                  cut(std::string(name) + " (" + std::string(admin_role_name(role)) + ")",
                      options_.max_audit_field_length)}));
  HANSA_RETURN_IF_ERROR(tx.commit());
  out.token.name = std::string(name);
  out.token.role = role;
  out.token.created_at = from_seconds(now);
  return out;
}

Result<std::vector<AdminToken>> AdminStore::tokens() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(
      auto rows,
      tx.execute("SELECT id, name, role, created_at, revoked FROM node_admin_tokens ORDER BY id"));
  std::vector<AdminToken> out;
  for (const auto& row : rows) {
    HANSA_ASSIGN_OR_RETURN(auto t, token_from_row(row));
    out.push_back(std::move(t));
  }
  return out;
}

Status AdminStore::revoke_token(const AuditContext& ctx, std::int64_t id) {
  const std::string target = "token:" + std::to_string(id);
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin());
  HANSA_ASSIGN_OR_RETURN(auto rows,
                         tx.execute("UPDATE node_admin_tokens SET revoked = TRUE WHERE id = $1 AND "
                                    "NOT revoked",
                                    {id}));
  if (rows.affected_rows() == 0) {
    tx.rollback();
    Error e(FaultCode::kNotFound, "no such active token", target);
    (void)record(ctx, "token.revoke", target, e.message, &e);
    return e;
  }
  HANSA_RETURN_IF_ERROR(
      tx.execute("INSERT INTO node_admin_audit (at, actor, source, action, target, result, detail)"
                 " VALUES ($1, $2, $3, 'token.revoke', $4, 'ok', '')",
                 {now_seconds(), ctx.actor, ctx.source, target}));
  return tx.commit();
}

Result<AdminToken> AdminStore::authenticate(std::string_view secret) const {
  if (!secret.starts_with(kTokenPrefix) || secret.size() > kMaxSecretLength) {
    return Error(FaultCode::kUnauthorized, "invalid token");
  }
  const std::string hash = crypto::digest(crypto::DigestAlgorithm::kSha256, secret);
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id, name, role, created_at, revoked FROM "
                                                "node_admin_tokens WHERE secret_sha256 = $1",
                                                {db::Value::blob(hash)}));
  if (!row) {
    return Error(FaultCode::kUnauthorized, "invalid token");
  }
  HANSA_ASSIGN_OR_RETURN(auto t, token_from_row(*row));
  if (t.revoked) {
    return Error(FaultCode::kUnauthorized, "the token was revoked");
  }
  return t;
}

Status AdminStore::record(const AuditContext& ctx, std::string_view action, std::string_view target,
                          std::string_view detail, const Error* error) {
  const std::size_t max = options_.max_audit_field_length;
  std::string text(detail);
  if (error != nullptr && text.empty()) {
    text = error->message;
  }
  if (error != nullptr && !error->detail.empty() && text.find(error->detail) == std::string::npos) {
    text += " (" + error->detail + ")";
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin());
  HANSA_RETURN_IF_ERROR(tx.execute(
      "INSERT INTO node_admin_audit (at, actor, source, action, target, result, detail)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {now_seconds(), cut(ctx.actor, max), cut(ctx.source, max), cut(action, max), cut(target, max),
       error == nullptr ? std::string("ok") : std::string(fault_name(error->code)),
       cut(text, max)}));
  return tx.commit();
}

Result<AuditPage> AdminStore::audit_log(const AuditQuery& q) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, db_.begin(db::Access::kReadOnly));
  // Filters: $1 actor ('' = any), $2 action prefix ('' = any).
  const std::string where =
      " WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR substr(action, 1, length($2)) = $2)";
  HANSA_ASSIGN_OR_RETURN(auto count, tx.query_one("SELECT COUNT(*) FROM node_admin_audit" + where,
                                                  {q.actor, q.action_prefix}));
  AuditPage page;
  HANSA_ASSIGN_OR_RETURN(auto total, count->int64(0));
  page.total = static_cast<std::size_t>(total);
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT id, at, actor, source, action, target, result, detail FROM "
                            "node_admin_audit" +
                                where + " ORDER BY id DESC LIMIT $3 OFFSET $4",
                            {q.actor, q.action_prefix, q.limit, q.offset}));
  for (const auto& row : rows) {
    AuditEntry e;
    HANSA_ASSIGN_OR_RETURN(e.id, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto at, row.int64(1));
    e.at = from_seconds(at);
    HANSA_ASSIGN_OR_RETURN(e.actor, row.text(2));
    HANSA_ASSIGN_OR_RETURN(e.source, row.text(3));
    HANSA_ASSIGN_OR_RETURN(e.action, row.text(4));
    HANSA_ASSIGN_OR_RETURN(e.target, row.text(5));
    HANSA_ASSIGN_OR_RETURN(e.result, row.text(6));
    HANSA_ASSIGN_OR_RETURN(e.detail, row.text(7));
    page.items.push_back(std::move(e));
  }
  return page;
}

}  // namespace hansa::nodeapi
