#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/ids/xml_parse.h"
#include "core/ids/xml_print.h"
#include "core/xml/xml.h"

namespace hansa::ids {
namespace {

template <typename T>
void ExpectFails(const Result<T>& result, FaultCode code, const std::string& needle = {}) {
  ASSERT_FALSE(result.ok()) << "expected failure containing " << needle;
  EXPECT_EQ(result.error().code, code) << result.error().to_string();
  if (!needle.empty()) {
    EXPECT_NE(result.error().message.find(needle), std::string::npos)
        << "message: " << result.error().message << "\nwanted: " << needle;
  }
}

xml::Document Parse(const std::string& text) {
  auto doc = xml::Document::parse(text);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().to_string()) << "\n" << text;
  return std::move(doc).value();
}

const xml::Schema& HeaderSchema() {
  static const xml::Schema* schema = [] {
    auto s = xml::Schema::load_file(std::string(HANSA_SOURCE_DIR) +
                                    "/tests/unit/core/ids/data/header_elements.xsd");
    if (!s.ok()) {
      ADD_FAILURE() << s.error().to_string() << " " << s.error().detail;
      std::abort();
    }
    return new xml::Schema(std::move(s).value());
  }();
  return *schema;
}

void ExpectValid(const std::string& text) {
  auto doc = Parse(text);
  auto st = HeaderSchema().validate(doc);
  EXPECT_TRUE(st.ok()) << text << "\n" << (st.ok() ? "" : st.error().detail);
}

void ExpectInvalid(const std::string& text) {
  auto doc = xml::Document::parse(text);
  ASSERT_TRUE(doc.ok()) << text;
  EXPECT_FALSE(HeaderSchema().validate(*doc).ok()) << text;
}

constexpr char kNs[] =
    "xmlns:xroad=\"http://x-road.eu/xsd/xroad.xsd\" xmlns:id=\"http://x-road.eu/xsd/identifiers\"";

std::string Wrap(const std::string& element, const std::string& type, const std::string& body) {
  return "<xroad:" + element + " " + kNs + " id:objectType=\"" + type + "\">" + body +
         "</xroad:" + element + ">";
}

TEST(XmlPrintTest, ExactClientForms) {
  auto member = ClientId::parse("MEMBER:EE/GOV/70000310").value();
  EXPECT_EQ(to_xml(member),
            "<xroad:client xmlns:xroad=\"http://x-road.eu/xsd/xroad.xsd\" "
            "xmlns:id=\"http://x-road.eu/xsd/identifiers\" id:objectType=\"MEMBER\">"
            "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
            "<id:memberCode>70000310</id:memberCode></xroad:client>");
  auto sub = ClientId::parse("SUBSYSTEM:EE/GOV/70000310/xroad").value();
  XmlElementOptions bare{"xroad:client"};
  bare.declare_namespaces = false;
  EXPECT_EQ(to_xml(sub, bare),
            "<xroad:client id:objectType=\"SUBSYSTEM\">"
            "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
            "<id:memberCode>70000310</id:memberCode><id:subsystemCode>xroad</id:subsystemCode>"
            "</xroad:client>");
}

TEST(XmlPrintTest, ServiceServerAndGroups) {
  auto svc = ServiceId::parse("SERVICE:EE/GOV/70000310/xroad/getPerson/v1").value();
  EXPECT_EQ(to_xml(svc), Wrap("service", "SERVICE",
                              "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</"
                              "id:memberClass><id:memberCode>70000310</id:memberCode>"
                              "<id:subsystemCode>xroad</id:subsystemCode><id:serviceCode>"
                              "getPerson</id:serviceCode><id:serviceVersion>v1</"
                              "id:serviceVersion>"));
  auto ss = SecurityServerId::parse("SERVER:EE/GOV/70000310/ss1").value();
  EXPECT_EQ(to_xml(ss), Wrap("securityServer", "SERVER",
                             "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</"
                             "id:memberClass><id:memberCode>70000310</id:memberCode>"
                             "<id:serverCode>ss1</id:serverCode>"));
  auto gg = GlobalGroupId::parse("GLOBALGROUP:EE/owners").value();
  EXPECT_EQ(to_xml(gg, {"xroad:globalGroup"}),
            Wrap("globalGroup", "GLOBALGROUP",
                 "<id:xRoadInstance>EE</id:xRoadInstance><id:groupCode>owners</id:groupCode>"));
  auto lg = LocalGroupId::parse("LOCALGROUP:admins").value();
  EXPECT_EQ(to_xml(lg, {"xroad:localGroup"}),
            Wrap("localGroup", "LOCALGROUP", "<id:groupCode>admins</id:groupCode>"));
  // An unprefixed element gets a default namespace declaration.
  EXPECT_EQ(to_xml(lg, {"group", "urn:example"}),
            "<group xmlns=\"urn:example\" xmlns:id=\"http://x-road.eu/xsd/identifiers\" "
            "id:objectType=\"LOCALGROUP\"><id:groupCode>admins</id:groupCode></group>");
}

TEST(XmlPrintTest, ElementInTheIdentifiersNamespace) {
  auto lg = LocalGroupId::parse("LOCALGROUP:admins").value();
  std::string text = to_xml(lg, {"id:group", kIdentifiersNamespace});
  EXPECT_EQ(text,
            "<id:group xmlns:id=\"http://x-road.eu/xsd/identifiers\" id:objectType=\"LOCALGROUP\">"
            "<id:groupCode>admins</id:groupCode></id:group>");
  EXPECT_EQ(local_group_from_xml(Parse(text).root()).value(), lg);
}

TEST(XmlPrintTest, EscapesMarkup) {
  EXPECT_EQ(xml_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  // The apostrophe is a legal identifier character; it is escaped and survives a round trip.
  auto id = ClientId::parse("MEMBER:EE/O'Brien/1").value();
  std::string text = to_xml(id);
  EXPECT_NE(text.find("O&apos;Brien"), std::string::npos);
  auto doc = Parse(text);
  auto back = client_from_xml(doc.root());
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, id);
}

TEST(XmlRoundTripTest, EveryKindPrintsParsesAndValidates) {
  std::vector<std::string> clients{"MEMBER:EE/GOV/70000310", "SUBSYSTEM:EE/GOV/70000310/xroad",
                                   "MEMBER:EE-test/X'(+,-.=?)/a"};
  for (const auto& c : clients) {
    auto id = ClientId::parse(c).value();
    std::string text = to_xml(id);
    ExpectValid(text);
    auto doc = Parse(text);
    auto back = client_from_xml(doc.root());
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, id);
    auto any = any_from_xml(doc.root());
    ASSERT_TRUE(any.ok());
    EXPECT_EQ(to_string(*any), c);
  }
  std::vector<std::string> services{
      "SERVICE:EE/GOV/70000310/xroad/getPerson/v1", "SERVICE:EE/GOV/70000310/xroad/getPerson",
      "SERVICE:EE/GOV/70000310/getPerson", "SERVICE:EE/GOV/70000310//getPerson/v1"};
  for (const auto& s : services) {
    auto id = ServiceId::parse(s).value();
    std::string text = to_xml(id);
    ExpectValid(text);
    auto doc = Parse(text);
    auto back = service_from_xml(doc.root());
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, id);
  }
  auto ss = SecurityServerId::parse("SERVER:EE/GOV/70000310/ss1").value();
  ExpectValid(to_xml(ss));
  EXPECT_EQ(security_server_from_xml(Parse(to_xml(ss)).root()).value(), ss);

  auto gg = GlobalGroupId::parse("GLOBALGROUP:EE/owners").value();
  ExpectValid(to_xml(gg, {"xroad:globalGroup"}));
  EXPECT_EQ(global_group_from_xml(Parse(to_xml(gg, {"xroad:globalGroup"})).root()).value(), gg);

  auto lg = LocalGroupId::parse("LOCALGROUP:admins").value();
  ExpectValid(to_xml(lg, {"xroad:localGroup"}));
  EXPECT_EQ(local_group_from_xml(Parse(to_xml(lg, {"xroad:localGroup"})).root()).value(), lg);

  // Longest legal parts validate too.
  auto longest = ClientId::create(std::string(255, 'I'), std::string(255, 'C'),
                                  std::string(255, 'M'), std::string(255, 'S'))
                     .value();
  ExpectValid(to_xml(longest));
}

