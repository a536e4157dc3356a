#include "core/management/request.h"

#include <array>
#include <charconv>
#include <span>
#include <utility>
#include <vector>

#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/ids/xml_parse.h"
#include "core/ids/xml_print.h"
#include "core/mime/content_type.h"
#include "core/mime/reader.h"
#include "core/mime/writer.h"
#include "core/xml/xml.h"

namespace hansa::management {

namespace {

constexpr std::string_view kSoapNamespace = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kSignatureAlgorithmHeader = "signature-algorithm-id";
constexpr std::string_view kOctetStream = "application/octet-stream";

constexpr std::array<std::pair<RequestType, std::string_view>, 5> kTypeNames = {{
    {RequestType::kAuthCertReg, "authCertReg"},
    {RequestType::kClientReg, "clientReg"},
    {RequestType::kClientDeletion, "clientDeletion"},
    {RequestType::kOwnerChange, "ownerChange"},
    {RequestType::kAddressChange, "addressChange"},
}};

Error soap_error(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidSoap, std::move(message), std::move(detail));
}

Error request_error(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidRequest, std::move(message), std::move(detail));
}

ids::XmlElementOptions inner(std::string_view qualified_name) {
  ids::XmlElementOptions o;
  o.qualified_name = qualified_name;
  o.namespace_uri = ids::kXRoadNamespace;
  o.declare_namespaces = false;
  return o;
}

std::string envelope_open() {
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"";
  s += kSoapNamespace;
  s += "\" xmlns:id=\"";
  s += ids::kIdentifiersNamespace;
  s += "\" xmlns:xroad=\"";
  s += ids::kXRoadNamespace;
  s += "\">";
  return s;
}

std::string header_xml(const MessageHeader& header) {
  std::string s = "<SOAP-ENV:Header>";
  s += ids::to_xml(header.client, inner("xroad:client"));
  s += ids::to_xml(header.service, inner("xroad:service"));
  s += "<xroad:id>" + ids::xml_escape(header.id) + "</xroad:id>";
  s += "<xroad:protocolVersion>" + ids::xml_escape(header.protocol_version) +
       "</xroad:protocolVersion>";
  s += "</SOAP-ENV:Header>";
  return s;
}

// The body fields in schema order (PR-MSERV 2.x), without the wrapper.
std::string body_fields_xml(const RequestBody& body) {
  std::string s = ids::to_xml(body.server, inner("xroad:server"));
  switch (body.type) {
    case RequestType::kAuthCertReg:
      if (body.address) {
        s += "<xroad:address>" + ids::xml_escape(*body.address) + "</xroad:address>";
      }
      s += "<xroad:authCert>" + crypto::base64_encode(body.auth_cert_der) + "</xroad:authCert>";
      break;
    case RequestType::kClientReg:
    case RequestType::kClientDeletion:
    case RequestType::kOwnerChange:
      if (body.client) {
        s += ids::to_xml(*body.client, inner("xroad:client"));
      }
      if (body.type == RequestType::kClientReg && body.subsystem_name) {
        s += "<xroad:subsystemName>" + ids::xml_escape(*body.subsystem_name) +
             "</xroad:subsystemName>";
      }
      break;
    case RequestType::kAddressChange:
      s += "<xroad:address>" + ids::xml_escape(body.address.value_or("")) + "</xroad:address>";
      break;
  }
  return s;
}

Status check_body_complete(const RequestBody& body) {
  switch (body.type) {
    case RequestType::kAuthCertReg:
      if (body.auth_cert_der.empty()) {
        return request_error("authCertReg needs the authentication certificate");
      }
      break;
    case RequestType::kClientReg:
    case RequestType::kClientDeletion:
      if (!body.client) {
        return request_error(std::string(request_type_name(body.type)) + " needs a client");
      }
      break;
    case RequestType::kOwnerChange:
      if (!body.client || body.client->is_subsystem()) {
        return request_error("ownerChange needs the new owner, a member");
      }
      break;
    case RequestType::kAddressChange:
      if (!body.address || body.address->empty()) {
        return request_error("addressChange needs a non-empty address");
      }
      break;
  }
  return ok_status();
}

