#include "central/api/admin_api.h"

#include <charconv>
#include <ctime>
#include <tuple>
#include <utility>

#include "central/api/api_internal.h"
#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/http/http.h"

namespace hansa::central {

using namespace api_internal;

namespace api_internal {

// --- request helpers ---

Fields::Fields(const Json& body, std::initializer_list<std::string_view> allowed) : body_(body) {
  if (!body.is_object()) {
    fail(FaultCode::kBadRequest, "the request body must be a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (auto a : allowed) {
      known = known || a == key;
    }
    if (!known) {
      fail(FaultCode::kBadRequest, "unknown field '" + key + "'", key);
    }
  }
}

bool Fields::has(std::string_view name) const {
  return body_.contains(std::string(name)) && !body_.at(std::string(name)).is_null();
}

const Json& Fields::raw(std::string_view name) const { return body_.at(std::string(name)); }

std::string Fields::str(std::string_view name) const {
  if (!has(name)) {
    fail(FaultCode::kBadRequest, "missing field '" + std::string(name) + "'", std::string(name));
  }
  const Json& v = raw(name);
  if (!v.is_string()) {
    fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be a string",
         std::string(name));
  }
  return v.get<std::string>();
}

std::optional<std::string> Fields::opt_str(std::string_view name) const {
  if (!has(name)) {
    return std::nullopt;
  }
  return str(name);
}

bool Fields::boolean(std::string_view name, bool fallback) const {
  if (!has(name)) {
    return fallback;
  }
  if (!raw(name).is_boolean()) {
    fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be a boolean",
         std::string(name));
  }
  return raw(name).get<bool>();
}

std::optional<std::int64_t> Fields::opt_int(std::string_view name) const {
  if (!has(name)) {
    return std::nullopt;
  }
  if (!raw(name).is_number_integer()) {
    fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be an integer",
         std::string(name));
  }
  return raw(name).get<std::int64_t>();
}

namespace {

// Nesting depth of a JSON text (brackets outside strings), counted before parsing.
std::size_t json_depth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t max = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max = std::max(max, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max;
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return v;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = text.find(sep, start);
    out.emplace_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) {
      return out;
    }
    start = pos + 1;
  }
}

std::string instance_of(const Registry& registry) {
  return value_or_throw(registry.instance_identifier());
}

}  // namespace

Json Call::json() const {
  const auto body = request.body();
  if (body.empty()) {
    return Json::object();
  }
  if (json_depth(body) > max_json_depth) {
    fail(FaultCode::kBadRequest, "JSON nesting too deep",
         "limit " + std::to_string(max_json_depth));
  }
  try {
    return Json::parse(body);
  } catch (const std::exception& e) {
    fail(FaultCode::kBadRequest, "malformed JSON", e.what());
  }
}

PageRequest Call::page() const {
  PageRequest p;
  p.limit = default_page_size;
  if (auto limit = request.query("limit")) {
    auto v = parse_size(*limit);
    if (!v || *v == 0 || *v > max_page_size) {
      fail(FaultCode::kBadRequest, "limit must be between 1 and " + std::to_string(max_page_size),
           *limit);
    }
    p.limit = *v;
  }
  if (auto offset = request.query("offset")) {
    auto v = parse_size(*offset);
    if (!v || *v > (std::size_t{1} << 40)) {
      fail(FaultCode::kBadRequest, "offset must be a non-negative integer", *offset);
    }
    p.offset = *v;
  }
  return p;
}

bool Call::flag(std::string_view name, bool fallback) const {
  auto v = request.query(name);
  if (!v) {
    return fallback;
  }
  if (*v == "true") {
    return true;
  }
  if (*v == "false") {
    return false;
  }
  fail(FaultCode::kBadRequest, std::string(name) + " must be true or false", *v);
}

ids::MemberId member_from_path(const Registry& registry, std::string_view text) {
  const auto parts = split(text, ':');
  if (parts.size() != 2) {
    fail(FaultCode::kInvalidClientIdentifier, "a member is written CLASS:CODE", std::string(text));
  }
  return value_or_throw(ids::MemberId::create(instance_of(registry), parts[0], parts[1]));
}

ids::ClientId client_from_path(const Registry& registry, std::string_view text) {
  const auto parts = split(text, ':');
  if (parts.size() != 2 && parts.size() != 3) {
    fail(FaultCode::kInvalidClientIdentifier,
         "a client is written CLASS:CODE or CLASS:CODE:SUBSYSTEM", std::string(text));
  }
  if (parts.size() == 2) {
    return value_or_throw(ids::ClientId::create(instance_of(registry), parts[0], parts[1]));
  }
  return value_or_throw(ids::ClientId::create(instance_of(registry), parts[0], parts[1], parts[2]));
}

