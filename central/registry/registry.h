#pragma once

// The central server's registry: the authoritative state of one X-Road instance (member classes,
// members and subsystems, security servers with their authentication certificates and clients,
// global groups, approved CAs and TSAs, settings), the admin tokens and the audit log.
//
// Failure codes of mutations: kInvalidRequest for a reference to something that does not exist
// (a server's owner, a client, a member class) or a value out of range, kNotFound when the object
// acted on does not exist, kConflict for duplicates and for deletions refused while referenced,
// kInvalidCertificate for certificates that fail the sanity checks, the core/ids codes for
// identifiers of another instance.
//
// Every mutating call validates fully (no dangling references, identifier rules via core/ids,
// certificate sanity via core/crypto) and commits in ONE database transaction together with its
// audit-log entry and a bump of the monotonic `change_version`; or it changes nothing. A refused
// call writes its own audit entry (result = the fault) in a separate transaction. Subscribers are
// notified after the commit. The registry exports its state as core/globalconf model values for
// the publisher (PR-GCONF Annex B and C).
//
// Storage: core/db, migration component "central_registry" (SQLite and PostgreSQL).
//
// Threading: thread-safe. All state lives in the database (several central instances may share
// one PostgreSQL database); concurrent conflicting changes are decided by the database: one wins,
// the other gets kConflict. Listeners run on the mutating thread after commit, outside any lock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/db/database.h"
#include "core/db/migrate.h"
#include "core/errors/errors.h"
#include "core/globalconf/model.h"
#include "core/ids/ids.h"

namespace hansa::central {

using TimePoint = std::chrono::system_clock::time_point;

// Who performs a change, for the audit log; plus optional work that must commit atomically with
// the change. Plain value.
struct AuditContext {
  // "token:<id>:<name>" for admin API callers, "management" for the management service,
  // "system" for the daemon's own actions.
  std::string actor = "system";
  // Peer address or other origin information; may be empty.
  std::string source;
  // Optional: runs inside the mutation's transaction after the registry change and before the
  // commit (e.g. central/management marks its request Approved). An error rolls everything back
  // and is returned from the mutating call.
  std::function<Status(db::Transaction&)> in_transaction;
};

// Limits and injectable parts of a registry. Plain value.
struct RegistryOptions {
  // Longest page a list call returns; larger `limit`s are capped to it.
  std::size_t max_page_size = 500;
  // Longest name / description / address / URL text accepted, in bytes.
  std::size_t max_text_length = 1024;
  // Most clients one security server may host, members one global group may hold, auth certs per
  // server, intermediate CAs per CA and OCSP responders per CA certificate.
  std::size_t max_server_clients = 10000;
  std::size_t max_group_members = 100000;
  std::size_t max_auth_certs_per_server = 16;
  std::size_t max_intermediate_cas = 16;
  std::size_t max_ocsp_responders = 16;
  // Current time (certificate validity checks, audit timestamps, token creation).
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

// A window into a long list: `offset` items skipped, at most `limit` returned (capped to
// RegistryOptions::max_page_size; 0 means the cap).
struct PageRequest {
  std::size_t offset = 0;
  std::size_t limit = 100;
};

// One page of a list and the total number of items. Plain value.
template <typename T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;
};

// --- Registry entities (plain values) ---

struct MemberClass {
  std::string code;
  std::string description;
};

struct Subsystem {
  ids::SubsystemId id;
  std::string name;  // optional display name, may be empty
};

struct Member {
  ids::MemberId id;
  std::string name;
  std::vector<Subsystem> subsystems;  // ordered by code
};

// A registered authentication certificate of a security server. `hash` is the raw SHA-256 of the
// certificate's DER (shared-params authCertHash, base64 in the XML). `cert` is absent when only
// the hash was registered.
struct AuthCert {
  std::string hash;
  std::optional<crypto::Certificate> cert;
};

struct SecurityServer {
  ids::SecurityServerId id;  // id.owner() is the owner member
  std::string address;       // host name or IP; may be empty
  std::vector<AuthCert> auth_certs;
  std::vector<ids::ClientId> clients;  // members/subsystems it hosts, ordered
};

struct GlobalGroup {
  ids::GlobalGroupId id;
  std::string description;
  std::vector<ids::ClientId> members;  // ordered
};

struct OcspResponder {
  std::string url;
  std::optional<crypto::Certificate> cert;
};

struct CaCertificate {
  crypto::Certificate cert;
  std::vector<OcspResponder> ocsp;
};

// An approved certification authority. `id` is assigned by the registry (0 in add_ca input).
struct ApprovedCa {
  std::int64_t id = 0;
  std::string name;
  CaCertificate top_ca;
  std::vector<CaCertificate> intermediate_cas;
  // certificateProfileInfo class name; must be known to core/crypto/cert_profile.h.
  std::string certificate_profile_info;
  bool authentication_only = false;
};

// An approved time-stamping authority. `id` is assigned by the registry (0 in add_tsa input).
struct ApprovedTsa {
  std::int64_t id = 0;
  std::string name;
  std::string url;
  crypto::Certificate cert;  // must carry the timeStamping extended key usage
};

// Instance-wide settings. Defaults are X-Road's.
struct Settings {
  // globalSettings ocspFreshnessSeconds (shared-params).
  std::int64_t ocsp_freshness_seconds = 3600;
  // timeStampingIntervalSeconds (private-params).
  std::int64_t time_stamping_interval_seconds = 60;
  // How long a published configuration stays valid (Expire-date = generation + this).
  std::int64_t configuration_validity_seconds = 600;
  // managementService (private-params): where nodes send management requests, the TLS
  // certificate of that service, and the subsystem that provides the management services.
  std::string management_service_address;
  std::optional<crypto::Certificate> management_service_cert;
  std::optional<ids::ClientId> management_service_provider;
};

// One audit-log record. `result` is "ok" or the fault code of a refusal ("Conflict", ...).
struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string actor;
  std::string source;
  std::string action;   // "member.create", "server.client.add", "token.revoke", ...
  std::string target;   // the identifier acted on ("MEMBER:EE/GOV/123", "ca:3", ...)
  std::string summary;  // short request summary (never secrets)
  std::string result;
  std::string detail;  // the refusal's message, empty on success
};