// --- parsing helpers ---

// The single element child of `parent` named {ns}local, or an error when absent / repeated.
Result<xml::Element> only_child(const xml::Element& parent, std::string_view ns,
                                std::string_view local, std::string_view where) {
  auto list = parent.children(ns, local);
  if (list.empty()) {
    return soap_error(std::string(where) + " has no " + std::string(local) + " element");
  }
  if (list.size() > 1) {
    return soap_error(std::string(where) + " has more than one " + std::string(local) + " element");
  }
  return list.front();
}

Result<std::string> simple_text(const xml::Element& e, std::size_t max_bytes) {
  if (e.first_child().valid()) {
    return soap_error("element " + std::string(e.local_name()) + " must hold text only");
  }
  std::string t = e.text();
  if (t.size() > max_bytes) {
    return Error(FaultCode::kLimitExceeded, "element " + std::string(e.local_name()) +
                                                " is longer than " + std::to_string(max_bytes) +
                                                " bytes");
  }
  return t;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

Result<xml::Document> parse_envelope(std::string_view soap, const RequestLimits& limits) {
  if (soap.size() > limits.max_soap_bytes) {
    return Error(FaultCode::kLimitExceeded,
                 "SOAP message is larger than " + std::to_string(limits.max_soap_bytes) + " bytes");
  }
  xml::ParseLimits pl;
  pl.max_document_bytes = limits.max_soap_bytes;
  pl.max_depth = limits.max_xml_depth;
  pl.max_text_bytes = limits.max_soap_bytes;
  pl.max_elements = 10'000;
  auto doc = xml::Document::parse(soap, pl);
  if (!doc.ok()) {
    if (doc.error().code == FaultCode::kLimitExceeded) {
      return std::move(doc).error();
    }
    return soap_error("SOAP message is not well-formed XML: " + doc.error().message,
                      doc.error().detail);
  }
  if (!doc->root().is(kSoapNamespace, "Envelope")) {
    return soap_error("root element is not a SOAP 1.1 Envelope");
  }
  return std::move(doc).value();
}

Result<MessageHeader> parse_header(const xml::Element& envelope, const RequestLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto header, only_child(envelope, kSoapNamespace, "Header", "Envelope"));
  HANSA_ASSIGN_OR_RETURN(auto client_el,
                         only_child(header, ids::kXRoadNamespace, "client", "SOAP Header"));
  HANSA_ASSIGN_OR_RETURN(auto service_el,
                         only_child(header, ids::kXRoadNamespace, "service", "SOAP Header"));
  HANSA_ASSIGN_OR_RETURN(auto id_el, only_child(header, ids::kXRoadNamespace, "id", "SOAP Header"));
  HANSA_ASSIGN_OR_RETURN(
      auto version_el, only_child(header, ids::kXRoadNamespace, "protocolVersion", "SOAP Header"));
  HANSA_ASSIGN_OR_RETURN(auto client, ids::client_from_xml(client_el));
  HANSA_ASSIGN_OR_RETURN(auto service, ids::service_from_xml(service_el));
  HANSA_ASSIGN_OR_RETURN(auto id, simple_text(id_el, limits.max_text_bytes));
  HANSA_ASSIGN_OR_RETURN(auto version, simple_text(version_el, 16));
  if (trim(id).empty()) {
    return soap_error("SOAP header id is empty");
  }
  if (trim(version) != "4.0") {
    return Error(FaultCode::kInvalidProtocolVersion,
                 "unsupported protocolVersion '" + version + "' (expected 4.0)");
  }
  MessageHeader h{std::move(client), std::move(service), std::string(trim(id)), "4.0"};
  return h;
}

