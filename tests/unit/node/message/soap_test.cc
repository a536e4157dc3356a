#include "node/message/soap.h"

#include <gtest/gtest.h>

#include <string>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "tests/unit/node/message/test_data.h"

namespace hansa::message {
namespace {

using testing::read_data;
using testing::replace;

constexpr std::string_view kXml = "text/xml; charset=UTF-8";
constexpr std::string_view kSwaType =
    "multipart/related; type=\"text/xml\"; start=\"<soap-root>\"; boundary=hansa-swa-boundary";
constexpr std::string_view kMtomType =
    "multipart/related; type=\"application/xop+xml\"; start=\"<soap-root>\"; "
    "start-info=\"text/xml\"; boundary=hansa-mtom-boundary";

SoapParseOptions response_options() {
  SoapParseOptions o;
  o.role = SoapRole::kResponse;
  return o;
}

SoapParseOptions no_schema_options() {
  SoapParseOptions o;
  o.validate_schema = false;
  return o;
}

FaultCode code_of(const Result<SoapMessage>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? FaultCode::kInternalError : r.error().code;
}

Result<SoapMessage> parse_request(std::string xml) { return parse_soap(kXml, std::move(xml)); }

// --- PR-MESS Annex E, D, F, G style examples ---

TEST(SoapParseTest, AnnexERequest) {
  const std::string xml = read_data("request.xml");
  auto msg = parse_request(xml);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_EQ(msg->packaging, SoapPackaging::kPlain);
  EXPECT_EQ(msg->soap_part, xml);  // the signed bytes are the received bytes
  EXPECT_FALSE(msg->is_fault());
  ASSERT_TRUE(msg->header.has_value());
  const SoapHeader& h = *msg->header;
  EXPECT_EQ(h.client.to_string(), "SUBSYSTEM:HANSA/GOV/1001/caseworker");
  ASSERT_TRUE(h.service.has_value());
  EXPECT_EQ(h.service->to_string(), "SERVICE:HANSA/GOV/2002/registry/getPerson/v2");
  EXPECT_EQ(h.id, "0f6d2c8e-6a43-4c55-9d8e-3b1f2a7c9e10");
  EXPECT_EQ(h.user_id, "LV01020312345");
  EXPECT_EQ(h.issue, "case-77");
  EXPECT_EQ(h.protocol_version, "4.0");
  EXPECT_FALSE(h.request_hash.has_value());
  EXPECT_FALSE(h.security_server.has_value());
  EXPECT_EQ(msg->body_namespace, "http://population.example.org/producer");
  EXPECT_EQ(msg->body_local_name, "getPerson");
  ASSERT_EQ(h.elements.size(), 6u);
  EXPECT_EQ(h.elements[0], (HeaderElementName{std::string(kXRoadNamespace), "client"}));
  EXPECT_EQ(h.elements[5], (HeaderElementName{std::string(kXRoadNamespace), "protocolVersion"}));
}

TEST(SoapParseTest, AnnexEResponseWithRequestHash) {
  auto msg = parse_soap(kXml, read_data("response.xml"), response_options());
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  ASSERT_TRUE(msg->header->request_hash.has_value());
  EXPECT_EQ(msg->header->request_hash->algorithm_id, "http://www.w3.org/2001/04/xmlenc#sha512");
  // Whitespace inside the base64 text is dropped.
  EXPECT_EQ(msg->header->request_hash->value.find_first_of(" \n"), std::string::npos);
  EXPECT_EQ(msg->body_local_name, "getPersonResponse");
}

TEST(SoapParseTest, AnnexDTechnicalFault) {
  auto msg = parse_soap(kXml, read_data("fault_technical.xml"), response_options());
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  ASSERT_TRUE(msg->is_fault());
  EXPECT_FALSE(msg->header.has_value());
  EXPECT_EQ(msg->fault->code, "Server.ServerProxy.AccessDenied");
  EXPECT_EQ(msg->fault->detail, "7d1c0f0e-2b7a-4b8e-a6f1-52c3b3c0d1aa");
  EXPECT_EQ(msg->fault->actor, "");
}

TEST(SoapParseTest, AnnexDNonTechnicalFaultIsAnOrdinaryResponse) {
  auto msg = parse_soap(kXml, read_data("response_business_fault.xml"), response_options());
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_FALSE(msg->is_fault());
  EXPECT_EQ(msg->body_local_name, "getPersonResponse");
}

TEST(SoapParseTest, AnnexFSwaRequest) {
  const std::string body = read_data("swa_request.mime");
  auto msg = parse_soap(kSwaType, body);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_EQ(msg->packaging, SoapPackaging::kSwa);
  EXPECT_TRUE(msg->soap_part.starts_with("<?xml"));
  EXPECT_TRUE(msg->soap_part.ends_with("</SOAP-ENV:Envelope>\n"));
  EXPECT_EQ(msg->soap_part_content_type, "text/xml; charset=UTF-8");
  EXPECT_EQ(msg->soap_part_headers.get("Content-Transfer-Encoding"), "8bit");
  EXPECT_EQ(msg->body_local_name, "getPersonPhoto");
  ASSERT_EQ(msg->attachments.size(), 2u);
  EXPECT_EQ(msg->attachments[0].content_type, "image/jpeg");
  EXPECT_EQ(msg->attachments[0].content_id, "photo.jpg");
  EXPECT_EQ(msg->attachments[0].data, "\xff\xd8\xff\xe0 not really a jpeg");
  EXPECT_EQ(msg->attachments[0].headers.get("Content-Disposition"),
            "attachment; filename=\"photo.jpg\"");
  EXPECT_EQ(msg->attachments[1].content_id, "note.txt");
  EXPECT_EQ(msg->attachments[1].data, "A second attachment.");
  EXPECT_EQ(msg->content_type, kSwaType);
}

TEST(SoapParseTest, AnnexGMtomRequest) {
  auto msg = parse_soap(kMtomType, read_data("mtom_request.mime"));
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_EQ(msg->packaging, SoapPackaging::kMtom);
  EXPECT_TRUE(msg->soap_part_content_type.starts_with("application/xop+xml"));
  ASSERT_EQ(msg->attachments.size(), 1u);
  EXPECT_EQ(msg->attachments[0].content_id, "photo.bin");
  EXPECT_EQ(msg->attachments[0].data, "binary photo bytes");
}

TEST(SoapParseTest, ViewsStayValidAfterCopyAndMove) {
  auto msg = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(msg.ok());
  SoapMessage copy = *msg;
  SoapMessage moved = std::move(msg).value();
  EXPECT_EQ(copy.attachments[1].data, "A second attachment.");
  EXPECT_EQ(moved.attachments[1].data, "A second attachment.");
}

TEST(SoapParseTest, HeaderExtensions) {
  std::string xml =
      replace(read_data("request.xml"), "<xrd:id>",
              "<xrd:securityServer id:objectType=\"SERVER\">"
              "<id:xRoadInstance>HANSA</id:xRoadInstance>"
              "<id:memberClass>GOV</id:memberClass>"
              "<id:memberCode>2002</id:memberCode>"
              "<id:serverCode>node2</id:serverCode></xrd:securityServer>"
              "<repr:representedParty "
              "xmlns:repr=\"http://x-road.eu/xsd/representation.xsd\">"
              "<repr:partyClass>COM</repr:partyClass>"
              "<repr:partyCode>777</repr:partyCode></repr:representedParty>"
              "<tok:securityToken xmlns:tok=\"http://x-road.eu/xsd/security-token.xsd\" "
              "tokenType=\"urn:ietf:params:oauth:token-type:jwt\">a.b.c"
              "</tok:securityToken>"
              "<wsse:Other xmlns:wsse=\"urn:example:other\">kept</wsse:Other>"
              "<xrd:id>");
  auto msg = parse_request(xml);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  const SoapHeader& h = *msg->header;
  ASSERT_TRUE(h.security_server.has_value());
  EXPECT_EQ(h.security_server->to_string(), "SERVER:HANSA/GOV/2002/node2");
  ASSERT_TRUE(h.represented_party.has_value());
  EXPECT_EQ(h.represented_party->party_class, "COM");
  EXPECT_EQ(h.represented_party->party_code, "777");
  EXPECT_EQ(h.security_token, "a.b.c");
  EXPECT_EQ(h.security_token_type, "urn:ietf:params:oauth:token-type:jwt");
  EXPECT_EQ(h.elements.size(), 10u);
  EXPECT_EQ(h.elements[5].local_name, "Other");
}

// --- Header rules ---

TEST(SoapHeaderRulesTest, MissingClient) {
  std::string xml = read_data("request.xml");
  const auto b = xml.find("<xrd:client");
  const auto e = xml.find("</xrd:client>") + std::string_view("</xrd:client>").size();
  xml.erase(b, e - b);
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kMissingHeaderField);
}

TEST(SoapHeaderRulesTest, MissingServiceInRequestButNotInResponse) {
  std::string xml = read_data("request.xml");
  const auto b = xml.find("<xrd:service");
  const auto e = xml.find("</xrd:service>") + std::string_view("</xrd:service>").size();
  xml.erase(b, e - b);
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kMissingHeaderField);
  auto response = parse_soap(kXml, xml, response_options());
  EXPECT_TRUE(response.ok()) << response.error().to_string();
}

