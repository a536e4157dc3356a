#pragma once

// X-Road REST messages, protocol 1.0 (PR-REST 1.0.4; PR-MESSTRANSP 3.1 for the REST head parts):
//  - parsing an information system's request `METHOD /r1/{inst}/{class}/{member}/{sub}/{code}
//    [/path][?query]` with its X-Road-* headers into a RestRequest;
//  - header filtering (hop-by-hop, Host, User-Agent, Server, Content-Length, Expect are dropped);
//  - the REST head parts that cross the nodes, byte-exact as X-Road writes them:
//      application/x-road-rest-request:  METHOD CRLF target CRLF (Name:value CRLF)*
//      application/x-road-rest-response: status CRLF reason CRLF (Name:value CRLF)*
//  - the response headers the provider's node adds (X-Road-Id, X-Road-Client, X-Road-Service,
//    X-Road-Request-Id, X-Road-Request-Hash) and the client node's checks of them;
//  - the REST error answer: JSON {"type","message","detail"} and the X-Road-Error header.
//
// Threading: free functions over values, thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "core/ids/rest_form.h"
#include "node/message/soap.h"

namespace hansa::message {

// X-Road REST header names as X-Road writes them.
inline constexpr std::string_view kXRoadClientHeader = "X-Road-Client";
inline constexpr std::string_view kXRoadServiceHeader = "X-Road-Service";
inline constexpr std::string_view kXRoadIdHeader = "X-Road-Id";
inline constexpr std::string_view kXRoadUserIdHeader = "X-Road-UserId";
inline constexpr std::string_view kXRoadIssueHeader = "X-Road-Issue";
inline constexpr std::string_view kXRoadSecurityServerHeader = "X-Road-Security-Server";
inline constexpr std::string_view kXRoadRepresentedPartyHeader = "X-Road-Represented-Party";
inline constexpr std::string_view kXRoadRequestIdHeader = "X-Road-Request-Id";
inline constexpr std::string_view kXRoadRequestHashHeader = "X-Road-Request-Hash";
inline constexpr std::string_view kXRoadErrorHeader = "X-Road-Error";

// Bounds for untrusted REST input. Every field has a safe default.
struct RestLimits {
  ids::RestTargetLimits target;
  std::size_t max_headers = 100;                  // header fields of a request or head part
  std::size_t max_header_bytes = 64 * 1024;       // all names and values together
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // the request or response body
  std::size_t max_head_part_bytes = 80 * 1024;    // an x-road-rest-request/-response part
};

struct RestParseOptions {
  RestLimits limits;
  // Generate a UUID when X-Road-Id is missing (the client's node, PR-REST 4.3). When false (the
  // provider's node reading a transport message) a missing X-Road-Id fails with
  // MissingHeaderField.
  bool generate_missing_id = true;
};

// A REST request as the client's node received it, or as the provider's node decoded it from the
// REST head part.
struct RestRequest {
  std::string method;  // "GET", "POST", ... (upper case, as received)
  std::string target;  // the raw request target "/r1/...[?query]" (still percent-encoded)
  ids::ServiceId service;
  std::string service_path;          // after the service code, encoded, "" or "/..."
  std::optional<std::string> query;  // raw query without '?'
  ids::ClientId client;              // X-Road-Client (the last one when repeated)
  std::string id;  // X-Road-Id (when missing and asked to, a generated time-ordered UUID)
  bool id_generated = false;
  std::optional<std::string> user_id;                    // X-Road-UserId
  std::optional<std::string> issue;                      // X-Road-Issue
  std::optional<ids::SecurityServerId> security_server;  // X-Road-Security-Server
  std::optional<RepresentedParty> represented_party;     // X-Road-Represented-Party
  // The headers after filtering, in order (X-Road-* included): what goes into the REST head.
  HeaderFields headers;
  std::string body;
};

// Parses an IS's REST request (PR-REST 4.1-4.4). Fails with:
//   InvalidRequest / InvalidProtocolVersion / InvalidServiceIdentifier / LimitExceeded from the
//   request target (core/ids parse_rest_request_target);
//   InvalidRequest for a method that is not an HTTP token;
//   MissingHeaderField when X-Road-Client is absent (or X-Road-Id, see RestParseOptions);
//   InvalidClientIdentifier / InvalidSecurityServer / InvalidRequest (represented party) for bad
//   header values; LimitExceeded for RestLimits.
[[nodiscard]] Result<RestRequest> parse_rest_request(std::string_view method,
                                                     std::string_view target,
                                                     const HeaderFields& headers, std::string body,
                                                     const RestParseOptions& options = {});

// True for headers never passed on (hop-by-hop: Connection, Keep-Alive, Proxy-Authenticate,
// Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade; and Host, User-Agent, Server,
// Content-Length, Expect), compared case-insensitively.
[[nodiscard]] bool is_filtered_header(std::string_view name) noexcept;
// `headers` without the filtered ones (order kept).
[[nodiscard]] HeaderFields filter_headers(const HeaderFields& headers);

// --- REST head parts (PR-MESSTRANSP 3.1) ---

struct RestRequestHead {
  std::string method;
  std::string target;  // "/r1/...[?query]"
  HeaderFields headers;
};

struct RestResponseHead {
  int status = 200;
  std::string reason;
  HeaderFields headers;
};

// "METHOD\r\ntarget\r\nName:value\r\n..." (no space after ':', no empty line at the end).
[[nodiscard]] std::string serialize_rest_request_head(const RestRequestHead& head);
// "status\r\nreason\r\nName:value\r\n...".
[[nodiscard]] std::string serialize_rest_response_head(const RestResponseHead& head);
// Parse the forms above (a final line without CRLF is accepted; values keep their bytes after
// ':'). InvalidRest for a malformed line, a filtered header name, a bad status; LimitExceeded.
[[nodiscard]] Result<RestRequestHead> parse_rest_request_head(std::string_view bytes,
                                                              const RestLimits& limits = {});
[[nodiscard]] Result<RestResponseHead> parse_rest_response_head(std::string_view bytes,
                                                                const RestLimits& limits = {});

// The client's node: the request head for the transport message: the request's filtered headers
// with "x-road-request-id: request_id" and, when the id was generated, "x-road-id" appended. The
// added names are lower case as X-Road writes them (X-Road's provider node matches
// x-road-request-id case-sensitively).
[[nodiscard]] RestRequestHead make_request_head(const RestRequest& request,
                                                std::string_view request_id);

// The provider's node: the response head to sign and send back: the provider's headers filtered
// (and without X-Road-Id, X-Road-Client, X-Road-Service, X-Road-Request-Id, X-Road-Request-Hash),
// then x-road-id, x-road-client, x-road-service, x-road-request-id and x-road-request-hash
// (`request_hash` base64, see compute_rest_request_hash), in that order and lower case as X-Road.
[[nodiscard]] RestResponseHead make_response_head(int status, std::string_view reason,
                                                  const HeaderFields& provider_headers,
                                                  const RestRequest& request,
                                                  std::string_view request_id,
                                                  std::string_view request_hash);

// X-Road-Request-Hash (reference section 2): H(head) when the request has no body, else
// H(H(head) || H(body)); `head_bytes` is the serialized request head. Returns base64.
[[nodiscard]] std::string compute_rest_request_hash(
    std::string_view head_bytes, std::optional<std::string_view> body,
    crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512);

// The client's node: the response echoes X-Road-Id, X-Road-Service and X-Road-Request-Id and its
// X-Road-Request-Hash equals `expected_request_hash`. InconsistentResponse naming the header.
[[nodiscard]] Status check_rest_response(const RestRequest& request, std::string_view request_id,
                                         const RestResponseHead& response,
                                         std::string_view expected_request_hash);

// The headers to return to the IS from a response head (filtered, order kept).
[[nodiscard]] HeaderFields response_headers_for_client(const RestResponseHead& head);

// --- REST errors (PR-REST 4.5) ---

// {"type":"<error.render(origin)>","message":"...","detail":"<detail_id>"}.
[[nodiscard]] std::string rest_error_json(const Error& error, Origin origin,
                                          std::string_view detail_id);
// X-Road-Error header value: error.render(origin).
[[nodiscard]] std::string rest_error_header(const Error& error, Origin origin);
// HTTP status for a REST error: 400 for Origin::kClient, 500 otherwise (PR-REST 4.5).
[[nodiscard]] int rest_error_status(Origin origin) noexcept;

}  // namespace hansa::message