// Parses the body fields of `type` from the children of `wrapper`.
Result<RequestBody> parse_body_fields(RequestType type, const xml::Element& wrapper,
                                      const RequestLimits& limits, bool response,
                                      std::optional<std::int64_t>* request_id) {
  std::optional<ids::SecurityServerId> server;
  std::optional<ids::ClientId> client;
  std::optional<std::string> subsystem_name;
  std::optional<std::string> address;
  std::optional<std::string> auth_cert;
  const std::string where = "body element " + std::string(request_type_name(type));
  if (wrapper.has_non_blank_text_child()) {
    return soap_error(where + " holds text outside its fields");
  }
  auto seen_twice = [&](std::string_view name) {
    return soap_error(where + " has more than one " + std::string(name) + " element");
  };
  for (const auto& child : wrapper.children()) {
    if (child.namespace_uri() != ids::kXRoadNamespace) {
      return soap_error(where + " has an unexpected element {" +
                        std::string(child.namespace_uri()) + "}" + std::string(child.local_name()));
    }
    const std::string_view name = child.local_name();
    if (name == "server") {
      if (server) {
        return seen_twice(name);
      }
      HANSA_ASSIGN_OR_RETURN(auto s, ids::security_server_from_xml(child));
      server = std::move(s);
    } else if (name == "client" &&
               (type == RequestType::kClientReg || type == RequestType::kClientDeletion ||
                type == RequestType::kOwnerChange)) {
      if (client) {
        return seen_twice(name);
      }
      HANSA_ASSIGN_OR_RETURN(auto c, ids::client_from_xml(child));
      client = std::move(c);
    } else if (name == "subsystemName" && type == RequestType::kClientReg) {
      if (subsystem_name) {
        return seen_twice(name);
      }
      HANSA_ASSIGN_OR_RETURN(auto t, simple_text(child, limits.max_text_bytes));
      subsystem_name = std::move(t);
    } else if (name == "address" &&
               (type == RequestType::kAuthCertReg || type == RequestType::kAddressChange)) {
      if (address) {
        return seen_twice(name);
      }
      HANSA_ASSIGN_OR_RETURN(auto t, simple_text(child, limits.max_text_bytes));
      address = std::string(trim(t));
    } else if (name == "authCert" && type == RequestType::kAuthCertReg) {
      if (auth_cert) {
        return seen_twice(name);
      }
      HANSA_ASSIGN_OR_RETURN(auto t, simple_text(child, limits.max_cert_bytes * 2));
      auto der = crypto::base64_decode(t);
      if (!der.ok()) {
        return soap_error("authCert is not valid base64");
      }
      auth_cert = std::move(der).value();
    } else if (name == "requestId") {
      HANSA_ASSIGN_OR_RETURN(auto t, simple_text(child, 32));
      if (request_id != nullptr) {
        const std::string_view v = trim(t);
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
          return soap_error("requestId is not a number");
        }
        *request_id = n;
      }
    } else {
      return soap_error(where + " has an unexpected element " + std::string(name));
    }
  }
  if (!server) {
    return soap_error(where + " has no server element");
  }
  RequestBody body{type,
                   std::move(*server),
                   std::move(client),
                   std::move(subsystem_name),
                   std::move(address),
                   auth_cert.value_or("")};
  if (type == RequestType::kAuthCertReg && !auth_cert) {
    return soap_error(where + " has no authCert element");
  }
  if ((type == RequestType::kClientReg || type == RequestType::kClientDeletion ||
       type == RequestType::kOwnerChange) &&
      !body.client) {
    return soap_error(where + " has no client element");
  }
  if (type == RequestType::kAddressChange && (!body.address || body.address->empty())) {
    return soap_error(where + " has no (or an empty) address element");
  }
  if (type == RequestType::kOwnerChange && body.client->is_subsystem()) {
    return request_error("ownerChange: the new owner must be a member, not a subsystem",
                         body.client->to_string());
  }
  (void)response;
  return body;
}