TEST(SoapHeaderRulesTest, MissingId) {
  auto xml = replace(read_data("request.xml"),
                     "<xrd:id>0f6d2c8e-6a43-4c55-9d8e-3b1f2a7c9e10</xrd:id>", "");
  auto r = parse_request(xml);
  EXPECT_EQ(code_of(r), FaultCode::kMissingHeaderField);
  EXPECT_NE(r.error().message.find("'id'"), std::string::npos);
}

TEST(SoapHeaderRulesTest, EmptyId) {
  auto xml = replace(read_data("request.xml"),
                     "<xrd:id>0f6d2c8e-6a43-4c55-9d8e-3b1f2a7c9e10</xrd:id>", "<xrd:id> </xrd:id>");
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kMissingHeaderField);
}

TEST(SoapHeaderRulesTest, MissingProtocolVersion) {
  auto xml =
      replace(read_data("request.xml"), "<xrd:protocolVersion>4.0</xrd:protocolVersion>", "");
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kMissingHeaderField);
}

TEST(SoapHeaderRulesTest, DuplicateFields) {
  for (std::string_view field :
       {"<xrd:id>x</xrd:id>", "<xrd:userId>u</xrd:userId>", "<xrd:issue>i</xrd:issue>",
        "<xrd:protocolVersion>4.0</xrd:protocolVersion>",
        "<xrd:client id:objectType=\"MEMBER\"><id:xRoadInstance>HANSA</id:xRoadInstance>"
        "<id:memberClass>GOV</id:memberClass><id:memberCode>9</id:memberCode></xrd:client>"}) {
    auto xml = replace(read_data("request.xml"), "</SOAP-ENV:Header>",
                       std::string(field) + "</SOAP-ENV:Header>");
    EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kDuplicateHeaderField) << field;
  }
}

