#include "node/message/metaservices.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/ids/xml_parse.h"
#include "core/xml/xml.h"
#include "tests/unit/node/message/test_data.h"

namespace hansa::message {
namespace {

using testing::read_data;
using testing::replace;

constexpr std::string_view kXml = "text/xml; charset=UTF-8";

SoapParseOptions response_options() {
  SoapParseOptions o;
  o.role = SoapRole::kResponse;
  return o;
}

ids::ServiceId service(std::string_view s) { return ids::ServiceId::parse(s).value(); }

TEST(MetaserviceTest, RecognizesServiceCodes) {
  EXPECT_EQ(soap_metaservice("listMethods"), Metaservice::kListMethods);
  EXPECT_EQ(soap_metaservice("allowedMethods"), Metaservice::kAllowedMethods);
  EXPECT_EQ(soap_metaservice("getWsdl"), Metaservice::kGetWsdl);
  EXPECT_FALSE(soap_metaservice("getOpenAPI").has_value());
  EXPECT_FALSE(soap_metaservice("getPerson").has_value());
  EXPECT_EQ(rest_metaservice("getOpenAPI"), Metaservice::kGetOpenApi);
  EXPECT_EQ(rest_metaservice("listMethods"), Metaservice::kListMethods);
  EXPECT_FALSE(rest_metaservice("getWsdl").has_value());
}

TEST(MetaserviceTest, ListMethodsRequestAndResponse) {
  const std::string request_xml = read_data("list_methods_request.xml");
  auto request = parse_soap(kXml, request_xml);
  ASSERT_TRUE(request.ok()) << request.error().to_string();
  EXPECT_TRUE(check_method_list_request(*request).ok());

  const std::vector<ids::ServiceId> services = {
      service("SERVICE:HANSA/GOV/2002/registry/getPerson/v2"),
      service("SERVICE:HANSA/GOV/2002/registry/listPeople")};
  auto response = build_method_list_response(*request, services);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  auto with_hash = insert_request_hash(*response, request_xml);
  ASSERT_TRUE(with_hash.ok());
  auto parsed = parse_soap(kXml, *with_hash, response_options());
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string() << *with_hash;
  EXPECT_EQ(parsed->body_namespace, kXRoadNamespace);
  EXPECT_EQ(parsed->body_local_name, "listMethodsResponse");
  EXPECT_TRUE(check_response_consistency(*request->header, *parsed->header).ok());
  EXPECT_TRUE(check_request_hash(*parsed->header, request_xml).ok());
  // The header comes back in the request's order (requestHash appended).
  ASSERT_EQ(parsed->header->elements.size(), request->header->elements.size() + 1);
  for (std::size_t i = 0; i < request->header->elements.size(); ++i) {
    EXPECT_EQ(parsed->header->elements[i], request->header->elements[i]);
  }
  // The services are XRoadServiceIdentifierType elements.
  auto doc = xml::Document::parse(*with_hash);
  ASSERT_TRUE(doc.ok());
  auto els = xml::select_elements(doc->root(), "//x:listMethodsResponse/x:service",
                                  {{"x", std::string(kXRoadNamespace)}});
  ASSERT_TRUE(els.ok());
  ASSERT_EQ(els->size(), 2u);
  EXPECT_EQ(ids::service_from_xml((*els)[0]).value(), services[0]);
  EXPECT_EQ(ids::service_from_xml((*els)[1]).value(), services[1]);
}

TEST(MetaserviceTest, AllowedMethodsWithEmptyList) {
  const std::string xml =
      replace(replace(read_data("list_methods_request.xml"), "<id:serviceCode>listMethods<",
                      "<id:serviceCode>allowedMethods<"),
              "<xroad:listMethods/>", "<xroad:allowedMethods/>");
  auto request = parse_soap(kXml, xml);
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(check_method_list_request(*request).ok());
  auto response = build_method_list_response(*request, {});
  ASSERT_TRUE(response.ok());
  auto parsed = parse_soap(kXml, *response, response_options());
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->body_local_name, "allowedMethodsResponse");
}

TEST(MetaserviceTest, MethodListBodyMustMatchServiceCode) {
  const std::string xml = replace(read_data("list_methods_request.xml"), "<xroad:listMethods/>",
                                  "<xroad:allowedMethods/>");
  auto request = parse_soap(kXml, xml);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(check_method_list_request(*request).error().code, FaultCode::kInvalidSoap);
  auto ordinary = parse_soap(kXml, read_data("request.xml"));
  ASSERT_TRUE(ordinary.ok());
  EXPECT_EQ(check_method_list_request(*ordinary).error().code, FaultCode::kInvalidSoap);
}

TEST(MetaserviceTest, GetWsdlRequestAndResponse) {
  const std::string request_xml = read_data("get_wsdl_request.xml");
  auto request = parse_soap(kXml, request_xml);
  ASSERT_TRUE(request.ok()) << request.error().to_string();
  auto wanted = parse_get_wsdl_request(*request);
  ASSERT_TRUE(wanted.ok()) << wanted.error().to_string();
  EXPECT_EQ(wanted->to_string(), "SERVICE:HANSA/GOV/2002/registry/getPerson/v2");

  const std::string wsdl =
      "<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" "
      "xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\"><wsdl:service name=\"s\">"
      "<wsdl:port name=\"p\" binding=\"b\"><soap:address "
      "location=\"http://10.0.0.5:8080/internal\"/></wsdl:port></wsdl:service>"
      "</wsdl:definitions>";
  auto masked = mask_wsdl_endpoints(wsdl);
  ASSERT_TRUE(masked.ok()) << masked.error().to_string();
  EXPECT_EQ(masked->find("10.0.0.5"), std::string::npos);
  EXPECT_NE(masked->find("location=\"http://example.org/xroad-endpoint\""), std::string::npos);

  auto response = build_get_wsdl_response(*request, *wanted, *masked);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  auto package =
      parse_soap(response->package.content_type, response->package.body, response_options());
  ASSERT_TRUE(package.ok()) << package.error().to_string();
  EXPECT_EQ(package->body_local_name, "getWsdlResponse");
  ASSERT_EQ(package->attachments.size(), 1u);
  EXPECT_EQ(package->attachments[0].data, *masked);
  EXPECT_EQ(package->attachments[0].content_id, "wsdl");
  EXPECT_EQ(package->soap_part, response->soap_part);
  EXPECT_TRUE(check_response_consistency(*request->header, *package->header).ok());
}

TEST(MetaserviceTest, GetWsdlMalformed) {
  auto no_code = parse_soap(kXml, replace(read_data("get_wsdl_request.xml"),
                                          "<xro:serviceCode>getPerson</xro:serviceCode>", ""));
  ASSERT_TRUE(no_code.ok());
  EXPECT_EQ(parse_get_wsdl_request(*no_code).error().code, FaultCode::kInvalidSoap);
  auto bad_code =
      parse_soap(kXml, replace(read_data("get_wsdl_request.xml"), "<xro:serviceCode>getPerson<",
                               "<xro:serviceCode>get Person<"));
  ASSERT_TRUE(bad_code.ok());
  EXPECT_EQ(parse_get_wsdl_request(*bad_code).error().code, FaultCode::kInvalidServiceIdentifier);
  EXPECT_EQ(mask_wsdl_endpoints("<not wsdl").error().code, FaultCode::kInvalidXml);
}

TEST(MetaserviceTest, RestMethodListJson) {
  const std::vector<RestServiceEntry> services = {
      {service("SERVICE:HANSA/GOV/2002/registry/people"),
       "OPENAPI",
       {{"GET", "/people/*"}, {"POST", "/people"}}},
      {service("SERVICE:HANSA/GOV/2002/registry/ping"), "REST", {{"*", "*"}}}};
  auto j = nlohmann::json::parse(build_rest_method_list(services));
  ASSERT_EQ(j["service"].size(), 2u);
  const auto& s = j["service"][0];
  EXPECT_EQ(s["xroad_instance"], "HANSA");
  EXPECT_EQ(s["member_class"], "GOV");
  EXPECT_EQ(s["member_code"], "2002");
  EXPECT_EQ(s["subsystem_code"], "registry");
  EXPECT_EQ(s["service_code"], "people");
  EXPECT_EQ(s["object_type"], "SERVICE");
  EXPECT_EQ(s["service_type"], "OPENAPI");
  EXPECT_EQ(s["endpoint_list"][1]["method"], "POST");
  EXPECT_EQ(s["endpoint_list"][1]["path"], "/people");
  EXPECT_EQ(j["service"][1]["endpoint_list"][0]["path"], "*");
  EXPECT_EQ(nlohmann::json::parse(build_rest_method_list({}))["service"].size(), 0u);
}

TEST(MetaserviceTest, GetOpenApiQuery) {
  auto request_with = [](std::string_view target) {
    return parse_rest_request("GET", target, {{"X-Road-Client", "HANSA/GOV/1001"}}, "").value();
  };
  EXPECT_EQ(parse_get_openapi_query(
                request_with("/r1/HANSA/GOV/2002/registry/getOpenAPI?serviceCode=people"))
                .value(),
            "people");
  EXPECT_EQ(parse_get_openapi_query(
                request_with("/r1/HANSA/GOV/2002/registry/getOpenAPI?a=1&serviceCode=p%2Bq"))
                .value(),
            "p+q");
  for (std::string_view bad :
       {"/r1/HANSA/GOV/2002/registry/getOpenAPI", "/r1/HANSA/GOV/2002/registry/getOpenAPI?x=1",
        "/r1/HANSA/GOV/2002/registry/getOpenAPI?serviceCode=",
        "/r1/HANSA/GOV/2002/registry/getOpenAPI?serviceCode=a%20b"}) {
    EXPECT_EQ(parse_get_openapi_query(request_with(bad)).error().code, FaultCode::kInvalidRequest)
        << bad;
  }
}

TEST(MetaserviceTest, ListClientsXmlAndJson) {
  const std::vector<ClientListEntry> clients = {
      {ids::ClientId::parse("MEMBER:HANSA/GOV/1001").value(), "Agency & Co", std::nullopt},
      {ids::ClientId::parse("SUBSYSTEM:HANSA/GOV/1001/caseworker").value(), "Agency & Co",
       "Case <work>"}};
  const std::string xml = build_client_list_xml(clients);
  auto doc = xml::Document::parse(xml);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_TRUE(doc->root().is(kXRoadNamespace, "clientList"));
  auto members = doc->root().children(kXRoadNamespace, "member");
  ASSERT_EQ(members.size(), 2u);
  auto id = ids::client_from_xml(members[1].first_child(kXRoadNamespace, "id"));
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(*id, clients[1].id);
  EXPECT_EQ(members[1].first_child(kXRoadNamespace, "subsystemName").text(), "Case <work>");
  EXPECT_EQ(members[0].first_child(kXRoadNamespace, "name").text(), "Agency & Co");
  EXPECT_FALSE(members[0].first_child(kXRoadNamespace, "subsystemName").valid());

  auto j = nlohmann::json::parse(build_client_list_json(clients));
  ASSERT_EQ(j["member"].size(), 2u);
  EXPECT_EQ(j["member"][0]["id"]["object_type"], "MEMBER");
  EXPECT_FALSE(j["member"][0]["id"].contains("subsystem_code"));
  EXPECT_EQ(j["member"][1]["id"]["subsystem_code"], "caseworker");
  EXPECT_EQ(j["member"][1]["id"]["xroad_instance"], "HANSA");
  EXPECT_EQ(j["member"][1]["subsystem_name"], "Case <work>");
  EXPECT_EQ(j["member"][0]["name"], "Agency & Co");
}

}  // namespace
}  // namespace hansa::message
