// PR-GCONF Annex B (shared parameters), Annex C (private parameters), Annex E (anchor).

#include "core/globalconf/xml_codec.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/globalconf/schemas.h"
#include "core/ids/xml_parse.h"
#include "core/ids/xml_print.h"
#include "core/xml/xml.h"

namespace hansa::globalconf {
namespace {

using crypto::Certificate;

constexpr std::string_view kIdNs = ids::kIdentifiersNamespace;

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kMalformedGlobalConf, std::move(message), std::move(detail));
}

Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidGlobalConf, std::move(message), std::move(detail));
}

// An identifier that core/ids refused: the configuration is inconsistent.
Error invalid_id(std::string_view where, const Error& e) {
  return invalid(std::string(where) + ": " + e.message, e.detail);
}

// --- Reading ---

// Parses with the hardened parser and validates against `schema`.
Result<xml::Document> load(std::string_view bytes, const GlobalConfLimits& limits,
                           const xml::Schema& schema, std::string_view root_name,
                           std::string_view what) {
  if (bytes.size() > limits.max_file_bytes) {
    return Error(FaultCode::kLimitExceeded, std::string(what) + " is too large",
                 std::to_string(bytes.size()) + " bytes, limit " +
                     std::to_string(limits.max_file_bytes))
        .wrapped(FaultCode::kMalformedGlobalConf);
  }
  xml::ParseLimits parse_limits;
  parse_limits.max_document_bytes = limits.max_file_bytes;
  parse_limits.max_depth = limits.max_depth;
  parse_limits.max_text_bytes = limits.max_text_bytes;
  parse_limits.max_elements = limits.max_elements;
  parse_limits.max_attributes_per_element = 16;
  auto doc = xml::Document::parse(bytes, parse_limits);
  if (!doc.ok()) {
    const Error& e = doc.error();
    if (e.code == FaultCode::kLimitExceeded) {
      return Error(e).wrapped(FaultCode::kMalformedGlobalConf);
    }
    return malformed(std::string(what) + " is not well-formed XML: " + e.message, e.detail);
  }
  xml::Element root = doc->root();
  if (!root.is(kGlobalConfNamespace, root_name)) {
    return malformed(std::string(what) + ": unexpected root element", root.expanded_name());
  }
  if (auto st = schema.validate(*doc); !st.ok()) {
    return malformed(std::string(what) + " does not conform to its schema", st.error().detail);
  }
  return std::move(doc).value();
}

// The first child element with this (unqualified) name; null when absent.
xml::Element child(const xml::Element& parent, std::string_view name) {
  return parent.first_child({}, name);
}

std::string child_text(const xml::Element& parent, std::string_view name) {
  xml::Element e = child(parent, name);
  return e ? e.text() : std::string();
}

std::optional<std::string> optional_text(const xml::Element& parent, std::string_view name) {
  xml::Element e = child(parent, name);
  if (!e) {
    return std::nullopt;
  }
  return e.text();
}

// XML Schema whitespace collapse for token-like values (codes, enumerations, numbers, booleans).
std::string collapse(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  return out;
}

// X-Road writes base64 DER for verification certificates but base64 of the PEM text for CA,
// OCSP and TSA certificates (as uploaded to its central server): both are accepted.
Result<Certificate> certificate(const xml::Element& e, std::string_view where) {
  auto bytes = crypto::base64_decode(e.text());
  if (!bytes.ok()) {
    return malformed(std::string(where) + ": not base64");
  }
  auto cert = bytes->starts_with("-----BEGIN") ? Certificate::from_pem(*bytes)
                                               : Certificate::from_der(*bytes);
  if (!cert.ok()) {
    return malformed(std::string(where) + ": not a certificate: " + cert.error().message,
                     cert.error().detail);
  }
  return std::move(cert).value();
}

