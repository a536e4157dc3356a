#include "node/api/admin_api.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/http/http.h"
#include "core/ids/ids.h"
#include "node/api/messagelog_routes.h"
#include "node/api/opmonitor_routes.h"
#include "node/globalconf/configuration_client.h"
#include "node/opmonitor/node_monitoring.h"
#include "node/registration/registration.h"
#include "node/serverconf/store.h"
#include "node/signer/signer.h"
#include "node/signer/software_token.h"
#include "node/signer/token.h"

namespace hansa::nodeapi {

namespace {

using Json = nlohmann::json;

// Thrown inside handlers only; the dispatcher turns it into an error answer.
struct ApiError {
  Error error;
};

[[noreturn]] void fail(FaultCode code, std::string message, std::string detail = {}) {
  throw ApiError{Error(code, std::move(message), std::move(detail))};
}

template <typename T>
T value_or_throw(Result<T> result) {
  if (!result.ok()) {
    throw ApiError{std::move(result).error()};
  }
  return std::move(result).value();
}

void check(Status status) {
  if (!status.ok()) {
    throw ApiError{std::move(status).error()};
  }
}

template <typename T>
T* need(T* service, std::string_view what) {
  if (service == nullptr) {
    fail(FaultCode::kInvalidConfiguration, std::string(what) + " is not available on this node");
  }
  return service;
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

std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return v;
}

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

std::string format_time(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_epoch(std::int64_t s) {
  return format_time(std::chrono::system_clock::time_point(std::chrono::seconds(s)));
}

// A JSON request body that must be an object with only the allowed fields.
class Fields final {
 public:
  Fields(const Json& body, std::initializer_list<std::string_view> allowed) : body_(body) {
    if (!body.is_object()) {
      fail(FaultCode::kBadRequest, "the request body must be a JSON object");
    }
    for (const auto& [key, value] : body.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        fail(FaultCode::kBadRequest, "unknown field '" + key + "'", key);
      }
    }
  }
  [[nodiscard]] bool has(std::string_view name) const {
    const auto it = body_.find(std::string(name));
    return it != body_.end() && !it->is_null();
  }
  [[nodiscard]] std::string str(std::string_view name) const {
    if (!has(name)) {
      fail(FaultCode::kBadRequest, "missing field '" + std::string(name) + "'", std::string(name));
    }
    const Json& v = body_.at(std::string(name));
    if (!v.is_string()) {
      fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be a string",
           std::string(name));
    }
    return v.get<std::string>();
  }
  [[nodiscard]] std::optional<std::string> opt_str(std::string_view name) const {
    return has(name) ? std::optional<std::string>(str(name)) : std::nullopt;
  }
  [[nodiscard]] std::optional<bool> opt_bool(std::string_view name) const {
    if (!has(name)) {
      return std::nullopt;
    }
    const Json& v = body_.at(std::string(name));
    if (!v.is_boolean()) {
      fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be a boolean",
           std::string(name));
    }
    return v.get<bool>();
  }
  [[nodiscard]] std::optional<std::int64_t> opt_int(std::string_view name) const {
    if (!has(name)) {
      return std::nullopt;
    }
    const Json& v = body_.at(std::string(name));
    if (!v.is_number_integer()) {
      fail(FaultCode::kBadRequest, "field '" + std::string(name) + "' must be an integer",
           std::string(name));
    }
    return v.get<std::int64_t>();
  }

 private:
  Json body_;
};

struct Reply {
  int status = 200;
  Json body;
  std::string raw_body;  // sent as-is with raw_type when set (PEM downloads)
  std::string raw_type;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Page {
  std::size_t limit = 100;
  std::size_t offset = 0;
};

// One request in flight.
struct Call {
  const http::Request& request;
  std::vector<std::string> params;
  AuditContext ctx;
  const NodeApiOptions& options;
  std::string summary;  // what the handler did, for the audit entry

  [[nodiscard]] Json json() const {
    const auto body = request.body();
    if (body.empty()) {
      return Json::object();
    }
    if (json_depth(body) > options.max_json_depth) {
      fail(FaultCode::kBadRequest, "JSON nesting too deep",
           "limit " + std::to_string(options.max_json_depth));
    }
    try {
      return Json::parse(body);
    } catch (const std::exception& e) {
      fail(FaultCode::kBadRequest, "malformed JSON", e.what());
    }
  }