Result<SignaturePart> read_signature(const mime::Part& part, std::size_t index,
                                     const RequestLimits& limits, std::string_view what) {
  auto alg_name = part.headers.get(kSignatureAlgorithmHeader);
  if (!alg_name) {
    return Error(FaultCode::kMimeParsingFailed, std::string(what) + " (part " +
                                                    std::to_string(index + 1) +
                                                    ") has no signature-algorithm-id header");
  }
  auto alg = crypto::signature_from_id(trim(*alg_name));
  if (!alg) {
    return request_error(std::string(what) + ": unsupported signature algorithm '" +
                         std::string(*alg_name) + "'");
  }
  if (part.body.empty()) {
    return request_error(std::string(what) + " is empty");
  }
  if (part.body.size() > limits.max_signature_bytes) {
    return Error(FaultCode::kLimitExceeded, std::string(what) + " is larger than " +
                                                std::to_string(limits.max_signature_bytes) +
                                                " bytes");
  }
  return SignaturePart{*alg, std::string(part.body)};
}

Result<std::string> read_blob(const mime::Part& part, std::size_t max_bytes,
                              std::string_view what) {
  if (part.body.empty()) {
    return request_error(std::string(what) + " is empty");
  }
  if (part.body.size() > max_bytes) {
    return Error(FaultCode::kLimitExceeded,
                 std::string(what) + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return std::string(part.body);
}

}  // namespace

std::string_view request_type_name(RequestType type) noexcept {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) {
      return name;
    }
  }
  return "unknown";
}

std::optional<RequestType> request_type_from_name(std::string_view name) noexcept {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) {
      return t;
    }
  }
  return std::nullopt;
}

RequestBody RequestBody::auth_cert_reg(ids::SecurityServerId server, std::string auth_cert_der,
                                       std::optional<std::string> address) {
  return RequestBody{RequestType::kAuthCertReg, std::move(server),       std::nullopt, std::nullopt,
                     std::move(address),        std::move(auth_cert_der)};
}

RequestBody RequestBody::client_reg(ids::SecurityServerId server, ids::ClientId client,
                                    std::optional<std::string> subsystem_name) {
  return RequestBody{RequestType::kClientReg,   std::move(server), std::move(client),
                     std::move(subsystem_name), std::nullopt,      {}};
}

RequestBody RequestBody::client_deletion(ids::SecurityServerId server, ids::ClientId client) {
  return RequestBody{RequestType::kClientDeletion,
                     std::move(server),
                     std::move(client),
                     std::nullopt,
                     std::nullopt,
                     {}};
}

RequestBody RequestBody::owner_change(ids::SecurityServerId server, ids::MemberId new_owner) {
  return RequestBody{RequestType::kOwnerChange,
                     std::move(server),
                     ids::ClientId(std::move(new_owner)),
                     std::nullopt,
                     std::nullopt,
                     {}};
}

RequestBody RequestBody::address_change(ids::SecurityServerId server, std::string address) {
  return RequestBody{RequestType::kAddressChange,
                     std::move(server),
                     std::nullopt,
                     std::nullopt,
                     std::move(address),
                     {}};
}

ids::MemberId RequestBody::signing_member() const {
  switch (type) {
    case RequestType::kClientReg:
    case RequestType::kClientDeletion:
    case RequestType::kOwnerChange:
      if (client) {
        return client->member();
      }
      break;
    case RequestType::kAuthCertReg:
    case RequestType::kAddressChange:
      break;
  }
  return server.owner();
}

Signer key_signer(crypto::PrivateKey key) {
  return [key = std::move(key)](crypto::SignatureAlgorithm alg,
                                std::string_view data) -> Result<std::string> {
    return key.sign(alg, data);
  };
}

