#include "bench/provider/test_provider.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/http/client.h"
#include "core/xml/xml.h"
#include "node/serverconf/description.h"

namespace hansa::bench {
namespace {

constexpr std::string_view kEnvNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kXroadNs = "http://x-road.eu/xsd/xroad.xsd";

// A PR-MESS 4.0 request with every usual header, in a deliberately unusual order.
constexpr std::string_view kRequest = R"(<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"
    xmlns:ns1="http://hansa.example/test-provider">
  <SOAP-ENV:Header>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
    <xrd:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xrd:id>
    <xrd:userId>EE12345678901</xrd:userId>
    <xrd:client id:objectType="SUBSYSTEM">
      <id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass>
      <id:memberCode>1234</id:memberCode><id:subsystemCode>CLIENT</id:subsystemCode>
    </xrd:client>
    <xrd:service id:objectType="SERVICE">
      <id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass>
      <id:memberCode>5678</id:memberCode><id:subsystemCode>PROVIDER</id:subsystemCode>
      <id:serviceCode>getPerson</id:serviceCode><id:serviceVersion>v1</id:serviceVersion>
    </xrd:service>
    <xrd:issue>ticket-7</xrd:issue>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <ns1:getPerson><ns1:name>Ada &amp; Grace</ns1:name><ns1:count>2</ns1:count></ns1:getPerson>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
)";

std::vector<std::string> child_names(const xml::Element& e) {
  std::vector<std::string> out;
  for (const auto& c : e.children()) {
    out.emplace_back(c.local_name());
  }
  return out;
}

TEST(SoapEcho, EchoesHeadersInOrderAndWrapsTheBodyInServiceCodeResponse) {
  auto answer = soap_echo(kRequest);
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  auto doc = xml::Document::parse(*answer);
  ASSERT_TRUE(doc.ok()) << *answer;
  const auto header = doc->root().first_child(kEnvNs, "Header");
  ASSERT_TRUE(header);
  EXPECT_EQ(child_names(header), (std::vector<std::string>{"protocolVersion", "id", "userId",
                                                           "client", "service", "issue"}));
  for (const auto& c : header.children()) {
    EXPECT_EQ(c.namespace_uri(), kXroadNs);
  }
  EXPECT_EQ(header.first_child(kXroadNs, "id").text(), "4894e35d-bf0f-44a6-867a-8e51f1daa7e0");
  EXPECT_EQ(header.first_child(kXroadNs, "client")
                .attribute("http://x-road.eu/xsd/identifiers", "objectType"),
            "SUBSYSTEM");
  const auto body = doc->root().first_child(kEnvNs, "Body");
  ASSERT_TRUE(body);
  const auto wrapper = body.first_child();
  ASSERT_TRUE(wrapper);
  EXPECT_TRUE(wrapper.is("http://hansa.example/test-provider", "getPersonResponse"));
  EXPECT_EQ(child_names(wrapper), (std::vector<std::string>{"name", "count"}));
  EXPECT_EQ(wrapper.first_child().text(), "Ada & Grace");
}

TEST(SoapEcho, WithoutXroadServiceHeaderUsesTheWrapperName) {
  auto answer =
      soap_echo(R"(<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>)"
                R"(<p:ping xmlns:p="urn:p">hello</p:ping></e:Body></e:Envelope>)");
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  auto doc = xml::Document::parse(*answer);
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->root().first_child(kEnvNs, "Header"));
  const auto wrapper = doc->root().first_child(kEnvNs, "Body").first_child();
  EXPECT_TRUE(wrapper.is("urn:p", "pingResponse"));
  EXPECT_EQ(wrapper.text(), "hello");
}

TEST(SoapEcho, PadsTheResponseToTheRequestedSize) {
  auto answer = soap_echo(kRequest, 100 * 1024);
  ASSERT_TRUE(answer.ok());
  EXPECT_GE(answer->size(), 100u * 1024);
  EXPECT_LT(answer->size(), 100u * 1024 + 512);
  auto doc = xml::Document::parse(*answer);
  ASSERT_TRUE(doc.ok());
  const auto wrapper = doc->root().first_child(kEnvNs, "Body").first_child();
  EXPECT_EQ(child_names(wrapper), (std::vector<std::string>{"name", "count", "data"}));
}

TEST(SoapEcho, RefusesWhatIsNotASoapEnvelope) {
  EXPECT_EQ(soap_echo("<a/>").error().code, FaultCode::kInvalidSoap);
  EXPECT_EQ(soap_echo(R"(<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>)")
                .error()
                .code,
            FaultCode::kInvalidSoap);
  EXPECT_EQ(soap_echo(R"(<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">)"
                      R"(<e:Body> </e:Body></e:Envelope>)")
                .error()
                .code,
            FaultCode::kInvalidSoap);
  EXPECT_EQ(soap_echo("<not xml").error().code, FaultCode::kInvalidXml);
  EXPECT_EQ(soap_echo("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>").error().code,
            FaultCode::kInvalidXml);
}

TEST(Mode, NamesParse) {
  EXPECT_EQ(mode_from_name("normal"), ProviderMode::kNormal);
  EXPECT_EQ(mode_from_name("hang"), ProviderMode::kHang);
  EXPECT_EQ(mode_from_name("garbage"), ProviderMode::kGarbage);
  EXPECT_EQ(mode_from_name("close-early"), ProviderMode::kCloseEarly);
  EXPECT_EQ(mode_from_name("Hang"), std::nullopt);
}

TEST(TestProvider, RefusesBadOptions) {
  ProviderOptions o;
  o.worker_threads = 0;
  EXPECT_EQ(TestProvider::create(o).error().code, FaultCode::kInvalidConfiguration);
  o = {};
  o.rest_base = "rest";
  EXPECT_EQ(TestProvider::create(o).error().code, FaultCode::kInvalidConfiguration);
  o = {};
  o.soap_services.clear();
  EXPECT_EQ(TestProvider::create(o).error().code, FaultCode::kInvalidConfiguration);
}