  [[nodiscard]] Page page() const {
    Page p;
    p.limit = options.default_page_size;
    if (auto limit = request.query("limit")) {
      auto v = parse_size(*limit);
      if (!v || *v == 0 || *v > options.max_page_size) {
        fail(FaultCode::kBadRequest,
             "limit must be between 1 and " + std::to_string(options.max_page_size), *limit);
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
};

using Handler = std::function<Reply(Call&)>;

// A page of `list` rendered with `render`.
template <typename T, typename F>
Json page_json(const std::vector<T>& list, const Page& page, F render) {
  Json items = Json::array();
  for (std::size_t i = page.offset; i < list.size() && items.size() < page.limit; ++i) {
    items.push_back(render(list[i]));
  }
  return {{"items", items}, {"total", list.size()}, {"limit", page.limit}, {"offset", page.offset}};
}

std::int64_t int_from_path(std::string_view text) {
  auto v = parse_size(text);
  if (!v || *v > static_cast<std::size_t>(INT64_MAX)) {
    fail(FaultCode::kBadRequest, "not a numeric id", std::string(text));
  }
  return static_cast<std::int64_t>(*v);
}

// --- renderings ---

std::string path_id(const ids::ClientId& c) {
  return c.member_class() + ":" + c.member_code() +
         (c.subsystem_code() ? ":" + *c.subsystem_code() : "");
}

Json cert_json(const crypto::Certificate& c) {
  return {{"subject", c.subject()},
          {"issuer", c.issuer()},
          {"not_after", format_time(c.not_after())},
          {"sha256", c.fingerprint_hex(crypto::DigestAlgorithm::kSha256)},
          {"pem", c.pem()}};
}

Json client_json(const serverconf::ClientEntry& c) {
  Json certs = Json::array();
  for (const auto& cert : c.is_certs) {
    certs.push_back(cert_json(cert));
  }
  Json j = {{"id", c.id.to_string()},
            {"path_id", path_id(c.id)},
            {"member_class", c.id.member_class()},
            {"member_code", c.id.member_code()},
            {"registration_state", serverconf::registration_state_name(c.state)},
            {"connection_type", serverconf::is_connection_name(c.is_connection)},
            {"is_certs", certs}};
  j["subsystem_code"] = c.id.subsystem_code() ? Json(*c.id.subsystem_code()) : Json(nullptr);
  return j;
}

Json description_json(const serverconf::ServerConfSnapshot& snap,
                      const serverconf::DescriptionEntry& d) {
  Json services = Json::array();
  for (const auto* s : snap.services_of(d.client)) {
    if (s->description_id == d.id) {
      services.push_back(s->id.service_code() +
                         (s->id.service_version() ? "." + *s->id.service_version() : ""));
    }
  }
  return {{"id", d.id},
          {"client", d.client.to_string()},
          {"type", serverconf::description_type_name(d.type)},
          {"source", d.source},
          {"provider_url", d.provider_url ? Json(*d.provider_url) : Json(nullptr)},
          {"enabled", d.enabled},
          {"disabled_notice", d.disabled_notice},
          {"refreshed_at", format_epoch(d.refreshed_at)},
          {"services", services}};
}

Json service_json(const serverconf::ServiceEntry& s) {
  return {
      {"id", s.id.to_string()},
      {"service_code", s.id.service_code()},
      {"service_version", s.id.service_version() ? Json(*s.id.service_version()) : Json(nullptr)},
      {"description_id", s.description_id},
      {"type", s.type == serverconf::ServiceType::kSoap ? "soap" : "rest"},
      {"title", s.title},
      {"url", s.url},
      {"timeout_seconds", s.timeout.count()},
      {"ssl_verify", s.ssl_verify},
      {"enabled", s.enabled},
      {"disabled_notice", s.disabled_notice}};
}

Json endpoint_json(const serverconf::EndpointEntry& e) {
  Json subjects = Json::array();
  for (const auto& s : e.subjects) {
    subjects.push_back(serverconf::subject_to_string(s));
  }
  return {{"id", e.id},
          {"method", e.key().method},
          {"path", e.key().path},
          {"generated", e.generated},
          {"subjects", subjects}};
}

Json local_group_json(const serverconf::LocalGroupEntry& g) {
  Json members = Json::array();
  for (const auto& m : g.members) {
    members.push_back(m.to_string());
  }
  return {{"code", g.code}, {"description", g.description}, {"members", members}};
}

Json token_json(const signer::TokenInfo& t) {
  return {{"id", t.id},
          {"kind", signer::token_kind_name(t.kind)},
          {"label", t.label},
          {"active", t.status.active},
          {"logged_in", t.status.logged_in}};
}

Json key_json(const signer::KeyInfo& k) {
  return {{"id", k.id},
          {"token_id", k.token_id},
          {"label", k.friendly_name},
          {"usage", k.usage ? Json(signer::key_usage_name(*k.usage)) : Json(nullptr)},
          {"member", k.member ? Json(k.member->to_string()) : Json(nullptr)},
          {"created_at", format_epoch(k.created_at)},
          {"public_key_pem", k.public_key.to_pem()}};
}

Json csr_json(const signer::CsrInfo& c) {
  return {{"id", c.id},
          {"key_id", c.key_id},
          {"usage", signer::key_usage_name(c.usage)},
          {"member", c.member.to_string()},
          {"subject", c.subject},
          {"created_at", format_epoch(c.created_at)},
          {"pem", c.pem}};
}

Json signer_cert_json(const signer::CertInfo& c) {
  Json j = cert_json(c.certificate);
  j["id"] = c.id;
  j["key_id"] = c.key_id;
  j["usage"] = signer::key_usage_name(c.usage);
  j["member"] = c.member ? Json(c.member->to_string()) : Json(nullptr);
  j["status"] = signer::cert_status_name(c.status);
  j["active"] = c.active;
  j["imported_at"] = format_epoch(c.imported_at);
  return j;
}

Json ocsp_json(const signer::OcspInfo& o) {
  Json j;
  j["has_response"] = o.response_der.has_value();
  j["status"] = o.status ? Json(ocsp::cert_status_name(*o.status)) : Json(nullptr);
  j["this_update"] = o.this_update ? Json(format_time(*o.this_update)) : Json(nullptr);
  j["last_error"] = o.last_error ? Json{{"type", std::string(fault_name(o.last_error->code))},
                                        {"message", o.last_error->message},
                                        {"detail", o.last_error->detail}}
                                 : Json(nullptr);
  return j;
}

Json sent_json(const registration::SentRequest& r) {
  return {{"id", r.id},
          {"type", management::request_type_name(r.type)},
          {"target", r.target},
          {"central_request_id", r.central_request_id},
          {"message_id", r.message_id},
          {"sent_at", format_epoch(r.sent_at)}};
}

Json admin_token_json(const AdminToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", admin_role_name(t.role)},
          {"created_at", format_time(t.created_at)},
          {"revoked", t.revoked}};
}

Json audit_json(const AuditEntry& e) {
  return {{"id", e.id},         {"at", format_time(e.at)}, {"actor", e.actor},
          {"source", e.source}, {"action", e.action},      {"target", e.target},
          {"result", e.result}, {"detail", e.detail}};
}

Json conf_status_json(const confclient::ConfigurationClient& client) {
  const auto st = client.status();
  Json j = {{"instance_identifier", st.instance_identifier},
            {"usable", st.usable},
            {"consecutive_failures", st.consecutive_failures},
            {"source_url", st.source_url}};
  j["last_attempt"] = st.last_attempt ? Json(format_time(*st.last_attempt)) : Json(nullptr);
  j["last_success"] = st.last_success ? Json(format_time(*st.last_success)) : Json(nullptr);
  j["version"] = st.version ? Json(*st.version) : Json(nullptr);
  j["expires_at"] = st.expires_at ? Json(format_time(*st.expires_at)) : Json(nullptr);
  j["last_error"] = st.last_error ? Json{{"type", std::string(fault_name(st.last_error->code))},
                                         {"message", st.last_error->message},
                                         {"detail", st.last_error->detail}}
                                  : Json(nullptr);
  return j;
}

// The HTTP status for an error of this API: input problems are the caller's.
int api_status(const Error& e) {
  switch (e.code) {
    case FaultCode::kInvalidCertificate:
    case FaultCode::kIncorrectCertificate:
    case FaultCode::kInvalidXml:
    case FaultCode::kMalformedGlobalConf:
    case FaultCode::kInvalidGlobalConf:
    case FaultCode::kTokenPinPolicyFailure:
      return 400;
    case FaultCode::kPinIncorrect:
      return 403;
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

struct NodeAdminApi::Impl {
  NodeApiServices services;
  NodeApiOptions options;
  struct Route {
    std::string method;
    std::string path;
    std::vector<std::string> segments;
    Handler handler;
    bool upload = false;      // accepts bodies up to max_upload_bytes
    bool audit_only = false;  // GET that needs the auditor or operator role
  };
  std::vector<Route> routes;

  Impl(NodeApiServices s, NodeApiOptions o) : services(std::move(s)), options(std::move(o)) {
    HANSA_CHECK(services.admin != nullptr);
    build_routes();
  }

  Route& add(std::string method, std::string path, Handler h) {
    Route r{std::move(method), path, split(std::string_view(path).substr(1), '/'), std::move(h)};
    routes.push_back(std::move(r));
    return routes.back();
  }

  // --- lookups ---

  serverconf::ServerConfStore& conf() const {
    return *need(services.serverconf, "the server configuration");
  }

  std::shared_ptr<const serverconf::ServerConfSnapshot> snapshot() const {
    auto snap = conf().snapshot();
    if (!snap->server()) {
      fail(FaultCode::kInvalidConfiguration, "the node is not initialised (run hansa-node init)");
    }
    return snap;
  }

  std::string instance() const { return snapshot()->server()->instance(); }

  // "CLASS:CODE" or "CLASS:CODE:SUBSYSTEM" in the node's instance.
  ids::ClientId client_from_path(std::string_view text) const {
    const auto parts = split(text, ':');
    if (parts.size() != 2 && parts.size() != 3) {
      fail(FaultCode::kInvalidClientIdentifier,
           "a client is written CLASS:CODE or CLASS:CODE:SUBSYSTEM", std::string(text));
    }
    if (parts.size() == 2) {
      return value_or_throw(ids::ClientId::create(instance(), parts[0], parts[1]));
    }
    return value_or_throw(ids::ClientId::create(instance(), parts[0], parts[1], parts[2]));
  }

  // A client given as an identifier string ("SUBSYSTEM:EE/GOV/1/sub") or in path form.
  ids::ClientId client_from_text(std::string_view text) const {
    if (text.starts_with("MEMBER:") || text.starts_with("SUBSYSTEM:")) {
      return value_or_throw(ids::ClientId::parse(text));
    }
    return client_from_path(text);
  }

  const serverconf::ClientEntry& client_entry(const serverconf::ServerConfSnapshot& snap,
                                              const ids::ClientId& id) const {
    const auto* c = snap.find_client(id);
    if (c == nullptr) {
      fail(FaultCode::kNotFound, "no such client on this node", id.to_string());
    }
    return *c;
  }

  signer::Signer& signer() const { return *need(services.signer, "the signer"); }

  registration::Registration& registration() const {
    return *need(services.registration, "registration with central");
  }

  signer::TokenInfo token(std::string_view id) const {
    for (auto& t : signer().tokens()) {
      if (t.id == id) {
        return t;
      }
    }
    fail(FaultCode::kTokenNotFound, "no such token", std::string(id));
  }

  const serverconf::EndpointEntry& endpoint(const serverconf::ServerConfSnapshot& snap,
                                            const ids::ClientId& provider, std::string_view code,
                                            std::int64_t id) const {
    for (const auto* e : snap.endpoints_of(provider, code)) {
      if (e->id == id) {
        return *e;
      }
    }
    fail(FaultCode::kNotFound, "no such endpoint of the service", std::to_string(id));
  }

  void build_routes();
  void add_opmonitor_routes();
  void add_messagelog_routes();
  void dispatch(const http::Request& req, http::Response& res) const;
};

void NodeAdminApi::Impl::build_routes() {
  Impl& self = *this;

  // --- Status ---
  add_opmonitor_routes();
  add("GET", "/status", [&self](Call&) {
    Json j;
    if (self.services.serverconf != nullptr) {
      auto snap = self.services.serverconf->snapshot();
      j["initialised"] = snap->server().has_value();
      j["server"] = snap->server() ? Json(snap->server()->to_string()) : Json(nullptr);
      j["clients"] = snap->clients().size();
      j["configuration_change_counter"] = snap->change_counter();
    }
    j["global_configuration"] = self.services.confclient != nullptr
                                    ? conf_status_json(*self.services.confclient)
                                    : Json(nullptr);
    Json tokens = Json::array();
    if (self.services.signer != nullptr) {
      for (const auto& t : self.services.signer->tokens()) {
        tokens.push_back(token_json(t));
      }
    }
    j["tokens"] = tokens;
    return Reply{200, j};
  });

  // --- Global configuration ---
  add("GET", "/globalconf", [&self](Call&) {
    auto& client = *need(self.services.confclient, "the configuration client");
    Json j = conf_status_json(client);
    auto anchor = client.anchor();
    j["anchor_imported"] = anchor.has_value();
    return Reply{200, j};
  });
  add("POST", "/globalconf/anchor", [&self](Call& c) {
    Fields f(c.json(), {"anchor", "replace_instance"});
    auto& client = *need(self.services.confclient, "the configuration client");
    const auto anchor = value_or_throw(
        client.import_anchor(f.str("anchor"), f.opt_bool("replace_instance").value_or(false)));
    c.summary = "anchor of " + anchor.instance_identifier;
    Json j = conf_status_json(client);
    j["anchor_imported"] = true;
    return Reply{200, j};
  }).upload = true;
  add("POST", "/globalconf/refresh", [&self](Call&) {
    auto& client = *need(self.services.confclient, "the configuration client");
    check(client.refresh());
    return Reply{200, conf_status_json(client)};
  });

  // --- Tokens, keys, CSRs and certificates (node/signer) ---
  add("GET", "/tokens", [&self](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(self.signer().tokens(), page, token_json)};
  });
  add("GET", "/tokens/{token}", [&self](Call& c) {
    return Reply{200, token_json(self.token(c.params[0]))};
  });
  add("POST", "/tokens/{token}/login", [&self](Call& c) {
    Fields f(c.json(), {"pin"});
    (void)self.token(c.params[0]);
    check(self.signer().login(c.params[0], f.str("pin")));
    return Reply{200, token_json(self.token(c.params[0]))};
  });
  add("POST", "/tokens/{token}/logout", [&self](Call& c) {
    Fields f(c.json(), {});
    check(self.signer().logout(c.params[0]));
    return Reply{200, token_json(self.token(c.params[0]))};
  });
  add("PUT", "/tokens/{token}/pin", [&self](Call& c) {
    Fields f(c.json(), {"old_pin", "new_pin"});
    const auto info = self.token(c.params[0]);
    signer::SoftwareToken* soft = nullptr;
    for (auto* t : self.services.software_tokens) {
      soft = t->id() == info.id ? t : soft;
    }
    if (soft == nullptr) {
      fail(FaultCode::kInvalidRequest,
           "the PIN of a PKCS#11 token is changed with the token's own tools", info.id);
    }
    check(soft->change_pin(f.str("old_pin"), f.str("new_pin")));
    return Reply{200, token_json(self.token(c.params[0]))};
  });
  add("POST", "/tokens/{token}/keys", [&self](Call& c) {
    Fields f(c.json(), {"algorithm", "label"});
    auto alg = value_or_throw(
        signer::key_algorithm_from_name(f.opt_str("algorithm").value_or("RSA-2048")));
    const auto label = f.opt_str("label").value_or("");
    if (label.size() > 256) {
      fail(FaultCode::kBadRequest, "a key label has at most 256 characters");
    }
    auto key = value_or_throw(self.signer().generate_key(c.params[0], alg, label));
    c.summary = "key " + key.id;
    return Reply{201, key_json(key)};
  });
  add("GET", "/keys", [&self](Call& c) {
    const auto page = c.page();
    auto keys = self.signer().keys();
    if (auto token = c.request.query("token")) {
      std::erase_if(keys, [&](const signer::KeyInfo& k) { return k.token_id != *token; });
    }
    return Reply{200, page_json(keys, page, key_json)};
  });
  add("GET", "/keys/{key}", [&self](Call& c) {
    return Reply{200, key_json(value_or_throw(self.signer().key(c.params[0])))};
  });
  add("DELETE", "/keys/{key}", [&self](Call& c) {
    check(self.signer().delete_key(c.params[0]));
    return Reply{204, nullptr};
  });
  // A CSR, answered as a PEM download (its id in X-Hansa-Csr-Id); `?format=json` gives JSON.
  add("POST", "/keys/{key}/csrs", [&self](Call& c) {
    Fields f(c.json(), {"usage", "member_class", "member_code"});
    const auto server = *self.snapshot()->server();
    const auto usage = value_or_throw(signer::key_usage_from_name(f.str("usage")));
    ids::MemberId member = server.owner();
    if (f.has("member_class") || f.has("member_code")) {
      if (usage == signer::KeyUsage::kAuthentication) {
        fail(FaultCode::kBadRequest, "an authentication CSR is always for the node's owner");
      }
      member = value_or_throw(
          ids::MemberId::create(server.instance(), f.str("member_class"), f.str("member_code")));
    }
    const signer::CsrRequest req{c.params[0], usage, member, server.server_code()};
    const auto csr = value_or_throw(self.signer().generate_csr(req));
    c.summary = "CSR " + csr.id + " for " + req.member.to_string();
    if (c.request.query("format").value_or("pem") == "json") {
      return Reply{201, csr_json(csr)};
    }
    Reply r{201, nullptr, csr.pem, "application/x-pem-file"};
    r.headers.emplace_back("X-Hansa-Csr-Id", csr.id);
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"csr-" + csr.id + ".pem\"");
    return r;
  });
  add("GET", "/csrs", [&self](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(self.signer().csrs(), page, csr_json)};
  });
  add("DELETE", "/csrs/{id}", [&self](Call& c) {
    check(self.signer().delete_csr(c.params[0]));
    return Reply{204, nullptr};
  });
  add("GET", "/certificates", [&self](Call& c) {
    const auto page = c.page();
    return Reply{200, page_json(self.signer().certificates(), page, signer_cert_json)};
  });
  add("POST", "/certificates", [&self](Call& c) {
    Fields f(c.json(), {"cert"});
    auto text = f.str("cert");
    if (text.find("-----BEGIN") == std::string::npos) {
      auto der = crypto::base64_decode(text);
      if (!der.ok()) {
        fail(FaultCode::kIncorrectCertificate, "'cert' must be PEM or base64 DER");
      }
      text = std::move(der).value();
    }
    const auto cert = value_or_throw(self.signer().import_certificate(text));
    c.summary = "certificate " + cert.id;
    return Reply{201, signer_cert_json(cert)};
  });
  add("GET", "/certificates/{id}", [&self](Call& c) {
    return Reply{200, signer_cert_json(value_or_throw(self.signer().certificate(c.params[0])))};
  });
  add("PUT", "/certificates/{id}/active", [&self](Call& c) {
    Fields f(c.json(), {"active"});
    const auto active = f.opt_bool("active");
    if (!active) {
      fail(FaultCode::kBadRequest, "missing field 'active'", "active");
    }
    check(self.signer().set_cert_active(c.params[0], *active));
    return Reply{200, signer_cert_json(value_or_throw(self.signer().certificate(c.params[0])))};
  });
  add("DELETE", "/certificates/{id}", [&self](Call& c) {
    check(self.signer().delete_certificate(c.params[0]));
    return Reply{204, nullptr};
  });
  add("GET", "/certificates/{id}/ocsp", [&self](Call& c) {
    return Reply{200, ocsp_json(value_or_throw(self.signer().ocsp_status(c.params[0])))};
  });

  // --- Clients ---
  add("GET", "/clients", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    return Reply{200, page_json(snap->clients(), page, client_json)};
  });
  add("POST", "/clients", [&self](Call& c) {
    Fields f(c.json(), {"member_class", "member_code", "subsystem_code"});
    auto sub = f.opt_str("subsystem_code");
    const auto id = value_or_throw(
        ids::ClientId::create(self.instance(), f.str("member_class"), f.str("member_code"),
                              sub ? std::optional<std::string_view>(*sub) : std::nullopt));
    check(self.conf().add_client(id));
    c.summary = id.to_string();
    return Reply{201, client_json(self.client_entry(*self.snapshot(), id))};
  });
  add("GET", "/clients/{client}", [&self](Call& c) {
    auto snap = self.snapshot();
    return Reply{200, client_json(self.client_entry(*snap, self.client_from_path(c.params[0])))};
  });
  add("DELETE", "/clients/{client}", [&self](Call& c) {
    check(self.conf().delete_client(self.client_from_path(c.params[0])));
    return Reply{204, nullptr};
  });
  add("PUT", "/clients/{client}/connection-type", [&self](Call& c) {
    Fields f(c.json(), {"connection_type"});
    const auto name = f.str("connection_type");
    auto type = serverconf::is_connection_from_name(name);
    if (!type) {
      fail(FaultCode::kBadRequest, "connection_type must be http, https or https_auth", name);
    }
    const auto id = self.client_from_path(c.params[0]);
    check(self.conf().set_is_connection(id, *type));
    return Reply{200, client_json(self.client_entry(*self.snapshot(), id))};
  });
  add("POST", "/clients/{client}/is-certs", [&self](Call& c) {
    Fields f(c.json(), {"cert"});
    const auto id = self.client_from_path(c.params[0]);
    auto text = f.str("cert");
    if (text.find("-----BEGIN") == std::string::npos) {
      auto der = crypto::base64_decode(text);
      if (!der.ok()) {
        fail(FaultCode::kInvalidCertificate, "'cert' must be PEM or base64 DER");
      }
      text = std::move(der).value();
    }
    const auto sha = value_or_throw(self.conf().add_is_cert(id, text));
    c.summary = "IS certificate " + sha;
    return Reply{201, client_json(self.client_entry(*self.snapshot(), id))};
  });
  add("DELETE", "/clients/{client}/is-certs/{sha256}", [&self](Call& c) {
    check(self.conf().remove_is_cert(self.client_from_path(c.params[0]), c.params[1]));
    return Reply{204, nullptr};
  });

