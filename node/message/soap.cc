#include "node/message/soap.h"

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/crypto/encoding.h"
#include "core/ids/xml_parse.h"
#include "core/ids/xml_print.h"
#include "core/mime/content_type.h"
#include "core/mime/reader.h"
#include "core/mime/writer.h"
#include "core/xml/xml.h"
#include "node/message/internal.h"

namespace hansa::message {

namespace internal {
extern const std::string_view kIdentifiersXsd;
extern const std::string_view kXRoadSoapHeaderXsd;

Attachment make_attachment(const mime::HeaderList& headers, std::string_view data) {
  Attachment a;
  a.headers = headers;
  auto ct = headers.get("Content-Type");
  a.content_type = ct ? std::string(trim(*ct)) : std::string("application/octet-stream");
  if (auto id = headers.get("Content-ID")) {
    a.content_id = strip_content_id(*id);
  }
  a.data = data;
  return a;
}
}  // namespace internal

namespace {

using internal::trim;

// A validation wrapper for the SOAP 1.1 envelope: the Header's children are validated laxly (the
// X-Road elements against schemas/xroad-soap-header.xsd, foreign ones skipped), the Body skipped.
constexpr std::string_view kEnvelopeXsd = R"xsd(<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://schemas.xmlsoap.org/soap/envelope/"
           elementFormDefault="qualified">
  <xs:import namespace="http://x-road.eu/xsd/xroad.xsd" schemaLocation="xroad-soap-header.xsd"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header" minOccurs="0">
          <xs:complexType>
            <xs:sequence>
              <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
            </xs:sequence>
            <xs:anyAttribute namespace="##any" processContents="skip"/>
          </xs:complexType>
        </xs:element>
        <xs:element name="Body">
          <xs:complexType>
            <xs:sequence>
              <xs:any namespace="##any" processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
            </xs:sequence>
            <xs:anyAttribute namespace="##any" processContents="skip"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:anyAttribute namespace="##any" processContents="skip"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
)xsd";

// Loads the compiled-in schemas once. xs:import needs files, so the three documents are written
// to a private temporary directory, compiled, and the directory removed.
Result<xml::Schema> load_header_schema() {
  std::error_code ec;
  std::string tmpl = (std::filesystem::temp_directory_path(ec) / "hansa-xsd-XXXXXX").string();
  if (ec || mkdtemp(tmpl.data()) == nullptr) {
    return Error(FaultCode::kInternalError, "cannot create a directory for the header schema");
  }
  const std::filesystem::path dir(tmpl);
  auto write = [&](const char* name, std::string_view text) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return static_cast<bool>(out);
  };
  Result<xml::Schema> schema = Error(FaultCode::kInternalError, "cannot write the header schema");
  if (write("identifiers.xsd", internal::kIdentifiersXsd) &&
      write("xroad-soap-header.xsd", internal::kXRoadSoapHeaderXsd) &&
      write("envelope.xsd", kEnvelopeXsd)) {
    schema = xml::Schema::load_file(dir / "envelope.xsd");
  }
  std::filesystem::remove_all(dir, ec);
  return schema;
}

const Result<xml::Schema>& header_schema() {
  static const Result<xml::Schema> schema = load_header_schema();
  return schema;
}

Error invalid_soap(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidSoap, std::move(message), std::move(detail));
}

xml::ParseLimits xml_limits(const SoapLimits& limits) {
  xml::ParseLimits x;
  x.max_document_bytes = limits.max_soap_part_bytes;
  x.max_depth = limits.max_xml_depth;
  x.max_elements = limits.max_xml_elements;
  x.max_text_bytes = std::min<std::size_t>(x.max_text_bytes, limits.max_soap_part_bytes);
  return x;
}

