#pragma once

// X-Road SOAP messages, protocol 4.0 (PR-MESS 2.2-2.5, Annexes B, D-G): parsing a request or a
// response as an information system or a peer node sends it (plain text/xml, SOAP with
// attachments, MTOM), validating the X-Road header (schemas/xroad-soap-header.xsd and the rules
// below), SOAP faults, the requestHash header field and the request/response consistency check.
// No networking: bytes in, values out.
//
// Header rules (PR-MESS 2.2; X-Road's SoapParser and SoapHeader), codes as X-Road reports them:
//   not XML, not a SOAP 1.1 Envelope, a second Header/Body, content before Header ... InvalidSoap
//   no Body element (or an empty Body) ......................................... MissingBody
//   no Header element ........................................................... MissingHeader
//   client, id, protocolVersion missing (service too in requests) .............. MissingHeaderField
//   an X-Road header element given twice .......................................
//   DuplicateHeaderField protocolVersion other than "4.0"
//   ............................................ InvalidProtocolVersion a bad client / service /
//   securityServer identifier ........................... InvalidClientIdentifier,
//                                                         InvalidServiceIdentifier,
//                                                         InvalidSecurityServer
//   anything else the header schema refuses ...................................... InvalidSoap
//   Content-Type not text/xml, multipart/related (SwA/MTOM) .....................
//   InvalidContentType a broken multipart, a SOAP part that is not first / of the wrong type
//   ........ MimeParsingFailed a SoapLimits field exceeded
//   .................................................. LimitExceeded
// A Fault body is accepted without an X-Road header (IS and node faults carry none).
// DTDs and entity declarations are refused (core/xml), nothing is ever loaded from outside.
//
// Threading: free functions over values, thread-safe. SoapMessage is a plain value; its views point
// into `buffer`, which it shares (copies are cheap and stay valid).

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "core/mime/headers.h"