Result<std::vector<Certificate>> certificates(const xml::Element& parent, std::string_view name) {
  std::vector<Certificate> out;
  for (const xml::Element& e : parent.children({}, name)) {
    HANSA_ASSIGN_OR_RETURN(auto cert, certificate(e, name));
    out.push_back(std::move(cert));
  }
  return out;
}

Result<std::int64_t> integer(const xml::Element& parent, std::string_view name) {
  std::string text = collapse(child_text(parent, name));
  std::int64_t value = 0;
  const char* begin = text.data();
  if (!text.empty() && text[0] == '+') {
    ++begin;
  }
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return malformed(std::string(name) + " is not a 64-bit integer", text);
  }
  return value;
}

bool boolean(std::string_view text) {
  std::string v = collapse(text);
  return v == "true" || v == "1";
}

Result<CaInfo> ca_info(const xml::Element& e) {
  HANSA_ASSIGN_OR_RETURN(auto cert, certificate(child(e, "cert"), "CA cert"));
  CaInfo info{std::move(cert), {}};
  for (const xml::Element& o : e.children({}, "ocsp")) {
    OcspResponder responder;
    responder.url = child_text(o, "url");
    if (xml::Element c = child(o, "cert")) {
      HANSA_ASSIGN_OR_RETURN(auto ocsp_cert, certificate(c, "OCSP responder cert"));
      responder.cert = std::move(ocsp_cert);
    }
    if (auto cost = optional_text(o, "costType")) {
      responder.cost_type = cost_type_from_name(collapse(*cost));
    }
    info.ocsp.push_back(std::move(responder));
  }
  return info;
}

Result<ApprovedCa> approved_ca(const xml::Element& e) {
  HANSA_ASSIGN_OR_RETURN(auto top, ca_info(child(e, "topCA")));
  ApprovedCa ca{.name = child_text(e, "name"),
                .authentication_only = std::nullopt,
                .top_ca = std::move(top),
                .intermediate_cas = {},
                .certificate_profile_info = collapse(child_text(e, "certificateProfileInfo")),
                .default_csr_format = std::nullopt,
                .acme_server = std::nullopt};
  if (auto auth_only = optional_text(e, "authenticationOnly")) {
    ca.authentication_only = boolean(*auth_only);
  }
  for (const xml::Element& i : e.children({}, "intermediateCA")) {
    HANSA_ASSIGN_OR_RETURN(auto info, ca_info(i));
    ca.intermediate_cas.push_back(std::move(info));
  }
  if (auto format = optional_text(e, "defaultCsrFormat")) {
    ca.default_csr_format = csr_format_from_name(collapse(*format));
  }
  if (xml::Element acme = child(e, "acmeServer")) {
    ca.acme_server = AcmeServer{
        .directory_url = child_text(acme, "directoryURL"),
        .ip_address = optional_text(acme, "ipAddress"),
        .authentication_certificate_profile_id =
            optional_text(acme, "authenticationCertificateProfileId"),
        .signing_certificate_profile_id = optional_text(acme, "signingCertificateProfileId")};
  }
  return ca;
}

Result<ApprovedTsa> approved_tsa(const xml::Element& e) {
  HANSA_ASSIGN_OR_RETURN(auto cert, certificate(child(e, "cert"), "TSA cert"));
  ApprovedTsa tsa{.name = child_text(e, "name"),
                  .url = child_text(e, "url"),
                  .cert = std::move(cert),
                  .cost_type = std::nullopt};
  if (auto cost = optional_text(e, "costType")) {
    tsa.cost_type = cost_type_from_name(collapse(*cost));
  }
  return tsa;
}

