#pragma once

// The read side of the server configuration for the message path: an immutable snapshot with the
// lookups the client and server proxies need (is a client registered here and how does its IS
// connect; which service is this and where does it live; may this client call it).
//
// Access control (reference section 7): deny by default; a right is granted on a service (stored
// on its `* **` endpoint, so it covers every method and path) or on one REST endpoint; the service
// version is ignored. A request is allowed when any endpoint of the service that matches it names
// the client itself, a global group the client belongs to, or a local group of the provider that
// lists the client.
//
// Threading: immutable, share freely (held as std::shared_ptr<const ServerConfSnapshot>).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/ids/ids.h"
#include "node/serverconf/model.h"
#include "node/serverconf/path_pattern.h"

namespace hansa::serverconf {

// A client of this node with how its IS connects.
struct ClientEntry {
  ids::ClientId id;
  RegistrationState state = RegistrationState::kSaved;
  IsConnectionType is_connection = IsConnectionType::kHttpsAuth;
  std::vector<crypto::Certificate> is_certs;  // registered IS TLS certificates
  std::set<std::string> is_cert_sha256_hex;   // their SHA-256 fingerprints (lower-case hex)
};

// A service description of a client.
struct DescriptionEntry {
  std::int64_t id = 0;
  ids::ClientId client;
  DescriptionType type = DescriptionType::kWsdl;
  std::string source;                       // the document's URL or the name given on upload
  std::optional<std::string> provider_url;  // operator's override of the document's URL
  bool enabled = true;
  std::string disabled_notice;
  std::int64_t refreshed_at = 0;  // epoch seconds
};

// One service.
struct ServiceEntry {
  ids::ServiceId id;  // with the version its description gives (if any)
  std::int64_t description_id = 0;
  DescriptionType description_type = DescriptionType::kWsdl;
  ServiceType type = ServiceType::kSoap;
  std::string title;
  std::string url;  // provider URL
  std::chrono::seconds timeout = kDefaultServiceTimeout;
  bool ssl_verify = true;  // verify the provider's TLS certificate (https URLs)
  bool enabled = true;     // its description is enabled
  std::string disabled_notice;
};

// One endpoint of a service with the subjects allowed on it.
struct EndpointEntry {
  std::int64_t id = 0;
  ids::ClientId provider;
  std::string service_code;
  PathPattern pattern;
  bool generated = false;  // from the description (or the service-wide `* **`): not removable
  std::vector<AccessSubject> subjects;
  [[nodiscard]] const EndpointKey& key() const noexcept { return pattern.key(); }
};

// A local group of a client.
struct LocalGroupEntry {
  ids::ClientId client;
  std::string code;
  std::string description;
  std::set<ids::ClientId> members;
};

// Everything a snapshot is built from (the store fills it from the database).
struct SnapshotData {
  std::optional<ids::SecurityServerId> server;  // owner + server code; nullopt before init
  std::int64_t change_counter = 0;
  std::vector<ClientEntry> clients;
  std::vector<DescriptionEntry> descriptions;
  std::vector<ServiceEntry> services;
  std::vector<EndpointEntry> endpoints;
  std::vector<LocalGroupEntry> local_groups;
};

class ServerConfSnapshot final {
 public:
  explicit ServerConfSnapshot(SnapshotData data);

  // The node's identity (owner member and server code); nullopt before initialization.
  [[nodiscard]] const std::optional<ids::SecurityServerId>& server() const noexcept {
    return data_.server;
  }
  // The database change counter this snapshot was built at.
  [[nodiscard]] std::int64_t change_counter() const noexcept { return data_.change_counter; }

  [[nodiscard]] const std::vector<ClientEntry>& clients() const noexcept { return data_.clients; }
  [[nodiscard]] const std::vector<DescriptionEntry>& descriptions() const noexcept {
    return data_.descriptions;
  }
  [[nodiscard]] const std::vector<ServiceEntry>& services() const noexcept {
    return data_.services;
  }
  [[nodiscard]] const std::vector<LocalGroupEntry>& local_groups() const noexcept {
    return data_.local_groups;
  }

  // The client, or nullptr when it is not a client of this node.
  [[nodiscard]] const ClientEntry* find_client(const ids::ClientId& client) const;
  // True when the client is hosted here and registered (state kRegistered).
  [[nodiscard]] bool is_registered_client(const ids::ClientId& client) const;
  // True when `sha256_hex` (lower-case) is one of the client's registered IS certificates.
  [[nodiscard]] bool is_cert_registered(const ids::ClientId& client,
                                        std::string_view sha256_hex) const;

  // The description with this id, or nullptr.
  [[nodiscard]] const DescriptionEntry* find_description(std::int64_t id) const;

  // The service: exact match on provider, code and version. A request without a version also
  // finds the only service with that code. nullptr when unknown.
  [[nodiscard]] const ServiceEntry* find_service(const ids::ServiceId& service) const;
  // Every service (all versions) of a client's service code.
  [[nodiscard]] std::vector<const ServiceEntry*> services_by_code(
      const ids::ClientId& provider, std::string_view service_code) const;
  // Services of one client.
  [[nodiscard]] std::vector<const ServiceEntry*> services_of(const ids::ClientId& provider) const;

  // Endpoints of a service code (including `* **`), in a stable order.
  [[nodiscard]] std::vector<const EndpointEntry*> endpoints_of(const ids::ClientId& provider,
                                                               std::string_view service_code) const;
  // The most specific endpoint of the service matching method and path, or nullptr.
  [[nodiscard]] const EndpointEntry* match_endpoint(const ids::ServiceId& service,
                                                    std::string_view method,
                                                    std::string_view path) const;

  // Access check on the provider side. `method`/`path` are given for REST requests (path is what
  // follows the service code, "/" when empty); SOAP requests pass nullopt and are checked against
  // service-wide rights only. `global_groups` are the client's global groups (from global
  // configuration). Deny by default. Whether the service is enabled is not part of this answer:
  // check find_service()->enabled first (ServiceDisabled).
  [[nodiscard]] bool is_allowed(const ids::ClientId& client, const ids::ServiceId& service,
                                std::optional<std::string_view> method,
                                std::optional<std::string_view> path,
                                std::span<const ids::GlobalGroupId> global_groups) const;

  // True when the provider's local group `group_code` lists `client`.
  [[nodiscard]] bool is_local_group_member(const ids::ClientId& provider,
                                           std::string_view group_code,
                                           const ids::ClientId& client) const;
  // The provider's local group, or nullptr.
  [[nodiscard]] const LocalGroupEntry* find_local_group(const ids::ClientId& provider,
                                                        std::string_view group_code) const;

  // Every subject allowed on a service-wide or endpoint right of the service code.
  [[nodiscard]] std::vector<AccessSubject> subjects_of_endpoint(const ids::ClientId& provider,
                                                                std::string_view service_code,
                                                                const EndpointKey& endpoint) const;

 private:
  using CodeKey = std::pair<ids::ClientId, std::string>;

  bool subject_allows(const AccessSubject& subject, const ids::ClientId& provider,
                      const ids::ClientId& client,
                      std::span<const ids::GlobalGroupId> global_groups) const;

  SnapshotData data_;
  std::map<ids::ClientId, std::size_t> client_index_;
  std::map<std::int64_t, std::size_t> description_index_;
  std::map<ids::ServiceId, std::size_t> service_index_;
  std::map<CodeKey, std::vector<std::size_t>> services_by_code_;
  std::map<CodeKey, std::vector<std::size_t>> endpoints_by_code_;
  std::map<CodeKey, std::size_t> group_index_;
};

}  // namespace hansa::serverconf
