#pragma once

// The node-to-node transport message (PR-MESSTRANSP 3.1): HTTP headers and a multipart/mixed body
// whose parts are, in order,
//   request:  application/ocsp-response* (the client node's TLS chain),
//             the message, [application/hash-chain-result, application/hash-chain],
//             signature/bdoc-1.0/ts
//   response: the message, [hash-chain-result, hash-chain], signature/bdoc-1.0/ts or, when
//             signing failed after streaming began, a text/xml SOAP fault as the last part
// where the message is a SOAP part (text/xml or application/xop+xml) followed by a nested
// multipart/mixed of attachments when it has any, or a REST head (application/x-road-rest-request
// / -response) followed by application/x-road-rest-body when there is a body.
// A response whose Content-Type is text/xml is a SOAP fault: the request was rejected early.
//
// Decoding faults: InvalidContentType (not multipart/mixed, unknown or misplaced part type),
// MimeParsingFailed (broken framing, truncated body), MissingSoap / MissingRest (no message part,
// or the wrong kind for x-road-message-type), MissingSignature (no signature part),
// MalformedSignature (hash chain without its result or vice versa), MissingHeaderField (a required
// HTTP header), LimitExceeded (TransportLimits).
//
// Threading: free functions over values, thread-safe. DecodedTransport's views point into its
// shared buffer.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/mime/headers.h"
#include "node/message/soap.h"

