#pragma once

// The node's admin REST API (JSON over core/http), documented in schemas/node-admin-api.yaml:
// node status; the configuration anchor and the configuration client's status (node/globalconf);
// tokens, login/logout and PIN change, keys, CSRs (PEM download), certificates (import, activate,
// delete) and their OCSP status (node/signer); clients, IS connection type and IS
// certificates, service descriptions (WSDL, OpenAPI 3, REST base URL; by URL or upload), services,
// REST endpoints, access rights and local groups (node/serverconf); registration requests to
// central (node/registration: auth certificate, client registration and deletion, address and
// owner change); the audit log and admin tokens
// (node/api/admin_store.h).
//
// Authentication: `Authorization: Bearer <token>`. Role `operator` may do everything; `auditor`
// may read everything including the audit log; `read-only` may read everything but the audit log
// and the admin tokens. A missing or bad token is answered 401, a wrong role 403; both are
// audited (action "api.auth"). Every request that may change something is audited once it has
// been answered (action "<METHOD> <route template>", target the request path, result "ok" or the
// fault code). Bodies are capped (413), must be JSON objects with only the documented fields
// (400), identifiers are checked (400). Lists take `?limit=&offset=`. Errors use core/http's JSON
// body {"type","message","detail"}.
//
// Threading: thread-safe; handlers run concurrently on the server's workers (every component it
// calls is thread-safe).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/http/server.h"
#include "node/api/admin_store.h"

namespace hansa::serverconf {
class ServerConfStore;
}
namespace hansa::confclient {
class ConfigurationClient;
}
namespace hansa::registration {
class Registration;
}
namespace hansa::signer {
class Signer;
class SoftwareToken;
}  // namespace hansa::signer
namespace hansa::messagelog {
class MessageLog;
}

namespace hansa::opmonitor {
class OpMonitor;
class NodeMonitoring;
}  // namespace hansa::opmonitor

namespace hansa::nodeapi {

// Limits of the admin API. Defaults are safe for an operator-only loopback port.
struct NodeApiOptions {
  // Path prefix of every route.
  std::string base_path = "/api/v1";
  // Largest accepted JSON body; larger ones are answered 413 (LimitExceeded).
  std::size_t max_body_bytes = 1 << 20;
  // Largest body of the routes that upload a description document or an anchor.
  std::size_t max_upload_bytes = 8 << 20;
  // Page size when a list request gives no `limit`, and the largest accepted `limit`.
  std::size_t default_page_size = 100;
  std::size_t max_page_size = 500;
  // Deepest JSON nesting accepted in request bodies.
  std::size_t max_json_depth = 16;
};

// What the API serves. `admin` is required; any other may be null (its routes answer 503).
struct NodeApiServices {
  AdminStore* admin = nullptr;
  serverconf::ServerConfStore* serverconf = nullptr;
  confclient::ConfigurationClient* confclient = nullptr;
  signer::Signer* signer = nullptr;
  registration::Registration* registration = nullptr;
  // Software tokens added to the signer (their PIN can be changed through the API).
  std::vector<signer::SoftwareToken*> software_tokens;
  // Operational records (/opmonitor/...) and health: environmental data, maintenance mode
  // (node/api/opmonitor_routes.h).
  opmonitor::OpMonitor* opmonitor = nullptr;
  opmonitor::NodeMonitoring* monitoring = nullptr;
  // The message log (auditor routes /messagelog/... and X-Road's GET /asic form, also served at
  // the root path "/asic" when the daemon routes it here).
  messagelog::MessageLog* messagelog = nullptr;
};

// One route: method and path template with `{name}` segments, e.g. "GET /api/v1/clients/{client}".
struct NodeApiRoute {
  std::string method;
  std::string path;
};

class NodeAdminApi final {
 public:
  // The services must outlive the API. HANSA_CHECKs that services.admin is set.
  explicit NodeAdminApi(NodeApiServices services, NodeApiOptions options = {});
  ~NodeAdminApi();
  NodeAdminApi(const NodeAdminApi&) = delete;
  NodeAdminApi& operator=(const NodeAdminApi&) = delete;

  // Registers the API's handlers on `server` (call before server.start()).
  void register_routes(http::Server& server);

  // Every route the API serves (for the OpenAPI completeness test and hansactl).
  [[nodiscard]] std::vector<NodeApiRoute> routes() const;

  // Handles one request directly (what the registered handlers call).
  void handle(const http::Request& request, http::Response& response) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::nodeapi
