#include "node/message/metaservices.h"

#include <nlohmann/json.hpp>

#include "core/ids/xml_print.h"
#include "core/xml/xml.h"
#include "node/message/internal.h"

namespace hansa::message {

namespace {

constexpr std::string_view kWsdlSoapNamespace = "http://schemas.xmlsoap.org/wsdl/soap/";
constexpr std::string_view kWsdlSoap12Namespace = "http://schemas.xmlsoap.org/wsdl/soap12/";

Error invalid_soap(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidSoap, std::move(message), std::move(detail));
}

xml::ParseLimits limits_for(const SoapLimits& limits) {
  xml::ParseLimits x;
  x.max_document_bytes = limits.max_soap_part_bytes;
  x.max_depth = limits.max_xml_depth;
  x.max_elements = limits.max_xml_elements;
  return x;
}

// The request's Envelope with its Body emptied: the response keeps the request's header (in its
// order, requestHash removed: insert_request_hash adds the new one).
struct ResponseDoc {
  xml::Document doc;
  xml::Element body;
};

Result<ResponseDoc> response_from_request(const SoapMessage& request) {
  auto doc = xml::Document::parse(request.soap_part, limits_for(SoapLimits{}));
  if (!doc.ok()) {
    return invalid_soap("Malformed SOAP request", doc.error().message);
  }
  xml::Element root = doc->root();
  xml::Element body = root.first_child(kSoapEnvelopeNamespace, "Body");
  if (!body) {
    return Error(FaultCode::kMissingBody, "Malformed SOAP message: body missing");
  }
  if (xml::Element header = root.first_child(kSoapEnvelopeNamespace, "Header")) {
    for (xml::Element h : header.children(kXRoadNamespace, "requestHash")) {
      h.remove();
    }
  }
  for (xml::Element c : body.children()) {
    c.remove();
  }
  body.set_text("");
  return ResponseDoc{std::move(doc).value(), body};
}

// Appends a copy of an identifier's XML form under `parent`.
template <typename Id>
Status append_id(xml::Element parent, const Id& id, std::string_view qualified_name) {
  const std::string text = ids::to_xml(id, {qualified_name, kXRoadNamespace, true});
  auto frag = xml::Document::parse(text);
  if (!frag.ok()) {
    return std::move(frag).error();
  }
  parent.append_copy(frag->root());
  return ok_status();
}

nlohmann::json service_json(const ids::ServiceId& s) {
  nlohmann::json j;
  j["member_class"] = s.member_class();
  j["member_code"] = s.member_code();
  j["object_type"] = "SERVICE";
  j["service_code"] = s.service_code();
  if (s.subsystem_code()) {
    j["subsystem_code"] = *s.subsystem_code();
  }
  if (s.service_version()) {
    j["service_version"] = *s.service_version();
  }
  j["xroad_instance"] = s.instance();
  return j;
}

nlohmann::json client_json(const ids::ClientId& c) {
  nlohmann::json j;
  j["member_class"] = c.member_class();
  j["member_code"] = c.member_code();
  if (c.subsystem_code()) {
    j["subsystem_code"] = *c.subsystem_code();
  }
  j["object_type"] = c.is_subsystem() ? "SUBSYSTEM" : "MEMBER";
  j["xroad_instance"] = c.instance();
  return j;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<Metaservice> soap_metaservice(std::string_view service_code) noexcept {
  if (service_code == kListMethods) return Metaservice::kListMethods;
  if (service_code == kAllowedMethods) return Metaservice::kAllowedMethods;
  if (service_code == kGetWsdl) return Metaservice::kGetWsdl;
  return std::nullopt;
}

std::optional<Metaservice> rest_metaservice(std::string_view service_code) noexcept {
  if (service_code == kListMethods) return Metaservice::kListMethods;
  if (service_code == kAllowedMethods) return Metaservice::kAllowedMethods;
  if (service_code == kGetOpenApi) return Metaservice::kGetOpenApi;
  return std::nullopt;
}

Status check_method_list_request(const SoapMessage& request) {
  if (!request.header || !request.header->service) {
    return Error(FaultCode::kMissingHeaderField, "Required field 'service' is missing");
  }
  const std::string& code = request.header->service->service_code();
  if (code != kListMethods && code != kAllowedMethods) {
    return invalid_soap("Not a listMethods or allowedMethods request", code);
  }
  if (request.body_namespace != kXRoadNamespace || request.body_local_name != code) {
    return invalid_soap("The body of a " + code + " request must be xroad:" + code,
                        request.body_local_name);
  }
  return ok_status();
}

Result<ids::ServiceId> parse_get_wsdl_request(const SoapMessage& request,
                                              const SoapLimits& limits) {
  if (!request.header || !request.header->service) {
    return Error(FaultCode::kMissingHeaderField, "Required field 'service' is missing");
  }
  if (request.body_namespace != kXRoadNamespace || request.body_local_name != kGetWsdl) {
    return invalid_soap("The body of a getWsdl request must be xroad:getWsdl",
                        request.body_local_name);
  }
  auto doc = xml::Document::parse(request.soap_part, limits_for(limits));
  if (!doc.ok()) {
    return invalid_soap("Malformed SOAP request", doc.error().message);
  }
  xml::Element body = doc->root().first_child(kSoapEnvelopeNamespace, "Body");
  xml::Element get = body ? body.first_child() : xml::Element();
  if (!get) {
    return Error(FaultCode::kMissingBody, "Malformed SOAP message: body missing");
  }
  std::optional<std::string> code;
  std::optional<std::string> version;
  for (xml::Element e = get.first_child(); e; e = e.next_sibling()) {
    if (e.is(kXRoadNamespace, "serviceCode") && !code) {
      code = std::string(internal::trim(e.text()));
    } else if (e.is(kXRoadNamespace, "serviceVersion") && !version) {
      version = std::string(internal::trim(e.text()));
    } else {
      return invalid_soap("Unexpected element in getWsdl", std::string(e.local_name()));
    }
  }
  if (!code) {
    return invalid_soap("getWsdl without serviceCode");
  }
  std::optional<std::string_view> v;
  if (version && !version->empty()) {
    v = *version;
  }
  return ids::ServiceId::create(request.header->service->provider(), *code, v);
}

Result<std::string> build_method_list_response(const SoapMessage& request,
                                               std::span<const ids::ServiceId> services) {
  if (!request.header || !request.header->service) {
    return Error(FaultCode::kMissingHeaderField, "Required field 'service' is missing");
  }
  HANSA_ASSIGN_OR_RETURN(ResponseDoc r, response_from_request(request));
  const std::string name = request.header->service->service_code() + "Response";
  xml::Element list = r.body.append_element(kXRoadNamespace, "xroad:" + name);
  for (const auto& s : services) {
    HANSA_RETURN_IF_ERROR(append_id(list, s, "xroad:service"));
  }
  return r.doc.serialize(true);
}

Result<WsdlResponse> build_get_wsdl_response(const SoapMessage& request,
                                             const ids::ServiceId& service, std::string wsdl) {
  HANSA_ASSIGN_OR_RETURN(ResponseDoc r, response_from_request(request));
  xml::Element resp = r.body.append_element(kXRoadNamespace, "xroad:getWsdlResponse");
  resp.append_element(kXRoadNamespace, "xroad:serviceCode").set_text(service.service_code());
  if (service.service_version()) {
    resp.append_element(kXRoadNamespace, "xroad:serviceVersion")
        .set_text(*service.service_version());
  }
  WsdlResponse out;
  out.soap_part = r.doc.serialize(true);
  out.wsdl = std::move(wsdl);
  Attachment a;
  a.headers.add("Content-Type", std::string(kTextXmlContentType));
  a.headers.add("Content-ID", "<wsdl>");
  a.content_type = std::string(kTextXmlContentType);
  a.content_id = "wsdl";
  a.data = out.wsdl;
  const std::string ct = "multipart/related; type=\"text/xml\"; charset=UTF-8";
  HANSA_ASSIGN_OR_RETURN(out.package, build_soap_package(ct, kTextXmlContentType, out.soap_part,
                                                         std::span<const Attachment>(&a, 1)));
  return out;
}

Result<std::string> mask_wsdl_endpoints(std::string_view wsdl) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, xml::Document::parse(wsdl));
  HANSA_ASSIGN_OR_RETURN(auto addresses,
                         xml::select_elements(doc.root(), "//soap:address | //soap12:address",
                                              {{"soap", std::string(kWsdlSoapNamespace)},
                                               {"soap12", std::string(kWsdlSoap12Namespace)}}));
  for (xml::Element& e : addresses) {
    e.set_attribute("location", kMaskedWsdlEndpoint);
  }
  return doc.serialize(true);
}