  // --- Service descriptions ---
  add("GET", "/clients/{client}/descriptions", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    const auto id = self.client_from_path(c.params[0]);
    (void)self.client_entry(*snap, id);
    std::vector<serverconf::DescriptionEntry> list;
    for (const auto& d : snap->descriptions()) {
      if (d.client == id) {
        list.push_back(d);
      }
    }
    return Reply{200, page_json(list, page, [&snap](const serverconf::DescriptionEntry& d) {
                   return description_json(*snap, d);
                 })};
  });
  add("POST", "/clients/{client}/descriptions", [&self](Call& c) {
    Fields f(c.json(), {"type", "url", "document", "provider_url", "service_code"});
    const auto id = self.client_from_path(c.params[0]);
    const auto type_name = f.str("type");
    auto type = serverconf::description_type_from_name(type_name);
    if (!type) {
      fail(FaultCode::kBadRequest, "type must be wsdl, openapi3 or rest", type_name);
    }
    serverconf::DescriptionSource source;
    source.url = f.opt_str("url").value_or("");
    source.document = f.opt_str("document");
    source.provider_url = f.opt_str("provider_url");
    if (source.url.empty()) {
      fail(FaultCode::kBadRequest,
           "missing field 'url' (the document's URL, or a name for an uploaded document)", "url");
    }
    std::int64_t desc = 0;
    switch (*type) {
      case serverconf::DescriptionType::kWsdl:
        if (f.has("service_code")) {
          fail(FaultCode::kBadRequest, "a WSDL names its services itself", "service_code");
        }
        desc = value_or_throw(self.conf().add_wsdl(id, source));
        break;
      case serverconf::DescriptionType::kOpenApi:
        desc = value_or_throw(self.conf().add_openapi(id, f.str("service_code"), source));
        break;
      case serverconf::DescriptionType::kRest:
        if (source.document || source.provider_url) {
          fail(FaultCode::kBadRequest, "a REST description is a base URL only");
        }
        desc = value_or_throw(self.conf().add_rest(id, f.str("service_code"), source.url));
        break;
    }
    c.summary = "description " + std::to_string(desc);
    auto snap = self.snapshot();
    return Reply{201, description_json(*snap, *snap->find_description(desc))};
  }).upload = true;
  add("GET", "/descriptions/{id}", [&self](Call& c) {
    auto snap = self.snapshot();
    const auto* d = snap->find_description(int_from_path(c.params[0]));
    if (d == nullptr) {
      fail(FaultCode::kNotFound, "no such service description", c.params[0]);
    }
    return Reply{200, description_json(*snap, *d)};
  });
  add("POST", "/descriptions/{id}/refresh", [&self](Call& c) {
    Fields f(c.json(), {"document"});
    const auto id = int_from_path(c.params[0]);
    check(self.conf().refresh_description(id, f.opt_str("document")));
    auto snap = self.snapshot();
    return Reply{200, description_json(*snap, *snap->find_description(id))};
  }).upload = true;
  add("PUT", "/descriptions/{id}/enabled", [&self](Call& c) {
    Fields f(c.json(), {"enabled", "disabled_notice"});
    const auto id = int_from_path(c.params[0]);
    auto enabled = f.opt_bool("enabled");
    if (!enabled) {
      fail(FaultCode::kBadRequest, "missing field 'enabled'", "enabled");
    }
    check(self.conf().set_description_enabled(id, *enabled,
                                              f.opt_str("disabled_notice").value_or("")));
    auto snap = self.snapshot();
    return Reply{200, description_json(*snap, *snap->find_description(id))};
  });
  add("DELETE", "/descriptions/{id}", [&self](Call& c) {
    check(self.conf().delete_description(int_from_path(c.params[0])));
    return Reply{204, nullptr};
  });