Result<xml::Document> parse_xml(std::string_view bytes, const SoapLimits& limits) {
  if (bytes.size() > limits.max_soap_part_bytes) {
    return Error(FaultCode::kLimitExceeded, "SOAP part too large",
                 std::to_string(bytes.size()) + " > " + std::to_string(limits.max_soap_part_bytes));
  }
  auto doc = xml::Document::parse(bytes, xml_limits(limits));
  if (!doc.ok()) {
    if (doc.error().code == FaultCode::kLimitExceeded) {
      return std::move(doc).error();
    }
    return invalid_soap("Malformed SOAP message: " + doc.error().message, doc.error().detail);
  }
  return doc;
}

// The Envelope's Header (may be null) and Body (may be null) after the structural checks.
struct EnvelopeParts {
  xml::Element header;
  xml::Element body;
};

Result<EnvelopeParts> envelope_parts(const xml::Document& doc) {
  const xml::Element root = doc.root();
  if (!root.is(kSoapEnvelopeNamespace, "Envelope")) {
    return invalid_soap("Malformed SOAP message: the root element is not a SOAP 1.1 Envelope",
                        root.expanded_name());
  }
  if (root.has_non_blank_text_child()) {
    return invalid_soap("Malformed SOAP message: text directly inside the Envelope");
  }
  EnvelopeParts parts;
  for (xml::Element e = root.first_child(); e; e = e.next_sibling()) {
    if (e.is(kSoapEnvelopeNamespace, "Header")) {
      if (parts.header || parts.body) {
        return invalid_soap("Malformed SOAP message: Header repeated or after Body");
      }
      parts.header = e;
    } else if (e.is(kSoapEnvelopeNamespace, "Body")) {
      if (parts.body) {
        return invalid_soap("Malformed SOAP message: Body repeated");
      }
      parts.body = e;
    } else if (!parts.body) {
      return invalid_soap("Malformed SOAP message: unexpected element in the Envelope",
                          std::string(e.local_name()));
    }
  }
  return parts;
}

Result<SoapFault> fault_from_element(const xml::Element& fault) {
  SoapFault f;
  bool have_code = false;
  for (xml::Element e = fault.first_child(); e; e = e.next_sibling()) {
    const std::string_view name = e.local_name();
    if (name == "faultcode") {
      f.code = std::string(trim(e.text()));
      have_code = true;
    } else if (name == "faultstring") {
      f.string = e.text();
    } else if (name == "faultactor") {
      f.actor = e.text();
    } else if (name == "detail") {
      xml::Element d = e.first_child();
      for (; d; d = d.next_sibling()) {
        if (d.local_name() == "faultDetail") {
          break;
        }
      }
      f.detail = d ? std::string(trim(d.text())) : std::string(trim(e.text()));
    }
  }
  if (!have_code || f.code.empty()) {
    return invalid_soap("Malformed SOAP fault: no faultcode");
  }
  return f;
}

std::size_t subtree_bytes(const xml::Element& e, std::size_t budget) {
  std::size_t total = e.local_name().size() + e.namespace_uri().size();
  for (xml::Element c = e.first_child(); c && total <= budget; c = c.next_sibling()) {
    total += subtree_bytes(c, budget - std::min(total, budget));
  }
  if (!e.first_child()) {
    total += e.text().size();
  }
  return total;
}

Error duplicate(std::string_view name) {
  return Error(FaultCode::kDuplicateHeaderField,
               "Duplicate header field '" + std::string(name) + "'");
}

Error missing(std::string_view name) {
  return Error(FaultCode::kMissingHeaderField,
               "Required field '" + std::string(name) + "' is missing");
}

Result<RepresentedParty> represented_party_from_xml(const xml::Element& e) {
  RepresentedParty party;
  bool have_code = false;
  for (xml::Element c = e.first_child(); c; c = c.next_sibling()) {
    if (c.is(kRepresentationNamespace, "partyClass") && !party.party_class && !have_code) {
      party.party_class = std::string(trim(c.text()));
    } else if (c.is(kRepresentationNamespace, "partyCode") && !have_code) {
      party.party_code = std::string(trim(c.text()));
      have_code = true;
    } else {
      return invalid_soap("Malformed representedParty header",
                          "unexpected element " + std::string(c.local_name()));
    }
  }
  if (!have_code || party.party_code.empty()) {
    return invalid_soap("Malformed representedParty header", "partyCode missing");
  }
  return party;
}