ids::SecurityServerId server_from_path(const Registry& registry, std::string_view text) {
  const auto parts = split(text, ':');
  if (parts.size() != 3) {
    fail(FaultCode::kInvalidSecurityServer, "a security server is written CLASS:CODE:SERVER",
         std::string(text));
  }
  return value_or_throw(
      ids::SecurityServerId::create(instance_of(registry), parts[0], parts[1], parts[2]));
}

ids::GlobalGroupId group_from_path(const Registry& registry, std::string_view text) {
  return value_or_throw(ids::GlobalGroupId::create(instance_of(registry), text));
}

std::int64_t int_from_path(std::string_view text) {
  auto v = parse_size(text);
  if (!v || *v > static_cast<std::size_t>(INT64_MAX)) {
    fail(FaultCode::kBadRequest, "not a numeric id", std::string(text));
  }
  return static_cast<std::int64_t>(*v);
}

std::string format_time(TimePoint t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace api_internal

namespace {

// --- JSON renderings ---

std::string path_id(const ids::ClientId& c) {
  return c.member_class() + ":" + c.member_code() +
         (c.subsystem_code() ? ":" + *c.subsystem_code() : "");
}

Json client_json(const ids::ClientId& c) {
  Json j = {{"id", c.to_string()},
            {"path_id", path_id(c)},
            {"member_class", c.member_class()},
            {"member_code", c.member_code()}};
  if (c.subsystem_code()) {
    j["subsystem_code"] = *c.subsystem_code();
  }
  return j;
}

Json member_json(const Member& m) {
  Json subs = Json::array();
  for (const auto& s : m.subsystems) {
    subs.push_back(
        {{"id", s.id.to_string()}, {"subsystem_code", s.id.subsystem_code()}, {"name", s.name}});
  }
  return {{"id", m.id.to_string()},
          {"path_id", m.id.member_class() + ":" + m.id.member_code()},
          {"member_class", m.id.member_class()},
          {"member_code", m.id.member_code()},
          {"name", m.name},
          {"subsystems", subs}};
}

Json cert_json(const crypto::Certificate& c) {
  return {{"cert", crypto::base64_encode(c.der())},
          {"subject", c.subject()},
          {"issuer", c.issuer()},
          {"not_after", format_time(c.not_after())},
          {"sha256", c.fingerprint_hex(crypto::DigestAlgorithm::kSha256)}};
}

Json server_json(const SecurityServer& s) {
  Json certs = Json::array();
  for (const auto& a : s.auth_certs) {
    Json c = {{"hash", crypto::hex_encode(a.hash)}, {"hash_base64", crypto::base64_encode(a.hash)}};
    if (a.cert) {
      c["certificate"] = cert_json(*a.cert);
    }
    certs.push_back(c);
  }
  Json clients = Json::array();
  for (const auto& c : s.clients) {
    clients.push_back(client_json(c));
  }
  return {{"id", s.id.to_string()},
          {"path_id", s.id.member_class() + ":" + s.id.member_code() + ":" + s.id.server_code()},
          {"owner_class", s.id.member_class()},
          {"owner_code", s.id.member_code()},
          {"server_code", s.id.server_code()},
          {"address", s.address},
          {"auth_certs", certs},
          {"clients", clients}};
}

Json group_json(const GlobalGroup& g) {
  Json members = Json::array();
  for (const auto& c : g.members) {
    members.push_back(client_json(c));
  }
  return {{"id", g.id.to_string()},
          {"code", g.id.group_code()},
          {"description", g.description},
          {"members", members}};
}

Json ca_cert_json(const CaCertificate& c) {
  Json ocsp = Json::array();
  for (const auto& o : c.ocsp) {
    ocsp.push_back({{"url", o.url},
                    {"cert", o.cert ? Json(crypto::base64_encode(o.cert->der())) : Json(nullptr)}});
  }
  Json j = cert_json(c.cert);
  j["ocsp"] = ocsp;
  return j;
}

Json ca_json(const ApprovedCa& ca) {
  Json inter = Json::array();
  for (const auto& i : ca.intermediate_cas) {
    inter.push_back(ca_cert_json(i));
  }
  return {{"id", ca.id},
          {"name", ca.name},
          {"top_ca", ca_cert_json(ca.top_ca)},
          {"intermediate_cas", inter},
          {"certificate_profile_info", ca.certificate_profile_info},
          {"authentication_only", ca.authentication_only}};
}

Json tsa_json(const ApprovedTsa& t) {
  Json j = cert_json(t.cert);
  j["id"] = t.id;
  j["name"] = t.name;
  j["url"] = t.url;
  return j;
}

Json settings_json(const Settings& s) {
  return {{"ocsp_freshness_seconds", s.ocsp_freshness_seconds},
          {"time_stamping_interval_seconds", s.time_stamping_interval_seconds},
          {"configuration_validity_seconds", s.configuration_validity_seconds},
          {"management_service_address", s.management_service_address},
          {"management_service_cert",
           s.management_service_cert ? Json(crypto::base64_encode(s.management_service_cert->der()))
                                     : Json(nullptr)},
          {"management_service_provider", s.management_service_provider
                                              ? Json(s.management_service_provider->to_string())
                                              : Json(nullptr)}};
}

Json token_json(const AdminToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", admin_role_name(t.role)},
          {"created_at", format_time(t.created_at)},
          {"revoked", t.revoked}};
}

Json audit_json(const AuditEntry& e) {
  return {{"id", e.id},           {"at", format_time(e.at)}, {"actor", e.actor},
          {"source", e.source},   {"action", e.action},      {"target", e.target},
          {"summary", e.summary}, {"result", e.result},      {"detail", e.detail}};
}

template <typename T, typename F>
Json page_json(const Page<T>& page, const PageRequest& req, F render) {
  Json items = Json::array();
  for (const auto& i : page.items) {
    items.push_back(render(i));
  }
  return {{"items", items}, {"total", page.total}, {"limit", req.limit}, {"offset", req.offset}};
}

template <typename T, typename F>
Json list_json(const std::vector<T>& list, F render) {
  Json items = Json::array();
  for (const auto& i : list) {
    items.push_back(render(i));
  }
  return {{"items", items}, {"total", list.size()}};
}

// --- JSON parsing of certificates and nested objects ---

crypto::Certificate cert_from_json(const Json& v, const std::string& field) {
  if (!v.is_string()) {
    fail(FaultCode::kBadRequest, "field '" + field + "' must be a base64 DER or PEM string", field);
  }
  const auto text = v.get<std::string>();
  auto cert = text.find("-----BEGIN") != std::string::npos ? crypto::Certificate::from_pem(text)
                                                           : crypto::Certificate::from_base64(text);
  if (!cert.ok()) {
    fail(FaultCode::kInvalidCertificate, "field '" + field + "' is not a certificate",
         cert.error().message);
  }
  return std::move(cert).value();
}

CaCertificate ca_cert_from_json(const Json& v, const std::string& field) {
  Fields f(v, {"cert", "ocsp"});
  CaCertificate out{cert_from_json(f.raw("cert"), field + ".cert"), {}};
  if (f.has("ocsp")) {
    const Json& list = f.raw("ocsp");
    if (!list.is_array()) {
      fail(FaultCode::kBadRequest, "field '" + field + ".ocsp' must be an array");
    }
    for (const auto& o : list) {
      Fields of(o, {"url", "cert"});
      OcspResponder r{of.str("url"), std::nullopt};
      if (of.has("cert")) {
        r.cert = cert_from_json(of.raw("cert"), field + ".ocsp.cert");
      }
      out.ocsp.push_back(std::move(r));
    }
  }
  return out;
}

ApprovedCa ca_from_json(const Json& body) {
  Fields f(body, {"name", "top_ca", "intermediate_cas", "certificate_profile_info",
                  "authentication_only"});
  if (!f.has("top_ca")) {
    fail(FaultCode::kBadRequest, "missing field 'top_ca'", "top_ca");
  }
  ApprovedCa ca{0,
                f.str("name"),
                ca_cert_from_json(f.raw("top_ca"), "top_ca"),
                {},
                f.str("certificate_profile_info"),
                f.boolean("authentication_only", false)};
  if (f.has("intermediate_cas")) {
    if (!f.raw("intermediate_cas").is_array()) {
      fail(FaultCode::kBadRequest, "field 'intermediate_cas' must be an array");
    }
    for (const auto& i : f.raw("intermediate_cas")) {
      ca.intermediate_cas.push_back(ca_cert_from_json(i, "intermediate_cas"));
    }
  }
  return ca;
}

ApprovedTsa tsa_from_json(const Json& body) {
  Fields f(body, {"name", "url", "cert"});
  if (!f.has("cert")) {
    fail(FaultCode::kBadRequest, "missing field 'cert'", "cert");
  }
  return ApprovedTsa{0, f.str("name"), f.str("url"), cert_from_json(f.raw("cert"), "cert")};
}

ids::ClientId client_from_body(const Registry& registry, const Fields& f) {
  const auto instance = value_or_throw(registry.instance_identifier());
  auto sub = f.opt_str("subsystem_code");
  return value_or_throw(
      ids::ClientId::create(instance, f.str("member_class"), f.str("member_code"),
                            sub ? std::optional<std::string_view>(*sub) : std::nullopt));
}

// The HTTP status for an error of this API: certificate and configuration problems are the
// caller's, not the server's.
int api_status(const Error& e) {
  switch (e.code) {
    case FaultCode::kInvalidCertificate:
    case FaultCode::kIncorrectCertificate:
    case FaultCode::kCertValidation:
    case FaultCode::kWrongCertUsage:
    case FaultCode::kInvalidSignatureValue:
      return 400;
    case FaultCode::kInvalidConfiguration:
      return 503;
    default:
      return http::status_for(e.code);
  }
}

void answer_error(http::Response& res, const Error& e) {
  res.status = api_status(e);
  res.set_body(http::error_json(e), "application/json");
}

bool is_write(std::string_view method) { return method != "GET" && method != "HEAD"; }

}  // namespace

