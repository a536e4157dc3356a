#pragma once

// Server configuration model of a node (security server): clients and their registration state,
// service descriptions (WSDL, OpenAPI 3, plain REST base URL), services, REST endpoints, access
// rights, local groups and how each local information system (IS) connects. Reference section 7;
// X-Road security server user guide chapters 6 and 7.
//
// Threading: plain values, share freely once built.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::serverconf {

// Registration state of a client at central (X-Road: SAVED, REGINPROG, REGISTERED, DELINPROG,
// GLOBALERR). Updated from global configuration by the registration component.
enum class RegistrationState : std::uint8_t {
  kSaved,                   // added locally, registration not requested
  kRegistrationInProgress,  // clientReg sent, not yet in global configuration
  kRegistered,              // listed in global configuration for this node
  kDeletionInProgress,      // clientDeletion sent
  kGlobalError,             // registered here but missing from global configuration
};

// "saved", "registration_in_progress", "registered", "deletion_in_progress", "global_error".
[[nodiscard]] std::string_view registration_state_name(RegistrationState state) noexcept;
[[nodiscard]] std::optional<RegistrationState> registration_state_from_name(
    std::string_view name) noexcept;

// How a local IS connects to the node's client proxy (and how the server proxy calls it).
enum class IsConnectionType : std::uint8_t {
  kHttp,       // plain HTTP
  kHttps,      // HTTPS, IS not authenticated
  kHttpsAuth,  // HTTPS with a client certificate from the client's IS certificate list (default)
};

// "http", "https", "https_auth".
[[nodiscard]] std::string_view is_connection_name(IsConnectionType type) noexcept;
[[nodiscard]] std::optional<IsConnectionType> is_connection_from_name(
    std::string_view name) noexcept;

// What describes a group of services.
enum class DescriptionType : std::uint8_t {
  kWsdl,     // SOAP services, one per binding operation
  kOpenApi,  // one REST service, endpoints generated from the document's paths
  kRest,     // one REST service given by a base URL (no generated endpoints but `* **`)
};

// "wsdl", "openapi3", "rest".
[[nodiscard]] std::string_view description_type_name(DescriptionType type) noexcept;
[[nodiscard]] std::optional<DescriptionType> description_type_from_name(
    std::string_view name) noexcept;

// The message protocol a service speaks (SOAP for WSDL, REST for the others).
enum class ServiceType : std::uint8_t { kSoap, kRest };

// A service timeout when none is set (X-Road's default is 60 s).
inline constexpr std::chrono::seconds kDefaultServiceTimeout{60};

// A REST endpoint: an HTTP method (or "*") and a path pattern (see path_pattern.h).
struct EndpointKey {
  std::string method;  // "GET", "POST", ... or "*"
  std::string path;    // "/pets/{id}", "/pets/**", or "**" (every path)
  friend bool operator==(const EndpointKey&, const EndpointKey&) = default;
  friend auto operator<=>(const EndpointKey&, const EndpointKey&) = default;
};

// The endpoint standing for a whole service: every method, every path. Access rights granted on
// a service are stored on it (reference section 7: ENDPOINT(client, servicecode, method, path)).
inline const EndpointKey kServiceEndpoint{"*", "**"};

// Who an access right is granted to: a member or subsystem, a global group, or a local group of
// the providing client.
using AccessSubject = std::variant<ids::ClientId, ids::GlobalGroupId, ids::LocalGroupId>;

// Parses "SUBSYSTEM:...", "MEMBER:...", "GLOBALGROUP:..." or "LOCALGROUP:..."; other object types
// fail with InvalidIdentifier, bad parts with the code of their kind.
[[nodiscard]] Result<AccessSubject> parse_subject(std::string_view text);
// The string form of a subject ("SUBSYSTEM:EE/GOV/123/sub", "LOCALGROUP:admins", ...).
[[nodiscard]] std::string subject_to_string(const AccessSubject& subject);

// One service as parsed from a description (before it is stored).
struct ParsedService {
  std::string service_code;
  std::optional<std::string> service_version;
  std::string title;  // xrd:title (WSDL) or info.title (OpenAPI); may be empty
  std::string url;    // provider URL (soap:address, servers[0].url, base URL); may be empty
};

// The outcome of parsing a description document.
struct ParsedDescription {
  DescriptionType type = DescriptionType::kWsdl;
  std::vector<ParsedService> services;  // WSDL: one per operation; REST: exactly one
  std::vector<EndpointKey> endpoints;   // OpenAPI: paths x methods (REST services only)
};

}  // namespace hansa::serverconf