// Reads the X-Road header (PR-MESS 2.2) from SOAP-ENV:Header.
Result<SoapHeader> header_from_xml(const xml::Element& header, SoapRole role,
                                   const SoapLimits& limits) {
  std::optional<ids::ClientId> client;
  std::optional<ids::ServiceId> service;
  std::optional<std::string> id, user_id, issue, protocol_version, token, token_type;
  std::optional<ids::SecurityServerId> security_server;
  std::optional<RepresentedParty> represented_party;
  std::optional<RequestHash> request_hash;
  std::vector<HeaderElementName> elements;

  if (header.has_non_blank_text_child()) {
    return invalid_soap("Malformed SOAP header: text directly inside the Header");
  }
  std::size_t bytes = 0;
  for (xml::Element e = header.first_child(); e; e = e.next_sibling()) {
    if (elements.size() >= limits.max_header_elements) {
      return Error(FaultCode::kLimitExceeded, "Too many SOAP header elements",
                   std::to_string(limits.max_header_elements));
    }
    bytes += subtree_bytes(e, limits.max_header_bytes + 1);
    if (bytes > limits.max_header_bytes) {
      return Error(FaultCode::kLimitExceeded, "SOAP header too large",
                   std::to_string(limits.max_header_bytes) + " bytes");
    }
    elements.push_back({std::string(e.namespace_uri()), std::string(e.local_name())});
    const std::string_view ns = e.namespace_uri();
    const std::string_view name = e.local_name();
    if (ns == kXRoadNamespace) {
      if (name == "client") {
        if (client) return duplicate(name);
        HANSA_ASSIGN_OR_RETURN(client, ids::client_from_xml(e));
      } else if (name == "service") {
        if (service) return duplicate(name);
        HANSA_ASSIGN_OR_RETURN(service, ids::service_from_xml(e));
      } else if (name == "securityServer") {
        if (security_server) return duplicate(name);
        HANSA_ASSIGN_OR_RETURN(security_server, ids::security_server_from_xml(e));
      } else if (name == "id") {
        if (id) return duplicate(name);
        id = e.text();
      } else if (name == "userId") {
        if (user_id) return duplicate(name);
        user_id = e.text();
      } else if (name == "issue") {
        if (issue) return duplicate(name);
        issue = e.text();
      } else if (name == "protocolVersion") {
        if (protocol_version) return duplicate(name);
        protocol_version = std::string(trim(e.text()));
      } else if (name == "requestHash") {
        if (request_hash) return duplicate(name);
        RequestHash h;
        h.algorithm_id = e.attribute("algorithmId").value_or("");
        for (char c : e.text()) {
          if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            h.value.push_back(c);
          }
        }
        request_hash = std::move(h);
      }
    } else if (ns == kRepresentationNamespace && name == "representedParty") {
      if (represented_party) return duplicate(name);
      HANSA_ASSIGN_OR_RETURN(represented_party, represented_party_from_xml(e));
    } else if (ns == kSecurityTokenNamespace && name == "securityToken") {
      if (token) return duplicate(name);
      token = std::string(trim(e.text()));
      token_type = e.attribute("tokenType");
    }
  }

  if (!client) return missing("client");
  if (role == SoapRole::kRequest && !service) return missing("service");
  if (!id) return missing("id");
  if (!protocol_version) return missing("protocolVersion");
  if (*protocol_version != kProtocolVersion) {
    return Error(FaultCode::kInvalidProtocolVersion, "Unsupported X-Road message protocol version",
                 *protocol_version);
  }
  if (trim(*id).empty()) {
    return Error(FaultCode::kMissingHeaderField, "Required field 'id' is empty");
  }

  return SoapHeader{.client = std::move(*client),
                    .service = std::move(service),
                    .id = std::move(*id),
                    .user_id = std::move(user_id),
                    .issue = std::move(issue),
                    .protocol_version = std::move(*protocol_version),
                    .security_server = std::move(security_server),
                    .represented_party = std::move(represented_party),
                    .request_hash = std::move(request_hash),
                    .security_token = std::move(token),
                    .security_token_type = std::move(token_type),
                    .elements = std::move(elements)};
}