namespace hansa::message {

// HTTP headers of the transport message (PR-MESSTRANSP 3.2 step 4a/4b), lower case as X-Road.
inline constexpr std::string_view kRequestIdHeader = "x-road-request-id";
inline constexpr std::string_view kHashAlgorithmHeader = "x-hash-algorithm";
inline constexpr std::string_view kOriginalContentTypeHeader = "x-original-content-type";
inline constexpr std::string_view kProxyVersionHeader = "x-proxy-version";
inline constexpr std::string_view kOriginalSoapActionHeader = "x-original-soapaction";
inline constexpr std::string_view kMessageTypeHeader = "x-road-message-type";
inline constexpr std::string_view kMessageTypeRest = "REST";

// Part content types (PR-MESSTRANSP 3.1).
inline constexpr std::string_view kOcspResponseType = "application/ocsp-response";
inline constexpr std::string_view kRestRequestType = "application/x-road-rest-request";
inline constexpr std::string_view kRestResponseType = "application/x-road-rest-response";
inline constexpr std::string_view kRestBodyType = "application/x-road-rest-body";
inline constexpr std::string_view kHashChainResultType = "application/hash-chain-result";
inline constexpr std::string_view kHashChainType = "application/hash-chain";
inline constexpr std::string_view kSignatureType = "signature/bdoc-1.0/ts";

// The version this node announces in x-proxy-version.
inline constexpr std::string_view kHansaProxyVersion = "hansa-1.0";

enum class MessageKind { kSoap, kRest };

// The transport's HTTP-level metadata.
struct TransportMeta {
  MessageKind kind = MessageKind::kSoap;
  std::string request_id;  // x-road-request-id (UUID; the same for a request and its response)
  crypto::DigestAlgorithm hash_algorithm = crypto::DigestAlgorithm::kSha512;  // x-hash-algorithm
  // x-original-content-type: the IS's Content-Type (SOAP); for REST the body's Content-Type when
  // known (X-Road sends it for REST too).
  std::string original_content_type;
  std::string proxy_version = std::string(kHansaProxyVersion);  // x-proxy-version
  std::optional<std::string> original_soap_action;              // x-original-soapaction (SOAP)
};

// What to encode. Views: the caller keeps the bytes alive during the call.
struct OutgoingTransport {
  TransportMeta meta;
  // Request only: DER OCSP responses for the client node's TLS certificate chain.
  std::vector<std::string_view> ocsp_responses;
  // SOAP: the SOAP part, its Content-Type (text/xml; charset=UTF-8 or application/xop+xml; ...)
  // and its attachments (their headers are written as received).
  std::string_view soap_part;
  std::string soap_part_content_type = std::string(kTextXmlContentType);
  std::span<const Attachment> attachments;
  // REST: the serialized head (serialize_rest_request_head / _response_head) and the body (no
  // body part when nullopt or empty).
  std::string_view rest_head;
  std::optional<std::string_view> rest_body;
  // Batch signatures: sig-hashchainresult.xml and this message's sig-hashchain.xml (both or
  // neither).
  std::string_view hash_chain_result;
  std::string_view hash_chain;
  // signatures.xml. For a response, may be empty when `trailing_fault` is set instead.
  std::string_view signature;
  // Response only: a SOAP fault written as the last part instead of a signature.
  std::optional<std::string_view> trailing_fault;
};

// An encoded transport message: the HTTP headers to send (Content-Type first) and the body.
struct EncodedTransport {
  HeaderFields headers;
  std::string content_type;  // multipart/mixed; charset=UTF-8; boundary=...
  std::string body;
};

// Encodes a request (PR-MESSTRANSP 3.2 step 4). InvalidRequest for an inconsistent input (no
// message part, a hash chain without its result, no signature).
[[nodiscard]] Result<EncodedTransport> encode_request(const OutgoingTransport& message);
// Encodes a response (PR-MESSTRANSP 3.3 step 7): no OCSP parts.
[[nodiscard]] Result<EncodedTransport> encode_response(const OutgoingTransport& message);
// A bare SOAP fault answer (early rejection): Content-Type text/xml; charset=UTF-8.
[[nodiscard]] EncodedTransport encode_fault_response(std::string fault_xml);

struct TransportLimits {
  std::size_t max_body_bytes = 80 * 1024 * 1024;     // the whole HTTP body
  std::size_t max_parts = 64;                        // parts at the top level
  std::size_t max_ocsp_responses = 8;                // application/ocsp-response parts
  std::size_t max_ocsp_bytes = 64 * 1024;            // one OCSP response
  std::size_t max_message_bytes = 16 * 1024 * 1024;  // the SOAP part or the REST head
  std::size_t max_attachments = 100;                 // parts of the nested attachment multipart
  std::size_t max_part_bytes = 64 * 1024 * 1024;     // one attachment or REST body
  std::size_t max_signature_bytes = 1024 * 1024;     // signature and hash chain parts
  std::size_t max_part_headers = 50;                 // header fields of one part
  std::size_t max_header_line = 8 * 1024;            // one part header line
  std::size_t max_header_value_bytes = 8 * 1024;     // one x-* HTTP header value
};

// A decoded transport message. Views point into `buffer`.
struct DecodedTransport {
  std::shared_ptr<const std::string> buffer;
  TransportMeta meta;
  // A SOAP fault: the whole bare text/xml response (early rejection) or the last part of a
  // response instead of the signature.
  std::optional<std::string_view> fault;
  bool early_fault = false;  // the response was a bare text/xml fault; nothing else is set
  std::vector<std::string_view> ocsp_responses;
  // SOAP: the SOAP part, its Content-Type and MIME headers, the attachments.
  std::string_view soap_part;
  std::string soap_part_content_type;
  mime::HeaderList soap_part_headers;
  std::vector<Attachment> attachments;
  // REST: the head part and the body part (nullopt when absent).
  std::string_view rest_head;
  std::optional<std::string_view> rest_body;
  // Batch signature parts (empty when the signature is direct).
  std::string_view hash_chain_result;
  std::string_view hash_chain;
  std::string_view signature;  // empty only when `fault` is set
};

// Decodes a request (PR-MESSTRANSP 3.3 steps 2-3) from the HTTP headers and body. Requires
// multipart/mixed, x-road-request-id and x-hash-algorithm; the message kind comes from
// x-road-message-type. Fails with the codes at the top of this file.
[[nodiscard]] Result<DecodedTransport> decode_request(const HeaderFields& http_headers,
                                                      std::string body,
                                                      const TransportLimits& limits = {});
// Decodes a response (PR-MESSTRANSP 3.2 steps 5-6): multipart/mixed (no OCSP parts; last part a
// signature or a text/xml fault) or a bare text/xml fault (early_fault). `expected_kind` is the
// request's kind. Fails with the codes at the top of this file.
[[nodiscard]] Result<DecodedTransport> decode_response(const HeaderFields& http_headers,
                                                       std::string body, MessageKind expected_kind,
                                                       const TransportLimits& limits = {});

// Parses the SOAP message inside a decoded transport (parse_soap_part with its buffer).
[[nodiscard]] Result<SoapMessage> soap_message(const DecodedTransport& transport,
                                               const SoapParseOptions& options = {});

}  // namespace hansa::message