TEST(XmlSchemaTest, RejectsWhatTheParserRejects) {
  const std::string m =
      "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
      "<id:memberCode>1</id:memberCode>";
  ExpectInvalid(Wrap("client", "MEMBER", "<id:xRoadInstance>EE</id:xRoadInstance>"));
  ExpectInvalid(Wrap("client", "CLIENT", m));
  ExpectInvalid(Wrap("client", "MEMBER",
                     "<id:memberClass>GOV</id:memberClass><id:xRoadInstance>EE</id:xRoadInstance>"
                     "<id:memberCode>1</id:memberCode>"));
  ExpectInvalid(Wrap("client", "MEMBER",
                     "<id:xRoadInstance></id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
                     "<id:memberCode>1</id:memberCode>"));
  ExpectInvalid(Wrap("client", "MEMBER",
                     "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>G V</id:memberClass>"
                     "<id:memberCode>1</id:memberCode>"));
  ExpectInvalid(Wrap("client", "MEMBER",
                     "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
                     "<id:memberCode>" +
                         std::string(256, 'a') + "</id:memberCode>"));
  ExpectInvalid(Wrap("service", "MEMBER", m + "<id:serviceCode>x</id:serviceCode>"));
  ExpectInvalid(Wrap("client", "SERVER", m));
  ExpectInvalid(Wrap("localGroup", "GLOBALGROUP", "<id:groupCode>g</id:groupCode>"));
  ExpectInvalid(Wrap("service", "SERVICE", m));
  ExpectInvalid(Wrap("securityServer", "SERVER", m));
  ExpectInvalid(Wrap("client", "MEMBER", m + "<id:serverCode>x</id:serverCode>"));
}