// The common part of parse_soap / parse_soap_part: the SOAP XML itself.
Status parse_envelope(SoapMessage& msg, const SoapParseOptions& options) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, parse_xml(msg.soap_part, options.limits));
  HANSA_ASSIGN_OR_RETURN(EnvelopeParts parts, envelope_parts(doc));
  if (!parts.body) {
    return Error(FaultCode::kMissingBody, "Malformed SOAP message: body missing");
  }
  const xml::Element first = parts.body.first_child();
  if (!first) {
    return Error(FaultCode::kMissingBody, "Malformed SOAP message: body is empty");
  }
  msg.body_namespace = std::string(first.namespace_uri());
  msg.body_local_name = std::string(first.local_name());
  if (first.is(kSoapEnvelopeNamespace, "Fault")) {
    HANSA_ASSIGN_OR_RETURN(msg.fault, fault_from_element(first));
    if (parts.header) {
      // A fault may carry the X-Road header (PR-MESS 2.5); a broken one is not an error here.
      auto header = header_from_xml(parts.header, SoapRole::kResponse, options.limits);
      if (header.ok()) {
        msg.header = std::move(header).value();
      }
    }
    return ok_status();
  }
  if (!parts.header) {
    return Error(FaultCode::kMissingHeader, "Malformed SOAP message: header missing");
  }
  HANSA_ASSIGN_OR_RETURN(msg.header, header_from_xml(parts.header, options.role, options.limits));
  if (options.validate_schema) {
    const auto& schema = header_schema();
    if (!schema.ok()) {
      return schema.error();
    }
    auto valid = schema->validate(doc);
    if (!valid.ok()) {
      return invalid_soap("SOAP header does not conform to the X-Road header schema",
                          valid.error().detail);
    }
  }
  return ok_status();
}

mime::MimeLimits mime_limits(const SoapLimits& limits) {
  mime::MimeLimits m;
  m.max_part_count = limits.max_attachments + 1;
  m.max_headers_per_part = limits.max_part_headers;
  m.max_header_line_length = limits.max_part_header_line;
  m.max_part_size = std::max(limits.max_attachment_bytes, limits.max_soap_part_bytes);
  m.max_total_size = limits.max_message_bytes;
  m.max_nesting_depth = 0;
  return m;
}

bool is_soap_part_type(const mime::ContentType& ct) {
  return ct.is("text/xml") || ct.is("application/xop+xml");
}

}  // namespace

Result<SoapMessage> parse_soap(std::string_view content_type, std::string body,
                               const SoapParseOptions& options) {
  return parse_soap(content_type, std::make_shared<const std::string>(std::move(body)), options);
}

