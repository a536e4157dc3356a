// Shared parameters, private parameters and anchors: X-Road's files, Hansa's output, hostile input.

#include "core/globalconf/xml_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "core/crypto/encoding.h"
#include "core/xml/xml.h"
#include "tests/unit/core/globalconf/test_files.h"

namespace hansa::globalconf {
namespace {

using testing::schema_path;
using testing::vector_file;

ids::ClientId client(std::string_view text) { return ids::ClientId::parse(text).value(); }

ids::SecurityServerId server(std::string_view text) {
  return ids::SecurityServerId::parse(text).value();
}

// Validates `xml` against the repository's schema file (not the compiled-in copy).
void expect_valid_by_schema_file(const std::string& xsd, const std::string& xml) {
  auto schema = xml::Schema::load_file(schema_path(xsd));
  ASSERT_TRUE(schema.ok()) << schema.error().to_string();
  auto doc = xml::Document::parse(xml);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  auto st = schema->validate(*doc);
  EXPECT_TRUE(st.ok()) << xsd << ": " << st.error().to_string();
}

TEST(SchemaFiles, AcceptXRoadFiles) {
  expect_valid_by_schema_file("shared-parameters.xsd", vector_file("gconf-v6-shared-params.xml"));
  expect_valid_by_schema_file("shared-parameters.xsd",
                              vector_file("asic-verification-globalconf-DEV-shared-params.xml"));
  expect_valid_by_schema_file("private-parameters.xsd", vector_file("gconf-v6-private-params.xml"));
  expect_valid_by_schema_file("configuration-anchor.xsd",
                              vector_file("gconf-v6-configuration-anchor.xml"));
}

TEST(SharedParameters, ReadsXRoadV6File) {
  auto p = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml"));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->instance_identifier, "DEV");

  ASSERT_EQ(p->sources.size(), 1u);
  EXPECT_EQ(p->sources[0].address, "cs");
  EXPECT_EQ(p->sources[0].internal_verification_certs.size(), 1u);
  EXPECT_EQ(p->sources[0].external_verification_certs.size(), 1u);

  ASSERT_EQ(p->approved_cas.size(), 2u);
  const ApprovedCa& test_ca = p->approved_cas[0];
  EXPECT_EQ(test_ca.name, "Test CA");
  EXPECT_EQ(test_ca.authentication_only, false);
  ASSERT_EQ(test_ca.top_ca.ocsp.size(), 1u);
  EXPECT_EQ(test_ca.top_ca.ocsp[0].url, "http://testca:8888");
  EXPECT_TRUE(test_ca.top_ca.ocsp[0].cert.has_value());
  EXPECT_EQ(test_ca.top_ca.ocsp[0].cost_type, CostType::kFree);
  EXPECT_TRUE(test_ca.intermediate_cas.empty());
  EXPECT_EQ(test_ca.certificate_profile_info,
            "ee.ria.xroad.common.certificateprofile.impl.FiVRKCertificateProfileInfoProvider");
  EXPECT_FALSE(test_ca.default_csr_format.has_value());
  ASSERT_TRUE(test_ca.acme_server.has_value());
  EXPECT_EQ(test_ca.acme_server->directory_url, "http://testca:8887");
  EXPECT_TRUE(test_ca.top_ca.cert.is_ca());
  EXPECT_EQ(p->approved_cas[1].name, "New CA");
  EXPECT_EQ(p->approved_cas[1].default_csr_format, CsrFormat::kPem);

  ASSERT_EQ(p->approved_tsas.size(), 1u);
  EXPECT_EQ(p->approved_tsas[0].name, "Test TSA");
  EXPECT_EQ(p->approved_tsas[0].url, "http://testca:8899");
  EXPECT_EQ(p->approved_tsas[0].cost_type, CostType::kFree);

  ASSERT_EQ(p->members.size(), 2u);
  const Member& m0 = p->members[0];
  EXPECT_EQ(m0.id.to_string(), "MEMBER:DEV/COM/1234");
  EXPECT_EQ(m0.member_class_description, "Commercial");
  EXPECT_EQ(m0.name, "Test member");
  ASSERT_EQ(m0.subsystems.size(), 4u);
  EXPECT_EQ(m0.subsystems[0].id.to_string(), "SUBSYSTEM:DEV/COM/1234/MANAGEMENT");
  EXPECT_EQ(m0.subsystems[0].name, "Management services");
  EXPECT_EQ(m0.subsystems[3].id.subsystem_code(), "test-consumer");
  EXPECT_EQ(p->members[1].id.to_string(), "MEMBER:DEV/COM/4321");
  EXPECT_EQ(p->members[1].name, "Test client");

  ASSERT_EQ(p->security_servers.size(), 2u);
  const SecurityServer& ss0 = p->security_servers[0];
  EXPECT_EQ(ss0.id, server("SERVER:DEV/COM/1234/SS0"));
  EXPECT_EQ(ss0.address, "ss0");
  ASSERT_EQ(ss0.auth_cert_hashes.size(), 1u);
  EXPECT_EQ(crypto::base64_encode(ss0.auth_cert_hashes[0]),
            "7Meh1uzLrM0z4DWhf30PPzICihqTHGgRSmWczyAIWB8=");
  EXPECT_EQ(ss0.clients, (std::vector<ids::ClientId>{
                             client("SUBSYSTEM:DEV/COM/1234/MANAGEMENT"),
                             client("SUBSYSTEM:DEV/COM/1234/TestService"),
                             client("SUBSYSTEM:DEV/COM/1234/TestSaved"),
                             client("SUBSYSTEM:DEV/COM/4321/TestClient"),
                         }));
  EXPECT_FALSE(ss0.maintenance_mode.has_value());
  const SecurityServer& ss1 = p->security_servers[1];
  EXPECT_EQ(ss1.id, server("SERVER:DEV/COM/4321/SS1"));
  EXPECT_EQ(ss1.address, "ss1");
  EXPECT_EQ(ss1.clients, (std::vector<ids::ClientId>{
                             client("SUBSYSTEM:DEV/COM/4321/TestClient"),
                             client("SUBSYSTEM:DEV/COM/1234/test-consumer"),
                         }));

  ASSERT_EQ(p->global_groups.size(), 1u);
  EXPECT_EQ(p->global_groups[0].id.to_string(), "GLOBALGROUP:DEV/security-server-owners");
  EXPECT_EQ(p->global_groups[0].description, "Security server owners");
  EXPECT_EQ(
      p->global_groups[0].members,
      (std::vector<ids::ClientId>{client("MEMBER:DEV/COM/1234"), client("MEMBER:DEV/COM/4321")}));

  ASSERT_EQ(p->global_settings.member_classes.size(), 3u);
  EXPECT_EQ(p->global_settings.member_classes[1].code, "GOV");
  EXPECT_EQ(p->global_settings.member_classes[1].description, "Governmental organisations");
  EXPECT_EQ(p->global_settings.ocsp_freshness_seconds, 3600);
}

TEST(SharedParameters, ReadsXRoadV3FileOfTheAsicVectors) {
  auto p =
      parse_shared_parameters(vector_file("asic-verification-globalconf-DEV-shared-params.xml"));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->instance_identifier, "DEV");
  ASSERT_EQ(p->approved_cas.size(), 1u);
  EXPECT_FALSE(p->approved_cas[0].top_ca.ocsp[0].cost_type.has_value());
  EXPECT_FALSE(p->approved_cas[0].acme_server.has_value());
  ASSERT_EQ(p->approved_tsas.size(), 1u);
  EXPECT_FALSE(p->approved_tsas[0].cost_type.has_value());
  EXPECT_EQ(p->approved_tsas[0].url, "http://testca:8899");
  ASSERT_EQ(p->members.size(), 2u);
  EXPECT_FALSE(p->members[0].subsystems[0].name.has_value());
  EXPECT_EQ(p->security_servers[1].clients,
            (std::vector<ids::ClientId>{client("SUBSYSTEM:DEV/COM/4321/TestClient")}));
}

TEST(SharedParameters, WriteIsDeterministicRoundTripsAndValidates) {
  for (const char* name :
       {"gconf-v6-shared-params.xml", "asic-verification-globalconf-DEV-shared-params.xml"}) {
    auto p = parse_shared_parameters(vector_file(name));
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    auto xml = write_shared_parameters(*p);
    ASSERT_TRUE(xml.ok()) << xml.error().to_string();
    expect_valid_by_schema_file("shared-parameters.xsd", *xml);
    auto again = parse_shared_parameters(*xml);
    ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << *xml;
    auto xml2 = write_shared_parameters(*again);
    ASSERT_TRUE(xml2.ok());
    EXPECT_EQ(*xml, *xml2) << name;
    // Same content as X-Road's file.
    EXPECT_EQ(again->members.size(), p->members.size());
    EXPECT_EQ(again->security_servers[0].clients, p->security_servers[0].clients);
    EXPECT_EQ(again->approved_cas[0].top_ca.cert, p->approved_cas[0].top_ca.cert);
    EXPECT_EQ(again->security_servers[0].auth_cert_hashes, p->security_servers[0].auth_cert_hashes);
  }
}

TEST(SharedParameters, WritesOptionalElementsAndMaintenanceMode) {
  auto p = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml")).value();
  p.security_servers[1].maintenance_mode = MaintenanceMode{"back at 10 & soon"};
  p.security_servers[0].maintenance_mode = MaintenanceMode{};
  p.approved_cas[0].intermediate_cas.push_back(p.approved_cas[1].top_ca);
  p.approved_cas[0].default_csr_format = CsrFormat::kDer;
  p.approved_cas[0].acme_server->ip_address = "10.0.0.1";
  p.approved_tsas[0].cost_type = CostType::kPaid;
  p.central_services.push_back(CentralService{
      "getRandom", ids::ServiceId::parse("SERVICE:DEV/COM/1234/TestService/getRandom/v1").value()});
  auto xml = write_shared_parameters(p);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  expect_valid_by_schema_file("shared-parameters.xsd", *xml);
  auto back = parse_shared_parameters(*xml);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->security_servers[1].maintenance_mode->message, "back at 10 & soon");
  ASSERT_TRUE(back->security_servers[0].maintenance_mode.has_value());
  EXPECT_FALSE(back->security_servers[0].maintenance_mode->message.has_value());
  EXPECT_EQ(back->approved_cas[0].intermediate_cas.size(), 1u);
  EXPECT_EQ(back->approved_cas[0].default_csr_format, CsrFormat::kDer);
  EXPECT_EQ(back->approved_cas[0].acme_server->ip_address, "10.0.0.1");
  EXPECT_EQ(back->approved_tsas[0].cost_type, CostType::kPaid);
  ASSERT_EQ(back->central_services.size(), 1u);
  EXPECT_EQ(back->central_services[0].implementing_service->to_string(),
            "SERVICE:DEV/COM/1234/TestService/getRandom/v1");
}