TEST(SoapHeaderRulesTest, WrongProtocolVersion) {
  for (std::string_view v : {"3.1", "4.x", "5.0", "4.00"}) {
    auto xml = replace(read_data("request.xml"), "<xrd:protocolVersion>4.0<",
                       "<xrd:protocolVersion>" + std::string(v) + "<");
    EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kInvalidProtocolVersion) << v;
  }
}

TEST(SoapHeaderRulesTest, BadIdentifiers) {
  auto bad_client =
      replace(read_data("request.xml"), "<id:memberCode>1001<", "<id:memberCode>10 01<");
  EXPECT_EQ(code_of(parse_request(bad_client)), FaultCode::kInvalidClientIdentifier);
  auto wrong_type = replace(read_data("request.xml"), "<xrd:client id:objectType=\"SUBSYSTEM\">",
                            "<xrd:client id:objectType=\"MEMBER\">");
  EXPECT_EQ(code_of(parse_request(wrong_type)), FaultCode::kInvalidClientIdentifier);
  auto bad_service = replace(read_data("request.xml"), "<id:serviceCode>getPerson<",
                             "<id:serviceCode>get/Person<");
  EXPECT_EQ(code_of(parse_request(bad_service)), FaultCode::kInvalidServiceIdentifier);
  auto bad_server = replace(read_data("request.xml"), "<xrd:id>",
                            "<xrd:securityServer id:objectType=\"SERVER\">"
                            "<id:xRoadInstance>HANSA</id:xRoadInstance>"
                            "<id:memberClass>GOV</id:memberClass>"
                            "<id:memberCode>2002</id:memberCode></xrd:securityServer><xrd:id>");
  EXPECT_EQ(code_of(parse_request(bad_server)), FaultCode::kInvalidSecurityServer);
}