// --- the API ---

struct AdminApi::Impl {
  Registry& registry;
  AdminApiOptions options;
  AdminApiServices services;
  std::vector<std::tuple<std::string, std::string, Handler>> routes;  // method, template, handler
  std::vector<std::pair<std::string, std::vector<std::string>>> split_templates;

  Impl(Registry& r, AdminApiOptions o, AdminApiServices s)
      : registry(r), options(std::move(o)), services(s) {
    build_routes();
    for (const auto& [method, path, handler] : routes) {
      split_templates.emplace_back(method, split(std::string_view(path).substr(1), '/'));
    }
  }

  void add(std::string method, std::string path, Handler h) {
    routes.emplace_back(std::move(method), std::move(path), std::move(h));
  }

  static std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
      const auto pos = text.find(sep, start);
      out.emplace_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
      if (pos == std::string_view::npos) {
        return out;
      }
      start = pos + 1;
    }
  }

  void build_routes();
  void dispatch(const http::Request& req, http::Response& res) const;
};

void AdminApi::Impl::build_routes() {
  Registry& reg = registry;

  // Instance.
  add("GET", "/instance", [&reg](Call&) {
    return Reply{200,
                 {{"instance_identifier", value_or_throw(reg.instance_identifier())},
                  {"change_version", value_or_throw(reg.change_version())}}};
  });

  // Member classes.
  add("GET", "/member-classes", [&reg](Call&) {
    return Reply{200, list_json(value_or_throw(reg.member_classes()), [](const MemberClass& c) {
                   return Json{{"code", c.code}, {"description", c.description}};
                 })};
  });
  add("POST", "/member-classes", [&reg](Call& c) {
    Fields f(c.json(), {"code", "description"});
    MemberClass mc{f.str("code"), f.opt_str("description").value_or("")};
    check_mutation(reg.add_member_class(c.ctx, mc));
    return Reply{201, {{"code", mc.code}, {"description", mc.description}}};
  });
  add("PATCH", "/member-classes/{code}", [&reg](Call& c) {
    Fields f(c.json(), {"description"});
    const auto desc = f.str("description");
    check_mutation(reg.update_member_class(c.ctx, c.params[0], desc));
    return Reply{200, {{"code", c.params[0]}, {"description", desc}}};
  });
  add("DELETE", "/member-classes/{code}", [&reg](Call& c) {
    check_mutation(reg.delete_member_class(c.ctx, c.params[0]));
    return Reply{204, nullptr};
  });

  // Members and subsystems.
  add("GET", "/members", [&reg](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(value_or_throw(reg.members(page)), page, member_json)};
  });
  add("POST", "/members", [&reg](Call& c) {
    Fields f(c.json(), {"member_class", "member_code", "name"});
    const auto id = value_or_throw(ids::MemberId::create(
        value_or_throw(reg.instance_identifier()), f.str("member_class"), f.str("member_code")));
    check_mutation(reg.add_member(c.ctx, id, f.str("name")));
    return Reply{201, member_json(value_or_throw(reg.member(id)))};
  });
  add("GET", "/members/{member}", [&reg](Call& c) {
    return Reply{200, member_json(value_or_throw(reg.member(member_from_path(reg, c.params[0]))))};
  });
  add("PATCH", "/members/{member}", [&reg](Call& c) {
    Fields f(c.json(), {"name"});
    const auto id = member_from_path(reg, c.params[0]);
    check_mutation(reg.rename_member(c.ctx, id, f.str("name")));
    return Reply{200, member_json(value_or_throw(reg.member(id)))};
  });
  add("DELETE", "/members/{member}", [&reg](Call& c) {
    check_mutation(
        reg.delete_member(c.ctx, member_from_path(reg, c.params[0]), c.flag("cascade", false)));
    return Reply{204, nullptr};
  });
  add("POST", "/members/{member}/subsystems", [&reg](Call& c) {
    Fields f(c.json(), {"subsystem_code", "name"});
    const auto member = member_from_path(reg, c.params[0]);
    const auto id = value_or_throw(ids::SubsystemId::create(member, f.str("subsystem_code")));
    check_mutation(reg.add_subsystem(c.ctx, id, f.opt_str("name").value_or("")));
    return Reply{201, member_json(value_or_throw(reg.member(member)))};
  });
  add("DELETE", "/members/{member}/subsystems/{subsystem}", [&reg](Call& c) {
    const auto member = member_from_path(reg, c.params[0]);
    const auto id = value_or_throw(ids::SubsystemId::create(member, c.params[1]));
    check_mutation(reg.delete_subsystem(c.ctx, id, c.flag("cascade", false)));
    return Reply{204, nullptr};
  });

  // Security servers.
  add("GET", "/servers", [&reg](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(value_or_throw(reg.servers(page)), page, server_json)};
  });
  add("POST", "/servers", [&reg](Call& c) {
    Fields f(c.json(), {"owner_class", "owner_code", "server_code", "address"});
    const auto id = value_or_throw(ids::SecurityServerId::create(
        value_or_throw(reg.instance_identifier()), f.str("owner_class"), f.str("owner_code"),
        f.str("server_code")));
    check_mutation(reg.add_server(c.ctx, id, f.opt_str("address").value_or("")));
    return Reply{201, server_json(value_or_throw(reg.server(id)))};
  });
  add("GET", "/servers/{server}", [&reg](Call& c) {
    return Reply{200, server_json(value_or_throw(reg.server(server_from_path(reg, c.params[0]))))};
  });
  add("PATCH", "/servers/{server}", [&reg](Call& c) {
    Fields f(c.json(), {"address"});
    const auto id = server_from_path(reg, c.params[0]);
    check_mutation(reg.set_server_address(c.ctx, id, f.str("address")));
    return Reply{200, server_json(value_or_throw(reg.server(id)))};
  });
  add("DELETE", "/servers/{server}", [&reg](Call& c) {
    check_mutation(reg.delete_server(c.ctx, server_from_path(reg, c.params[0])));
    return Reply{204, nullptr};
  });
  add("POST", "/servers/{server}/auth-certs", [&reg](Call& c) {
    Fields f(c.json(), {"cert", "hash"});
    const auto id = server_from_path(reg, c.params[0]);
    if (f.has("cert") == f.has("hash")) {
      fail(FaultCode::kBadRequest, "give exactly one of 'cert' and 'hash'");
    }
    if (f.has("cert")) {
      check_mutation(reg.register_auth_cert(c.ctx, id, cert_from_json(f.raw("cert"), "cert")));
    } else {
      const auto text = f.str("hash");
      auto raw = text.size() == 64 ? crypto::hex_decode(text) : crypto::base64_decode(text);
      if (!raw.ok()) {
        fail(FaultCode::kBadRequest, "'hash' must be hex or base64 SHA-256", text);
      }
      check_mutation(reg.register_auth_cert_hash(c.ctx, id, *raw));
    }
    return Reply{201, server_json(value_or_throw(reg.server(id)))};
  });
  add("DELETE", "/servers/{server}/auth-certs/{hash}", [&reg](Call& c) {
    const auto id = server_from_path(reg, c.params[0]);
    auto raw = crypto::hex_decode(c.params[1]);
    if (!raw.ok()) {
      fail(FaultCode::kBadRequest, "the hash in the path must be hex", c.params[1]);
    }
    check_mutation(reg.delete_auth_cert(c.ctx, id, *raw));
    return Reply{204, nullptr};
  });
  add("POST", "/servers/{server}/clients", [&reg](Call& c) {
    Fields f(c.json(), {"member_class", "member_code", "subsystem_code", "create_subsystem"});
    const auto id = server_from_path(reg, c.params[0]);
    check_mutation(reg.add_server_client(c.ctx, id, client_from_body(reg, f),
                                         f.boolean("create_subsystem", false)));
    return Reply{201, server_json(value_or_throw(reg.server(id)))};
  });
  add("DELETE", "/servers/{server}/clients/{client}", [&reg](Call& c) {
    check_mutation(reg.remove_server_client(c.ctx, server_from_path(reg, c.params[0]),
                                            client_from_path(reg, c.params[1])));
    return Reply{204, nullptr};
  });
  add("POST", "/servers/{server}/owner", [&reg](Call& c) {
    Fields f(c.json(), {"member_class", "member_code"});
    const auto id = server_from_path(reg, c.params[0]);
    const auto owner = value_or_throw(ids::MemberId::create(
        value_or_throw(reg.instance_identifier()), f.str("member_class"), f.str("member_code")));
    const auto moved = check_mutation(reg.change_server_owner(c.ctx, id, owner));
    return Reply{200, server_json(value_or_throw(reg.server(moved)))};
  });

  // Global groups.
  add("GET", "/groups", [&reg](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(value_or_throw(reg.groups(page)), page, group_json)};
  });
  add("POST", "/groups", [&reg](Call& c) {
    Fields f(c.json(), {"code", "description"});
    const auto id = value_or_throw(
        ids::GlobalGroupId::create(value_or_throw(reg.instance_identifier()), f.str("code")));
    check_mutation(reg.add_group(c.ctx, id, f.opt_str("description").value_or("")));
    return Reply{201, group_json(value_or_throw(reg.group(id)))};
  });
  add("GET", "/groups/{group}", [&reg](Call& c) {
    return Reply{200, group_json(value_or_throw(reg.group(group_from_path(reg, c.params[0]))))};
  });
  add("PATCH", "/groups/{group}", [&reg](Call& c) {
    Fields f(c.json(), {"description"});
    const auto id = group_from_path(reg, c.params[0]);
    check_mutation(reg.update_group(c.ctx, id, f.str("description")));
    return Reply{200, group_json(value_or_throw(reg.group(id)))};
  });
  add("DELETE", "/groups/{group}", [&reg](Call& c) {
    check_mutation(reg.delete_group(c.ctx, group_from_path(reg, c.params[0])));
    return Reply{204, nullptr};
  });
  add("POST", "/groups/{group}/members", [&reg](Call& c) {
    Fields f(c.json(), {"member_class", "member_code", "subsystem_code"});
    const auto id = group_from_path(reg, c.params[0]);
    check_mutation(reg.add_group_member(c.ctx, id, client_from_body(reg, f)));
    return Reply{201, group_json(value_or_throw(reg.group(id)))};
  });
  add("DELETE", "/groups/{group}/members/{client}", [&reg](Call& c) {
    check_mutation(reg.remove_group_member(c.ctx, group_from_path(reg, c.params[0]),
                                           client_from_path(reg, c.params[1])));
    return Reply{204, nullptr};
  });

  // Approved CAs.
  add("GET", "/cas", [&reg](Call&) {
    return Reply{200, list_json(value_or_throw(reg.cas()), ca_json)};
  });
  add("POST", "/cas", [&reg](Call& c) {
    const auto id = check_mutation(reg.add_ca(c.ctx, ca_from_json(c.json())));
    return Reply{201, ca_json(value_or_throw(reg.ca(id)))};
  });
  add("GET", "/cas/{id}", [&reg](Call& c) {
    return Reply{200, ca_json(value_or_throw(reg.ca(int_from_path(c.params[0]))))};
  });
  add("PUT", "/cas/{id}", [&reg](Call& c) {
    auto ca = ca_from_json(c.json());
    ca.id = int_from_path(c.params[0]);
    check_mutation(reg.update_ca(c.ctx, ca));
    return Reply{200, ca_json(value_or_throw(reg.ca(ca.id)))};
  });
  add("DELETE", "/cas/{id}", [&reg](Call& c) {
    check_mutation(reg.delete_ca(c.ctx, int_from_path(c.params[0])));
    return Reply{204, nullptr};
  });

  // Approved TSAs.
  add("GET", "/tsas", [&reg](Call&) {
    return Reply{200, list_json(value_or_throw(reg.tsas()), tsa_json)};
  });
  add("POST", "/tsas", [&reg](Call& c) {
    const auto id = check_mutation(reg.add_tsa(c.ctx, tsa_from_json(c.json())));
    return Reply{201, tsa_json(value_or_throw(reg.tsa(id)))};
  });
  add("GET", "/tsas/{id}", [&reg](Call& c) {
    return Reply{200, tsa_json(value_or_throw(reg.tsa(int_from_path(c.params[0]))))};
  });
  add("PUT", "/tsas/{id}", [&reg](Call& c) {
    auto tsa = tsa_from_json(c.json());
    tsa.id = int_from_path(c.params[0]);
    check_mutation(reg.update_tsa(c.ctx, tsa));
    return Reply{200, tsa_json(value_or_throw(reg.tsa(tsa.id)))};
  });
  add("DELETE", "/tsas/{id}", [&reg](Call& c) {
    check_mutation(reg.delete_tsa(c.ctx, int_from_path(c.params[0])));
    return Reply{204, nullptr};
  });

  // Settings: PATCH changes only the fields given (null clears an optional one).
  add("GET", "/settings", [&reg](Call&) {
    return Reply{200, settings_json(value_or_throw(reg.settings()))};
  });
  add("PATCH", "/settings", [&reg](Call& c) {
    const Json body = c.json();
    Fields f(body, {"ocsp_freshness_seconds", "time_stamping_interval_seconds",
                    "configuration_validity_seconds", "management_service_address",
                    "management_service_cert", "management_service_provider"});
    Settings s = value_or_throw(reg.settings());
    if (auto v = f.opt_int("ocsp_freshness_seconds")) {
      s.ocsp_freshness_seconds = *v;
    }
    if (auto v = f.opt_int("time_stamping_interval_seconds")) {
      s.time_stamping_interval_seconds = *v;
    }
    if (auto v = f.opt_int("configuration_validity_seconds")) {
      s.configuration_validity_seconds = *v;
    }
    if (auto v = f.opt_str("management_service_address")) {
      s.management_service_address = *v;
    }
    if (body.contains("management_service_cert")) {
      s.management_service_cert.reset();
      if (f.has("management_service_cert")) {
        s.management_service_cert =
            cert_from_json(f.raw("management_service_cert"), "management_service_cert");
      }
    }
    if (body.contains("management_service_provider")) {
      s.management_service_provider.reset();
      if (auto v = f.opt_str("management_service_provider")) {
        s.management_service_provider = value_or_throw(ids::ClientId::parse(*v));
      }
    }
    check_mutation(reg.update_settings(c.ctx, s));
    return Reply{200, settings_json(value_or_throw(reg.settings()))};
  });

  // Audit log.
  add("GET", "/audit", [&reg](Call& c) {
    AuditQuery q;
    q.page = c.page();
    q.actor = c.request.query("actor").value_or("");
    q.action_prefix = c.request.query("action").value_or("");
    return Reply{200, page_json(value_or_throw(reg.audit_log(q)), q.page, audit_json)};
  });

  // Admin tokens.
  add("GET", "/tokens", [&reg](Call&) {
    return Reply{200, list_json(value_or_throw(reg.tokens()), token_json)};
  });
  add("POST", "/tokens", [&reg](Call& c) {
    Fields f(c.json(), {"name", "role"});
    const auto role_name = f.str("role");
    const auto role = admin_role_from_name(role_name);
    if (!role) {
      fail(FaultCode::kBadRequest, "role must be 'operator' or 'read-only'", role_name);
    }
    const auto created = check_mutation(reg.create_token(c.ctx, f.str("name"), *role));
    Json j = token_json(created.token);
    j["secret"] = created.secret;
    return Reply{201, j};
  });
  add("DELETE", "/tokens/{id}", [&reg](Call& c) {
    check_mutation(reg.revoke_token(c.ctx, int_from_path(c.params[0])));
    return Reply{204, nullptr};
  });

  add_service_routes(routes, registry, services);
}