Result<SharedParameters> read_shared(const xml::Element& root) {
  SharedParameters params;
  params.instance_identifier = child_text(root, "instanceIdentifier");
  if (auto st = ids::validate_part(ids::Part::kInstance, params.instance_identifier,
                                   FaultCode::kInvalidGlobalConf);
      !st.ok()) {
    return std::move(st).error();
  }
  const std::string& instance = params.instance_identifier;

  for (const xml::Element& s : root.children({}, "source")) {
    ConfigurationSource source;
    source.address = child_text(s, "address");
    HANSA_ASSIGN_OR_RETURN(source.internal_verification_certs,
                           certificates(s, "internalVerificationCert"));
    HANSA_ASSIGN_OR_RETURN(source.external_verification_certs,
                           certificates(s, "externalVerificationCert"));
    params.sources.push_back(std::move(source));
  }
  for (const xml::Element& e : root.children({}, "approvedCA")) {
    HANSA_ASSIGN_OR_RETURN(auto ca, approved_ca(e));
    params.approved_cas.push_back(std::move(ca));
  }
  for (const xml::Element& e : root.children({}, "approvedTSA")) {
    HANSA_ASSIGN_OR_RETURN(auto tsa, approved_tsa(e));
    params.approved_tsas.push_back(std::move(tsa));
  }

  // The xs:ID values of members and subsystems, for owner and client references.
  std::unordered_map<std::string, ids::ClientId> by_xml_id;
  for (const xml::Element& m : root.children({}, "member")) {
    xml::Element member_class = child(m, "memberClass");
    auto member_id = ids::MemberId::create(instance, collapse(child_text(member_class, "code")),
                                           collapse(child_text(m, "memberCode")));
    if (!member_id.ok()) {
      return invalid_id("member", member_id.error());
    }
    Member member{.id = *member_id,
                  .member_class_description = child_text(member_class, "description"),
                  .name = child_text(m, "name"),
                  .subsystems = {}};
    if (!by_xml_id.emplace(m.attribute("id").value_or(""), ids::ClientId(*member_id)).second) {
      return invalid("duplicate member id attribute", member_id->to_string());
    }
    for (const xml::Element& s : m.children({}, "subsystem")) {
      auto sub_id = ids::SubsystemId::create(*member_id, collapse(child_text(s, "subsystemCode")));
      if (!sub_id.ok()) {
        return invalid_id("subsystem", sub_id.error());
      }
      if (!by_xml_id.emplace(s.attribute("id").value_or(""), ids::ClientId(*sub_id)).second) {
        return invalid("duplicate subsystem id attribute", sub_id->to_string());
      }
      member.subsystems.push_back(Subsystem{*sub_id, optional_text(s, "subsystemName")});
    }
    params.members.push_back(std::move(member));
  }

  for (const xml::Element& e : root.children({}, "securityServer")) {
    std::string owner_ref = collapse(child_text(e, "owner"));
    auto owner = by_xml_id.find(owner_ref);
    if (owner == by_xml_id.end() || !owner->second.is_member()) {
      return invalid("securityServer owner does not refer to a member", owner_ref);
    }
    auto server_id = ids::SecurityServerId::create(owner->second.member(),
                                                   collapse(child_text(e, "serverCode")));
    if (!server_id.ok()) {
      return invalid_id("securityServer", server_id.error());
    }
    SecurityServer server{.id = *server_id,
                          .address = optional_text(e, "address"),
                          .auth_cert_hashes = {},
                          .clients = {},
                          .maintenance_mode = std::nullopt};
    if (server.address) {
      *server.address = collapse(*server.address);
    }
    for (const xml::Element& h : e.children({}, "authCertHash")) {
      auto hash = crypto::base64_decode(h.text());
      if (!hash.ok()) {
        return malformed("authCertHash is not base64", server_id->to_string());
      }
      server.auth_cert_hashes.push_back(std::move(hash).value());
    }
    for (const xml::Element& c : e.children({}, "client")) {
      std::string ref = collapse(c.text());
      auto client = by_xml_id.find(ref);
      if (client == by_xml_id.end()) {
        return invalid("securityServer client does not refer to a member or subsystem", ref);
      }
      server.clients.push_back(client->second);
    }
    if (xml::Element maintenance = child(e, "inMaintenanceMode")) {
      server.maintenance_mode = MaintenanceMode{optional_text(maintenance, "message")};
    }
    params.security_servers.push_back(std::move(server));
  }

  for (const xml::Element& e : root.children({}, "globalGroup")) {
    auto group_id = ids::GlobalGroupId::create(instance, collapse(child_text(e, "groupCode")));
    if (!group_id.ok()) {
      return invalid_id("globalGroup", group_id.error());
    }
    GlobalGroup group{*group_id, child_text(e, "description"), {}};
    for (const xml::Element& m : e.children({}, "groupMember")) {
      auto client = ids::client_from_xml(m);
      if (!client.ok()) {
        return invalid_id("groupMember", client.error());
      }
      group.members.push_back(std::move(client).value());
    }
    params.global_groups.push_back(std::move(group));
  }

  for (const xml::Element& e : root.children({}, "centralService")) {
    CentralService service{collapse(child_text(e, "serviceCode")), std::nullopt};
    if (xml::Element impl = child(e, "implementingService")) {
      auto service_id = ids::service_from_xml(impl);
      if (!service_id.ok()) {
        return invalid_id("implementingService", service_id.error());
      }
      service.implementing_service = std::move(service_id).value();
    }
    params.central_services.push_back(std::move(service));
  }

  xml::Element settings = child(root, "globalSettings");
  for (const xml::Element& c : settings.children({}, "memberClass")) {
    params.global_settings.member_classes.push_back(
        MemberClass{collapse(child_text(c, "code")), child_text(c, "description")});
  }
  HANSA_ASSIGN_OR_RETURN(params.global_settings.ocsp_freshness_seconds,
                         integer(settings, "ocspFreshnessSeconds"));
  return params;
}