std::string build_soap(const Request& request) {
  std::string s = envelope_open();
  s += header_xml(request.header);
  s += "<SOAP-ENV:Body><xroad:";
  s += request_type_name(request.body.type);
  s += ">";
  s += body_fields_xml(request.body);
  s += "</xroad:";
  s += request_type_name(request.body.type);
  s += "></SOAP-ENV:Body></SOAP-ENV:Envelope>\n";
  return s;
}

Result<BuiltRequest> build_request(const RequestToSign& input) {
  HANSA_RETURN_IF_ERROR(check_body_complete(input.body));
  if (!input.owner.sign) {
    return request_error("management request needs the owner's signer");
  }
  if (input.owner_cert_der.empty() || input.owner_ocsp_der.empty()) {
    return request_error(
        "management request needs the owner's signing certificate and its OCSP "
        "response");
  }
  const bool auth_cert_reg = input.body.type == RequestType::kAuthCertReg;
  if (auth_cert_reg && (!input.auth || !input.auth->sign)) {
    return request_error("authCertReg needs the authentication key's signer");
  }
  HANSA_ASSIGN_OR_RETURN(auto service, ids::ServiceId::create(input.service_provider,
                                                              request_type_name(input.body.type)));
  std::string message_id = input.message_id.empty() ? crypto::random_uuid() : input.message_id;
  Request request{MessageHeader{ids::ClientId(input.body.server.owner()), std::move(service),
                                message_id, "4.0"},
                  input.body};
  std::string soap = build_soap(request);

  HANSA_ASSIGN_OR_RETURN(auto owner_sig, input.owner.sign(input.owner.algorithm, soap));
  auto sig_part = [](crypto::SignatureAlgorithm alg, std::string sig) {
    mime::OutgoingPart p;
    p.headers.add("Content-Type", std::string(kOctetStream));
    p.headers.add(std::string(kSignatureAlgorithmHeader), std::string(crypto::signature_id(alg)));
    p.body = std::move(sig);
    return p;
  };
  auto blob_part = [](std::string bytes) {
    mime::OutgoingPart p;
    p.headers.add("Content-Type", std::string(kOctetStream));
    p.body = std::move(bytes);
    return p;
  };
  std::vector<mime::OutgoingPart> parts;
  mime::OutgoingPart soap_part;
  soap_part.headers.add("Content-Type", "text/xml; charset=UTF-8");
  soap_part.body = soap;
  parts.push_back(std::move(soap_part));
  if (auth_cert_reg) {
    HANSA_ASSIGN_OR_RETURN(auto auth_sig, input.auth->sign(input.auth->algorithm, soap));
    parts.push_back(sig_part(input.auth->algorithm, std::move(auth_sig)));
    parts.push_back(sig_part(input.owner.algorithm, std::move(owner_sig)));
    parts.push_back(blob_part(input.body.auth_cert_der));
  } else {
    parts.push_back(sig_part(input.owner.algorithm, std::move(owner_sig)));
  }
  parts.push_back(blob_part(input.owner_cert_der));
  parts.push_back(blob_part(input.owner_ocsp_der));

  HANSA_ASSIGN_OR_RETURN(
      auto built, mime::build_multipart("related", std::span<const mime::OutgoingPart>(parts)));
  built.content_type.set_param("type", "text/xml");
  built.content_type.set_param("charset", "UTF-8");
  return BuiltRequest{built.content_type.to_string(), std::move(built.body), std::move(soap),
                      std::move(message_id)};
}