TEST(XmlParseTest, ReadsIndentedDocumentsWithOtherPrefixes) {
  // The same shape as X-Road's own identifier samples, with newlines, indentation and arbitrary
  // prefixes: only namespaces matter.
  auto doc = Parse(R"(<?xml version="1.0"?>
<h:client i:objectType="SUBSYSTEM"
    xmlns:h="http://x-road.eu/xsd/xroad.xsd"
    xmlns:i="http://x-road.eu/xsd/identifiers">
    <i:xRoadInstance>EE</i:xRoadInstance>
    <i:memberClass>COMPANY</i:memberClass>
    <!-- a comment is fine -->
    <i:memberCode>FOOBAR</i:memberCode>
    <i:subsystemCode>SUBSYSTEM</i:subsystemCode>
</h:client>)");
  auto id = client_from_xml(doc.root());
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(id->to_string(), "SUBSYSTEM:EE/COMPANY/FOOBAR/SUBSYSTEM");

  auto svc = Parse(R"(<service xmlns="http://x-road.eu/xsd/xroad.xsd"
      xmlns:id="http://x-road.eu/xsd/identifiers" id:objectType="SERVICE">
    <id:xRoadInstance>EE</id:xRoadInstance>
    <id:memberClass>BUSINESS</id:memberClass>
    <id:memberCode>JODA</id:memberCode>
    <id:serviceCode>getState</id:serviceCode>
    <id:serviceVersion>v1</id:serviceVersion>
</service>)");
  auto s = service_from_xml(svc.root());
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->to_string(), "SERVICE:EE/BUSINESS/JODA//getState/v1");
}