Result<ConfigurationAnchor> read_anchor(const xml::Element& e) {
  ConfigurationAnchor anchor;
  if (auto generated = optional_text(e, "generatedAt")) {
    auto time = parse_utc(collapse(*generated));
    if (!time.ok()) {
      return std::move(time).error();
    }
    anchor.generated_at = *time;
  }
  anchor.instance_identifier = collapse(child_text(e, "instanceIdentifier"));
  if (auto st = ids::validate_part(ids::Part::kInstance, anchor.instance_identifier,
                                   FaultCode::kInvalidGlobalConf);
      !st.ok()) {
    return std::move(st).error();
  }
  for (const xml::Element& s : e.children({}, "source")) {
    AnchorSource source;
    source.download_url = collapse(child_text(s, "downloadURL"));
    HANSA_ASSIGN_OR_RETURN(source.verification_certs, certificates(s, "verificationCert"));
    anchor.sources.push_back(std::move(source));
  }
  return anchor;
}

Result<PrivateParameters> read_private(const xml::Element& root) {
  xml::Element management = child(root, "managementService");
  auto provider = ids::client_from_xml(child(management, "managementRequestServiceProviderId"));
  if (!provider.ok()) {
    return invalid_id("managementRequestServiceProviderId", provider.error());
  }
  PrivateParameters params{
      .instance_identifier = collapse(child_text(root, "instanceIdentifier")),
      .configuration_anchors = {},
      .management_service =
          ManagementService{.auth_cert_reg_service_address =
                                collapse(child_text(management, "authCertRegServiceAddress")),
                            .auth_cert_reg_service_cert = std::nullopt,
                            .management_request_service_provider_id = std::move(provider).value()},
      .time_stamping_interval_seconds = 0};
  if (auto st = ids::validate_part(ids::Part::kInstance, params.instance_identifier,
                                   FaultCode::kInvalidGlobalConf);
      !st.ok()) {
    return std::move(st).error();
  }
  if (xml::Element c = child(management, "authCertRegServiceCert")) {
    HANSA_ASSIGN_OR_RETURN(auto cert, certificate(c, "authCertRegServiceCert"));
    params.management_service.auth_cert_reg_service_cert = std::move(cert);
  }
  for (const xml::Element& a : root.children({}, "configurationAnchor")) {
    HANSA_ASSIGN_OR_RETURN(auto anchor, read_anchor(a));
    params.configuration_anchors.push_back(std::move(anchor));
  }
  HANSA_ASSIGN_OR_RETURN(params.time_stamping_interval_seconds,
                         integer(root, "timeStampingIntervalSeconds"));
  return params;
}