Result<ParsedRequest> parse_request(std::string_view content_type, std::string_view body,
                                    const RequestLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return Error(FaultCode::kLimitExceeded, "management request body is larger than " +
                                                std::to_string(limits.max_body_bytes) + " bytes");
  }
  auto ct = mime::ContentType::parse(content_type);
  if (!ct.ok()) {
    return Error(FaultCode::kInvalidContentType,
                 "management request Content-Type is malformed: " + ct.error().message);
  }
  if (!ct->is("multipart/related")) {
    return Error(FaultCode::kInvalidContentType,
                 "management request must be multipart/related, got " + ct->mime_type());
  }
  if (!ct->boundary()) {
    return Error(FaultCode::kInvalidContentType, "multipart/related without a boundary");
  }
  mime::MimeLimits ml;
  ml.max_part_count = limits.max_parts;
  ml.max_part_size = limits.max_body_bytes;
  ml.max_total_size = limits.max_body_bytes;
  ml.max_nesting_depth = 0;
  auto mp = mime::parse_multipart(body, *ct, ml, /*parse_nested=*/false);
  if (!mp.ok()) {
    Error e = std::move(mp).error();
    if (e.code == FaultCode::kLimitExceeded) {
      e.message = "management request: " + e.message;
      return e;
    }
    return Error(FaultCode::kMimeParsingFailed,
                 "management request is not a valid multipart body: " + e.message, e.detail);
  }
  auto& parts = mp->parts;
  if (parts.empty()) {
    return Error(FaultCode::kMimeParsingFailed, "management request has no parts");
  }
  auto first_ct = parts[0].content_type();
  if (!first_ct.ok() || !first_ct->is("text/xml")) {
    return Error(FaultCode::kMissingSoap,
                 "first part of a management request must be the SOAP message (text/xml)");
  }
  std::string soap(parts[0].body);
  HANSA_ASSIGN_OR_RETURN(auto doc, parse_envelope(soap, limits));
  const xml::Element envelope = doc.root();
  HANSA_ASSIGN_OR_RETURN(auto header, parse_header(envelope, limits));
  HANSA_ASSIGN_OR_RETURN(auto body_el, only_child(envelope, kSoapNamespace, "Body", "Envelope"));
  auto body_children = body_el.children();
  if (body_children.size() != 1) {
    return soap_error("SOAP Body must hold exactly one element, found " +
                      std::to_string(body_children.size()));
  }
  const xml::Element wrapper = body_children.front();
  if (wrapper.namespace_uri() != ids::kXRoadNamespace) {
    return soap_error("SOAP Body element is not in the X-Road namespace");
  }
  auto type = request_type_from_name(wrapper.local_name());
  if (!type) {
    return Error(FaultCode::kUnknownService,
                 "unknown management request '" + std::string(wrapper.local_name()) + "'");
  }
  if (header.service.service_code() != wrapper.local_name()) {
    return Error(FaultCode::kInconsistentHeaders, "service code '" + header.service.service_code() +
                                                      "' does not name the body element '" +
                                                      std::string(wrapper.local_name()) + "'");
  }
  HANSA_ASSIGN_OR_RETURN(auto fields, parse_body_fields(*type, wrapper, limits, false, nullptr));
  if (header.client.is_subsystem() || header.client.member() != fields.server.owner()) {
    return request_error("sender " + header.client.to_string() +
                         " is not the owner of the security server " + fields.server.to_string());
  }

  const bool auth_cert_reg = *type == RequestType::kAuthCertReg;
  const std::size_t expected = auth_cert_reg ? 6 : 4;
  if (parts.size() != expected) {
    return Error(FaultCode::kMimeParsingFailed,
                 std::string(request_type_name(*type)) + " must have " + std::to_string(expected) +
                     " MIME parts, found " + std::to_string(parts.size()));
  }
  ParsedRequest out{
      Request{std::move(header), std::move(fields)}, std::move(soap), {}, {}, {}, std::nullopt, {}};
  std::size_t i = 1;
  if (auth_cert_reg) {
    HANSA_ASSIGN_OR_RETURN(auto auth_sig,
                           read_signature(parts[i], i, limits, "authentication key signature"));
    out.auth_signature = std::move(auth_sig);
    ++i;
  }
  HANSA_ASSIGN_OR_RETURN(auto owner_sig, read_signature(parts[i], i, limits, "owner signature"));
  out.owner_signature = std::move(owner_sig);
  ++i;
  if (auth_cert_reg) {
    HANSA_ASSIGN_OR_RETURN(
        auto auth_cert, read_blob(parts[i], limits.max_cert_bytes, "authentication certificate"));
    if (auth_cert != out.request.body.auth_cert_der) {
      return request_error(
          "the authentication certificate part differs from the authCert field of the request");
    }
    out.auth_cert_der = std::move(auth_cert);
    ++i;
  }
  HANSA_ASSIGN_OR_RETURN(auto owner_cert,
                         read_blob(parts[i], limits.max_cert_bytes, "owner signing certificate"));
  out.owner_cert_der = std::move(owner_cert);
  ++i;
  HANSA_ASSIGN_OR_RETURN(auto ocsp, read_blob(parts[i], limits.max_ocsp_bytes,
                                              "OCSP response of the owner certificate"));
  out.owner_ocsp_der = std::move(ocsp);
  return out;
}