// A started provider and a client for it.
struct Running {
  std::unique_ptr<TestProvider> provider;
  std::unique_ptr<http::Client> client;
  std::string base;
};

Running start(ProviderOptions options, http::ClientOptions client_options = {}) {
  Running r;
  auto p = TestProvider::create(std::move(options));
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  r.provider = std::move(p).value();
  EXPECT_TRUE(r.provider->start().ok());
  EXPECT_NE(r.provider->port(), 0);
  r.base = "http://127.0.0.1:" + std::to_string(r.provider->port());
  auto c = http::Client::create(r.base, client_options);
  EXPECT_TRUE(c.ok());
  r.client = std::move(c).value();
  return r;
}

TEST(TestProvider, ServesTheSoapEcho) {
  auto r = start({});
  auto res = r.client->post("/soap", kRequest, "text/xml; charset=UTF-8");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->header("Content-Type")->starts_with("text/xml"));
  EXPECT_NE(res->body.find("getPersonResponse"), std::string::npos);
  EXPECT_NE(res->body.find("4894e35d-bf0f-44a6-867a-8e51f1daa7e0"), std::string::npos);
  EXPECT_EQ(r.provider->requests(), 1u);

  auto bad = r.client->post("/soap", "<x/>", "text/xml");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 500);
  EXPECT_NE(bad->body.find("<faultcode>Client</faultcode>"), std::string::npos);
}

TEST(TestProvider, ServesTheRestEchoWithTheBodySize) {
  ProviderOptions o;
  o.response_bytes = 1024;
  auto r = start(o);
  auto res = r.client->post(
      "/rest/echo", std::string(1000, 'a'), "application/octet-stream",
      {{"X-Road-Client", "DEV/GOV/1234/CLIENT"}, {"X-Road-Id", "abc"}, {"X-Other", "no"}});
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("Content-Type"), "application/json");
  EXPECT_GE(res->body.size(), 1024u);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/rest/echo");
  EXPECT_EQ(j["bodyBytes"], 1000);
  EXPECT_EQ(j["xRoadHeaders"].size(), 2u);
  EXPECT_FALSE(j["xRoadHeaders"].contains("X-Other"));

  auto get = r.client->get("/rest/items/42?status=503");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 503);
  EXPECT_EQ(nlohmann::json::parse(get->body)["method"], "GET");

  auto sized = r.client->get("/rest/?responseBytes=5000");
  ASSERT_TRUE(sized.ok());
  EXPECT_GE(sized->body.size(), 5000u);
  EXPECT_LT(sized->body.size(), 5100u);

  auto missing = r.client->get("/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(TestProvider, WsdlImportsIntoTheNode) {
  ProviderOptions o;
  o.soap_services = {"echo", "getPerson"};
  o.soap_service_version = "v2";
  auto r = start(o);
  auto res = r.client->get("/wsdl");
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->status, 200);
  auto parsed = serverconf::parse_wsdl(res->body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string() << "\n" << res->body;
  ASSERT_EQ(parsed->services.size(), 2u);
  EXPECT_EQ(parsed->services[0].service_code, "echo");
  EXPECT_EQ(parsed->services[1].service_code, "getPerson");
  EXPECT_EQ(parsed->services[1].service_version, "v2");
  EXPECT_EQ(parsed->services[0].url, r.base + "/soap");
  EXPECT_FALSE(parsed->services[0].title.empty());
}

TEST(TestProvider, OpenApiImportsIntoTheNode) {
  auto r = start({});
  auto res = r.client->get("/openapi.json");
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->status, 200);
  auto parsed = serverconf::parse_openapi(res->body, "rest");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string() << "\n" << res->body;
  ASSERT_EQ(parsed->services.size(), 1u);
  EXPECT_EQ(parsed->services[0].url, r.base + "/rest");
  EXPECT_GE(parsed->endpoints.size(), 5u);
}

TEST(TestProvider, DelaysEveryAnswer) {
  ProviderOptions o;
  o.delay = std::chrono::milliseconds(150);
  auto r = start(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = r.client->get("/rest/");
  ASSERT_TRUE(res.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
}

TEST(TestProvider, HangModeNeverAnswersAndStopsPromptly) {
  ProviderOptions o;
  o.mode = ProviderMode::kHang;
  http::ClientOptions co;
  co.read_timeout = std::chrono::milliseconds(300);
  co.total_timeout = std::chrono::milliseconds(2'000);
  auto r = start(o, co);
  auto res = r.client->get("/rest/x");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kTimeout) << res.error().to_string();
  // A request still hanging does not hold up stop().
  std::thread hanging([&] {
    auto c = http::Client::create(r.base);
    (void)(*c)->get("/rest/y");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  r.provider->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  hanging.join();
}

TEST(TestProvider, GarbageModeAnswersSomethingThatIsNotHttp) {
  ProviderOptions o;
  o.mode = ProviderMode::kGarbage;
  auto r = start(o);
  auto res = r.client->get("/rest/x");
  EXPECT_FALSE(res.ok() && res->status == 200);
  EXPECT_GE(r.provider->requests(), 1u);
}

TEST(TestProvider, CloseEarlyModeTruncatesTheResponse) {
  ProviderOptions o;
  o.mode = ProviderMode::kCloseEarly;
  auto r = start(o);
  auto res = r.client->get("/rest/x");
  EXPECT_FALSE(res.ok()) << res->status << " " << res->body;
  EXPECT_GE(r.provider->requests(), 1u);
}

}  // namespace
}  // namespace hansa::bench