// --- Writing ---

constexpr std::string_view kXmlDeclaration =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

// An indenting writer of the unqualified elements below the root.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void open(std::string_view name, std::string_view attributes = {}) {
    indent();
    out_ += '<';
    out_ += name;
    out_ += attributes;
    out_ += ">\n";
    ++depth_;
  }
  void close(std::string_view name) {
    --depth_;
    indent();
    out_ += "</";
    out_ += name;
    out_ += ">\n";
  }
  void leaf(std::string_view name, std::string_view text) {
    indent();
    out_ += '<';
    out_ += name;
    out_ += '>';
    out_ += ids::xml_escape(text);
    out_ += "</";
    out_ += name;
    out_ += ">\n";
  }
  void optional_leaf(std::string_view name, const std::optional<std::string>& text) {
    if (text) {
      leaf(name, *text);
    }
  }
  void cert(std::string_view name, const Certificate& cert) {
    leaf(name, crypto::base64_encode(cert.der()));
  }
  // A pre-rendered one-line element (identifiers).
  void raw(std::string_view xml) {
    indent();
    out_ += xml;
    out_ += '\n';
  }

 private:
  void indent() { out_.append(static_cast<std::size_t>(depth_) * 4, ' '); }
  std::string& out_;
  int depth_ = 1;
};

std::string root_open(std::string_view name) {
  std::string out(kXmlDeclaration);
  out += "<xroad:";
  out += name;
  out += " xmlns:xroad=\"";
  out += kGlobalConfNamespace;
  out += "\" xmlns:id=\"";
  out += kIdNs;
  out += "\">\n";
  return out;
}

std::string root_close(std::string_view name) { return "</xroad:" + std::string(name) + ">\n"; }

ids::XmlElementOptions id_element(std::string_view name) {
  return ids::XmlElementOptions{
      .qualified_name = name, .namespace_uri = {}, .declare_namespaces = false};
}

Status check_text(std::string_view what, std::string_view value) {
  if (value.empty()) {
    return invalid(std::string(what) + " is empty");
  }
  return ok_status();
}

void write_ca_info(Writer& w, std::string_view name, const CaInfo& info) {
  w.open(name);
  w.cert("cert", info.cert);
  for (const OcspResponder& o : info.ocsp) {
    w.open("ocsp");
    w.leaf("url", o.url);
    if (o.cert) {
      w.cert("cert", *o.cert);
    }
    if (o.cost_type) {
      w.leaf("costType", cost_type_name(*o.cost_type));
    }
    w.close("ocsp");
  }
  w.close(name);
}

void write_anchor_body(Writer& w, const ConfigurationAnchor& anchor) {
  if (anchor.generated_at) {
    w.leaf("generatedAt", format_utc(*anchor.generated_at));
  }
  w.leaf("instanceIdentifier", anchor.instance_identifier);
  for (const AnchorSource& s : anchor.sources) {
    w.open("source");
    w.leaf("downloadURL", s.download_url);
    for (const Certificate& c : s.verification_certs) {
      w.cert("verificationCert", c);
    }
    w.close("source");
  }
}

Status check_anchor(const ConfigurationAnchor& anchor) {
  HANSA_RETURN_IF_ERROR(ids::validate_part(ids::Part::kInstance, anchor.instance_identifier,
                                           FaultCode::kInvalidGlobalConf));
  if (anchor.sources.empty()) {
    return invalid("configuration anchor has no source", anchor.instance_identifier);
  }
  for (const AnchorSource& s : anchor.sources) {
    HANSA_RETURN_IF_ERROR(check_text("anchor downloadURL", s.download_url));
    if (s.verification_certs.empty()) {
      return invalid("anchor source has no verification certificate", s.download_url);
    }
  }
  return ok_status();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

}  // namespace

