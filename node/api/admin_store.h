#pragma once

// The node admin API's own tables in the node database (migration component "node_api"): admin
// tokens (only the SHA-256 of each secret is stored) and the audit log of admin actions (who,
// what, when, result). Both backends of core/db.
//
// Threading: thread-safe; every call runs in its own transaction.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.h"
#include "core/errors/errors.h"

namespace hansa::nodeapi {

// The migration component name of the admin API's tables.
inline constexpr std::string_view kMigrationComponent = "node_api";

using TimePoint = std::chrono::system_clock::time_point;

// Roles of admin tokens: `operator` may do everything, `auditor` may read everything (and the
// message-log routes), `read-only` may read the configuration but not the audit log.
enum class AdminRole : std::uint8_t { kOperator, kAuditor, kReadOnly };

// "operator", "auditor", "read-only".
[[nodiscard]] std::string_view admin_role_name(AdminRole role) noexcept;
[[nodiscard]] std::optional<AdminRole> admin_role_from_name(std::string_view name) noexcept;

// An admin token (never its secret).
struct AdminToken {
  std::int64_t id = 0;
  std::string name;
  AdminRole role = AdminRole::kReadOnly;
  TimePoint created_at;
  bool revoked = false;
};

// A new token: the secret ("hansa_" + 43 base64url characters) is shown once.
struct CreatedToken {
  AdminToken token;
  std::string secret;
};

// Who acts, from where.
struct AuditContext {
  std::string actor = "system";  // "token:<id>:<name>", "init", "system"
  std::string source;            // peer address for API callers
};

// One audit log entry.
struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string actor;
  std::string source;
  std::string action;  // "client.add", "token.login", "api.auth", ...
  std::string target;  // what it acted on ("SUBSYSTEM:EE/GOV/123/sub", "POST /api/v1/...")
  std::string result;  // "ok" or the fault code name
  std::string detail;  // error message or a short summary
};

struct AuditQuery {
  std::size_t limit = 100;
  std::size_t offset = 0;
  std::string actor;          // exact match when not empty
  std::string action_prefix;  // prefix match when not empty
};

struct AuditPage {
  std::vector<AuditEntry> items;
  std::size_t total = 0;
};

// Limits of the store.
struct AdminStoreOptions {
  // Longest token name and audit text fields (longer audit texts are cut, names refused).
  std::size_t max_name_length = 128;
  std::size_t max_audit_field_length = 2048;
  // Most active (not revoked) tokens.
  std::size_t max_tokens = 1000;
};

class AdminStore final {
 public:
  // Applies the migrations. `db` must outlive the store.
  [[nodiscard]] static Result<std::unique_ptr<AdminStore>> open(db::Database& db,
                                                                AdminStoreOptions options = {});
  ~AdminStore();
  AdminStore(const AdminStore&) = delete;
  AdminStore& operator=(const AdminStore&) = delete;

  // Creates a token and audits it ("token.create"). InvalidRequest for an empty or long name,
  // LimitExceeded when too many tokens exist.
  [[nodiscard]] Result<CreatedToken> create_token(const AuditContext& ctx, std::string_view name,
                                                  AdminRole role);
  [[nodiscard]] Result<std::vector<AdminToken>> tokens() const;
  // Revokes a token ("token.revoke"); NotFound.
  [[nodiscard]] Status revoke_token(const AuditContext& ctx, std::int64_t id);
  // The active token with this secret; Unauthorized otherwise.
  [[nodiscard]] Result<AdminToken> authenticate(std::string_view secret) const;

  // Writes one audit entry: result "ok" without `error`, its fault code name with it.
  [[nodiscard]] Status record(const AuditContext& ctx, std::string_view action,
                              std::string_view target, std::string_view detail,
                              const Error* error = nullptr);
  [[nodiscard]] Result<AuditPage> audit_log(const AuditQuery& query) const;

 private:
  AdminStore(db::Database& db, AdminStoreOptions options);
  db::Database& db_;
  AdminStoreOptions options_;
};

}  // namespace hansa::nodeapi
