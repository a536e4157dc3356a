// Tests of WSDL and OpenAPI 3 parsing: realistic documents, malformed ones and hostile sizes.

#include "node/serverconf/description.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/node/serverconf/test_documents.h"

namespace hansa::serverconf {
namespace {

using testing::person_wsdl;
using testing::pets_openapi_json;
using testing::pets_openapi_yaml;

TEST(WsdlTest, ParsesOperationsVersionsTitlesAndAddress) {
  auto parsed = parse_wsdl(person_wsdl());
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->type, DescriptionType::kWsdl);
  ASSERT_EQ(parsed->services.size(), 2u);
  EXPECT_EQ(parsed->services[0].service_code, "getPerson");
  EXPECT_EQ(parsed->services[0].service_version, "v1");
  EXPECT_EQ(parsed->services[0].title, "Look up a person");
  EXPECT_EQ(parsed->services[0].url, "http://10.0.0.5:8080/person");
  EXPECT_EQ(parsed->services[1].service_code, "updatePerson");
  EXPECT_EQ(parsed->services[1].service_version, "v2");
  EXPECT_TRUE(parsed->endpoints.empty());
}

TEST(WsdlTest, OperatorUrlReplacesSoapAddress) {
  auto parsed = parse_wsdl(person_wsdl(), {}, std::string("https://provider.example.org/soap"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  for (const auto& s : parsed->services) {
    EXPECT_EQ(s.url, "https://provider.example.org/soap");
  }
}

TEST(WsdlTest, OperationWithoutVersionHasNone) {
  std::string wsdl = person_wsdl();
  const std::string v2 = "<xrd:version>v2</xrd:version>";
  wsdl.erase(wsdl.find(v2), v2.size());
  auto parsed = parse_wsdl(wsdl);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_FALSE(parsed->services[1].service_version.has_value());
}

void expect_refused(const std::string& document, FaultCode code, const std::string& needle = "") {
  auto parsed = parse_wsdl(document);
  ASSERT_FALSE(parsed.ok()) << document.substr(0, 200);
  EXPECT_EQ(parsed.error().code, code) << parsed.error().to_string();
  if (!needle.empty()) {
    EXPECT_NE(parsed.error().to_string().find(needle), std::string::npos)
        << parsed.error().to_string();
  }
}

TEST(WsdlTest, MalformedDocumentsAreRefusedWithClearErrors) {
  expect_refused("", FaultCode::kInvalidRequest, "empty");
  expect_refused("<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'>",
                 FaultCode::kInvalidXml, "not well-formed");
  expect_refused(person_wsdl().substr(0, 2000), FaultCode::kInvalidXml);
  // Wrong namespace: WSDL 2.0 / anything else.
  expect_refused("<definitions xmlns='http://www.w3.org/ns/wsdl'/>", FaultCode::kInvalidRequest,
                 "not a WSDL 1.1 document");
  // No binding operations.
  expect_refused(
      "<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/' "
      "xmlns:soap='http://schemas.xmlsoap.org/wsdl/soap/'><wsdl:binding name='b'><soap:binding "
      "style='document'/></wsdl:binding></wsdl:definitions>",
      FaultCode::kInvalidRequest, "no operations");
  expect_refused("<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'/>",
                 FaultCode::kInvalidRequest, "no SOAP 1.1 binding");
  // rpc style and encoded use are not X-Road services.
  std::string rpc = person_wsdl();
  for (auto pos = rpc.find("style=\"document\""); pos != std::string::npos;
       pos = rpc.find("style=\"document\"")) {
    rpc.replace(pos, 16, "style=\"rpc\"");
  }
  expect_refused(rpc, FaultCode::kInvalidRequest, "document/literal");
  std::string encoded = person_wsdl();
  encoded.replace(encoded.find("use=\"literal\""), 13, "use=\"encoded\"");
  expect_refused(encoded, FaultCode::kInvalidRequest, "document/literal");
  // Bad service code and version characters.
  expect_refused(person_wsdl("update/person"), FaultCode::kInvalidServiceIdentifier);
  std::string bad_version = person_wsdl();
  bad_version.replace(bad_version.find(">v1<"), 4, ">v 1<");
  expect_refused(bad_version, FaultCode::kInvalidServiceIdentifier, "xrd:version");
  // Two operations with the same code and version.
  expect_refused(person_wsdl("getPerson").replace(person_wsdl("getPerson").find(">v2<"), 4, ">v1<"),
                 FaultCode::kInvalidRequest, "twice");
  // No address and no operator URL; an address that is not http(s).
  std::string no_address = person_wsdl();
  const auto a = no_address.find("<soap:address");
  no_address.erase(a, no_address.find("/>", a) + 2 - a);
  expect_refused(no_address, FaultCode::kInvalidRequest, "soap:address");
  expect_refused(person_wsdl("updatePerson", "file:///etc/passwd"), FaultCode::kInvalidRequest,
                 "provider URL");
  // DOCTYPE (entity expansion) is refused by core/xml.
  expect_refused("<!DOCTYPE x [<!ENTITY a 'aaaa'>]>" + person_wsdl().substr(39),
                 FaultCode::kInvalidXml);
}

TEST(WsdlTest, SizeAndDepthLimits) {
  DescriptionLimits limits;
  limits.max_document_bytes = 4096;
  std::string big = person_wsdl();
  big.insert(big.find("<wsdl:types>"), std::string(8192, ' '));
  auto parsed = parse_wsdl(big, limits);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kLimitExceeded);

  std::string deep = person_wsdl();
  std::string nest;
  for (int i = 0; i < 100; ++i) {
    nest += "<wsdl:documentation>";
  }
  for (int i = 0; i < 100; ++i) {
    nest += "</wsdl:documentation>";
  }
  deep.insert(deep.find("<wsdl:types>"), nest);
  parsed = parse_wsdl(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kLimitExceeded);
}

TEST(WsdlTest, FiftyMegabyteDocumentIsRefusedBeforeParsing) {
  std::string huge = person_wsdl();
  huge.insert(huge.find("<wsdl:types>"), std::string(50 * 1024 * 1024, ' '));
  auto parsed = parse_wsdl(huge);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kLimitExceeded);
  EXPECT_NE(parsed.error().message.find("larger than the limit"), std::string::npos);
}

TEST(OpenApiTest, ParsesJsonPathsMethodsAndServerVariables) {
  auto parsed = parse_openapi(pets_openapi_json(), "pets");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->type, DescriptionType::kOpenApi);
  ASSERT_EQ(parsed->services.size(), 1u);
  EXPECT_EQ(parsed->services[0].service_code, "pets");
  EXPECT_FALSE(parsed->services[0].service_version.has_value());
  EXPECT_EQ(parsed->services[0].title, "Pet store");
  EXPECT_EQ(parsed->services[0].url, "https://pets.example.org/api/v1");
  const std::vector<EndpointKey> expected = {
      {"DELETE", "/pets/{petId}"}, {"GET", "/pets"}, {"GET", "/pets/{petId}"}, {"POST", "/pets"}};
  EXPECT_EQ(parsed->endpoints, expected);
}