Result<SharedParameters> parse_shared_parameters(std::string_view xml,
                                                 const GlobalConfLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto doc, load(xml, limits, internal::shared_parameters_schema(), "conf",
                                        "shared parameters"));
  return read_shared(doc.root());
}

Result<PrivateParameters> parse_private_parameters(std::string_view xml,
                                                   const GlobalConfLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto doc, load(xml, limits, internal::private_parameters_schema(), "conf",
                                        "private parameters"));
  return read_private(doc.root());
}

Result<ConfigurationAnchor> parse_configuration_anchor(std::string_view xml,
                                                       const GlobalConfLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto doc, load(xml, limits, internal::configuration_anchor_schema(),
                                        "configurationAnchor", "configuration anchor"));
  return read_anchor(doc.root());
}

// PR-GCONF Annex B, element order of the schema.
Result<std::string> write_shared_parameters(const SharedParameters& p) {
  const std::string& instance = p.instance_identifier;
  HANSA_RETURN_IF_ERROR(
      ids::validate_part(ids::Part::kInstance, instance, FaultCode::kInvalidGlobalConf));

  // xs:ID values: members and subsystems numbered in model order.
  std::map<ids::ClientId, std::string> xml_ids;
  std::size_t next_id = 0;
  for (const Member& m : p.members) {
    if (m.id.instance() != instance) {
      return invalid("member of another instance", m.id.to_string());
    }
    if (!xml_ids.emplace(ids::ClientId(m.id), "id" + std::to_string(next_id++)).second) {
      return invalid("member listed twice", m.id.to_string());
    }
    for (const Subsystem& s : m.subsystems) {
      if (s.id.member() != m.id) {
        return invalid("subsystem listed under another member", s.id.to_string());
      }
      if (!xml_ids.emplace(ids::ClientId(s.id), "id" + std::to_string(next_id++)).second) {
        return invalid("subsystem listed twice", s.id.to_string());
      }
    }
  }

  std::string out = root_open("conf");
  Writer w(out);
  w.leaf("instanceIdentifier", instance);
  for (const ConfigurationSource& s : p.sources) {
    HANSA_RETURN_IF_ERROR(check_text("source address", s.address));
    w.open("source");
    w.leaf("address", s.address);
    for (const Certificate& c : s.internal_verification_certs) {
      w.cert("internalVerificationCert", c);
    }
    for (const Certificate& c : s.external_verification_certs) {
      w.cert("externalVerificationCert", c);
    }
    w.close("source");
  }
  for (const ApprovedCa& ca : p.approved_cas) {
    HANSA_RETURN_IF_ERROR(check_text("approvedCA name", ca.name));
    HANSA_RETURN_IF_ERROR(check_text("certificateProfileInfo", ca.certificate_profile_info));
    w.open("approvedCA");
    w.leaf("name", ca.name);
    if (ca.authentication_only) {
      w.leaf("authenticationOnly", *ca.authentication_only ? "true" : "false");
    }
    write_ca_info(w, "topCA", ca.top_ca);
    for (const CaInfo& i : ca.intermediate_cas) {
      write_ca_info(w, "intermediateCA", i);
    }
    w.leaf("certificateProfileInfo", ca.certificate_profile_info);
    if (ca.default_csr_format) {
      w.leaf("defaultCsrFormat", csr_format_name(*ca.default_csr_format));
    }
    if (ca.acme_server) {
      HANSA_RETURN_IF_ERROR(check_text("acmeServer directoryURL", ca.acme_server->directory_url));
      w.open("acmeServer");
      w.leaf("directoryURL", ca.acme_server->directory_url);
      w.optional_leaf("ipAddress", ca.acme_server->ip_address);
      w.optional_leaf("authenticationCertificateProfileId",
                      ca.acme_server->authentication_certificate_profile_id);
      w.optional_leaf("signingCertificateProfileId",
                      ca.acme_server->signing_certificate_profile_id);
      w.close("acmeServer");
    }
    w.close("approvedCA");
  }
  for (const ApprovedTsa& tsa : p.approved_tsas) {
    HANSA_RETURN_IF_ERROR(check_text("approvedTSA name", tsa.name));
    HANSA_RETURN_IF_ERROR(check_text("approvedTSA url", tsa.url));
    w.open("approvedTSA");
    w.leaf("name", tsa.name);
    w.leaf("url", tsa.url);
    w.cert("cert", tsa.cert);
    if (tsa.cost_type) {
      w.leaf("costType", cost_type_name(*tsa.cost_type));
    }
    w.close("approvedTSA");
  }
  for (const Member& m : p.members) {
    w.open("member", " id=\"" + xml_ids.at(ids::ClientId(m.id)) + "\"");
    w.open("memberClass");
    w.leaf("code", m.id.member_class());
    w.leaf("description", m.member_class_description);
    w.close("memberClass");
    w.leaf("memberCode", m.id.member_code());
    w.leaf("name", m.name);
    for (const Subsystem& s : m.subsystems) {
      w.open("subsystem", " id=\"" + xml_ids.at(ids::ClientId(s.id)) + "\"");
      w.leaf("subsystemCode", s.id.subsystem_code());
      w.optional_leaf("subsystemName", s.name);
      w.close("subsystem");
    }
    w.close("member");
  }
  for (const SecurityServer& s : p.security_servers) {
    auto owner = xml_ids.find(ids::ClientId(s.id.owner()));
    if (owner == xml_ids.end()) {
      return invalid("security server owner is not a listed member", s.id.to_string());
    }
    w.open("securityServer");
    w.leaf("owner", owner->second);
    w.leaf("serverCode", s.id.server_code());
    w.optional_leaf("address", s.address);
    for (const std::string& h : s.auth_cert_hashes) {
      if (h.empty()) {
        return invalid("empty authCertHash", s.id.to_string());
      }
      w.leaf("authCertHash", crypto::base64_encode(h));
    }
    for (const ids::ClientId& c : s.clients) {
      auto ref = xml_ids.find(c);
      if (ref == xml_ids.end()) {
        return invalid("security server client is not a listed member or subsystem",
                       s.id.to_string() + " " + c.to_string());
      }
      w.leaf("client", ref->second);
    }
    if (s.maintenance_mode) {
      w.open("inMaintenanceMode");
      w.optional_leaf("message", s.maintenance_mode->message);
      w.close("inMaintenanceMode");
    }
    w.close("securityServer");
  }
  for (const GlobalGroup& g : p.global_groups) {
    if (g.id.instance() != instance) {
      return invalid("global group of another instance", g.id.to_string());
    }
    w.open("globalGroup");
    w.leaf("groupCode", g.id.group_code());
    w.leaf("description", g.description);
    for (const ids::ClientId& c : g.members) {
      w.raw(ids::to_xml(c, id_element("groupMember")));
    }
    w.close("globalGroup");
  }
  for (const CentralService& c : p.central_services) {
    HANSA_RETURN_IF_ERROR(check_text("centralService serviceCode", c.service_code));
    w.open("centralService");
    w.leaf("serviceCode", c.service_code);
    if (c.implementing_service) {
      w.raw(ids::to_xml(*c.implementing_service, id_element("implementingService")));
    }
    w.close("centralService");
  }
  w.open("globalSettings");
  for (const MemberClass& c : p.global_settings.member_classes) {
    HANSA_RETURN_IF_ERROR(check_text("member class code", c.code));
    w.open("memberClass");
    w.leaf("code", c.code);
    w.leaf("description", c.description);
    w.close("memberClass");
  }
  w.leaf("ocspFreshnessSeconds", std::to_string(p.global_settings.ocsp_freshness_seconds));
  w.close("globalSettings");
  out += root_close("conf");
  return out;
}