  // --- Services ---
  add("GET", "/clients/{client}/services", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    const auto id = self.client_from_path(c.params[0]);
    (void)self.client_entry(*snap, id);
    auto list = snap->services_of(id);
    return Reply{200, page_json(list, page, [](const serverconf::ServiceEntry* s) {
                   return service_json(*s);
                 })};
  });
  add("PATCH", "/clients/{client}/services/{code}", [&self](Call& c) {
    Fields f(c.json(), {"service_version", "url", "timeout_seconds", "ssl_verify"});
    const auto provider = self.client_from_path(c.params[0]);
    auto version = f.opt_str("service_version");
    const auto service = value_or_throw(ids::ServiceId::create(
        provider, c.params[1], version ? std::optional<std::string_view>(*version) : std::nullopt));
    serverconf::ServiceSettings s;
    s.url = f.opt_str("url");
    if (auto t = f.opt_int("timeout_seconds")) {
      if (*t < 0 || *t > 24 * 3600) {
        fail(FaultCode::kBadRequest, "timeout_seconds must be between 0 and 86400",
             std::to_string(*t));
      }
      s.timeout = std::chrono::seconds(*t);
    }
    s.ssl_verify = f.opt_bool("ssl_verify");
    check(self.conf().update_service(service, s));
    auto snap = self.snapshot();
    Json items = Json::array();
    for (const auto* e : snap->services_by_code(provider, c.params[1])) {
      items.push_back(service_json(*e));
    }
    return Reply{200, {{"items", items}, {"total", items.size()}}};
  });

  // --- Endpoints ---
  add("GET", "/clients/{client}/services/{code}/endpoints", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    const auto provider = self.client_from_path(c.params[0]);
    if (snap->services_by_code(provider, c.params[1]).empty()) {
      fail(FaultCode::kNotFound, "no such service", c.params[1]);
    }
    auto list = snap->endpoints_of(provider, c.params[1]);
    return Reply{200, page_json(list, page, [](const serverconf::EndpointEntry* e) {
                   return endpoint_json(*e);
                 })};
  });
  add("POST", "/clients/{client}/services/{code}/endpoints", [&self](Call& c) {
    Fields f(c.json(), {"method", "path"});
    const auto provider = self.client_from_path(c.params[0]);
    const serverconf::EndpointKey key{f.str("method"), f.str("path")};
    const auto id = value_or_throw(self.conf().add_endpoint(provider, c.params[1], key));
    c.summary = "endpoint " + std::to_string(id);
    auto snap = self.snapshot();
    return Reply{201, endpoint_json(self.endpoint(*snap, provider, c.params[1], id))};
  });
  add("DELETE", "/clients/{client}/services/{code}/endpoints/{id}", [&self](Call& c) {
    const auto provider = self.client_from_path(c.params[0]);
    auto snap = self.snapshot();
    const auto key = self.endpoint(*snap, provider, c.params[1], int_from_path(c.params[2])).key();
    check(self.conf().delete_endpoint(provider, c.params[1], key));
    return Reply{204, nullptr};
  });

  // --- Access rights: on the whole service, or on one endpoint (`endpoint_id`). ---
  add("GET", "/clients/{client}/services/{code}/access", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    const auto provider = self.client_from_path(c.params[0]);
    if (snap->services_by_code(provider, c.params[1]).empty()) {
      fail(FaultCode::kNotFound, "no such service", c.params[1]);
    }
    std::vector<Json> rights;
    for (const auto* e : snap->endpoints_of(provider, c.params[1])) {
      for (const auto& s : e->subjects) {
        rights.push_back({{"subject", serverconf::subject_to_string(s)},
                          {"endpoint_id", e->id},
                          {"method", e->key().method},
                          {"path", e->key().path},
                          {"service_wide", e->key() == serverconf::kServiceEndpoint}});
      }
    }
    return Reply{200, page_json(rights, page, [](const Json& j) { return j; })};
  });
  auto access_change = [&self](Call& c, bool grant) {
    Fields f(c.json(), {"subject", "endpoint_id"});
    const auto provider = self.client_from_path(c.params[0]);
    const auto subject = value_or_throw(serverconf::parse_subject(f.str("subject")));
    c.summary = serverconf::subject_to_string(subject);
    if (auto endpoint_id = f.opt_int("endpoint_id")) {
      auto snap = self.snapshot();
      const auto key = self.endpoint(*snap, provider, c.params[1], *endpoint_id).key();
      check(grant ? self.conf().grant_endpoint(provider, c.params[1], key, subject)
                  : self.conf().revoke_endpoint(provider, c.params[1], key, subject));
    } else {
      const auto service = value_or_throw(ids::ServiceId::create(provider, c.params[1]));
      check(grant ? self.conf().grant_service(service, subject)
                  : self.conf().revoke_service(service, subject));
    }
    return grant ? Reply{201, {{"subject", c.summary}}} : Reply{204, nullptr};
  };
  add("POST", "/clients/{client}/services/{code}/access",
      [access_change](Call& c) { return access_change(c, true); });
  add("POST", "/clients/{client}/services/{code}/access/revoke",
      [access_change](Call& c) { return access_change(c, false); });

  // --- Local groups ---
  add("GET", "/clients/{client}/local-groups", [&self](Call& c) {
    const auto page = c.page();
    auto snap = self.snapshot();
    const auto id = self.client_from_path(c.params[0]);
    (void)self.client_entry(*snap, id);
    std::vector<serverconf::LocalGroupEntry> list;
    for (const auto& g : snap->local_groups()) {
      if (g.client == id) {
        list.push_back(g);
      }
    }
    return Reply{200, page_json(list, page, local_group_json)};
  });
  add("POST", "/clients/{client}/local-groups", [&self](Call& c) {
    Fields f(c.json(), {"code", "description"});
    const auto id = self.client_from_path(c.params[0]);
    const auto code = f.str("code");
    check(self.conf().add_local_group(id, code, f.opt_str("description").value_or("")));
    auto snap = self.snapshot();
    return Reply{201, local_group_json(*snap->find_local_group(id, code))};
  });
  add("GET", "/clients/{client}/local-groups/{code}", [&self](Call& c) {
    auto snap = self.snapshot();
    const auto* g = snap->find_local_group(self.client_from_path(c.params[0]), c.params[1]);
    if (g == nullptr) {
      fail(FaultCode::kNotFound, "no such local group", c.params[1]);
    }
    return Reply{200, local_group_json(*g)};
  });
  add("DELETE", "/clients/{client}/local-groups/{code}", [&self](Call& c) {
    check(self.conf().delete_local_group(self.client_from_path(c.params[0]), c.params[1]));
    return Reply{204, nullptr};
  });
  add("POST", "/clients/{client}/local-groups/{code}/members", [&self](Call& c) {
    Fields f(c.json(), {"member"});
    const auto id = self.client_from_path(c.params[0]);
    const auto member = self.client_from_text(f.str("member"));
    check(self.conf().add_local_group_member(id, c.params[1], member));
    c.summary = member.to_string();
    auto snap = self.snapshot();
    return Reply{201, local_group_json(*snap->find_local_group(id, c.params[1]))};
  });
  add("DELETE", "/clients/{client}/local-groups/{code}/members/{member}", [&self](Call& c) {
    check(self.conf().remove_local_group_member(self.client_from_path(c.params[0]), c.params[1],
                                                self.client_from_text(c.params[2])));
    return Reply{204, nullptr};
  });

  // --- Registration requests to central (node/registration) ---
  add("POST", "/certificates/{id}/register", [&self](Call& c) {
    Fields f(c.json(), {"address"});
    const auto sent =
        value_or_throw(self.registration().register_auth_cert(c.params[0], f.opt_str("address")));
    c.summary = "authCertReg request " + std::to_string(sent.central_request_id);
    return Reply{202, sent_json(sent)};
  });
  add("POST", "/clients/{client}/register", [&self](Call& c) {
    Fields f(c.json(), {"subsystem_name"});
    const auto sent = value_or_throw(self.registration().register_client(
        self.client_from_path(c.params[0]), f.opt_str("subsystem_name")));
    c.summary = "clientReg request " + std::to_string(sent.central_request_id);
    return Reply{202, sent_json(sent)};
  });
  add("POST", "/clients/{client}/unregister", [&self](Call& c) {
    Fields f(c.json(), {});
    const auto sent =
        value_or_throw(self.registration().unregister_client(self.client_from_path(c.params[0])));
    c.summary = "clientDeletion request " + std::to_string(sent.central_request_id);
    return Reply{202, sent_json(sent)};
  });
  add("PUT", "/server/address", [&self](Call& c) {
    Fields f(c.json(), {"address"});
    const auto sent = value_or_throw(self.registration().change_address(f.str("address")));
    c.summary = "addressChange request " + std::to_string(sent.central_request_id);
    return Reply{202, sent_json(sent)};
  });
  add("POST", "/server/owner-change", [&self](Call& c) {
    Fields f(c.json(), {"member_class", "member_code"});
    const auto member = value_or_throw(
        ids::MemberId::create(self.instance(), f.str("member_class"), f.str("member_code")));
    const auto sent = value_or_throw(self.registration().change_owner(member));
    c.summary = "ownerChange request " + std::to_string(sent.central_request_id);
    return Reply{202, sent_json(sent)};
  });
  add("GET", "/registration/requests", [&self](Call& c) {
    const auto page = c.page();
    auto list = value_or_throw(self.registration().sent_requests(page.offset + page.limit));
    return Reply{200, page_json(list, page, sent_json)};
  });

  // --- Audit log and admin tokens (auditor or operator) ---
  add("GET", "/audit", [&self](Call& c) {
    const auto page = c.page();
    AuditQuery q;
    q.limit = page.limit;
    q.offset = page.offset;
    q.actor = c.request.query("actor").value_or("");
    q.action_prefix = c.request.query("action").value_or("");
    const auto log = value_or_throw(self.services.admin->audit_log(q));
    Json items = Json::array();
    for (const auto& e : log.items) {
      items.push_back(audit_json(e));
    }
    return Reply{
        200, {{"items", items}, {"total", log.total}, {"limit", q.limit}, {"offset", q.offset}}};
  }).audit_only = true;
  add("GET", "/admin-tokens", [&self](Call& c) {
    const auto page = c.page();
    return Reply{200,
                 page_json(value_or_throw(self.services.admin->tokens()), page, admin_token_json)};
  }).audit_only = true;
  add("POST", "/admin-tokens", [&self](Call& c) {
    Fields f(c.json(), {"name", "role"});
    const auto role_name = f.str("role");
    const auto role = admin_role_from_name(role_name);
    if (!role) {
      fail(FaultCode::kBadRequest, "role must be operator, auditor or read-only", role_name);
    }
    const auto created =
        value_or_throw(self.services.admin->create_token(c.ctx, f.str("name"), *role));
    c.summary = "token:" + std::to_string(created.token.id);
    Json j = admin_token_json(created.token);
    j["secret"] = created.secret;
    return Reply{201, j};
  });
  add("DELETE", "/admin-tokens/{id}", [&self](Call& c) {
    check(self.services.admin->revoke_token(c.ctx, int_from_path(c.params[0])));
    return Reply{204, nullptr};
  });
  add_messagelog_routes();
}