namespace hansa::message {

inline constexpr std::string_view kSoapEnvelopeNamespace =
    "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kXRoadNamespace = "http://x-road.eu/xsd/xroad.xsd";
inline constexpr std::string_view kIdentifiersNamespace = "http://x-road.eu/xsd/identifiers";
inline constexpr std::string_view kRepresentationNamespace =
    "http://x-road.eu/xsd/representation.xsd";
inline constexpr std::string_view kSecurityTokenNamespace =
    "http://x-road.eu/xsd/security-token.xsd";
// The only protocolVersion this node speaks (PR-MESS 2.2).
inline constexpr std::string_view kProtocolVersion = "4.0";
// Content-Type of a plain SOAP message or fault this node writes.
inline constexpr std::string_view kTextXmlContentType = "text/xml; charset=UTF-8";

// HTTP header fields in order (same type as core/http's http::Headers); names compare
// case-insensitively.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// Bounds for parsing untrusted SOAP input. Every field has a safe default.
struct SoapLimits {
  // The whole HTTP body as received (SOAP part, attachments, MIME framing).
  std::size_t max_message_bytes = 64 * 1024 * 1024;
  // The SOAP part (the XML document).
  std::size_t max_soap_part_bytes = 16 * 1024 * 1024;
  // Bytes of the Header element's content: element names and text of every header descendant.
  std::size_t max_header_bytes = 64 * 1024;
  // Child elements of the SOAP Header.
  std::size_t max_header_elements = 64;
  // Attachments (parts after the SOAP part).
  std::size_t max_attachments = 100;
  // One attachment's bytes.
  std::size_t max_attachment_bytes = 64 * 1024 * 1024;
  // Element nesting depth of the SOAP part (Envelope = 1).
  std::size_t max_xml_depth = 64;
  // Elements in the SOAP part.
  std::size_t max_xml_elements = 200'000;
  // Header fields in one MIME part, and one header line's length.
  std::size_t max_part_headers = 50;
  std::size_t max_part_header_line = 8 * 1024;
};

// representedParty extension (namespace kRepresentationNamespace): [partyClass] partyCode.
struct RepresentedParty {
  std::optional<std::string> party_class;
  std::string party_code;
  friend bool operator==(const RepresentedParty&, const RepresentedParty&) = default;
};

// requestHash header field (PR-MESS 2.2): the digest of the request's SOAP part.
struct RequestHash {
  std::string algorithm_id;  // XML-DSig digest URI, e.g. http://www.w3.org/2001/04/xmlenc#sha512
  std::string value;         // base64 text as in the message (whitespace removed)
  friend bool operator==(const RequestHash&, const RequestHash&) = default;
};

// One child element of SOAP-ENV:Header, in document order.
struct HeaderElementName {
  std::string namespace_uri;
  std::string local_name;
  friend bool operator==(const HeaderElementName&, const HeaderElementName&) = default;
};

// The X-Road header of a message (PR-MESS 2.2 Table 1 and the extensions of Annex H).
struct SoapHeader {
  ids::ClientId client;
  std::optional<ids::ServiceId> service;  // always set for requests
  std::string id;
  std::optional<std::string> user_id;
  std::optional<std::string> issue;
  std::string protocol_version;
  std::optional<ids::SecurityServerId> security_server;
  std::optional<RepresentedParty> represented_party;
  std::optional<RequestHash> request_hash;
  // securityToken extension: the token text and its tokenType attribute.
  std::optional<std::string> security_token;
  std::optional<std::string> security_token_type;
  // Every Header child in order (X-Road's and foreign ones).
  std::vector<HeaderElementName> elements;
};

// How the message was packaged by its sender.
enum class SoapPackaging {
  kPlain,  // text/xml, no attachments
  kSwa,    // multipart/related, SOAP part text/xml (SOAP with attachments)
  kMtom,   // multipart/related, SOAP part application/xop+xml
};

// One attachment: a MIME part after the SOAP part.
struct Attachment {
  mime::HeaderList headers;  // the part's MIME headers as received (kept for forwarding)
  std::string content_type;  // the part's Content-Type value ("application/octet-stream" if none)
  std::string content_id;    // Content-ID without the angle brackets; empty when absent
  std::string_view data;     // raw bytes, pointing into the owning message's buffer
};

// A SOAP fault (SOAP 1.1 section 4.4 as X-Road fills it, PR-MESS Annex D).
struct SoapFault {
  std::string code;                   // faultcode, e.g. "Server.ClientProxy.UnknownService"
  std::string string;                 // faultstring
  std::optional<std::string> actor;   // faultactor
  std::optional<std::string> detail;  // detail/faultDetail (the detail id X-Road logs)
  friend bool operator==(const SoapFault&, const SoapFault&) = default;
};

// A parsed SOAP message or message package.
struct SoapMessage {
  // The bytes everything below points into (the received HTTP body, or a transport message).
  std::shared_ptr<const std::string> buffer;
  // The Content-Type as received (what crosses the nodes as x-original-content-type).
  std::string content_type;
  SoapPackaging packaging = SoapPackaging::kPlain;
  // The raw SOAP part: what is signed as /message.xml and what requestHash is computed over.
  std::string_view soap_part;
  // The SOAP part's own Content-Type ("text/xml; charset=UTF-8", "application/xop+xml; ...").
  // For a plain message, the message's Content-Type.
  std::string soap_part_content_type;
  // The SOAP part's MIME headers (empty for a plain message).
  mime::HeaderList soap_part_headers;
  std::vector<Attachment> attachments;
  // The X-Road header; set for every message that is not a fault, and for faults that carry one.
  std::optional<SoapHeader> header;
  // The first element of the Body.
  std::string body_namespace;
  std::string body_local_name;
  // Set when the body's first element is SOAP-ENV:Fault.
  std::optional<SoapFault> fault;