// PR-GCONF Annex C.
Result<std::string> write_private_parameters(const PrivateParameters& p) {
  HANSA_RETURN_IF_ERROR(ids::validate_part(ids::Part::kInstance, p.instance_identifier,
                                           FaultCode::kInvalidGlobalConf));
  HANSA_RETURN_IF_ERROR(
      check_text("authCertRegServiceAddress", p.management_service.auth_cert_reg_service_address));
  std::string out = root_open("conf");
  Writer w(out);
  w.leaf("instanceIdentifier", p.instance_identifier);
  for (const ConfigurationAnchor& a : p.configuration_anchors) {
    HANSA_RETURN_IF_ERROR(check_anchor(a));
    w.open("configurationAnchor");
    write_anchor_body(w, a);
    w.close("configurationAnchor");
  }
  w.open("managementService");
  w.leaf("authCertRegServiceAddress", p.management_service.auth_cert_reg_service_address);
  if (p.management_service.auth_cert_reg_service_cert) {
    w.cert("authCertRegServiceCert", *p.management_service.auth_cert_reg_service_cert);
  }
  w.raw(ids::to_xml(p.management_service.management_request_service_provider_id,
                    id_element("managementRequestServiceProviderId")));
  w.close("managementService");
  w.leaf("timeStampingIntervalSeconds", std::to_string(p.time_stamping_interval_seconds));
  out += root_close("conf");
  return out;
}