void AdminApi::Impl::dispatch(const http::Request& req, http::Response& res) const {
  AuditContext ctx;
  ctx.actor = "anonymous";
  ctx.source = std::string(req.peer_address());
  const std::string target = std::string(req.method()) + " " + std::string(req.path());

  auto refuse = [&](const Error& e) {
    (void)registry.record_audit(ctx, "api.auth", target, "", &e);
    answer_error(res, e);
  };

  // Authentication first: nothing, not even the route table, is visible without a token.
  const auto auth = req.header("Authorization");
  if (!auth || !auth->starts_with("Bearer ") || auth->size() <= 7) {
    res.set_header("WWW-Authenticate", "Bearer");
    return refuse(Error(FaultCode::kUnauthorized, "a bearer token is required"));
  }
  auto token = registry.authenticate(auth->substr(7));
  if (!token.ok()) {
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return refuse(token.error());
  }
  ctx.actor = "token:" + std::to_string(token->id) + ":" + token->name;
  if (is_write(req.method()) && token->role != AdminRole::kOperator) {
    return refuse(Error(FaultCode::kForbidden, "the token's role does not allow changes",
                        std::string(admin_role_name(token->role))));
  }

  // Routing.
  std::string_view path = req.path();
  if (!path.starts_with(options.base_path)) {
    return answer_error(res, Error(FaultCode::kNotFound, "no such resource", std::string(path)));
  }
  path.remove_prefix(options.base_path.size());
  // HEAD is answered like GET (the server drops the body).
  const std::string_view method = req.method() == "HEAD" ? "GET" : req.method();
  if (path.starts_with("/")) {
    path.remove_prefix(1);
  }
  const auto segments = split(path, '/');
  const Handler* handler = nullptr;
  std::vector<std::string> params;
  bool path_known = false;
  for (std::size_t i = 0; i < routes.size() && handler == nullptr; ++i) {
    const auto& tmpl = split_templates[i].second;
    if (tmpl.size() != segments.size()) {
      continue;
    }
    std::vector<std::string> found;
    bool match = true;
    for (std::size_t s = 0; s < tmpl.size() && match; ++s) {
      if (tmpl[s].starts_with("{")) {
        match = !segments[s].empty();
        found.push_back(segments[s]);
      } else {
        match = tmpl[s] == segments[s];
      }
    }
    if (!match) {
      continue;
    }
    path_known = true;
    if (split_templates[i].first == method) {
      handler = &std::get<2>(routes[i]);
      params = std::move(found);
    }
  }
  if (handler == nullptr) {
    res.status = path_known ? 405 : 404;
    res.set_body(http::error_json(path_known ? Error(FaultCode::kBadRequest, "method not allowed",
                                                     std::string(req.method()))
                                             : Error(FaultCode::kNotFound, "no such resource",
                                                     std::string(req.path()))),
                 "application/json");
    return;
  }

  Call call{req,
            std::move(params),
            ctx,
            options.max_json_depth,
            options.default_page_size,
            options.max_page_size};
  try {
    if (req.body().size() > options.max_body_bytes) {
      fail(FaultCode::kLimitExceeded, "request body too large",
           "limit " + std::to_string(options.max_body_bytes) + " bytes");
    }
    if (!req.body().empty()) {
      auto type = req.header("Content-Type");
      if (!type || !type->starts_with("application/json")) {
        fail(FaultCode::kInvalidContentType, "the request body must be application/json",
             std::string(type.value_or("")));
      }
    }
    Reply reply = (*handler)(call);
    res.status = reply.status;
    if (reply.status != 204) {
      res.set_body(reply.body.dump(-1, ' ', false, Json::error_handler_t::replace),
                   "application/json");
    }
  } catch (const ApiError& e) {
    if (!e.audited && is_write(req.method())) {
      (void)registry.record_audit(ctx, "api.request", target, "", &e.error);
    }
    answer_error(res, e.error);
  }
}

AdminApi::AdminApi(Registry& registry, AdminApiOptions options, AdminApiServices services)
    : impl_(std::make_unique<Impl>(registry, std::move(options), services)) {}

AdminApi::~AdminApi() = default;

void AdminApi::register_routes(http::Server& server) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    server.route(method, impl_->options.base_path + "/*",
                 [this](const http::Request& req, http::Response& res) { handle(req, res); });
  }
}

std::vector<AdminRoute> AdminApi::routes() const {
  std::vector<AdminRoute> out;
  for (const auto& [method, path, handler] : impl_->routes) {
    out.push_back(AdminRoute{method, impl_->options.base_path + path});
  }
  return out;
}

void AdminApi::handle(const http::Request& request, http::Response& response) const {
  impl_->dispatch(request, response);
}

}  // namespace hansa::central