TEST(SharedParameters, WriterRefusesInconsistentModels) {
  auto p = parse_shared_parameters(vector_file("gconf-v6-shared-params.xml")).value();
  auto unknown_client = p;
  unknown_client.security_servers[0].clients.push_back(client("SUBSYSTEM:DEV/COM/9999/x"));
  EXPECT_EQ(write_shared_parameters(unknown_client).error().code, FaultCode::kInvalidGlobalConf);

  auto unknown_owner = p;
  unknown_owner.security_servers[0].id = server("SERVER:DEV/GOV/9999/SS9");
  EXPECT_EQ(write_shared_parameters(unknown_owner).error().code, FaultCode::kInvalidGlobalConf);

  auto foreign_member = p;
  foreign_member.members[0].id = ids::MemberId::parse("MEMBER:EE/COM/1234").value();
  EXPECT_EQ(write_shared_parameters(foreign_member).error().code, FaultCode::kInvalidGlobalConf);

  auto bad_instance = p;
  bad_instance.instance_identifier = "D E V";
  EXPECT_EQ(write_shared_parameters(bad_instance).error().code, FaultCode::kInvalidGlobalConf);
}

TEST(PrivateParameters, ReadsXRoadV6File) {
  auto p = parse_private_parameters(vector_file("gconf-v6-private-params.xml"));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->instance_identifier, "DEV");
  EXPECT_TRUE(p->configuration_anchors.empty());
  EXPECT_EQ(p->management_service.auth_cert_reg_service_address,
            "https://cs:4001/managementservice/");
  EXPECT_TRUE(p->management_service.auth_cert_reg_service_cert.has_value());
  EXPECT_EQ(p->management_service.management_request_service_provider_id,
            client("SUBSYSTEM:DEV/COM/1234/MANAGEMENT"));
  EXPECT_EQ(p->time_stamping_interval_seconds, 60);
}

