#pragma once

// REST forms of X-Road identifiers (PR-REST 1.0.4 sections 4.1-4.3 and 4.8):
//   X-Road-Client:          INSTANCE/CLASS/MEMBER[/SUBSYSTEM]
//   X-Road-Service:         INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICECODE
//   X-Road-Security-Server: INSTANCE/CLASS/MEMBER/SERVERCODE
//   request target:         /r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/path][?query]
// Each part is percent-encoded on its own (PR-REST 4.2): the separators are literal '/', and a
// '/' inside a part would be %2F (and then fails the identifier character rules).
//
// REST service identifiers carry no version (PR-REST 4.1): printing leaves a ServiceId's version
// out and parsing never sets one.
//
// In the request target the subsystem is required, as X-Road's own security server requires it:
// the path after the service code is free-form, so a member-level service could not be told apart
// from a subsystem's service followed by a path. Headers have no such tail, so X-Road-Service
// accepts both forms.
//
// Threading: pure functions, thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::ids {

// The protocol version segment of PR-REST 1.x request targets.
inline constexpr std::string_view kRestProtocolVersion = "r1";

// Percent-encodes one URI path segment (RFC 3986 2.1, 3.3): unreserved characters, sub-delims,
// ':' and '@' stay as they are; every other byte, including '/', '?', '%' and '#', becomes %XX.
[[nodiscard]] std::string percent_encode_segment(std::string_view segment);

// Decodes one path segment. Accepts the characters of RFC 3986 `segment` (pchar) and %XX escapes;
// rejects a raw '/', malformed escapes ("%", "%4", "%zz") and any other byte. Fails with `code`.
[[nodiscard]] Result<std::string> percent_decode_segment(
    std::string_view segment, FaultCode code = FaultCode::kInvalidRequest);

// X-Road-Client header value.
[[nodiscard]] std::string to_rest_client(const ClientId& id);
// Parses an X-Road-Client header value (surrounding spaces and tabs ignored). Fails with
// InvalidClientIdentifier when it is not 3 or 4 parts or a part is bad.
[[nodiscard]] Result<ClientId> parse_rest_client(std::string_view value);

// X-Road-Security-Server header value.
[[nodiscard]] std::string to_rest_security_server(const SecurityServerId& id);
// Parses an X-Road-Security-Server header value: exactly 4 parts. Fails with
// InvalidSecurityServer.
[[nodiscard]] Result<SecurityServerId> parse_rest_security_server(std::string_view value);

// X-Road-Service header value (no version, see above).
[[nodiscard]] std::string to_rest_service(const ServiceId& id);
// Parses an X-Road-Service header value: 4 parts (a member's service) or 5 (a subsystem's).
// Fails with InvalidServiceIdentifier.
[[nodiscard]] Result<ServiceId> parse_rest_service(std::string_view value);

// Bounds for parse_rest_request_target.
struct RestTargetLimits {
  // Longest request target accepted; PR-REST 4.2 notes clients commonly stop at 2000.
  std::size_t max_target_length = 8192;
};

// A decoded REST request target.
struct RestRequestTarget {
  ServiceId service;
  // The path after the service code, as received (still percent-encoded): empty or starting with
  // '/'. This is what the provider's security server appends to the service URL.
  std::string service_path;
  // The raw query without the '?', nullopt when the target had no '?'.
  std::optional<std::string> query;
};

// Parses "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/path][?query]" (origin-form).
// Fails with:
//   LimitExceeded            longer than limits.max_target_length;
//   InvalidRequest           not origin-form, a fragment, illegal characters or malformed escapes
//                            in the path or query, or a "." / ".." segment in the path;
//   InvalidProtocolVersion   a first segment other than "r1" (reported for "rN" and any other);
//   InvalidServiceIdentifier fewer than five identifier segments, or a bad part (named).
[[nodiscard]] Result<RestRequestTarget> parse_rest_request_target(
    std::string_view target, const RestTargetLimits& limits = {});

// Builds "/r1/.../SERVICECODE" + service_path + ("?" + query). `service_path` must be empty or
// start with '/', and it and `query` must already be percent-encoded. Fails with
// InvalidServiceIdentifier when the service has no subsystem, InvalidRequest for a bad path or
// query.
[[nodiscard]] Result<std::string> to_rest_request_target(
    const ServiceId& service, std::string_view service_path = {},
    std::optional<std::string_view> query = std::nullopt);

}  // namespace hansa::ids