TEST(SoapHeaderRulesTest, SchemaViolations) {
  // requestHash without its mandatory algorithmId.
  auto no_alg = replace(read_data("request.xml"), "</SOAP-ENV:Header>",
                        "<xrd:requestHash>AAAA</xrd:requestHash></SOAP-ENV:Header>");
  EXPECT_EQ(code_of(parse_request(no_alg)), FaultCode::kInvalidSoap);
  // An element where the schema wants text.
  auto nested = replace(read_data("request.xml"), "<xrd:issue>case-77</xrd:issue>",
                        "<xrd:issue><b>case-77</b></xrd:issue>");
  EXPECT_EQ(code_of(parse_request(nested)), FaultCode::kInvalidSoap);
  // The same message passes when schema validation is off (the rule checks alone accept it).
  EXPECT_TRUE(parse_soap(kXml, nested, no_schema_options()).ok());
}

TEST(SoapHeaderRulesTest, NoHeader) {
  std::string xml = read_data("request.xml");
  const auto b = xml.find("<SOAP-ENV:Header>");
  const auto e = xml.find("</SOAP-ENV:Header>") + std::string_view("</SOAP-ENV:Header>").size();
  xml.erase(b, e - b);
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kMissingHeader);
}

TEST(SoapHeaderRulesTest, NoBodyOrEmptyBody) {
  std::string xml = read_data("request.xml");
  const auto b = xml.find("<SOAP-ENV:Body>");
  const auto e = xml.find("</SOAP-ENV:Body>") + std::string_view("</SOAP-ENV:Body>").size();
  std::string no_body = xml;
  no_body.erase(b, e - b);
  EXPECT_EQ(code_of(parse_request(no_body)), FaultCode::kMissingBody);
  std::string empty = xml;
  empty.replace(b, e - b, "<SOAP-ENV:Body>  </SOAP-ENV:Body>");
  EXPECT_EQ(code_of(parse_request(empty)), FaultCode::kMissingBody);
}

TEST(SoapHeaderRulesTest, NotSoap) {
  EXPECT_EQ(code_of(parse_request("not xml at all")), FaultCode::kInvalidSoap);
  EXPECT_EQ(code_of(parse_request("<a/>")), FaultCode::kInvalidSoap);
  EXPECT_EQ(code_of(parse_request("")), FaultCode::kInvalidSoap);
  // SOAP 1.2 is not X-Road's SOAP.
  auto soap12 = read_data("request.xml");
  soap12 = replace(soap12, "http://schemas.xmlsoap.org/soap/envelope/",
                   "http://www.w3.org/2003/05/soap-envelope");
  EXPECT_EQ(code_of(parse_request(soap12)), FaultCode::kInvalidSoap);
  // Two bodies, header after body.
  auto two_bodies = replace(read_data("request.xml"), "</SOAP-ENV:Envelope>",
                            "<SOAP-ENV:Body><x/></SOAP-ENV:Body></SOAP-ENV:Envelope>");
  EXPECT_EQ(code_of(parse_request(two_bodies)), FaultCode::kInvalidSoap);
  auto late_header = replace(read_data("request.xml"), "</SOAP-ENV:Envelope>",
                             "<SOAP-ENV:Header/></SOAP-ENV:Envelope>");
  EXPECT_EQ(code_of(parse_request(late_header)), FaultCode::kInvalidSoap);
}