TEST(OpenApiTest, ParsesYaml) {
  auto parsed = parse_openapi(pets_openapi_yaml(), "petsYaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->services[0].url, "http://pets.internal:8080/v2");
  const std::vector<EndpointKey> expected = {{"GET", "/pets"},
                                             {"PUT", "/pets/{petId}/toys/{toyId}"}};
  EXPECT_EQ(parsed->endpoints, expected);
}

TEST(OpenApiTest, OperatorUrlWhenServersAreRelative) {
  std::string doc = pets_openapi_json();
  doc.replace(doc.find("https://{host}/api/v1"), 21, "/api/v1");
  auto parsed = parse_openapi(doc, "pets");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, FaultCode::kInvalidRequest);
  EXPECT_NE(parsed.error().message.find("servers[0].url"), std::string::npos);
  parsed = parse_openapi(doc, "pets", {}, std::string("http://backend:9000/api/v1"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->services[0].url, "http://backend:9000/api/v1");
}

void expect_openapi_refused(const std::string& doc, FaultCode code, const std::string& needle,
                            const DescriptionLimits& limits = {}) {
  auto parsed = parse_openapi(doc, "svc", limits);
  ASSERT_FALSE(parsed.ok()) << doc.substr(0, 200);
  EXPECT_EQ(parsed.error().code, code) << parsed.error().to_string();
  EXPECT_NE(parsed.error().to_string().find(needle), std::string::npos)
      << parsed.error().to_string();
}

TEST(OpenApiTest, MalformedDocumentsAreRefusedWithClearErrors) {
  expect_openapi_refused("{\"openapi\": \"3.0.0\", \"paths\": {", FaultCode::kInvalidRequest,
                         "not valid JSON");
  expect_openapi_refused("openapi: 3.0.0\npaths: [unclosed\n", FaultCode::kInvalidRequest,
                         "not valid YAML");
  expect_openapi_refused(R"({"swagger": "2.0", "paths": {"/a": {"get": {}}}})",
                         FaultCode::kInvalidRequest, "Swagger 2.0");
  expect_openapi_refused(R"({"openapi": "2.5", "paths": {"/a": {"get": {}}}})",
                         FaultCode::kInvalidRequest, "not an OpenAPI 3 document");
  expect_openapi_refused(R"({"openapi": 3.0, "paths": {"/a": {"get": {}}}})",
                         FaultCode::kInvalidRequest, "not an OpenAPI 3 document");
  expect_openapi_refused(R"({"openapi": "3.0.0", "servers": [{"url": "http://a"}]})",
                         FaultCode::kInvalidRequest, "no paths");
  expect_openapi_refused(R"({"openapi": "3.0.0", "paths": {}})", FaultCode::kInvalidRequest,
                         "no paths");
  expect_openapi_refused(pets_openapi_json(R"(, "/x": {"fetch": {}})"), FaultCode::kInvalidRequest,
                         "invalid method \"fetch\"");
  expect_openapi_refused(pets_openapi_json(R"(, "x": {"get": {}})"), FaultCode::kInvalidRequest,
                         "must start with /");
  expect_openapi_refused(pets_openapi_json(R"(, "/x/{id": {"get": {}})"),
                         FaultCode::kInvalidRequest, "not usable as an endpoint");
  expect_openapi_refused(R"({"openapi": "3.0.0", "servers": [{"url": "http://a"}],
                             "paths": {"/a": {"summary": "nothing"}}})",
                         FaultCode::kInvalidRequest, "no operations");
  expect_openapi_refused("[1, 2]", FaultCode::kInvalidRequest, "not an object");
  expect_openapi_refused("   \n", FaultCode::kInvalidRequest, "empty");
  auto bad_code = parse_openapi(pets_openapi_json(), "pets/x");
  ASSERT_FALSE(bad_code.ok());
  EXPECT_EQ(bad_code.error().code, FaultCode::kInvalidServiceIdentifier);
}

