#pragma once

// Management requests (PR-MSERV 2.1-2.6): the signed multipart/related messages a node sends to
// the central server to register an authentication certificate (authCertReg), register or delete
// a client (clientReg, clientDeletion), change the server's owner (ownerChange) or its address
// (addressChange), and the SOAP response carrying the central server's requestId. Both sides use
// this codec: the node builds and signs requests and parses responses; central parses requests
// and builds responses (verification against approved CAs lives in central/management).
//
// Wire layout (PR-MSERV 2.1, 2.3): a multipart/related body whose first part is the X-Road SOAP
// request (text/xml; headers client = the server owner, service = the management service
// provider + the request name, id, protocolVersion 4.0), then, each application/octet-stream:
//   authCertReg: auth-key signature over the SOAP bytes (header signature-algorithm-id),
//                owner's signature over the SOAP bytes (signature-algorithm-id), the auth
//                certificate (DER), the owner's signing certificate (DER), its OCSP response;
//   the others:  owner's signature (signature-algorithm-id), owner's signing certificate, its
//                OCSP response.
// Signatures are computed over the exact bytes of the first part.
//
// Threading: pure functions over plain values; thread-safe. Signer callbacks are called on the
// calling thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::management {

// The management requests Hansa implements (PR-MSERV 2.1, 2.2, 2.3, 2.5, 2.6).
enum class RequestType : std::uint8_t {
  kAuthCertReg,
  kClientReg,
  kClientDeletion,
  kOwnerChange,
  kAddressChange,
};

// The service code / body element name: "authCertReg", "clientReg", "clientDeletion",
// "ownerChange", "addressChange".
[[nodiscard]] std::string_view request_type_name(RequestType type) noexcept;
// Inverse of request_type_name (exact); nullopt for anything else.
[[nodiscard]] std::optional<RequestType> request_type_from_name(std::string_view name) noexcept;

// The X-Road SOAP header of a management request (PR-MESS 2.1). Plain value.
struct MessageHeader {
  ids::ClientId client;    // the sender: the security server's owner member
  ids::ServiceId service;  // managementRequestServiceProviderId + serviceCode = request name
  std::string id;          // message id (a UUID when Hansa builds it)
  std::string protocol_version = "4.0";
};

// The request body fields (PR-MSERV 2.x). Which fields are set depends on `type`; use the
// factories. Plain value.
struct RequestBody {
  RequestType type;
  ids::SecurityServerId server;
  // clientReg / clientDeletion: the member or subsystem; ownerChange: the new owner (a member).
  std::optional<ids::ClientId> client;
  // clientReg: optional new subsystem name.
  std::optional<std::string> subsystem_name;
  // authCertReg: optional DNS name or IP of the server; addressChange: the new address.
  std::optional<std::string> address;
  // authCertReg: DER of the authentication certificate being registered.
  std::string auth_cert_der;

  [[nodiscard]] static RequestBody auth_cert_reg(ids::SecurityServerId server,
                                                 std::string auth_cert_der,
                                                 std::optional<std::string> address = {});
  [[nodiscard]] static RequestBody client_reg(ids::SecurityServerId server, ids::ClientId client,
                                              std::optional<std::string> subsystem_name = {});
  [[nodiscard]] static RequestBody client_deletion(ids::SecurityServerId server,
                                                   ids::ClientId client);
  [[nodiscard]] static RequestBody owner_change(ids::SecurityServerId server,
                                                ids::MemberId new_owner);
  [[nodiscard]] static RequestBody address_change(ids::SecurityServerId server,
                                                  std::string address);

  // The member whose signing certificate must sign the request: the client's member for
  // clientReg / clientDeletion / ownerChange, the server's owner for authCertReg /
  // addressChange (X-Road's BaseClientRequestCallback and BaseServerRequestCallback).
  [[nodiscard]] ids::MemberId signing_member() const;
};

// A typed management request: header and body. Plain value.
struct Request {
  MessageHeader header;
  RequestBody body;
};

// Signs `data` with `algorithm` and returns the raw signature (ECDSA: DER). Lets nodes sign with
// tokens or HSMs without exposing the key. Errors are returned from build_request unchanged.
using Signer =
    std::function<Result<std::string>(crypto::SignatureAlgorithm algorithm, std::string_view data)>;

// A Signer over an in-memory private key.
[[nodiscard]] Signer key_signer(crypto::PrivateKey key);

// One signing party: the algorithm written into signature-algorithm-id and the signer.
struct SigningParty {
  crypto::SignatureAlgorithm algorithm = crypto::SignatureAlgorithm::kRsaSha512;
  Signer sign;
};