// --- Hostile input ---

TEST(SoapHostileTest, DoctypeAndEntitiesRefused) {
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<SOAP-ENV:Body><x>&lol2;</x></SOAP-ENV:Body></SOAP-ENV:Envelope>";
  EXPECT_EQ(code_of(parse_request(laughs)), FaultCode::kInvalidSoap);
  const std::string external =
      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<SOAP-ENV:Body><x>&xxe;</x></SOAP-ENV:Body></SOAP-ENV:Envelope>";
  auto r = parse_request(external);
  EXPECT_EQ(code_of(r), FaultCode::kInvalidSoap);
  const std::string external_dtd =
      "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"http://127.0.0.1:1/evil.dtd\">"
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<SOAP-ENV:Body><x/></SOAP-ENV:Body></SOAP-ENV:Envelope>";
  EXPECT_EQ(code_of(parse_request(external_dtd)), FaultCode::kInvalidSoap);
}

TEST(SoapHostileTest, DeepXml) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "<d>";
  for (int i = 0; i < 200; ++i) deep += "</d>";
  auto xml = replace(read_data("request.xml"), "<personCode>", deep + "<personCode>");
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kLimitExceeded);
}

TEST(SoapHostileTest, OversizedBody) {
  SoapParseOptions options;
  options.limits.max_message_bytes = 1000;
  EXPECT_EQ(code_of(parse_soap(kXml, read_data("request.xml"), options)),
            FaultCode::kLimitExceeded);
  SoapParseOptions part;
  part.limits.max_soap_part_bytes = 1000;
  EXPECT_EQ(code_of(parse_soap(kXml, read_data("request.xml"), part)), FaultCode::kLimitExceeded);
}

TEST(SoapHostileTest, OversizedOrTooManyAttachments) {
  SoapParseOptions big;
  big.limits.max_attachment_bytes = 10;
  EXPECT_EQ(code_of(parse_soap(kSwaType, read_data("swa_request.mime"), big)),
            FaultCode::kLimitExceeded);
  SoapParseOptions many;
  many.limits.max_attachments = 1;
  EXPECT_EQ(code_of(parse_soap(kSwaType, read_data("swa_request.mime"), many)),
            FaultCode::kLimitExceeded);
}

TEST(SoapHostileTest, OversizedHeader) {
  auto xml = replace(read_data("request.xml"), "<xrd:issue>case-77<",
                     "<xrd:issue>" + std::string(70 * 1024, 'i') + "<");
  EXPECT_EQ(code_of(parse_request(xml)), FaultCode::kLimitExceeded);
  std::string many;
  for (int i = 0; i < 100; ++i) many += "<o:x xmlns:o=\"urn:o\"/>";
  auto xml2 = replace(read_data("request.xml"), "</SOAP-ENV:Header>", many + "</SOAP-ENV:Header>");
  EXPECT_EQ(code_of(parse_request(xml2)), FaultCode::kLimitExceeded);
}