Result<SoapMessage> parse_soap(std::string_view content_type,
                               std::shared_ptr<const std::string> body,
                               const SoapParseOptions& options) {
  HANSA_CHECK(body != nullptr);
  const SoapLimits& limits = options.limits;
  if (body->size() > limits.max_message_bytes) {
    return Error(FaultCode::kLimitExceeded, "Message too large",
                 std::to_string(body->size()) + " > " + std::to_string(limits.max_message_bytes));
  }
  auto ct = mime::ContentType::parse(content_type);
  if (!ct.ok()) {
    return Error(FaultCode::kInvalidContentType, "Invalid content type", std::string(content_type));
  }
  SoapMessage msg;
  msg.buffer = std::move(body);
  msg.content_type = std::string(content_type);
  const std::string_view bytes = *msg.buffer;

  if (ct->is("text/xml")) {
    msg.packaging = SoapPackaging::kPlain;
    msg.soap_part = bytes;
    msg.soap_part_content_type = msg.content_type;
  } else if (ct->is("multipart/related")) {
    if (!ct->boundary()) {
      return Error(FaultCode::kInvalidContentType, "Multipart content type without boundary",
                   std::string(content_type));
    }
    auto mp = mime::parse_multipart(bytes, *ct, mime_limits(limits), /*parse_nested=*/false);
    if (!mp.ok()) {
      Error e = std::move(mp).error();
      if (e.code != FaultCode::kLimitExceeded) {
        e.code = FaultCode::kMimeParsingFailed;
      }
      return e;
    }
    if (mp->parts.empty()) {
      return Error(FaultCode::kMimeParsingFailed, "Multipart message without parts");
    }
    const mime::Part& soap = mp->parts.front();
    auto soap_ct = soap.content_type();
    if (!soap_ct.ok() || !is_soap_part_type(*soap_ct)) {
      return Error(FaultCode::kInvalidContentType,
                   "The first part of a multipart SOAP message must be text/xml or "
                   "application/xop+xml",
                   std::string(soap.headers.get("Content-Type").value_or("")));
    }
    msg.packaging = soap_ct->is("application/xop+xml") ? SoapPackaging::kMtom : SoapPackaging::kSwa;
    msg.soap_part = soap.body;
    msg.soap_part_content_type = std::string(soap.headers.get("Content-Type").value_or(""));
    msg.soap_part_headers = soap.headers;
    if (mp->parts.size() - 1 > limits.max_attachments) {
      return Error(FaultCode::kLimitExceeded, "Too many attachments",
                   std::to_string(limits.max_attachments));
    }
    msg.attachments.reserve(mp->parts.size() - 1);
    for (std::size_t i = 1; i < mp->parts.size(); ++i) {
      const mime::Part& p = mp->parts[i];
      if (p.body.size() > limits.max_attachment_bytes) {
        return Error(
            FaultCode::kLimitExceeded, "Attachment too large",
            std::to_string(p.body.size()) + " > " + std::to_string(limits.max_attachment_bytes));
      }
      msg.attachments.push_back(internal::make_attachment(p.headers, p.body));
    }
  } else {
    return Error(FaultCode::kInvalidContentType, "Invalid content type for a SOAP message",
                 ct->mime_type());
  }
  HANSA_RETURN_IF_ERROR(parse_envelope(msg, options));
  return msg;
}

Result<SoapMessage> parse_soap_part(std::shared_ptr<const std::string> buffer,
                                    std::string_view original_content_type,
                                    std::string_view soap_part_content_type,
                                    std::string_view soap_part, std::vector<Attachment> attachments,
                                    const SoapParseOptions& options) {
  HANSA_CHECK(buffer != nullptr);
  auto ct = mime::ContentType::parse(soap_part_content_type);
  if (!ct.ok() || !is_soap_part_type(*ct)) {
    return Error(FaultCode::kInvalidContentType, "Invalid content type of the SOAP part",
                 std::string(soap_part_content_type));
  }
  if (attachments.size() > options.limits.max_attachments) {
    return Error(FaultCode::kLimitExceeded, "Too many attachments",
                 std::to_string(options.limits.max_attachments));
  }
  SoapMessage msg;
  msg.buffer = std::move(buffer);
  msg.content_type = std::string(original_content_type);
  msg.soap_part = soap_part;
  msg.soap_part_content_type = std::string(soap_part_content_type);
  msg.attachments = std::move(attachments);
  if (ct->is("application/xop+xml")) {
    msg.packaging = SoapPackaging::kMtom;
  } else {
    msg.packaging = msg.attachments.empty() ? SoapPackaging::kPlain : SoapPackaging::kSwa;
  }
  HANSA_RETURN_IF_ERROR(parse_envelope(msg, options));
  return msg;
}