TEST(XmlParseTest, ParsesInsideASoapHeader) {
  auto doc = Parse(R"(<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
      xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
  <soapenv:Header>)" +
                   to_xml(ClientId::parse("SUBSYSTEM:EE/GOV/1/a").value(),
                          {"xroad:client", kXRoadNamespace, false}) +
                   to_xml(ServiceId::parse("SERVICE:EE/GOV/2/b/get").value(),
                          {"xroad:service", kXRoadNamespace, false}) +
                   R"(</soapenv:Header><soapenv:Body/></soapenv:Envelope>)");
  auto header = doc.root().first_child();
  auto client = client_from_xml(header.first_child(std::string(kXRoadNamespace), "client"));
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  EXPECT_EQ(client->to_string(), "SUBSYSTEM:EE/GOV/1/a");
  auto service = service_from_xml(header.first_child(std::string(kXRoadNamespace), "service"));
  ASSERT_TRUE(service.ok());
  EXPECT_EQ(service->to_string(), "SERVICE:EE/GOV/2/b/get");
}

TEST(XmlParseTest, ObjectTypeMustFitTheContent) {
  constexpr auto kCode = FaultCode::kInvalidClientIdentifier;
  const std::string m =
      "<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>COMPANY</id:memberClass>"
      "<id:memberCode>FOOBAR</id:memberCode>";
  // MEMBER with a subsystem code, SUBSYSTEM without one (X-Road's invalid-clientid samples).
  ExpectFails(
      client_from_xml(
          Parse(Wrap("client", "MEMBER", m + "<id:subsystemCode>S</id:subsystemCode>")).root()),
      kCode, "MEMBER must not have subsystemCode");
  ExpectFails(client_from_xml(Parse(Wrap("client", "SUBSYSTEM", m)).root()), kCode,
              "SUBSYSTEM is missing subsystemCode");
  ExpectFails(client_from_xml(Parse(Wrap("client", "SERVICE", m)).root()), kCode,
              "objectType SERVICE where MEMBER or SUBSYSTEM");
  ExpectFails(client_from_xml(Parse(Wrap("client", "member", m)).root()), kCode,
              "unknown objectType");
  ExpectFails(service_from_xml(Parse(Wrap("service", "MEMBER", m)).root()),
              FaultCode::kInvalidServiceIdentifier, "objectType MEMBER");
  ExpectFails(service_from_xml(Parse(Wrap("service", "SERVICE", m)).root()),
              FaultCode::kInvalidServiceIdentifier, "missing serviceCode");
  ExpectFails(security_server_from_xml(Parse(Wrap("securityServer", "SERVER", m)).root()),
              FaultCode::kInvalidSecurityServer, "missing serverCode");
  ExpectFails(
      security_server_from_xml(
          Parse(Wrap("securityServer", "SERVER",
                     m + "<id:subsystemCode>S</id:subsystemCode><id:serverCode>s</id:serverCode>"))
              .root()),
      FaultCode::kInvalidSecurityServer, "must not have subsystemCode");
  ExpectFails(global_group_from_xml(Parse(Wrap("g", "GLOBALGROUP", m)).root()),
              FaultCode::kInvalidIdentifier, "missing groupCode");
  ExpectFails(
      local_group_from_xml(
          Parse(Wrap("g", "LOCALGROUP",
                     "<id:xRoadInstance>EE</id:xRoadInstance><id:groupCode>g</id:groupCode>"))
              .root()),
      FaultCode::kInvalidIdentifier, "must not have xRoadInstance");
  ExpectFails(any_from_xml(Parse(Wrap("x", "NOPE", m)).root()), FaultCode::kInvalidIdentifier,
              "unknown objectType");
}