// Everything build_request needs. Plain value.
struct RequestToSign {
  RequestBody body;
  // managementRequestServiceProviderId from the global configuration (private-params).
  ids::ClientId service_provider;
  // The SOAP header id; empty: a random UUID.
  std::string message_id;
  // The signing member's key, its signing certificate (DER) and an OCSP response for it (DER).
  SigningParty owner;
  std::string owner_cert_der;
  std::string owner_ocsp_der;
  // authCertReg only: proof of possession by the authentication key.
  std::optional<SigningParty> auth;
};

// A built request, ready to POST.
struct BuiltRequest {
  std::string content_type;  // multipart/related; type="text/xml"; boundary=...
  std::string body;
  std::string soap;  // the signed first part
  std::string message_id;
};

// Builds the SOAP message and the signed multipart/related body. Fails with kInvalidRequest for
// missing pieces (no signer, no certificate or OCSP response, authCertReg without `auth`, a body
// without the fields its type needs), or with the signer's error.
[[nodiscard]] Result<BuiltRequest> build_request(const RequestToSign& input);

// The SOAP request message alone (the first part), as build_request writes it.
[[nodiscard]] std::string build_soap(const Request& request);

// Limits applied to untrusted requests. Every field has a safe default.
struct RequestLimits {
  // The whole HTTP body.
  std::size_t max_body_bytes = 1 << 20;
  // MIME parts (authCertReg has 6; more is refused).
  std::size_t max_parts = 8;
  // The SOAP part, and the XML depth inside it.
  std::size_t max_soap_bytes = 256 * 1024;
  std::size_t max_xml_depth = 32;
  // Each certificate, OCSP response and signature part.
  std::size_t max_cert_bytes = 64 * 1024;
  std::size_t max_ocsp_bytes = 64 * 1024;
  std::size_t max_signature_bytes = 16 * 1024;
  // Text fields (address, subsystem name, message id).
  std::size_t max_text_bytes = 1024;
};

// A signature part: its algorithm and raw value.
struct SignaturePart {
  crypto::SignatureAlgorithm algorithm = crypto::SignatureAlgorithm::kRsaSha512;
  std::string value;
};

// A parsed, NOT yet verified request and the raw pieces for verification. Plain value.
struct ParsedRequest {
  Request request;
  std::string soap;  // exact bytes of the first part (what the signatures cover)
  SignaturePart owner_signature;
  std::string owner_cert_der;
  std::string owner_ocsp_der;
  // authCertReg only (auth_cert_der equals request.body.auth_cert_der, checked).
  std::optional<SignaturePart> auth_signature;
  std::string auth_cert_der;
};

// Parses a request body. Checks the MIME structure (multipart/related, the part count of the
// type, text/xml first, signature-algorithm-id on signature parts), the SOAP envelope and X-Road
// headers (client, service, id, protocolVersion 4.0), that the service code names the body
// element and that the header client is the server's owner, and the body fields. Does not verify
// signatures or certificates. Fails with kLimitExceeded (a RequestLimits field),
// kInvalidContentType, kMimeParsingFailed (bad or truncated multipart, wrong part count),
// kInvalidSoap (envelope, headers, body), the core/ids codes for bad identifiers,
// kInvalidRequest (inconsistent fields, unknown signature algorithm), each with a message naming
// what is wrong.
[[nodiscard]] Result<ParsedRequest> parse_request(std::string_view content_type,
                                                  std::string_view body,
                                                  const RequestLimits& limits = {});

// --- Responses (PR-MSERV 2.x: the request echoed with requestId added) ---

// The content type of responses and faults.
inline constexpr std::string_view kResponseContentType = "text/xml; charset=UTF-8";

// A parsed response. Plain value.
struct ParsedResponse {
  Request request;  // the echoed header and body fields
  std::int64_t request_id = 0;
};

// The response SOAP message: the request's header echoed and <xroad:TYPEResponse> with the
// request's body fields and requestId.
[[nodiscard]] std::string build_response(const Request& request, std::int64_t request_id);

// A SOAP 1.1 fault for `error`: faultcode `fault_code` (e.g. "Client.InvalidSignatureValue"),
// faultstring the message, detail/faultDetail `detail_id` (a UUID for log correlation).
[[nodiscard]] std::string build_fault(std::string_view fault_code, std::string_view message,
                                      std::string_view detail_id);

// Parses a response. A SOAP fault is returned as an Error whose code is the faultcode's last
// segment when known (kServiceFailed otherwise) and whose message is the faultstring. Fails with
// kInvalidSoap for anything that is neither a response nor a fault, kLimitExceeded beyond
// limits.max_soap_bytes.
[[nodiscard]] Result<ParsedResponse> parse_response(std::string_view soap,
                                                    const RequestLimits& limits = {});

}  // namespace hansa::management