Result<HttpBody> build_soap_package(std::string_view original_content_type,
                                    std::string_view soap_part_content_type,
                                    std::string_view soap_part,
                                    std::span<const Attachment> attachments) {
  auto original = mime::ContentType::parse(original_content_type);
  const bool original_multipart = original.ok() && original->is("multipart/related");
  if (attachments.empty() && !original_multipart) {
    std::string ct = original_content_type.empty() ? std::string(soap_part_content_type)
                                                   : std::string(original_content_type);
    if (ct.empty()) {
      ct = std::string(kTextXmlContentType);
    }
    return HttpBody{std::move(ct), std::string(soap_part)};
  }
  // Keep the sender's boundary when it is safe, so the package is the one the sender made.
  std::vector<std::string_view> bodies;
  bodies.reserve(attachments.size() + 1);
  bodies.push_back(soap_part);
  for (const auto& a : attachments) {
    bodies.push_back(a.data);
  }
  std::string boundary;
  mime::ContentType ct;
  if (original_multipart && original->boundary() &&
      mime::validate_boundary(*original->boundary()).ok() &&
      original->boundary()->size() <= mime::kMaxWrittenBoundaryLength) {
    boundary = std::string(*original->boundary());
    const std::string delimiter = "--" + boundary;
    for (std::string_view b : bodies) {
      if (b.find(delimiter) != std::string_view::npos) {
        boundary.clear();
        break;
      }
    }
  }
  if (boundary.empty()) {
    boundary = mime::random_boundary_for(bodies);
    ct = mime::ContentType::multipart("related", boundary);
    if (original_multipart) {
      for (const auto& [name, value] : original->params()) {
        if (name != "boundary") {
          ct.set_param(name, value);
        }
      }
    } else {
      auto soap_ct = mime::ContentType::parse(soap_part_content_type);
      ct.set_param("type", soap_ct.ok() ? soap_ct->mime_type() : "text/xml");
    }
  } else {
    ct = *original;
  }

  std::string out;
  std::size_t total = soap_part.size() + 512;
  for (const auto& a : attachments) {
    total += a.data.size() + 256;
  }
  out.reserve(total);
  auto writer = mime::MultipartWriter::create(boundary, [&out](std::string_view d) {
    out.append(d);
    return ok_status();
  });
  if (!writer.ok()) {
    return std::move(writer).error();
  }
  mime::HeaderList soap_headers;
  soap_headers.add("Content-Type", soap_part_content_type.empty()
                                       ? std::string(kTextXmlContentType)
                                       : std::string(soap_part_content_type));
  soap_headers.add("Content-Transfer-Encoding", "8bit");
  if (original_multipart && original->start()) {
    soap_headers.add("Content-ID", std::string(*original->start()));
  }
  HANSA_RETURN_IF_ERROR((*writer)->begin_part(soap_headers));
  HANSA_RETURN_IF_ERROR((*writer)->write(soap_part));
  for (const auto& a : attachments) {
    mime::HeaderList h = a.headers;
    if (!h.contains("Content-Type")) {
      h.add("Content-Type", a.content_type.empty() ? "application/octet-stream" : a.content_type);
    }
    HANSA_RETURN_IF_ERROR((*writer)->begin_part(h));
    HANSA_RETURN_IF_ERROR((*writer)->write(a.data));
  }
  HANSA_RETURN_IF_ERROR((*writer)->finish());
  return HttpBody{ct.to_string(), std::move(out)};
}