TEST(SoapHostileTest, BadContentTypes) {
  const std::string xml = read_data("request.xml");
  EXPECT_EQ(code_of(parse_soap("application/json", xml)), FaultCode::kInvalidContentType);
  EXPECT_EQ(code_of(parse_soap("application/soap+xml", xml)), FaultCode::kInvalidContentType);
  EXPECT_EQ(code_of(parse_soap("", xml)), FaultCode::kInvalidContentType);
  EXPECT_EQ(code_of(parse_soap("text/", xml)), FaultCode::kInvalidContentType);
  EXPECT_EQ(code_of(parse_soap("multipart/related", xml)), FaultCode::kInvalidContentType);
  EXPECT_EQ(code_of(parse_soap("multipart/mixed; boundary=x", xml)),
            FaultCode::kInvalidContentType);
  // The SOAP part must come first and be XML.
  const std::string wrong_first =
      "--b\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n--b\r\nContent-Type: "
      "text/xml\r\n\r\n" +
      xml + "\r\n--b--\r\n";
  EXPECT_EQ(code_of(parse_soap("multipart/related; boundary=b", wrong_first)),
            FaultCode::kInvalidContentType);
}

TEST(SoapHostileTest, BrokenMultipart) {
  std::string body = read_data("swa_request.mime");
  // Truncated: no closing delimiter.
  std::string truncated = body.substr(0, body.size() / 2);
  EXPECT_EQ(code_of(parse_soap(kSwaType, truncated)), FaultCode::kMimeParsingFailed);
  // Boundary that never occurs.
  EXPECT_EQ(code_of(parse_soap("multipart/related; boundary=nothere", body)),
            FaultCode::kMimeParsingFailed);
  // A malformed part header line.
  std::string bad_header =
      replace(body, "Content-Type: image/jpeg\r\n", "Content-Type image/jpeg\r\n");
  EXPECT_EQ(code_of(parse_soap(kSwaType, bad_header)), FaultCode::kMimeParsingFailed);
}

// --- Building, faults, request hash, consistency ---

TEST(SoapBuildTest, BuiltMessageParsesBack) {
  auto original = parse_request(read_data("request.xml"));
  ASSERT_TRUE(original.ok());
  SoapHeader h = *original->header;
  h.represented_party = RepresentedParty{std::nullopt, "C&D<1>"};
  h.security_server = ids::SecurityServerId::parse("SERVER:HANSA/GOV/2002/node2").value();
  const std::string xml = build_soap_message(h, "<p:q xmlns:p=\"urn:p\"><v>1 &amp; 2</v></p:q>");
  auto parsed = parse_request(xml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string() << "\n" << xml;
  EXPECT_EQ(parsed->header->client, h.client);
  EXPECT_EQ(parsed->header->service, h.service);
  EXPECT_EQ(parsed->header->id, h.id);
  EXPECT_EQ(parsed->header->user_id, h.user_id);
  EXPECT_EQ(parsed->header->issue, h.issue);
  EXPECT_EQ(parsed->header->represented_party, h.represented_party);
  EXPECT_EQ(parsed->header->security_server, h.security_server);
  EXPECT_EQ(parsed->body_namespace, "urn:p");
  EXPECT_TRUE(check_response_consistency(h, *parsed->header).ok());
}

TEST(SoapFaultTest, BuildMatchesAnnexDLayoutAndParsesBack) {
  const Error e = Error(FaultCode::kMissingBody, "Malformed SOAP message: body missing")
                      .wrapped(FaultCode::kServiceFailed);
  const std::string xml =
      build_fault(e, Origin::kClientProxy, "f31e7451-0000-4000-8000-000000000001");
  EXPECT_NE(xml.find("<faultcode>Server.ClientProxy.ServiceFailed.MissingBody</faultcode>"),
            std::string::npos);
  EXPECT_NE(xml.find("<faultactor></faultactor>"), std::string::npos);
  EXPECT_NE(xml.find("<detail><faultDetail xmlns=\"\">f31e7451-0000-4000-8000-000000000001"),
            std::string::npos);
  auto f = parse_fault(xml);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->code, "Server.ClientProxy.ServiceFailed.MissingBody");
  EXPECT_EQ(f->string, "Malformed SOAP message: body missing");
  EXPECT_EQ(f->detail, "f31e7451-0000-4000-8000-000000000001");
  // It is also a valid fault message for parse_soap.
  auto m = parse_soap(kXml, xml, response_options());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->is_fault());
}