// PR-GCONF Annex E.
Result<std::string> write_configuration_anchor(const ConfigurationAnchor& anchor) {
  HANSA_RETURN_IF_ERROR(check_anchor(anchor));
  if (!anchor.generated_at) {
    return invalid("configuration anchor without generatedAt", anchor.instance_identifier);
  }
  std::string out = root_open("configurationAnchor");
  Writer w(out);
  write_anchor_body(w, anchor);
  out += root_close("configurationAnchor");
  return out;
}

std::string configuration_anchor_hash(std::string_view anchor_file, crypto::DigestAlgorithm alg) {
  std::string hex = crypto::hex_encode(crypto::digest(alg, anchor_file));
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i > 0) {
      out += ':';
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
  }
  return out;
}

std::string format_utc(TimePoint time) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  auto millis = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  auto sod = static_cast<int>(secs - days * 86400);
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  char buf[64];
  if (millis != 0) {
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), m, d, sod / 3600, sod / 60 % 60, sod % 60, millis);
  } else {
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y),
                  m, d, sod / 3600, sod / 60 % 60, sod % 60);
  }
  return buf;
}

Result<TimePoint> parse_utc(std::string_view text) {
  auto bad = [&] { return malformed("not an ISO 8601 date and time", std::string(text)); };
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > text.size()) {
      return false;
    }
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return false;
      }
      v = v * 10 + (text[i] - '0');
    }
    out = v;
    return true;
  };
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 19 || !digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day) || text[10] != 'T' || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  // TimePoint counts nanoseconds in 64 bits: it holds roughly the years 1678 to 2261. Refuse
  // dates outside a range well inside that, so the conversion below can never overflow.
  if (year < 1700 || year > 2200) {
    return malformed("date and time out of the supported range (years 1700 to 2200)",
                     std::string(text));
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) {
      return bad();
    }
  }
  std::int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      pos += 1;
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
               text[pos + 3] == ':') {
      int oh = 0;
      int om = 0;
      if (!digits(pos + 1, 2, oh) || !digits(pos + 4, 2, om) || oh > 14 || om > 59) {
        return bad();
      }
      offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
      pos += 6;
    } else {
      return bad();
    }
  }
  std::int64_t secs =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::milliseconds(secs * 1000 + millis)));
}

}  // namespace hansa::globalconf