// Message log (node/api/messagelog_routes.h): auditor and operator read, operator archives.
void NodeAdminApi::Impl::add_messagelog_routes() {
  auto& self = *this;
  auto reply = [](Result<LogReply> r) {
    LogReply out = value_or_throw(std::move(r));
    Reply rep{out.status, nullptr, std::move(out.body), std::move(out.content_type),
              std::move(out.headers)};
    return rep;
  };
  auto log = [&self]() -> messagelog::MessageLog& {
    return *need(self.services.messagelog, "the message log");
  };
  add("GET", "/messagelog/records", [&self, reply, log](Call& c) {
    return reply(messagelog_find(log(), c.request, self.options.max_page_size));
  }).audit_only = true;
  add("GET", "/messagelog/records/{id}", [reply, log](Call& c) {
    return reply(messagelog_record(log(), int_from_path(c.params[0])));
  }).audit_only = true;
  add("GET", "/messagelog/records/{id}/asic", [reply, log](Call& c) {
    return reply(messagelog_container(log(), int_from_path(c.params[0])));
  }).audit_only = true;
  add("GET", "/messagelog/timestamper", [reply, log](Call&) {
    return reply(messagelog_timestamper(log()));
  }).audit_only = true;
  add("POST", "/messagelog/archive", [reply, log](Call& c) {
    c.summary = "archive";
    return reply(messagelog_archive(log()));
  });
  add("GET", "/asic", [reply, log](Call& c) {
    return reply(messagelog_asic(log(), c.request));
  }).audit_only = true;
}