TEST(XmlParseTest, StructureIsStrict) {
  constexpr auto kCode = FaultCode::kInvalidClientIdentifier;
  const std::string inst = "<id:xRoadInstance>EE</id:xRoadInstance>";
  const std::string cls = "<id:memberClass>GOV</id:memberClass>";
  const std::string code = "<id:memberCode>1</id:memberCode>";
  auto parse = [](const std::string& text) { return client_from_xml(Parse(text).root()); };

  // objectType must be in the identifiers namespace.
  ExpectFails(parse("<xroad:client " + std::string(kNs) + " objectType=\"MEMBER\">" + inst + cls +
                    code + "</xroad:client>"),
              kCode, "no id:objectType");
  ExpectFails(parse(Wrap("client", "MEMBER", cls + inst + code)), kCode, "out of order");
  ExpectFails(parse(Wrap("client", "MEMBER", inst + inst + cls + code)), kCode, "twice");
  ExpectFails(parse(Wrap("client", "MEMBER", inst + cls + code + "<id:unknown>x</id:unknown>")),
              kCode, "unexpected element \"unknown\"");
  ExpectFails(
      parse(Wrap("client", "MEMBER", inst + cls + "<xroad:memberCode>1</xroad:memberCode>")), kCode,
      "not in the identifiers namespace");
  ExpectFails(
      parse(Wrap("client", "MEMBER", inst + cls + "<id:memberCode><id:x>1</id:x></id:memberCode>")),
      kCode, "text only");
  ExpectFails(parse(Wrap("client", "MEMBER", inst + "stray text" + cls + code)), kCode,
              "text outside");
  // Values are taken exactly: whitespace around a code is an illegal character.
  ExpectFails(parse(Wrap("client", "MEMBER", inst + cls + "<id:memberCode> 1 </id:memberCode>")),
              kCode, "memberCode");
  ExpectFails(parse(Wrap("client", "MEMBER", inst + cls + "<id:memberCode/>")), kCode,
              "memberCode is empty");
  ExpectFails(
      parse(Wrap("client", "MEMBER", inst + cls + "<id:memberCode>a&amp;b</id:memberCode>")), kCode,
      "memberCode");
  ExpectFails(
      parse(Wrap("client", "MEMBER",
                 inst + cls + "<id:memberCode>" + std::string(100000, 'a') + "</id:memberCode>")),
      kCode, "longer than 255");
  // CDATA text is still text and follows the same rules.
  auto cdata =
      parse(Wrap("client", "MEMBER", inst + cls + "<id:memberCode><![CDATA[12]]></id:memberCode>"));
  ASSERT_TRUE(cdata.ok()) << cdata.error().to_string();
  EXPECT_EQ(cdata->member_code(), "12");
  // A null element handle is refused, not dereferenced.
  ExpectFails(client_from_xml(xml::Element()), kCode, "no element");
}

}  // namespace
}  // namespace hansa::ids

namespace hansa::ids {
namespace {

// Every element carrying id:objectType in one of X-Road's own files, parsed as an identifier.
std::vector<std::string> IdentifiersInVector(const std::string& name) {
  std::string path = std::string(HANSA_VECTORS_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = xml::Document::parse(text);
  EXPECT_TRUE(doc.ok()) << path;
  if (!doc.ok()) {
    return {};
  }
  auto elements = xml::select_elements(doc->root(), "//*[@id:objectType]",
                                       {{"id", std::string(kIdentifiersNamespace)}});
  EXPECT_TRUE(elements.ok());
  std::vector<std::string> out;
  for (const auto& e : *elements) {
    auto id = any_from_xml(e);
    EXPECT_TRUE(id.ok()) << path << " line " << e.line() << ": "
                         << (id.ok() ? "" : id.error().to_string());
    if (id.ok()) {
      out.push_back(to_string(*id));
    }
  }
  return out;
}

TEST(XRoadVectorsTest, IdentifiersInGlobalConfigurationParse) {
  EXPECT_EQ(IdentifiersInVector("gconf-v6-private-params.xml"),
            std::vector<std::string>{"SUBSYSTEM:DEV/COM/1234/MANAGEMENT"});
  const std::vector<std::string> owners{"MEMBER:DEV/COM/1234", "MEMBER:DEV/COM/4321"};
  EXPECT_EQ(IdentifiersInVector("gconf-v6-shared-params.xml"), owners);
  EXPECT_EQ(IdentifiersInVector("asic-verification-globalconf-DEV-shared-params.xml"), owners);
}

}  // namespace
}  // namespace hansa::ids