TEST(PrivateParameters, RoundTripsWithFederationAnchors) {
  auto p = parse_private_parameters(vector_file("gconf-v6-private-params.xml")).value();
  auto anchor =
      parse_configuration_anchor(vector_file("gconf-v6-configuration-anchor.xml")).value();
  anchor.instance_identifier = "EE";
  p.configuration_anchors.push_back(anchor);
  anchor.generated_at.reset();
  anchor.instance_identifier = "FI";
  p.configuration_anchors.push_back(anchor);
  auto xml = write_private_parameters(p);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  expect_valid_by_schema_file("private-parameters.xsd", *xml);
  auto back = parse_private_parameters(*xml);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->configuration_anchors.size(), 2u);
  EXPECT_EQ(back->configuration_anchors[0].instance_identifier, "EE");
  EXPECT_EQ(back->configuration_anchors[0].generated_at, p.configuration_anchors[0].generated_at);
  EXPECT_FALSE(back->configuration_anchors[1].generated_at.has_value());
  EXPECT_EQ(back->configuration_anchors[1].sources.size(), 2u);
  EXPECT_EQ(back->management_service.management_request_service_provider_id,
            p.management_service.management_request_service_provider_id);
  EXPECT_EQ(*write_private_parameters(*back), *xml);
}

TEST(ConfigurationAnchor, ReadsXRoadAnchorAndRoundTrips) {
  std::string file = vector_file("gconf-v6-configuration-anchor.xml");
  auto a = parse_configuration_anchor(file);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->instance_identifier, "DEV");
  ASSERT_TRUE(a->generated_at.has_value());
  EXPECT_EQ(format_utc(*a->generated_at), "2025-11-05T22:10:45.770Z");
  ASSERT_EQ(a->sources.size(), 2u);
  EXPECT_EQ(a->sources[0].download_url, "http://cs/internalconf");
  EXPECT_EQ(a->sources[1].download_url, "https://cs/internalconf");
  ASSERT_EQ(a->sources[0].verification_certs.size(), 1u);

  auto xml = write_configuration_anchor(*a);
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  expect_valid_by_schema_file("configuration-anchor.xsd", *xml);
  auto back = parse_configuration_anchor(*xml);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->generated_at, a->generated_at);
  EXPECT_EQ(back->sources[1].verification_certs[0], a->sources[1].verification_certs[0]);

  // Hash distributed out of band: SHA-224 of the file bytes, "AB:CD:..." form.
  std::string hash = configuration_anchor_hash(file);
  EXPECT_EQ(hash.size(), 28u * 3 - 1);
  EXPECT_EQ(hash, configuration_anchor_hash(file));
  EXPECT_NE(hash, configuration_anchor_hash(*xml));
  EXPECT_EQ(hash.find_first_not_of("0123456789ABCDEF:"), std::string::npos);

  auto no_time = *a;
  no_time.generated_at.reset();
  EXPECT_EQ(write_configuration_anchor(no_time).error().code, FaultCode::kInvalidGlobalConf);
  auto no_source = *a;
  no_source.sources.clear();
  EXPECT_EQ(write_configuration_anchor(no_source).error().code, FaultCode::kInvalidGlobalConf);
}