TEST(OpenApiTest, DeepNestingIsRefusedInJsonAndYaml) {
  std::string json_deep =
      R"({"openapi": "3.0.0", "x": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_openapi_refused(json_deep, FaultCode::kLimitExceeded, "nesting");
  // Flow collections, compact block sequences, and indentation, each far past the depth limit.
  expect_openapi_refused(
      "openapi: 3.0.0\nx: " + std::string(100000, '[') + std::string(100000, ']') + "\n",
      FaultCode::kLimitExceeded, "nesting");
  std::string dashes = "openapi: 3.0.0\nx:\n  ";
  for (int i = 0; i < 100000; ++i) {
    dashes += "- ";
  }
  dashes += "a\n";
  expect_openapi_refused(dashes, FaultCode::kLimitExceeded, "nesting");
  std::string indented = "openapi: 3.0.0\n";
  for (int i = 0; i < 200; ++i) {
    indented += std::string(i, ' ') + "k" + std::to_string(i) + ":\n";
  }
  expect_openapi_refused(indented, FaultCode::kLimitExceeded, "nesting");
  const std::string deep_flow = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& prefix :
       {std::string("openapi: 3.0.0\n\"quoted key\": "), std::string("openapi: 3.0.0\n'k''ey': "),
        std::string("openapi: 3.0.0\nkey:\t"), std::string("--- "),
        std::string("openapi: 3.0.0\nx:\n  - key: "), std::string("openapi: 3.0.0\n? "),
        std::string("openapi: 3.0.0\nx: !!seq "), std::string("--- !!seq &a "),
        std::string("openapi: 3.0.0\nx:\n  - &a ")}) {
    expect_openapi_refused(prefix + deep_flow + "\n", FaultCode::kLimitExceeded, "nesting");
  }
  // Brackets inside scalars are text, not nesting.
  auto ok = parse_openapi(pets_openapi_yaml() + "x-note: see [[[[" + std::string(200, '[') +
                              "\nx-quoted: ['" + std::string(200, '[') + "']\n",
                          "svc");
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
  std::string anchored =
      "openapi: 3.0.0\nx: &a " + std::string(1000, '{') + std::string(1000, '}') + "\n";
  expect_openapi_refused(anchored, FaultCode::kLimitExceeded, "nesting");
}

TEST(OpenApiTest, AliasExpansionIsBoundedByNodeCount) {
  // A "billion laughs" made of YAML aliases: each level doubles the nodes walked.
  std::string doc = "openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) {
      doc += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    }
    doc += "]\n";
  }
  DescriptionLimits limits;
  limits.max_nodes = 20'000;  // the default (1'000'000) holds too, only slower
  expect_openapi_refused(doc, FaultCode::kLimitExceeded, "values", limits);
}

TEST(OpenApiTest, FiftyMegabyteDocumentIsRefusedBeforeParsing) {
  std::string huge = pets_openapi_json();
  huge.insert(1, std::string(50 * 1024 * 1024, ' '));
  expect_openapi_refused(huge, FaultCode::kLimitExceeded, "larger than the limit");
}

TEST(OpenApiTest, TooManyEndpoints) {
  DescriptionLimits limits;
  limits.max_endpoints = 3;
  expect_openapi_refused(pets_openapi_json(), FaultCode::kLimitExceeded, "operations", limits);
}

TEST(RestDescriptionTest, BaseUrl) {
  auto parsed = rest_description("weather", "https://weather.example.org/api");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->type, DescriptionType::kRest);
  EXPECT_EQ(parsed->services.at(0).url, "https://weather.example.org/api");
  for (std::string bad : {"ftp://x", "http://", "https:// x", "http://user@host/", "/relative"}) {
    auto r = rest_description("weather", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, FaultCode::kInvalidRequest);
  }
}

}  // namespace
}  // namespace hansa::serverconf