std::string build_response(const Request& request, std::int64_t request_id) {
  std::string s = envelope_open();
  s += header_xml(request.header);
  const std::string name = std::string(request_type_name(request.body.type)) + "Response";
  s += "<SOAP-ENV:Body><xroad:" + name + ">";
  s += body_fields_xml(request.body);
  s += "<xroad:requestId>" + std::to_string(request_id) + "</xroad:requestId>";
  s += "</xroad:" + name + "></SOAP-ENV:Body></SOAP-ENV:Envelope>\n";
  return s;
}

std::string build_fault(std::string_view fault_code, std::string_view message,
                        std::string_view detail_id) {
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"";
  s += kSoapNamespace;
  s += "\"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>";
  s += ids::xml_escape(fault_code);
  s += "</faultcode><faultstring>";
  s += ids::xml_escape(message);
  s += "</faultstring><faultactor></faultactor><detail><faultDetail>";
  s += ids::xml_escape(detail_id);
  s += "</faultDetail></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n";
  return s;
}

Result<ParsedResponse> parse_response(std::string_view soap, const RequestLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto doc, parse_envelope(soap, limits));
  const xml::Element envelope = doc.root();
  HANSA_ASSIGN_OR_RETURN(auto body_el, only_child(envelope, kSoapNamespace, "Body", "Envelope"));
  auto children = body_el.children();
  if (children.size() != 1) {
    return soap_error("SOAP Body must hold exactly one element");
  }
  const xml::Element wrapper = children.front();
  if (wrapper.is(kSoapNamespace, "Fault")) {
    auto code_el = wrapper.first_child("", "faultcode");
    auto string_el = wrapper.first_child("", "faultstring");
    std::string code_text = code_el ? std::string(trim(code_el.text())) : std::string();
    std::string message = string_el ? string_el.text() : std::string("SOAP fault");
    const auto dot = code_text.rfind('.');
    const std::string last = dot == std::string::npos ? code_text : code_text.substr(dot + 1);
    auto code = fault_from_name(last);
    return Error(code.value_or(FaultCode::kServiceFailed), std::move(message), code_text);
  }
  if (wrapper.namespace_uri() != ids::kXRoadNamespace) {
    return soap_error("SOAP Body element is not in the X-Road namespace");
  }
  std::string_view name = wrapper.local_name();
  constexpr std::string_view kSuffix = "Response";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return soap_error("SOAP Body element " + std::string(name) + " is not a response");
  }
  auto type = request_type_from_name(name.substr(0, name.size() - kSuffix.size()));
  if (!type) {
    return soap_error("unknown management response " + std::string(name));
  }
  HANSA_ASSIGN_OR_RETURN(auto header, parse_header(envelope, limits));
  std::optional<std::int64_t> request_id;
  HANSA_ASSIGN_OR_RETURN(auto fields, parse_body_fields(*type, wrapper, limits, true, &request_id));
  if (!request_id) {
    return soap_error("management response has no requestId");
  }
  return ParsedResponse{Request{std::move(header), std::move(fields)}, *request_id};
}

}  // namespace hansa::management