namespace {

void append_represented_party(std::string& out, const RepresentedParty& party) {
  out += "<repr:representedParty xmlns:repr=\"";
  out += kRepresentationNamespace;
  out += "\">";
  if (party.party_class) {
    out += "<repr:partyClass>" + ids::xml_escape(*party.party_class) + "</repr:partyClass>";
  }
  out += "<repr:partyCode>" + ids::xml_escape(party.party_code) + "</repr:partyCode>";
  out += "</repr:representedParty>";
}

void append_text_element(std::string& out, std::string_view name, std::string_view text) {
  out += "<xroad:";
  out += name;
  out += '>';
  out += ids::xml_escape(text);
  out += "</xroad:";
  out += name;
  out += '>';
}

}  // namespace

std::string build_soap_message(const SoapHeader& header, std::string_view body_xml) {
  std::string out;
  out.reserve(1024 + body_xml.size());
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"";
  out += kSoapEnvelopeNamespace;
  out += "\" xmlns:xroad=\"";
  out += kXRoadNamespace;
  out += "\" xmlns:id=\"";
  out += kIdentifiersNamespace;
  out += "\"><SOAP-ENV:Header>";
  out += ids::to_xml(header.client, {"xroad:client", kXRoadNamespace, false});
  if (header.service) {
    out += ids::to_xml(*header.service, {"xroad:service", kXRoadNamespace, false});
  }
  if (header.security_server) {
    out += ids::to_xml(*header.security_server, {"xroad:securityServer", kXRoadNamespace, false});
  }
  if (header.represented_party) {
    append_represented_party(out, *header.represented_party);
  }
  append_text_element(out, "id", header.id);
  if (header.user_id) {
    append_text_element(out, "userId", *header.user_id);
  }
  if (header.issue) {
    append_text_element(out, "issue", *header.issue);
  }
  append_text_element(out, "protocolVersion", header.protocol_version);
  if (header.request_hash) {
    out += "<xroad:requestHash algorithmId=\"" +
           ids::xml_escape(header.request_hash->algorithm_id) + "\">" +
           ids::xml_escape(header.request_hash->value) + "</xroad:requestHash>";
  }
  if (header.security_token) {
    out += "<tok:securityToken xmlns:tok=\"";
    out += kSecurityTokenNamespace;
    out += "\"";
    if (header.security_token_type) {
      out += " tokenType=\"";
      out += ids::xml_escape(*header.security_token_type);
      out += '"';
    }
    out += '>';
    out += ids::xml_escape(*header.security_token);
    out += "</tok:securityToken>";
  }
  out += "</SOAP-ENV:Header><SOAP-ENV:Body>";
  out += body_xml;
  out += "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
  return out;
}

// --- Faults ---

std::string build_fault(const SoapFault& fault) {
  std::string out;
  out.reserve(512 + fault.string.size());
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"";
  out += kSoapEnvelopeNamespace;
  out += "\"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>";
  out += ids::xml_escape(fault.code);
  out += "</faultcode><faultstring>";
  out += ids::xml_escape(fault.string);
  out += "</faultstring><faultactor>";
  out += ids::xml_escape(fault.actor.value_or(""));
  out += "</faultactor>";
  if (fault.detail) {
    out += "<detail><faultDetail xmlns=\"\">";
    out += ids::xml_escape(*fault.detail);
    out += "</faultDetail></detail>";
  }
  out += "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>";
  return out;
}

std::string build_fault(const Error& error, Origin origin, std::string_view detail_id) {
  SoapFault f;
  f.code = error.render(origin);
  f.string = error.message;
  f.actor = std::string();
  if (!detail_id.empty()) {
    f.detail = std::string(detail_id);
  }
  return build_fault(f);
}

Result<SoapFault> parse_fault(std::string_view xml, const SoapLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, parse_xml(xml, limits));
  HANSA_ASSIGN_OR_RETURN(EnvelopeParts parts, envelope_parts(doc));
  if (!parts.body) {
    return invalid_soap("Malformed SOAP fault: body missing");
  }
  const xml::Element first = parts.body.first_child();
  if (!first || !first.is(kSoapEnvelopeNamespace, "Fault")) {
    return invalid_soap("Not a SOAP fault");
  }
  return fault_from_element(first);
}