TEST(SoapFaultTest, EscapesText) {
  SoapFault f{"Server.X", "a <b> & \"c\"", std::nullopt, "d<e"};
  auto parsed = parse_fault(build_fault(f));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->string, f.string);
  EXPECT_EQ(parsed->detail, f.detail);
  EXPECT_EQ(parsed->actor, "");
}

TEST(SoapFaultTest, ParseRejectsNonFaults) {
  EXPECT_EQ(parse_fault(read_data("request.xml")).error().code, FaultCode::kInvalidSoap);
  EXPECT_EQ(parse_fault("<x/>").error().code, FaultCode::kInvalidSoap);
  EXPECT_EQ(parse_fault("garbage").error().code, FaultCode::kInvalidSoap);
  const std::string no_code =
      "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><e:Fault>"
      "<faultstring>x</faultstring></e:Fault></e:Body></e:Envelope>";
  EXPECT_EQ(parse_fault(no_code).error().code, FaultCode::kInvalidSoap);
}

TEST(SoapRequestHashTest, InsertThenCheck) {
  const std::string request = read_data("request.xml");
  // response.xml carries a stale requestHash: it is replaced, not duplicated.
  auto with_hash = insert_request_hash(read_data("response.xml"), request);
  ASSERT_TRUE(with_hash.ok()) << with_hash.error().to_string();
  auto response = parse_soap(kXml, *with_hash, response_options());
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  ASSERT_TRUE(response->header->request_hash.has_value());
  EXPECT_EQ(response->header->request_hash->value,
            crypto::base64_encode(crypto::digest(crypto::DigestAlgorithm::kSha512, request)));
  EXPECT_TRUE(check_request_hash(*response->header, request).ok());
  // The response body is unchanged in meaning.
  EXPECT_EQ(response->body_local_name, "getPersonResponse");
  EXPECT_NE(with_hash->find("Anna Berzina"), std::string::npos);
  // A different request does not match.
  auto other = check_request_hash(*response->header, request + " ");
  EXPECT_EQ(other.error().code, FaultCode::kInconsistentResponse);
}

TEST(SoapRequestHashTest, ExactlyOneRequestHashAfterInsert) {
  auto with_hash = insert_request_hash(read_data("response.xml"), "req");
  ASSERT_TRUE(with_hash.ok());
  std::size_t count = 0;
  for (auto pos = with_hash->find("<xrd:requestHash"); pos != std::string::npos;
       pos = with_hash->find("<xrd:requestHash", pos + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

TEST(SoapRequestHashTest, MissingOrBrokenHash) {
  auto response = parse_soap(kXml, read_data("response_business_fault.xml"), response_options());
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(check_request_hash(*response->header, "x").error().code,
            FaultCode::kMissingHeaderField);
  SoapHeader h = *response->header;
  h.request_hash = RequestHash{"urn:unknown", "AAAA"};
  EXPECT_EQ(check_request_hash(h, "x").error().code, FaultCode::kInvalidRequest);
  h.request_hash = RequestHash{"http://www.w3.org/2001/04/xmlenc#sha512", "!!"};
  EXPECT_EQ(check_request_hash(h, "x").error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(insert_request_hash(read_data("fault_technical.xml"), "x").error().code,
            FaultCode::kMissingHeader);
  EXPECT_EQ(insert_request_hash("<x/>", "x").error().code, FaultCode::kInvalidSoap);
}

TEST(SoapConsistencyTest, EchoedHeaderRequired) {
  auto req = parse_request(read_data("request.xml"));
  auto resp = parse_soap(kXml, read_data("response.xml"), response_options());
  ASSERT_TRUE(req.ok() && resp.ok());
  EXPECT_TRUE(check_response_consistency(*req->header, *resp->header).ok());

  auto changed = [&](auto mutate) {
    SoapHeader h = *resp->header;
    mutate(h);
    return check_response_consistency(*req->header, h);
  };
  EXPECT_EQ(changed([](SoapHeader& h) { h.id = "other"; }).error().code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) { h.user_id.reset(); }).error().code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) { h.issue = "x"; }).error().code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) {
              h.client = ids::ClientId::parse("MEMBER:HANSA/GOV/1001").value();
            })
                .error()
                .code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) { h.service.reset(); }).error().code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) {
              h.represented_party = RepresentedParty{{}, "x"};
            })
                .error()
                .code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(changed([](SoapHeader& h) { h.protocol_version = "4.1"; }).error().code,
            FaultCode::kInconsistentResponse);
  // requestHash is not compared.
  EXPECT_TRUE(changed([](SoapHeader& h) { h.request_hash.reset(); }).ok());
}