std::string build_rest_method_list(std::span<const RestServiceEntry> services) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& entry : services) {
    nlohmann::json j = service_json(entry.service);
    j["service_type"] = entry.service_type;
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& e : entry.endpoints) {
      endpoints.push_back({{"method", e.method}, {"path", e.path}});
    }
    j["endpoint_list"] = std::move(endpoints);
    list.push_back(std::move(j));
  }
  nlohmann::json root;
  root["service"] = std::move(list);
  return dump(root);
}

Result<std::string> parse_get_openapi_query(const RestRequest& request) {
  if (!request.query) {
    return Error(FaultCode::kInvalidRequest, "getOpenAPI needs the serviceCode parameter");
  }
  std::string_view q = *request.query;
  std::optional<std::string> found;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != "serviceCode" || eq == std::string_view::npos) {
      continue;
    }
    auto value = ids::percent_decode_segment(pair.substr(eq + 1), FaultCode::kInvalidRequest);
    if (!value.ok()) {
      return Error(FaultCode::kInvalidRequest, "Malformed serviceCode parameter");
    }
    found = std::move(value).value();
    break;
  }
  if (!found || found->empty()) {
    return Error(FaultCode::kInvalidRequest, "getOpenAPI needs the serviceCode parameter");
  }
  HANSA_RETURN_IF_ERROR(
      ids::validate_part(ids::Part::kServiceCode, *found, FaultCode::kInvalidRequest));
  return *found;
}

std::string build_client_list_xml(std::span<const ClientListEntry> clients) {
  std::string out;
  out.reserve(256 + clients.size() * 400);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xroad:clientList xmlns:xroad=\"";
  out += kXRoadNamespace;
  out += "\" xmlns:id=\"";
  out += kIdentifiersNamespace;
  out += "\">";
  for (const auto& c : clients) {
    out += "<xroad:member>";
    out += ids::to_xml(c.id, {"xroad:id", kXRoadNamespace, false});
    out += "<xroad:name>" + ids::xml_escape(c.name) + "</xroad:name>";
    if (c.subsystem_name) {
      out +=
          "<xroad:subsystemName>" + ids::xml_escape(*c.subsystem_name) + "</xroad:subsystemName>";
    }
    out += "</xroad:member>";
  }
  out += "</xroad:clientList>";
  return out;
}

std::string build_client_list_json(std::span<const ClientListEntry> clients) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : clients) {
    nlohmann::json j;
    j["id"] = client_json(c.id);
    j["name"] = c.name;
    if (c.subsystem_name) {
      j["subsystem_name"] = *c.subsystem_name;
    }
    list.push_back(std::move(j));
  }
  nlohmann::json root;
  root["member"] = std::move(list);
  return dump(root);
}

}  // namespace hansa::message