// Found by the globalconf_params fuzz target: years past 2261 overflowed the nanosecond clock
// (undefined behaviour) while reading an anchor's generatedAt or a directory's Expire-date.
TEST(Time, RefusesYearsOutsideTheClockRange) {
  for (const char* text : {"3602-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                           "1600-01-01T00:00:00Z"}) {
    auto t = parse_utc(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.error().code, FaultCode::kMalformedGlobalConf) << text;
  }
  EXPECT_TRUE(parse_utc("2200-12-31T23:59:59Z").ok());
  EXPECT_TRUE(parse_utc("1700-01-01T00:00:00Z").ok());
}

TEST(Time, FormatsAndParsesUtc) {
  auto t = parse_utc("2035-11-11T03:07:40Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(format_utc(*t), "2035-11-11T03:07:40Z");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count(),
            2078363260);
  EXPECT_EQ(format_utc(*parse_utc("2025-11-05T22:10:45.770Z")), "2025-11-05T22:10:45.770Z");
  EXPECT_EQ(format_utc(*parse_utc("2025-11-05T23:10:45+01:00")), "2025-11-05T22:10:45Z");
  EXPECT_EQ(format_utc(*parse_utc("2025-11-05T22:10:45")), "2025-11-05T22:10:45Z");
  EXPECT_EQ(format_utc(*parse_utc("1969-12-31T23:59:59.500Z")), "1969-12-31T23:59:59.500Z");
  for (const char* bad : {"", "2025-11-05", "2025-13-05T00:00:00Z", "2025-11-05T22:10:45Q",
                          "2025-11-05T22:10:45.Z", "2025-11-05 22:10:45Z"}) {
    EXPECT_EQ(parse_utc(bad).error().code, FaultCode::kMalformedGlobalConf) << bad;
  }
}

// --- Hostile and broken input ---

std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

TEST(Hostile, EntitiesAreRefused) {
  std::string xml = vector_file("gconf-v6-shared-params.xml");
  std::string with_entity =
      replace(xml, "<ns3:conf",
              "<!DOCTYPE ns3:conf [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
              "<ns3:conf");
  with_entity = replace(with_entity, "<name>Test member</name>", "<name>&b;</name>");
  auto r = parse_shared_parameters(with_entity);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kMalformedGlobalConf);

  std::string external =
      replace(vector_file("gconf-v6-private-params.xml"), "<ns3:conf",
              "<!DOCTYPE ns3:conf [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><ns3:conf");
  EXPECT_EQ(parse_private_parameters(external).error().code, FaultCode::kMalformedGlobalConf);
}