TEST(SoapConsistencyTest, HeaderOrderEchoed) {
  auto req = parse_request(read_data("request.xml"));
  auto resp = parse_soap(kXml, read_data("response.xml"), response_options());
  ASSERT_TRUE(req.ok() && resp.ok());
  EXPECT_TRUE(header_order_echoed(*req->header, *resp->header));
  SoapHeader swapped = *resp->header;
  std::swap(swapped.elements[0], swapped.elements[1]);
  EXPECT_FALSE(header_order_echoed(*req->header, swapped));
  SoapHeader fewer = *resp->header;
  fewer.elements.erase(fewer.elements.begin() + 3);
  EXPECT_FALSE(header_order_echoed(*req->header, fewer));
}

// --- Packages for the IS ---

TEST(SoapPackageTest, PlainMessageIsTheSoapPart) {
  auto pkg = build_soap_package(kXml, kXml, "<x/>", {});
  ASSERT_TRUE(pkg.ok());
  EXPECT_EQ(pkg->content_type, kXml);
  EXPECT_EQ(pkg->body, "<x/>");
}

TEST(SoapPackageTest, SwaRoundTripKeepsBoundaryAndParts) {
  auto msg = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(msg.ok());
  auto pkg = build_soap_package(msg->content_type, msg->soap_part_content_type, msg->soap_part,
                                msg->attachments);
  ASSERT_TRUE(pkg.ok()) << pkg.error().to_string();
  EXPECT_EQ(pkg->content_type, kSwaType);
  auto again = parse_soap(pkg->content_type, pkg->body);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->soap_part, msg->soap_part);
  ASSERT_EQ(again->attachments.size(), 2u);
  EXPECT_EQ(again->attachments[0].data, msg->attachments[0].data);
  EXPECT_EQ(again->attachments[0].content_id, "photo.jpg");
  EXPECT_EQ(again->attachments[1].data, msg->attachments[1].data);
  EXPECT_EQ(again->soap_part_headers.get("Content-ID"), "<soap-root>");
}

TEST(SoapPackageTest, FreshBoundaryWhenOriginalIsUnusable) {
  auto msg = parse_soap(kMtomType, read_data("mtom_request.mime"));
  ASSERT_TRUE(msg.ok());
  // The attachment contains the original delimiter: a new boundary must be chosen.
  std::vector<Attachment> atts = msg->attachments;
  const std::string evil = "x\r\n--hansa-mtom-boundary\r\ny";
  atts[0].data = evil;
  auto pkg =
      build_soap_package(msg->content_type, msg->soap_part_content_type, msg->soap_part, atts);
  ASSERT_TRUE(pkg.ok()) << pkg.error().to_string();
  EXPECT_EQ(pkg->content_type.find("hansa-mtom-boundary"), std::string::npos);
  auto again = parse_soap(pkg->content_type, pkg->body);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->packaging, SoapPackaging::kMtom);
  EXPECT_EQ(again->attachments[0].data, evil);
}

}  // namespace
}  // namespace hansa::message
