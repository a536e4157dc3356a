#pragma once

// The central server's management-request service (PR-MSERV; reference section 6): receives the
// signed requests nodes send (authCertReg, clientReg, clientDeletion, ownerChange,
// addressChange), verifies them, stores them with a state, and applies approved ones through the
// Registry API, so the registry's validation and audit log apply.
//
// Verification of a request (all at the time it arrives, with the registry's current state):
// - the owner's signature over the SOAP part verifies with the owner's signing certificate;
// - that certificate chains to an approved CA (not an authentication-only one) and is usable for
//   signing; its OCSP response is signed by the CA or a responder it authorised, is fresh
//   (registry setting ocsp_freshness_seconds) and says "good";
// - the member read from the certificate (the CA's certificate profile) is the member the request
//   is for (the client's member for clientReg / clientDeletion / ownerChange, the server's owner
//   otherwise); the header's sender owns the server; the server is of this instance; the service
//   provider is the configured management service provider (when set);
// - authCertReg: the proof-of-possession signature verifies with the authentication
//   certificate, which chains to an approved CA and is usable for authentication;
// - replay: a message id or SOAP content received before is refused (kConflict); so is an
//   authCertReg for the same certificate, or a clientReg for the same server and client, while
//   an earlier one is still pending.
// Every refusal gets an audit-log entry (action "management.request.refused") and changes
// nothing.
//
// States: Pending -> Approved / Rejected; a pending clientReg becomes Revoked when a
// clientDeletion for the same server and client arrives. addressChange and clientDeletion need
// no approval (applied on arrival). authCertReg, clientReg and ownerChange are approved by an
// operator, or automatically when the matching auto_approve_* option is set and the member
// concerned exists (if the registry then refuses the change, the request stays Pending).
// Approval applies the change and marks the request in the registry's transaction.
//
// Storage: core/db, migration component "central_management" (table management_requests).
// Threading: thread-safe (all state lives in the database; the Registry is thread-safe).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "central/registry/registry.h"
#include "core/db/database.h"
#include "core/db/migrate.h"
#include "core/errors/errors.h"
#include "core/management/request.h"

namespace hansa::central {

enum class RequestState : std::uint8_t { kPending, kApproved, kRejected, kRevoked };

// "pending", "approved", "rejected", "revoked".
[[nodiscard]] std::string_view request_state_name(RequestState state) noexcept;
[[nodiscard]] std::optional<RequestState> request_state_from_name(std::string_view name) noexcept;

// One stored management request. Plain value.
struct ManagementRequest {
  std::int64_t id = 0;
  management::RequestBody body;
  RequestState state = RequestState::kPending;
  std::string message_id;
  ids::MemberId signer;  // the member of the owner's signing certificate
  std::string origin;    // where it came from (peer address)
  TimePoint received_at;
  std::optional<TimePoint> decided_at;
  std::string decided_by;  // actor that approved / rejected ("auto-approval", "token:...")
  std::string comment;     // rejection reason, or why auto-approval did not apply
};

// Filters of list(); unset fields match everything.
struct ManagementRequestQuery {
  std::optional<RequestState> state;
  std::optional<management::RequestType> type;
  PageRequest page;
};

// Options of the service. Plain value; defaults are safe (nothing is approved automatically).
struct ManagementServiceOptions {
  // X-Road's auto-approve-{auth-cert-reg,client-reg,owner-change}-requests.
  bool auto_approve_auth_cert_reg = false;
  bool auto_approve_client_reg = false;
  bool auto_approve_owner_change = false;
  // Limits on incoming requests.
  management::RequestLimits limits;
  // Longest page list() returns.
  std::size_t max_page_size = 500;
  // Current time (certificate and OCSP checks, timestamps).
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

// What submit() answers.
struct SubmitResult {
  std::int64_t request_id = 0;
  RequestState state = RequestState::kPending;
  std::string response_soap;  // PR-MSERV response with requestId (text/xml)
};

class ManagementService final {
 public:
  // Applies the "central_management" migrations to `db` (the registry's database) and returns the
  // service. `db` and `registry` must outlive it. Fails with kDatabaseError.
  [[nodiscard]] static Result<std::unique_ptr<ManagementService>> open(
      db::Database& db, Registry& registry, ManagementServiceOptions options = {});
  ~ManagementService();
  ManagementService(const ManagementService&) = delete;
  ManagementService& operator=(const ManagementService&) = delete;

  // The migrations of component "central_management".
  [[nodiscard]] static std::span<const db::Migration> migrations();

  // Receives one request (HTTP Content-Type and body; `source` = peer address for the audit
  // log): parses, verifies, stores and, when no approval is needed, applies it. Fails with the
  // codes of management::parse_request, kInvalidSignatureValue, kCertValidation (untrusted,
  // expired, revoked, stale OCSP), kWrongCertUsage, kIncorrectCertificate, kOcspFailed,
  // kAccessDenied (signed by another member), kInvalidSecurityServer (other instance),
  // kUnknownService (other provider), kConflict (replay), or the registry's code when an
  // immediately applied change is refused.
  [[nodiscard]] Result<SubmitResult> submit(std::string_view content_type, std::string_view body,
                                            std::string_view source);

  // Stored requests, newest first.
  [[nodiscard]] Result<Page<ManagementRequest>> list(
      const ManagementRequestQuery& query = {}) const;
  // kNotFound when no such request.
  [[nodiscard]] Result<ManagementRequest> get(std::int64_t id) const;

  // Approves a pending request: applies it through the registry (its validation and audit) and
  // marks it Approved in the same transaction. kNotFound, kConflict when not pending, or the
  // registry's code (the request then stays Pending).
  [[nodiscard]] Status approve(const AuditContext& ctx, std::int64_t id);
  // Rejects a pending request with a reason. kNotFound, kConflict when not pending.
  [[nodiscard]] Status reject(const AuditContext& ctx, std::int64_t id, std::string_view reason);

 private:
  struct Impl;
  explicit ManagementService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::central