// Filters of list_audit(); empty strings match everything.
struct AuditQuery {
  std::string actor;
  std::string action_prefix;
  PageRequest page;
};

enum class AdminRole : std::uint8_t {
  kOperator,  // everything
  kReadOnly,  // reads only
};
// "operator" / "read-only".
[[nodiscard]] std::string_view admin_role_name(AdminRole role) noexcept;
[[nodiscard]] std::optional<AdminRole> admin_role_from_name(std::string_view name) noexcept;

// An admin API token (never the secret: only its SHA-256 is stored).
struct AdminToken {
  std::int64_t id = 0;
  std::string name;
  AdminRole role = AdminRole::kReadOnly;
  TimePoint created_at;
  bool revoked = false;
};

// A newly created token: the secret is shown once and cannot be recovered later.
struct CreatedToken {
  AdminToken token;
  std::string secret;
};

// The registry as the global-configuration model, read in one consistent snapshot.
// shared.sources and private_params.configuration_anchors are left empty: the publisher owns
// configuration sources and signing keys.
struct GlobalConfExport {
  std::int64_t change_version = 0;
  Settings settings;
  globalconf::SharedParameters shared;
  // Absent until Settings::management_service_provider is set (private-params requires it).
  std::optional<globalconf::PrivateParameters> private_params;
};

// Called after a committed change with the new change_version.
using ChangeListener = std::function<void(std::int64_t change_version)>;

