#pragma once

// The write side of the server configuration: validated changes stored in the node database
// (migration component "node_serverconf", SQLite or PostgreSQL), each in one transaction, and the
// immutable ServerConfSnapshot rebuilt after every committed change.
//
// Every change bumps a change counter in the database (first statement of its transaction, which
// also serializes writers of several node instances on PostgreSQL); reload_if_changed() compares
// it cheaply and rebuilds the snapshot when another instance changed the configuration.
//
// Errors: NotFound (unknown client, description, service, endpoint, local group, member, right),
// Conflict (duplicates; the owner cannot be deleted; node already initialized), InvalidRequest
// (not initialized, bad URL/endpoint, wrong kind of service), the identifier codes of core/ids,
// LimitExceeded / InvalidXml / InvalidRequest from description parsing, DatabaseError,
// CommitOutcomeUnknown. A failed change stores nothing.
//
// Threading: thread-safe: writers serialized by write_mu_, the snapshot pointer guarded by
// snapshot_mu_ (readers only copy the shared_ptr).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/db/database.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "node/serverconf/description.h"
#include "node/serverconf/model.h"
#include "node/serverconf/snapshot.h"

namespace hansa::serverconf {

// The migration component name of the server configuration tables.
inline constexpr std::string_view kMigrationComponent = "node_serverconf";

struct StoreOptions {
  DescriptionLimits limits;
  // Downloads description documents given by URL; make_http_fetcher() when empty.
  DescriptionFetcher fetcher;
};

// Where a WSDL or OpenAPI document comes from.
struct DescriptionSource {
  // The document's URL (fetched when `document` is not set); for an uploaded document, a name
  // that identifies it among the client's descriptions (unique per client).
  std::string url;
  // Uploaded bytes; when set nothing is fetched.
  std::optional<std::string> document;
  // Provider URL set by the operator; replaces soap:address / servers[0].url.
  std::optional<std::string> provider_url;
};

// Changes to one service's settings; unset fields stay as they are.
struct ServiceSettings {
  std::optional<std::string> url;
  std::optional<std::chrono::seconds> timeout;
  std::optional<bool> ssl_verify;
};

// Longest accepted disabled notice and local group description, in bytes.
inline constexpr std::size_t kMaxNoticeLength = 1024;

class ServerConfStore final {
 public:
  // Applies the migrations and loads the first snapshot. `db` must outlive the store.
  [[nodiscard]] static Result<std::unique_ptr<ServerConfStore>> open(db::Database& db,
                                                                     StoreOptions options = {});

  ServerConfStore(const ServerConfStore&) = delete;
  ServerConfStore& operator=(const ServerConfStore&) = delete;
  ~ServerConfStore();

  // The current snapshot (never null). Cheap; call per message.
  [[nodiscard]] std::shared_ptr<const ServerConfSnapshot> snapshot() const;

  // Rebuilds the snapshot when the database's change counter differs from the snapshot's (another
  // instance committed a change). Returns true when it swapped in a new snapshot.
  [[nodiscard]] Result<bool> reload_if_changed();

  // Sets the owner member and server code once and adds the owner as a client. Conflict when the
  // node is already initialized.
  [[nodiscard]] Status initialize(const ids::SecurityServerId& server);

  // --- Clients ---

  // Adds a member or subsystem of the node's instance (state saved, IS connection https_auth).
  [[nodiscard]] Status add_client(const ids::ClientId& client);
  // Removes a client with its descriptions, services, endpoints, rights, local groups and IS
  // certificates. Conflict for the owner member.
  [[nodiscard]] Status delete_client(const ids::ClientId& client);
  [[nodiscard]] Status set_registration_state(const ids::ClientId& client, RegistrationState state);
  [[nodiscard]] Status set_is_connection(const ids::ClientId& client, IsConnectionType type);
  // Registers an IS TLS certificate (PEM or DER); returns its SHA-256 fingerprint (lower-case
  // hex). InvalidCertificate for unparsable input, Conflict when already registered.
  [[nodiscard]] Result<std::string> add_is_cert(const ids::ClientId& client, std::string_view cert);
  [[nodiscard]] Status remove_is_cert(const ids::ClientId& client, std::string_view sha256_hex);