void NodeAdminApi::Impl::dispatch(const http::Request& req, http::Response& res) const {
  AuditContext ctx;
  ctx.actor = "anonymous";
  ctx.source = std::string(req.peer_address());
  const std::string target = std::string(req.method()) + " " + std::string(req.path());
  AdminStore& admin = *services.admin;

  auto refuse = [&](const Error& e) {
    (void)admin.record(ctx, "api.auth", target, "", &e);
    answer_error(res, e);
  };

  // Authentication first: nothing, not even the route table, is visible without a token.
  const auto auth = req.header("Authorization");
  if (!auth || !auth->starts_with("Bearer ") || auth->size() <= 7) {
    res.set_header("WWW-Authenticate", "Bearer");
    return refuse(Error(FaultCode::kUnauthorized, "a bearer token is required"));
  }
  auto token = admin.authenticate(auth->substr(7));
  if (!token.ok()) {
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return refuse(token.error());
  }
  ctx.actor = "token:" + std::to_string(token->id) + ":" + token->name;

  // Routing.
  // X-Road's signed-document form is served at the root "/asic" too.
  const std::string asic_path = options.base_path + "/asic";
  std::string_view path = req.path() == "/asic" ? std::string_view(asic_path) : req.path();
  if (!path.starts_with(options.base_path)) {
    answer_error(res, Error(FaultCode::kNotFound, "no such resource", std::string(req.path())));
    return;
  }
  path.remove_prefix(options.base_path.size());
  if (path.starts_with("/")) {
    path.remove_prefix(1);
  }
  const auto segments = split(path, '/');
  const Route* route = nullptr;
  std::vector<std::string> params;
  bool path_known = false;
  for (const auto& r : routes) {
    if (r.segments.size() != segments.size()) {
      continue;
    }
    std::vector<std::string> found;
    bool match = true;
    for (std::size_t s = 0; s < r.segments.size() && match; ++s) {
      if (r.segments[s].starts_with("{")) {
        match = !segments[s].empty();
        found.push_back(segments[s]);
      } else {
        match = r.segments[s] == segments[s];
      }
    }
    if (!match) {
      continue;
    }
    path_known = true;
    if (r.method == req.method()) {
      route = &r;
      params = std::move(found);
      break;
    }
  }
  if (route == nullptr) {
    res.status = path_known ? 405 : 404;
    res.set_body(http::error_json(path_known ? Error(FaultCode::kBadRequest, "method not allowed",
                                                     std::string(req.method()))
                                             : Error(FaultCode::kNotFound, "no such resource",
                                                     std::string(req.path()))),
                 "application/json");
    return;
  }

  // Roles.
  const bool write = is_write(req.method());
  if ((write && token->role != AdminRole::kOperator) ||
      (route->audit_only && token->role == AdminRole::kReadOnly)) {
    return refuse(Error(FaultCode::kForbidden, "the token's role does not allow this",
                        std::string(admin_role_name(token->role))));
  }

  const std::string action = route->method + " " + options.base_path + route->path;
  Call call{req, std::move(params), ctx, options, {}};
  try {
    const std::size_t cap = route->upload ? options.max_upload_bytes : options.max_body_bytes;
    if (req.body().size() > cap) {
      fail(FaultCode::kLimitExceeded, "request body too large",
           "limit " + std::to_string(cap) + " bytes");
    }
    if (!req.body().empty()) {
      auto type = req.header("Content-Type");
      if (!type || !type->starts_with("application/json")) {
        fail(FaultCode::kInvalidContentType, "the request body must be application/json",
             std::string(type.value_or("")));
      }
    }
    Reply reply = route->handler(call);
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) {
      res.set_header(name, value);
    }
    if (!reply.raw_body.empty()) {
      res.set_body(std::move(reply.raw_body), reply.raw_type);
    } else if (reply.status != 204) {
      res.set_body(reply.body.dump(-1, ' ', false, Json::error_handler_t::replace),
                   "application/json");
    }
    if (write) {
      (void)admin.record(ctx, action, req.path(), call.summary);
    }
  } catch (const ApiError& e) {
    if (write) {
      (void)admin.record(ctx, action, req.path(), "", &e.error);
    }
    answer_error(res, e.error);
  } catch (const std::exception& e) {
    const Error err(FaultCode::kInternalError, "internal error", e.what());
    if (write) {
      (void)admin.record(ctx, action, req.path(), "", &err);
    }
    answer_error(res, err);
  }
}

