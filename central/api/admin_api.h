#pragma once

// The central server's admin REST API (JSON over core/http), documented in
// schemas/central-admin-api.yaml: member classes, members, subsystems, security servers (address,
// auth certificates, clients), global groups, approved CAs and TSAs, settings, management requests
// (list/get/approve/reject through central/management), the published global configuration's
// status (central/publisher), the audit log and admin tokens.
//
// Authentication: `Authorization: Bearer <token>` (tokens of central/registry). Role `operator`
// may do everything, `read-only` only GET. Missing or bad tokens are answered 401, a wrong role
// 403; both are written to the audit log (action "api.auth"). Every change goes through the
// Registry, which validates it, audits it and commits it atomically. Requests refused before they
// reach the registry (bad JSON, unknown fields, illegal identifiers, oversized bodies) are
// audited here (action "api.request"). Errors use core/http's JSON body {"type","message",
// "detail"}.
//
// Threading: thread-safe; handlers run concurrently on the server's workers.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "central/registry/registry.h"
#include "core/http/server.h"

namespace hansa::central {

class ManagementService;
class Publisher;

// Limits of the admin API. Defaults are safe for an operator-only loopback port.
struct AdminApiOptions {
  // Path prefix of every route.
  std::string base_path = "/api/v1";
  // Largest accepted request body; larger ones are answered 413 (LimitExceeded). Certificates in
  // JSON are small; 1 MiB leaves room for a CA with several intermediates.
  std::size_t max_body_bytes = 1 << 20;
  // Page size when a list request gives no `limit`, and the largest accepted `limit`.
  std::size_t default_page_size = 100;
  std::size_t max_page_size = 500;
  // Deepest JSON nesting accepted in request bodies.
  std::size_t max_json_depth = 16;
};

// Components the API serves besides the registry; each may be null (its routes then answer 503).
struct AdminApiServices {
  ManagementService* management = nullptr;
  Publisher* publisher = nullptr;
};

// One route: method and path template with `{name}` segments, e.g. "GET /api/v1/members/{id}".
struct AdminRoute {
  std::string method;
  std::string path;
};

class AdminApi final {
 public:
  // `registry` (and the services) must outlive the API.
  AdminApi(Registry& registry, AdminApiOptions options = {}, AdminApiServices services = {});
  ~AdminApi();
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  // Registers the API's handlers on `server` (call before server.start()).
  void register_routes(http::Server& server);

  // Every route the API serves (for the OpenAPI completeness test and `hansactl`).
  [[nodiscard]] std::vector<AdminRoute> routes() const;

  // Handles one request directly (what the registered handlers call).
  void handle(const http::Request& request, http::Response& response) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::central