// --- requestHash and consistency ---

std::string compute_request_hash(crypto::DigestAlgorithm algorithm,
                                 std::string_view request_soap_part) {
  return crypto::base64_encode(crypto::digest(algorithm, request_soap_part));
}

Result<std::string> insert_request_hash(std::string_view response_soap_part,
                                        std::string_view request_soap_part,
                                        crypto::DigestAlgorithm algorithm,
                                        const SoapLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, parse_xml(response_soap_part, limits));
  HANSA_ASSIGN_OR_RETURN(EnvelopeParts parts, envelope_parts(doc));
  if (!parts.header) {
    return Error(FaultCode::kMissingHeader, "Malformed SOAP response: header missing");
  }
  // The prefix the response already uses for the X-Road namespace, so the new element blends in.
  std::string prefix = "xroad";
  std::vector<xml::Element> old;
  for (xml::Element e = parts.header.first_child(); e; e = e.next_sibling()) {
    if (e.namespace_uri() == kXRoadNamespace) {
      if (e.local_name() == "requestHash") {
        old.push_back(e);
      } else if (!e.prefix().empty()) {
        prefix = std::string(e.prefix());
      }
    }
  }
  for (auto& e : old) {
    e.remove();
  }
  xml::Element hash = parts.header.append_element(kXRoadNamespace, prefix + ":requestHash");
  hash.set_attribute("algorithmId", crypto::digest_uri(algorithm));
  hash.set_text(compute_request_hash(algorithm, request_soap_part));
  // About the response's size plus the new element: reserved, not grown.
  return doc.serialize(true, response_soap_part.size() + 512);
}

Status check_request_hash(const SoapHeader& response, std::string_view request_soap_part) {
  if (!response.request_hash) {
    return Error(FaultCode::kMissingHeaderField, "Response is missing the request hash");
  }
  auto alg = crypto::digest_from_uri(response.request_hash->algorithm_id);
  if (!alg) {
    return Error(FaultCode::kInvalidRequest, "Unknown requestHash algorithm",
                 response.request_hash->algorithm_id);
  }
  auto value = crypto::base64_decode(response.request_hash->value);
  if (!value.ok()) {
    return Error(FaultCode::kInvalidRequest, "requestHash is not base64");
  }
  if (*value != crypto::digest(*alg, request_soap_part)) {
    return Error(FaultCode::kInconsistentResponse,
                 "Request message hash does not match request message");
  }
  return ok_status();
}

Status check_response_consistency(const SoapHeader& request, const SoapHeader& response) {
  auto mismatch = [](std::string_view field) {
    return Error(FaultCode::kInconsistentResponse,
                 "Field '" + std::string(field) + "' does not match in request and response");
  };
  if (request.client != response.client) return mismatch("client");
  if (request.service != response.service) return mismatch("service");
  if (request.id != response.id) return mismatch("id");
  if (request.user_id != response.user_id) return mismatch("userId");
  if (request.issue != response.issue) return mismatch("issue");
  if (request.represented_party != response.represented_party) {
    return mismatch("representedParty");
  }
  if (request.protocol_version != response.protocol_version) {
    return mismatch("protocolVersion");
  }
  return ok_status();
}

bool header_order_echoed(const SoapHeader& request, const SoapHeader& response) noexcept {
  auto is_hash = [](const HeaderElementName& e) {
    return e.namespace_uri == kXRoadNamespace && e.local_name == "requestHash";
  };
  auto a = request.elements.begin();
  auto b = response.elements.begin();
  while (true) {
    while (a != request.elements.end() && is_hash(*a)) ++a;
    while (b != response.elements.end() && is_hash(*b)) ++b;
    if (a == request.elements.end() || b == response.elements.end()) {
      return a == request.elements.end() && b == response.elements.end();
    }
    if (!(*a == *b)) {
      return false;
    }
    ++a;
    ++b;
  }
}

}  // namespace hansa::message
