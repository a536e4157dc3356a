#pragma once

// Metaservice message formats (PR-META for SOAP, PR-MREST for REST): recognizing metaservice
// requests and building their answers from plain data. Which services exist and who may call them
// is the proxy's business (server configuration); this file only knows the bytes.
//
//  - SOAP listMethods / allowedMethods: empty body element; answer <xroad:listMethodsResponse>
//    (or allowedMethodsResponse) with one <xroad:service id:objectType="SERVICE"> per service.
//  - SOAP getWsdl: body <xroad:getWsdl><xroad:serviceCode>..</><xroad:serviceVersion>..</></>;
//    answer <xroad:getWsdlResponse> echoing them, the WSDL as a multipart/related attachment.
//  - REST listMethods / allowedMethods: JSON {"service":[{"member_class",...,"service_type",
//    "endpoint_list":[{"method","path"}]}]}; getOpenAPI?serviceCode=xxx answers the OpenAPI text.
//  - listClients: GET /listClients[?xRoadInstance=XX], XML <xroad:clientList> or JSON.
//
// Threading: free functions over values, thread-safe.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "node/message/rest.h"
#include "node/message/soap.h"

namespace hansa::message {

inline constexpr std::string_view kListMethods = "listMethods";
inline constexpr std::string_view kAllowedMethods = "allowedMethods";
inline constexpr std::string_view kGetWsdl = "getWsdl";
inline constexpr std::string_view kGetOpenApi = "getOpenAPI";
// The endpoint address getWsdl puts in place of the real one (PR-META 4).
inline constexpr std::string_view kMaskedWsdlEndpoint = "http://example.org/xroad-endpoint";

enum class Metaservice { kListMethods, kAllowedMethods, kGetWsdl, kGetOpenApi };

// The metaservice a service code names, nullopt for an ordinary service. SOAP knows
// listMethods, allowedMethods, getWsdl; REST listMethods, allowedMethods, getOpenAPI.
[[nodiscard]] std::optional<Metaservice> soap_metaservice(std::string_view service_code) noexcept;
[[nodiscard]] std::optional<Metaservice> rest_metaservice(std::string_view service_code) noexcept;

// --- SOAP (PR-META 3, 4) ---

// Checks a listMethods/allowedMethods request: the body element is {xroad}listMethods or
// {xroad}allowedMethods as the service code says. InvalidSoap otherwise.
[[nodiscard]] Status check_method_list_request(const SoapMessage& request);

// The service a getWsdl request asks for: the request's service provider with the body's
// serviceCode and optional serviceVersion. InvalidSoap for a malformed body,
// InvalidServiceIdentifier for a bad code.
[[nodiscard]] Result<ids::ServiceId> parse_get_wsdl_request(const SoapMessage& request,
                                                            const SoapLimits& limits = {});

// The response SOAP part for listMethods/allowedMethods: the request's header echoed (requestHash
// is added later by insert_request_hash) and the service list.
[[nodiscard]] Result<std::string> build_method_list_response(
    const SoapMessage& request, std::span<const ids::ServiceId> services);

// The getWsdl response package: SOAP part echoing the header with <xroad:getWsdlResponse>, and
// the WSDL (endpoint addresses already masked by the caller or with mask_wsdl_endpoints) as an
// attachment "text/xml" with Content-ID "wsdl".
struct WsdlResponse {
  std::string soap_part;
  std::string wsdl;
  HttpBody package;  // multipart/related: the SOAP part then the WSDL
};
[[nodiscard]] Result<WsdlResponse> build_get_wsdl_response(const SoapMessage& request,
                                                           const ids::ServiceId& service,
                                                           std::string wsdl);

// Replaces the location attribute of every soap:address / soap12:address element of a WSDL with
// kMaskedWsdlEndpoint. InvalidXml when the WSDL does not parse.
[[nodiscard]] Result<std::string> mask_wsdl_endpoints(std::string_view wsdl);

// --- REST (PR-MREST 4, 5) ---

// One REST endpoint of a service.
struct RestEndpoint {
  std::string method;  // "GET", "*"
  std::string path;    // "/pets/*", "*"
};

// One service as listMethods/allowedMethods lists it.
struct RestServiceEntry {
  ids::ServiceId service;
  std::string service_type = "REST";  // "REST" or "OPENAPI"
  std::vector<RestEndpoint> endpoints;
};

// The JSON body of a REST listMethods/allowedMethods answer.
[[nodiscard]] std::string build_rest_method_list(std::span<const RestServiceEntry> services);

// The serviceCode query parameter of getOpenAPI: InvalidRequest when
// absent, empty or not a valid service code.
[[nodiscard]] Result<std::string> parse_get_openapi_query(const RestRequest& request);

// --- listClients (PR-META 2) ---

struct ClientListEntry {
  ids::ClientId id;
  std::string name;                           // the member's name
  std::optional<std::string> subsystem_name;  // for subsystems, when known
};

// <xroad:clientList> as text/xml.
[[nodiscard]] std::string build_client_list_xml(std::span<const ClientListEntry> clients);
// {"member":[{"id":{...},"name":...,"subsystem_name":...}]} as application/json.
[[nodiscard]] std::string build_client_list_json(std::span<const ClientListEntry> clients);

}  // namespace hansa::message