  // --- Service descriptions and services ---

  // Adds a WSDL: one SOAP service per operation. Returns the description id.
  [[nodiscard]] Result<std::int64_t> add_wsdl(const ids::ClientId& client,
                                              const DescriptionSource& source);
  // Adds an OpenAPI 3 document: one REST service `service_code` with generated endpoints.
  [[nodiscard]] Result<std::int64_t> add_openapi(const ids::ClientId& client,
                                                 std::string_view service_code,
                                                 const DescriptionSource& source);
  // Adds a REST service by base URL (endpoint `* **` only; add others with add_endpoint()).
  [[nodiscard]] Result<std::int64_t> add_rest(const ids::ClientId& client,
                                              std::string_view service_code,
                                              std::string_view base_url);
  // Re-reads a WSDL/OpenAPI description (fetches its URL, or uses `document` when given) and
  // replaces its services and generated endpoints at once; access rights on services and
  // endpoints that still exist are kept, as are the timeout and TLS settings of surviving services.
  // For a REST base-URL description, `document` is refused and nothing changes but the timestamp.
  [[nodiscard]] Status refresh_description(std::int64_t description_id,
                                           std::optional<std::string> document = std::nullopt);
  // Removes a description, its services, their endpoints and access rights.
  [[nodiscard]] Status delete_description(std::int64_t description_id);
  // Enables or disables every service of a description; a disabled service is refused with the
  // notice (ServiceDisabled).
  [[nodiscard]] Status set_description_enabled(std::int64_t description_id, bool enabled,
                                               std::string_view disabled_notice = {});
  // Changes provider URL, timeout or TLS verification of a service. With a version: that service;
  // without: every version of the code.
  [[nodiscard]] Status update_service(const ids::ServiceId& service,
                                      const ServiceSettings& settings);
  // The stored document of a WSDL/OpenAPI description (for getWsdl / getOpenAPI).
  [[nodiscard]] Result<std::string> description_document(std::int64_t description_id) const;

  // --- REST endpoints ---

  // Adds a manual endpoint to a REST service. Conflict when it exists.
  [[nodiscard]] Result<std::int64_t> add_endpoint(const ids::ClientId& provider,
                                                  std::string_view service_code,
                                                  const EndpointKey& endpoint);
  // Removes a manual endpoint and its rights. Forbidden for generated endpoints.
  [[nodiscard]] Status delete_endpoint(const ids::ClientId& provider, std::string_view service_code,
                                       const EndpointKey& endpoint);

  // --- Access rights ---

  // Grants a subject the whole service (every version, every endpoint). Conflict when granted.
  [[nodiscard]] Status grant_service(const ids::ServiceId& service, const AccessSubject& subject);
  [[nodiscard]] Status revoke_service(const ids::ServiceId& service, const AccessSubject& subject);
  // Grants a subject one endpoint of a REST service.
  [[nodiscard]] Status grant_endpoint(const ids::ClientId& provider, std::string_view service_code,
                                      const EndpointKey& endpoint, const AccessSubject& subject);
  [[nodiscard]] Status revoke_endpoint(const ids::ClientId& provider, std::string_view service_code,
                                       const EndpointKey& endpoint, const AccessSubject& subject);

  // --- Local groups ---

  [[nodiscard]] Status add_local_group(const ids::ClientId& client, std::string_view group_code,
                                       std::string_view description);
  // Removes the group, its members and every access right granted to it.
  [[nodiscard]] Status delete_local_group(const ids::ClientId& client, std::string_view group_code);
  [[nodiscard]] Status add_local_group_member(const ids::ClientId& client,
                                              std::string_view group_code,
                                              const ids::ClientId& member);
  [[nodiscard]] Status remove_local_group_member(const ids::ClientId& client,
                                                 std::string_view group_code,
                                                 const ids::ClientId& member);

 private:
  struct Impl;
  explicit ServerConfStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::serverconf