NodeAdminApi::NodeAdminApi(NodeApiServices services, NodeApiOptions options)
    : impl_(std::make_unique<Impl>(std::move(services), std::move(options))) {}

NodeAdminApi::~NodeAdminApi() = default;

// Operations (node/api/opmonitor_routes.h): operational records and environmental data for the
// auditor and operator role, maintenance mode for the operator.
void NodeAdminApi::Impl::add_opmonitor_routes() {
  auto& self = *this;
  auto json = [](Result<std::string> r) {
    Reply rep{200, nullptr, value_or_throw(std::move(r)), "application/json", {}};
    return rep;
  };
  auto ops = [&self]() -> opmonitor::OpMonitor& {
    return *need(self.services.opmonitor, "operational monitoring");
  };
  auto mon = [&self]() -> opmonitor::NodeMonitoring& {
    return *need(self.services.monitoring, "node monitoring");
  };
  add("GET", "/opmonitor/records", [json, ops](Call& c) {
    return json(opmonitor_records(ops(), c.request));
  }).audit_only = true;
  add("GET", "/opmonitor/operational-data", [&self, json, ops](Call& c) {
    return json(opmonitor_operational_data(ops(), c.request, self.snapshot()->server()->owner()));
  }).audit_only = true;
  add("GET", "/environment", [json, mon](Call&) {
    return json(environment_json(mon()));
  }).audit_only = true;
  add("GET", "/maintenance", [json, mon](Call&) { return json(maintenance_json(mon())); });
  add("POST", "/maintenance", [json, mon](Call& c) {
    Fields f(c.json(), {"draining"});
    const auto draining = f.opt_bool("draining");
    if (!draining) {
      fail(FaultCode::kBadRequest, "missing field 'draining'", "draining");
    }
    mon().health().set_draining(*draining);
    c.summary = *draining ? "draining" : "serving";
    return json(maintenance_json(mon()));
  });
}

void NodeAdminApi::register_routes(http::Server& server) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    server.route(method, impl_->options.base_path + "/*",
                 [this](const http::Request& req, http::Response& res) { handle(req, res); });
  }
  server.route("GET", "/asic",
               [this](const http::Request& req, http::Response& res) { handle(req, res); });
}

std::vector<NodeApiRoute> NodeAdminApi::routes() const {
  std::vector<NodeApiRoute> out;
  for (const auto& r : impl_->routes) {
    out.push_back(NodeApiRoute{r.method, impl_->options.base_path + r.path});
  }
  return out;
}

void NodeAdminApi::handle(const http::Request& request, http::Response& response) const {
  impl_->dispatch(request, response);
}

}  // namespace hansa::nodeapi