class Registry final {
 public:
  // Applies the "central_registry" migrations to `db` and returns a registry over it. `db` must
  // outlive the registry. Fails with kDatabaseError.
  [[nodiscard]] static Result<std::unique_ptr<Registry>> open(db::Database& db,
                                                              RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The database migrations of component "central_registry" (for tools and tests).
  [[nodiscard]] static std::span<const db::Migration> migrations();

  // --- Instance and change tracking ---

  // Sets the instance identifier (once). Setting the same value again succeeds; another value
  // fails with kConflict; an invalid one with kInvalidIdentifier.
  [[nodiscard]] Status initialize(const AuditContext& ctx, std::string_view instance_identifier);
  // The instance identifier; kInvalidConfiguration when initialize() was never called.
  [[nodiscard]] Result<std::string> instance_identifier() const;
  // The number of committed changes so far (monotonic; 0 for a fresh registry).
  [[nodiscard]] Result<std::int64_t> change_version() const;

  // Registers a listener called after each committed change; returns a handle for unsubscribe().
  [[nodiscard]] std::uint64_t subscribe(ChangeListener listener);
  void unsubscribe(std::uint64_t handle);

  // --- Member classes ---

  // kConflict for a duplicate code; kInvalidIdentifier for a bad code.
  [[nodiscard]] Status add_member_class(const AuditContext& ctx, const MemberClass& member_class);
  // kNotFound when absent.
  [[nodiscard]] Status update_member_class(const AuditContext& ctx, std::string_view code,
                                           std::string_view description);
  // kConflict while members of the class exist; kNotFound when absent.
  [[nodiscard]] Status delete_member_class(const AuditContext& ctx, std::string_view code);
  [[nodiscard]] Result<std::vector<MemberClass>> member_classes() const;

  // --- Members and subsystems ---

  // The member's instance must be this instance and its class must exist; kConflict for a
  // duplicate.
  [[nodiscard]] Status add_member(const AuditContext& ctx, const ids::MemberId& id,
                                  std::string_view name);
  [[nodiscard]] Status rename_member(const AuditContext& ctx, const ids::MemberId& id,
                                     std::string_view name);
  // Refused with kConflict while the member owns security servers or is referenced (client of a
  // server, group member) unless `cascade`: then its subsystems, its client registrations, its
  // group memberships and the servers it owns are deleted in the same transaction.
  [[nodiscard]] Status delete_member(const AuditContext& ctx, const ids::MemberId& id,
                                     bool cascade = false);
  // kNotFound when absent.
  [[nodiscard]] Result<Member> member(const ids::MemberId& id) const;
  [[nodiscard]] Result<Page<Member>> members(PageRequest page = {}) const;

  // The owning member must exist; kConflict for a duplicate.
  [[nodiscard]] Status add_subsystem(const AuditContext& ctx, const ids::SubsystemId& id,
                                     std::string_view name = {});
  // Refused with kConflict while referenced unless `cascade` (removes client registrations and
  // group memberships).
  [[nodiscard]] Status delete_subsystem(const AuditContext& ctx, const ids::SubsystemId& id,
                                        bool cascade = false);

  // --- Security servers ---

  // The owner must exist; kConflict for a duplicate. `address` may be empty.
  [[nodiscard]] Status add_server(const AuditContext& ctx, const ids::SecurityServerId& id,
                                  std::string_view address);
  // addressChange.
  [[nodiscard]] Status set_server_address(const AuditContext& ctx, const ids::SecurityServerId& id,
                                          std::string_view address);
  // Deletes the server with its auth certs and client registrations.
  [[nodiscard]] Status delete_server(const AuditContext& ctx, const ids::SecurityServerId& id);
  [[nodiscard]] Result<SecurityServer> server(const ids::SecurityServerId& id) const;
  [[nodiscard]] Result<Page<SecurityServer>> servers(PageRequest page = {}) const;
  // The server an authentication certificate (raw SHA-256 of its DER) is registered to.
  [[nodiscard]] Result<std::optional<ids::SecurityServerId>> server_by_auth_cert_hash(
      std::string_view sha256) const;

  // authCertReg: registers `cert` (parsed, not expired, not a CA) for the server. When the server
  // does not exist yet it is created with `address` (its owner must exist); otherwise a non-empty
  // `address` updates it. kConflict when the certificate is registered to any server already.
  [[nodiscard]] Status register_auth_cert(const AuditContext& ctx,
                                          const ids::SecurityServerId& server,
                                          const crypto::Certificate& cert,
                                          std::string_view address = {});
  // Registers only a hash (raw SHA-256, 32 bytes) when the certificate is not at hand.
  [[nodiscard]] Status register_auth_cert_hash(const AuditContext& ctx,
                                               const ids::SecurityServerId& server,
                                               std::string_view sha256);
  // kNotFound when the hash is not registered to `server`.
  [[nodiscard]] Status delete_auth_cert(const AuditContext& ctx,
                                        const ids::SecurityServerId& server,
                                        std::string_view sha256);

  // clientReg: the client's member must exist; a missing subsystem is created when
  // `create_missing_subsystem` (X-Road's behaviour for management requests), else kNotFound.
  // kConflict when already registered.
  [[nodiscard]] Status add_server_client(const AuditContext& ctx,
                                         const ids::SecurityServerId& server,
                                         const ids::ClientId& client,
                                         bool create_missing_subsystem = false);
  // clientDeletion. kNotFound when not registered.
  [[nodiscard]] Status remove_server_client(const AuditContext& ctx,
                                            const ids::SecurityServerId& server,
                                            const ids::ClientId& client);
  // ownerChange: `new_owner` must be a member client of the server; returns the server's new
  // identifier (the server code stays). The old owner stays a client of the server.
  [[nodiscard]] Result<ids::SecurityServerId> change_server_owner(
      const AuditContext& ctx, const ids::SecurityServerId& server, const ids::MemberId& new_owner);

  // --- Global groups ---

  [[nodiscard]] Status add_group(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                 std::string_view description);
  [[nodiscard]] Status update_group(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                    std::string_view description);
  [[nodiscard]] Status delete_group(const AuditContext& ctx, const ids::GlobalGroupId& id);
  // The client must exist; kConflict when already a member.
  [[nodiscard]] Status add_group_member(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                        const ids::ClientId& client);
  [[nodiscard]] Status remove_group_member(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                           const ids::ClientId& client);
  [[nodiscard]] Result<GlobalGroup> group(const ids::GlobalGroupId& id) const;
  [[nodiscard]] Result<Page<GlobalGroup>> groups(PageRequest page = {}) const;

  // --- Approved CAs and TSAs ---

  // Certificates must parse, CA certificates must be CAs (basicConstraints) and not expired, each
  // intermediate must chain to the top CA (directly or through another intermediate), the
  // profile must be known. kConflict for a duplicate name or top CA. Returns the new id.
  [[nodiscard]] Result<std::int64_t> add_ca(const AuditContext& ctx, const ApprovedCa& ca);
  // Replaces everything but the id (same validation).
  [[nodiscard]] Status update_ca(const AuditContext& ctx, const ApprovedCa& ca);
  [[nodiscard]] Status delete_ca(const AuditContext& ctx, std::int64_t id);
  [[nodiscard]] Result<ApprovedCa> ca(std::int64_t id) const;
  [[nodiscard]] Result<std::vector<ApprovedCa>> cas() const;

  // The certificate must carry the timeStamping EKU and not be expired; kConflict for a
  // duplicate name or URL. Returns the new id.
  [[nodiscard]] Result<std::int64_t> add_tsa(const AuditContext& ctx, const ApprovedTsa& tsa);
  [[nodiscard]] Status update_tsa(const AuditContext& ctx, const ApprovedTsa& tsa);
  [[nodiscard]] Status delete_tsa(const AuditContext& ctx, std::int64_t id);
  [[nodiscard]] Result<ApprovedTsa> tsa(std::int64_t id) const;
  [[nodiscard]] Result<std::vector<ApprovedTsa>> tsas() const;

  // --- Settings ---

  [[nodiscard]] Result<Settings> settings() const;
  // Intervals must be positive; the provider (when set) must be an existing subsystem or member.
  [[nodiscard]] Status update_settings(const AuditContext& ctx, const Settings& settings);

  // --- Audit log ---

  // Newest first.
  [[nodiscard]] Result<Page<AuditEntry>> audit_log(const AuditQuery& query = {}) const;
  // Records an entry on its own (e.g. a refused admin API request: 401/403). Never fails loudly:
  // returns the database error for the caller to log.
  [[nodiscard]] Status record_audit(const AuditContext& ctx, std::string_view action,
                                    std::string_view target, std::string_view summary,
                                    const Error* refusal);

  // --- Admin tokens ---

  // Creates a token with a fresh random secret ("hansa_" + 43 base64url characters).
  [[nodiscard]] Result<CreatedToken> create_token(const AuditContext& ctx, std::string_view name,
                                                  AdminRole role);
  [[nodiscard]] Result<std::vector<AdminToken>> tokens() const;
  // kNotFound when no such token.
  [[nodiscard]] Status revoke_token(const AuditContext& ctx, std::int64_t id);
  // The active token with this secret; kUnauthorized otherwise (unknown, revoked, malformed).
  // Does not write the audit log.
  [[nodiscard]] Result<AdminToken> authenticate(std::string_view secret) const;

  // --- Global configuration export ---

  // The registry as shared and private parameters, in one read-only transaction.
  [[nodiscard]] Result<GlobalConfExport> export_globalconf() const;

 private:
  struct Impl;
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::central