TEST(Hostile, FiftyMegabyteFileHitsTheSizeLimit) {
  std::string xml = vector_file("gconf-v6-shared-params.xml");
  std::string big = replace(xml, "<name>Test member</name>",
                            "<name>" + std::string(50 * 1024 * 1024, 'x') + "</name>");
  auto r = parse_shared_parameters(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(r.error().fault_code(), "MalformedGlobalConf.LimitExceeded");

  // A smaller limit applies to every file kind.
  GlobalConfLimits small;
  small.max_file_bytes = 1000;
  EXPECT_EQ(
      parse_private_parameters(vector_file("gconf-v6-private-params.xml"), small).error().code,
      FaultCode::kLimitExceeded);
  GlobalConfLimits shallow;
  shallow.max_depth = 3;
  EXPECT_EQ(parse_shared_parameters(xml, shallow).error().code, FaultCode::kLimitExceeded);
}

TEST(Hostile, SchemaViolationsAreMalformed) {
  std::string xml = vector_file("gconf-v6-shared-params.xml");
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"<ocspFreshnessSeconds>3600</ocspFreshnessSeconds>", ""},  // required element missing
      {"<costType>FREE</costType>\n    </approvedTSA>",
       "<costType>CHEAP</costType>\n    </approvedTSA>"},          // not in the enumeration
      {"<authenticationOnly>false", "<authenticationOnly>maybe"},  // not a boolean
      {"<instanceIdentifier>DEV</instanceIdentifier>",
       "<instanceIdentifier>DEV</instanceIdentifier><unknown/>"},  // unknown element
      {"<ocspFreshnessSeconds>3600", "<ocspFreshnessSeconds>99999999999999999999999"},
  };
  for (const auto& [from, to] : cases) {
    auto r = parse_shared_parameters(replace(xml, from, to));
    ASSERT_FALSE(r.ok()) << to;
    EXPECT_EQ(r.error().code, FaultCode::kMalformedGlobalConf) << to;
  }
  EXPECT_EQ(parse_shared_parameters("not xml").error().code, FaultCode::kMalformedGlobalConf);
  EXPECT_EQ(parse_shared_parameters(vector_file("gconf-v6-private-params.xml")).error().code,
            FaultCode::kMalformedGlobalConf);
  EXPECT_EQ(parse_configuration_anchor(xml).error().code, FaultCode::kMalformedGlobalConf);
  // Valid base64 that is no certificate.
  std::string not_cert = xml;
  auto open = not_cert.find("<cert>") + 6;
  not_cert.replace(open, not_cert.find("</cert>") - open, "AAAA");
  EXPECT_EQ(parse_shared_parameters(not_cert).error().code, FaultCode::kMalformedGlobalConf);
}

TEST(Hostile, InconsistentContentIsInvalid) {
  std::string xml = vector_file("gconf-v6-shared-params.xml");
  // A reference to nothing (libxml2 does not resolve IDREFs), and an owner that is a subsystem.
  EXPECT_EQ(parse_shared_parameters(replace(xml, "<owner>id0</owner>", "<owner>id99</owner>"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(
      parse_shared_parameters(replace(xml, "<client>id6</client>", "<client>nowhere</client>"))
          .error()
          .code,
      FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(parse_shared_parameters(replace(xml, "<owner>id0</owner>", "<owner>id1</owner>"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  // Two elements with one xs:ID (the schema validator catches this one).
  EXPECT_EQ(
      parse_shared_parameters(replace(xml, "<subsystem id=\"id2\">", "<subsystem id=\"id1\">"))
          .error()
          .code,
      FaultCode::kMalformedGlobalConf);
  // Identifier characters (PR-MESS 2.7).
  EXPECT_EQ(parse_shared_parameters(
                replace(xml, "<memberCode>1234</memberCode>", "<memberCode>12/34</memberCode>"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(parse_shared_parameters(replace(xml, "<groupMember ns2:objectType=\"MEMBER\">",
                                            "<groupMember ns2:objectType=\"SERVICE\">"))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  std::string priv = vector_file("gconf-v6-private-params.xml");
  EXPECT_EQ(parse_private_parameters(
                replace(priv, "ns2:objectType=\"SUBSYSTEM\"", "ns2:objectType=\"MEMBER\""))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
}

}  // namespace
}  // namespace hansa::globalconf