  [[nodiscard]] bool is_fault() const noexcept { return fault.has_value(); }
  [[nodiscard]] bool has_attachments() const noexcept { return !attachments.empty(); }
};

// Whether a message is a request (service required) or a response.
enum class SoapRole { kRequest, kResponse };

struct SoapParseOptions {
  SoapRole role = SoapRole::kRequest;
  SoapLimits limits;
  // Validate the header against schemas/xroad-soap-header.xsd (compiled into the library) after
  // the rule checks above. Off only for benchmarks.
  bool validate_schema = true;
};

// Parses a SOAP message from an HTTP Content-Type and body (PR-MESS 2.2-2.4). The body is moved
// into the result's buffer (no copy). Fails with the codes listed at the top of this file.
[[nodiscard]] Result<SoapMessage> parse_soap(std::string_view content_type, std::string body,
                                             const SoapParseOptions& options = {});
// The same over a shared buffer.
[[nodiscard]] Result<SoapMessage> parse_soap(std::string_view content_type,
                                             std::shared_ptr<const std::string> body,
                                             const SoapParseOptions& options = {});

// Parses a SOAP part whose attachments were already separated (a node-to-node transport message,
// PR-MESSTRANSP 3.1): `soap_part` and the attachments' data must point into `buffer`.
// `original_content_type` is x-original-content-type; `soap_part_content_type` the part's type
// (text/xml or application/xop+xml). Fails like parse_soap.
[[nodiscard]] Result<SoapMessage> parse_soap_part(std::shared_ptr<const std::string> buffer,
                                                  std::string_view original_content_type,
                                                  std::string_view soap_part_content_type,
                                                  std::string_view soap_part,
                                                  std::vector<Attachment> attachments,
                                                  const SoapParseOptions& options = {});

// The HTTP body and Content-Type to send a message to an information system: the SOAP part alone
// for a plain message; otherwise a multipart/related package framed with the boundary of
// `original_content_type` (a fresh one when it has none or it occurs in the data), the SOAP part
// first with Content-Transfer-Encoding 8bit (PR-MESS 2.4), then each attachment with its headers.
struct HttpBody {
  std::string content_type;
  std::string body;
};
[[nodiscard]] Result<HttpBody> build_soap_package(std::string_view original_content_type,
                                                  std::string_view soap_part_content_type,
                                                  std::string_view soap_part,
                                                  std::span<const Attachment> attachments);

// Writes a SOAP envelope: the X-Road header fields of `header` in PR-MESS order (client, service,
// securityServer, representedParty, id, userId, issue, protocolVersion, requestHash,
// securityToken; `elements` is ignored) and `body_xml` (serialized XML placed inside SOAP-ENV:Body
// as is; it must declare the namespaces it uses other than SOAP-ENV, xroad and id).
[[nodiscard]] std::string build_soap_message(const SoapHeader& header, std::string_view body_xml);

// --- Faults (PR-MESS 2.5, Annex D) ---

// A fault envelope (no X-Road header), as X-Road writes it:
// faultcode, faultstring, faultactor (empty when unset), detail/faultDetail (when set).
[[nodiscard]] std::string build_fault(const SoapFault& fault);
// The fault for `error` raised at `origin`: faultcode error.render(origin), faultstring
// error.message, faultDetail `detail_id` (a UUID also written to the node's log).
[[nodiscard]] std::string build_fault(const Error& error, Origin origin,
                                      std::string_view detail_id);
// Reads a fault envelope. InvalidSoap when it is not a SOAP envelope whose body is a Fault with a
// faultcode; limits as for parse_soap.
[[nodiscard]] Result<SoapFault> parse_fault(std::string_view xml, const SoapLimits& limits = {});

// --- requestHash (PR-MESS 2.2) and consistency (X-Road's consumer node checks) ---

// base64(H(request_soap_part)): the requestHash value for a request's SOAP part.
[[nodiscard]] std::string compute_request_hash(crypto::DigestAlgorithm algorithm,
                                               std::string_view request_soap_part);

// The provider's node: returns `response_soap_part` with any requestHash element removed and a new
// <xroad:requestHash algorithmId="..."> holding compute_request_hash(request) appended to the
// Header. The rest of the document is kept (re-serialized by libxml2: same meaning, formatting may
// differ); the element uses the prefix the response uses for the X-Road namespace. InvalidSoap
// when it is not a SOAP envelope, MissingHeader when it has no Header.
[[nodiscard]] Result<std::string> insert_request_hash(
    std::string_view response_soap_part, std::string_view request_soap_part,
    crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512,
    const SoapLimits& limits = {});

// The client's node: checks the response's requestHash against the request's SOAP part bytes.
// MissingHeaderField when the response has none, InvalidRequest for an unknown algorithmId or bad
// base64, InconsistentResponse when the digest differs.
[[nodiscard]] Status check_request_hash(const SoapHeader& response,
                                        std::string_view request_soap_part);

// The client's node: the response echoes the request's client, service, id, userId, issue,
// representedParty (X-Road's SoapUtils.checkConsistency) and protocolVersion.
// InconsistentResponse naming the field. (The proxy wraps it as ServiceFailed.InconsistentResponse
// as X-Road does.)
[[nodiscard]] Status check_response_consistency(const SoapHeader& request,
                                                const SoapHeader& response);

// True when the response's header elements are the request's, in the same order (PR-MESS 2.2:
// the service copies every header field in sequence), requestHash ignored on both sides. X-Road's
// nodes do not enforce this; tests and diagnostics use it.
[[nodiscard]] bool header_order_echoed(const SoapHeader& request,
                                       const SoapHeader& response) noexcept;

}  // namespace hansa::message
