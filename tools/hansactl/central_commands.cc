#include "tools/hansactl/central_commands.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "central/api/admin_client.h"
#include "tools/hansactl/status_summary.h"

namespace hansa::hansactl {

using Json = nlohmann::json;

namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:4000";
constexpr const char* kApi = "/api/v1";
// Largest token or certificate file read from disk.
constexpr std::size_t kMaxFileBytes = 1 << 20;

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
std::string encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

struct CentralCommands {
  std::ostream& out;
  std::ostream& err;
  Environment env;

  // Connection options.
  std::string url;
  std::string token;
  std::string token_file;
  std::string ca_file;
  bool json = false;

  // Arguments of the parsed verb (a verb uses some of them).
  std::string a1, a2, a3;
  std::string name, description, address, role, reason, state, type, actor, action_prefix;
  std::string profile, top_cert, tsa_url;
  std::vector<std::string> intermediates, ocsp_urls;
  std::size_t limit = 0;
  std::size_t offset = 0;
  bool cascade = false;
  bool create_subsystem = false;
  bool auth_only = false;
  std::int64_t ocsp_freshness = 0, ts_interval = 0, validity = 0;
  CLI::Option* ocsp_freshness_opt = nullptr;
  CLI::Option* ts_interval_opt = nullptr;
  CLI::Option* validity_opt = nullptr;
  std::string management_address, management_provider;

  CentralCommands(std::ostream& o, std::ostream& e, Environment en)
      : out(o), err(e), env(std::move(en)) {}

  // --- plumbing ---

  std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << "hansactl: cannot read " << path << "\n";
      return std::nullopt;
    }
    std::string data(kMaxFileBytes + 1, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxFileBytes) {
      err << "hansactl: " << path << " is larger than " << kMaxFileBytes << " bytes\n";
      return std::nullopt;
    }
    return data;
  }

  std::optional<std::string> resolve_token() {
    if (!token.empty()) {
      return token;
    }
    if (!token_file.empty()) {
      auto text = read_file(token_file);
      if (!text) {
        return std::nullopt;
      }
      while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) {
        text->pop_back();
      }
      return *text;
    }
    if (auto t = env("HANSA_TOKEN")) {
      return *t;
    }
    if (auto f = env("HANSA_TOKEN_FILE")) {
      token_file = *f;
      return resolve_token();
    }
    return std::string();
  }

  std::string page_query() const {
    std::string q;
    if (limit > 0) {
      q += "&limit=" + std::to_string(limit);
    }
    if (offset > 0) {
      q += "&offset=" + std::to_string(offset);
    }
    return q;
  }

  // Sends one request and prints its answer with `print` (or as JSON with --json).
  int send(const std::string& method, std::string target, const Json& body,
           const std::function<void(const Json&)>& print) {
    const std::string base = !url.empty() ? url : env("HANSA_CENTRAL_URL").value_or(kDefaultUrl);
    auto tok = resolve_token();
    if (!tok) {
      return kExitUsage;
    }
    central::AdminClientOptions options;
    options.ca_file = ca_file;
    auto client = central::AdminClient::create(base, *tok, options);
    if (!client.ok()) {
      err << "hansactl: " << client.error().to_string() << "\n";
      return kExitUsage;
    }
    if (auto q = target.find("?&"); q != std::string::npos) {
      target.erase(q + 1, 1);
    }
    if (target.ends_with("?")) {
      target.pop_back();
    }
    auto res = (*client)->request(method, std::string(kApi) + target,
                                  body.is_null() ? std::string() : body.dump());
    if (!res.ok()) {
      err << "hansactl: " << res.error().to_string() << "\n";
      return kExitUnreachable;
    }
    Json answer = res->body.empty() ? Json() : Json::parse(res->body, nullptr, false);
    if (res->status >= 400) {
      if (json && !answer.is_discarded()) {
        out << answer.dump(2) << "\n";
      }
      if (answer.is_object()) {
        err << "hansactl: HTTP " << res->status << " " << answer.value("type", "") << ": "
            << answer.value("message", "");
        const std::string detail = answer.value("detail", "");
        if (!detail.empty()) {
          err << " (" << detail << ")";
        }
        err << "\n";
      } else {
        err << "hansactl: HTTP " << res->status << "\n";
      }
      return kExitApiError;
    }
    if (json) {
      if (!answer.is_null() && !answer.is_discarded()) {
        out << answer.dump(2) << "\n";
      }
    } else if (answer.is_null()) {
      out << "ok\n";
    } else if (!answer.is_discarded()) {
      print(answer);
    }
    return kExitOk;
  }

  // --- human-readable output ---

  static std::string field(const Json& j, const char* name) {
    if (!j.contains(name) || j[name].is_null()) {
      return "-";
    }
    return j[name].is_string() ? j[name].get<std::string>() : j[name].dump();
  }

  std::function<void(const Json&)> table(std::vector<const char*> columns) {
    return [this, columns](const Json& j) {
      const Json& items = j.contains("items") ? j["items"] : j;
      for (const auto& item : items) {
        std::string line;
        for (const char* c : columns) {
          line += (line.empty() ? "" : "  ") + field(item, c);
        }
        out << line << "\n";
      }
      if (j.contains("total")) {
        out << "(" << items.size() << " of " << j["total"].dump() << ")\n";
      }
    };
  }

  std::function<void(const Json&)> object() {
    return [this](const Json& j) {
      for (const auto& [k, v] : j.items()) {
        if (v.is_array()) {
          out << k << ":\n";
          for (const auto& e : v) {
            out << "  - "
                << (e.is_object() ? (e.contains("id") ? field(e, "id") : e.dump())
                                  : (e.is_string() ? e.get<std::string>() : e.dump()))
                << "\n";
          }
        } else if (v.is_object()) {
          out << k << ": " << (v.contains("subject") ? field(v, "subject") : v.dump()) << "\n";
        } else {
          out << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
        }
      }
    };
  }

  // "CLASS:CODE[:SUB]" -> JSON client reference.
  Json client_ref(const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ':');) {
      parts.push_back(p);
    }
    Json j = {{"member_class", parts.size() > 0 ? parts[0] : ""},
              {"member_code", parts.size() > 1 ? parts[1] : ""}};
    if (parts.size() > 2) {
      j["subsystem_code"] = parts[2];
    }
    return j;
  }

  std::optional<Json> ca_cert(const std::string& path) {
    auto pem = read_file(path);
    if (!pem) {
      return std::nullopt;
    }
    return Json{{"cert", *pem}};
  }
};

std::shared_ptr<CentralCommands> add_central_commands(CLI::App& app, Action& action,
                                                      std::ostream& out, std::ostream& err,
                                                      const Environment& env) {
  auto st = std::make_shared<CentralCommands>(out, err, env);
  CentralCommands& s = *st;
  CLI::App* central = app.add_subcommand("central", "Central server admin API");
  central->require_subcommand(1);
  central->add_option("--url", s.url, "Admin API base URL (env HANSA_CENTRAL_URL)");
  central->add_option("--token", s.token, "Admin token (env HANSA_TOKEN)");
  central->add_option("--token-file", s.token_file,
                      "File holding the admin token (env HANSA_TOKEN_FILE)");
  central->add_option("--ca-file", s.ca_file, "CA certificates (PEM) for an https:// URL");
  central->add_flag("--json", s.json, "Print the API's JSON");

  auto resource = [&](const char* name, const char* help) {
    CLI::App* r = central->add_subcommand(name, help);
    r->require_subcommand(1);
    return r;
  };
  auto verb = [&](CLI::App* r, const char* name, const char* help, Action a) {
    CLI::App* v = r->add_subcommand(name, help);
    v->callback([&action, a] { action = a; });
    return v;
  };
  auto paged = [&](CLI::App* v) {
    v->add_option("--limit", s.limit, "Page size");
    v->add_option("--offset", s.offset, "Items to skip");
  };

  // instance / status
  central->add_subcommand("instance", "Instance identifier and change version")
      ->callback([&action, &s] {
        action = [&s] { return s.send("GET", "/instance", nullptr, s.object()); };
      });
  central->add_subcommand("status", "Published global configuration, health, signing key")
      ->callback([&action, &s] {
        action = [&s] {
          const int rc = s.send("GET", "/status", nullptr, s.object());
          if (rc == kExitOk && !s.json) {
            const std::string base =
                !s.url.empty() ? s.url : s.env("HANSA_CENTRAL_URL").value_or(kDefaultUrl);
            auto tok = s.resolve_token();
            central::AdminClientOptions options;
            options.ca_file = s.ca_file;
            if (auto client = central::AdminClient::create(base, tok.value_or(""), options);
                client.ok()) {
              print_ops_summary(s.out, **client, false);
            }
          }
          return rc;
        };
      });

  // member classes
  {
    auto r = resource("member-classes", "Member classes");
    verb(r, "list", "List member classes", [&s] {
      return s.send("GET", "/member-classes", nullptr, s.table({"code", "description"}));
    });
    auto add = verb(r, "add", "Add a member class", [&s] {
      return s.send("POST", "/member-classes", {{"code", s.a1}, {"description", s.description}},
                    s.object());
    });
    add->add_option("code", s.a1)->required();
    add->add_option("description", s.description);
    auto del = verb(r, "delete", "Delete a member class", [&s] {
      return s.send("DELETE", "/member-classes/" + encode(s.a1), nullptr, s.object());
    });
    del->add_option("code", s.a1)->required();
  }

  // members
  {
    auto r = resource("members", "Members");
    paged(verb(r, "list", "List members", [&s] {
      return s.send("GET", "/members?" + s.page_query(), nullptr, s.table({"id", "name"}));
    }));
    auto get = verb(r, "get", "Show a member", [&s] {
      return s.send("GET", "/members/" + encode(s.a1), nullptr, s.object());
    });
    get->add_option("member", s.a1, "CLASS:CODE")->required();
    auto add = verb(r, "add", "Add a member", [&s] {
      return s.send("POST", "/members",
                    {{"member_class", s.a1}, {"member_code", s.a2}, {"name", s.a3}}, s.object());
    });
    add->add_option("class", s.a1)->required();
    add->add_option("code", s.a2)->required();
    add->add_option("name", s.a3)->required();
    auto rename = verb(r, "rename", "Rename a member", [&s] {
      return s.send("PATCH", "/members/" + encode(s.a1), {{"name", s.a2}}, s.object());
    });
    rename->add_option("member", s.a1, "CLASS:CODE")->required();
    rename->add_option("name", s.a2)->required();
    auto del = verb(r, "delete", "Delete a member", [&s] {
      return s.send("DELETE", "/members/" + encode(s.a1) + (s.cascade ? "?cascade=true" : ""),
                    nullptr, s.object());
    });
    del->add_option("member", s.a1, "CLASS:CODE")->required();
    del->add_flag("--cascade", s.cascade, "Also delete its servers and references");
  }

  // subsystems
  {
    auto r = resource("subsystems", "Subsystems of members");
    auto add = verb(r, "add", "Add a subsystem", [&s] {
      return s.send("POST", "/members/" + encode(s.a1) + "/subsystems",
                    {{"subsystem_code", s.a2}, {"name", s.name}}, s.object());
    });
    add->add_option("member", s.a1, "CLASS:CODE")->required();
    add->add_option("subsystem", s.a2)->required();
    add->add_option("--name", s.name);
    auto del = verb(r, "delete", "Delete a subsystem", [&s] {
      return s.send("DELETE",
                    "/members/" + encode(s.a1) + "/subsystems/" + encode(s.a2) +
                        (s.cascade ? "?cascade=true" : ""),
                    nullptr, s.object());
    });
    del->add_option("member", s.a1, "CLASS:CODE")->required();
    del->add_option("subsystem", s.a2)->required();
    del->add_flag("--cascade", s.cascade);
  }

  // servers
  {
    auto r = resource("servers", "Security servers");
    paged(verb(r, "list", "List security servers", [&s] {
      return s.send("GET", "/servers?" + s.page_query(), nullptr, s.table({"id", "address"}));
    }));
    auto get = verb(r, "get", "Show a security server", [&s] {
      return s.send("GET", "/servers/" + encode(s.a1), nullptr, s.object());
    });
    get->add_option("server", s.a1, "CLASS:CODE:SERVER")->required();
    auto add = verb(r, "add", "Add a security server", [&s] {
      const Json owner = s.client_ref(s.a1);
      return s.send("POST", "/servers",
                    {{"owner_class", owner["member_class"]},
                     {"owner_code", owner["member_code"]},
                     {"server_code", s.a2},
                     {"address", s.address}},
                    s.object());
    });
    add->add_option("owner", s.a1, "CLASS:CODE")->required();
    add->add_option("server-code", s.a2)->required();
    add->add_option("--address", s.address);
    auto addr = verb(r, "address", "Change a server's address", [&s] {
      return s.send("PATCH", "/servers/" + encode(s.a1), {{"address", s.a2}}, s.object());
    });
    addr->add_option("server", s.a1)->required();
    addr->add_option("address", s.a2)->required();
    auto del = verb(r, "delete", "Delete a security server", [&s] {
      return s.send("DELETE", "/servers/" + encode(s.a1), nullptr, s.object());
    });
    del->add_option("server", s.a1)->required();
    auto add_client = verb(r, "add-client", "Register a client on a server", [&s] {
      Json body = s.client_ref(s.a2);
      if (s.create_subsystem) {
        body["create_subsystem"] = true;
      }
      return s.send("POST", "/servers/" + encode(s.a1) + "/clients", body, s.object());
    });
    add_client->add_option("server", s.a1)->required();
    add_client->add_option("client", s.a2, "CLASS:CODE[:SUBSYSTEM]")->required();
    add_client->add_flag("--create-subsystem", s.create_subsystem);
    auto rm_client = verb(r, "remove-client", "Remove a client registration", [&s] {
      return s.send("DELETE", "/servers/" + encode(s.a1) + "/clients/" + encode(s.a2), nullptr,
                    s.object());
    });
    rm_client->add_option("server", s.a1)->required();
    rm_client->add_option("client", s.a2)->required();
    auto add_cert = verb(r, "add-auth-cert", "Register an authentication certificate", [&s] {
      auto pem = s.read_file(s.a2);
      if (!pem) {
        return kExitUsage;
      }
      return s.send("POST", "/servers/" + encode(s.a1) + "/auth-certs", {{"cert", *pem}},
                    s.object());
    });
    add_cert->add_option("server", s.a1)->required();
    add_cert->add_option("cert-file", s.a2, "PEM file")->required();
    auto rm_cert = verb(r, "remove-auth-cert", "Remove an authentication certificate", [&s] {
      return s.send("DELETE", "/servers/" + encode(s.a1) + "/auth-certs/" + encode(s.a2), nullptr,
                    s.object());
    });
    rm_cert->add_option("server", s.a1)->required();
    rm_cert->add_option("sha256-hex", s.a2)->required();
    auto owner = verb(r, "owner", "Change the owner of a server", [&s] {
      return s.send("POST", "/servers/" + encode(s.a1) + "/owner", s.client_ref(s.a2), s.object());
    });
    owner->add_option("server", s.a1)->required();
    owner->add_option("new-owner", s.a2, "CLASS:CODE")->required();
  }

  // groups
  {
    auto r = resource("groups", "Global groups");
    paged(verb(r, "list", "List global groups", [&s] {
      return s.send("GET", "/groups?" + s.page_query(), nullptr, s.table({"code", "description"}));
    }));
    auto get = verb(r, "get", "Show a group",
                    [&s] { return s.send("GET", "/groups/" + encode(s.a1), nullptr, s.object()); });
    get->add_option("code", s.a1)->required();
    auto add = verb(r, "add", "Add a group", [&s] {
      return s.send("POST", "/groups", {{"code", s.a1}, {"description", s.description}},
                    s.object());
    });
    add->add_option("code", s.a1)->required();
    add->add_option("description", s.description);
    auto del = verb(r, "delete", "Delete a group", [&s] {
      return s.send("DELETE", "/groups/" + encode(s.a1), nullptr, s.object());
    });
    del->add_option("code", s.a1)->required();
    auto add_member = verb(r, "add-member", "Add a member or subsystem to a group", [&s] {
      return s.send("POST", "/groups/" + encode(s.a1) + "/members", s.client_ref(s.a2), s.object());
    });
    add_member->add_option("code", s.a1)->required();
    add_member->add_option("client", s.a2, "CLASS:CODE[:SUBSYSTEM]")->required();
    auto rm_member = verb(r, "remove-member", "Remove a group member", [&s] {
      return s.send("DELETE", "/groups/" + encode(s.a1) + "/members/" + encode(s.a2), nullptr,
                    s.object());
    });
    rm_member->add_option("code", s.a1)->required();
    rm_member->add_option("client", s.a2)->required();
  }

  // CAs
  {
    auto r = resource("cas", "Approved certification authorities");
    verb(r, "list", "List approved CAs", [&s] {
      return s.send("GET", "/cas", nullptr, s.table({"id", "name", "certificate_profile_info"}));
    });
    auto get = verb(r, "get", "Show a CA",
                    [&s] { return s.send("GET", "/cas/" + encode(s.a1), nullptr, s.object()); });
    get->add_option("id", s.a1)->required();
    auto add = verb(r, "add", "Approve a CA", [&s] {
      auto top = s.ca_cert(s.top_cert);
      if (!top) {
        return kExitUsage;
      }
      for (const auto& u : s.ocsp_urls) {
        (*top)["ocsp"].push_back({{"url", u}});
      }
      Json inter = Json::array();
      for (const auto& path : s.intermediates) {
        auto c = s.ca_cert(path);
        if (!c) {
          return kExitUsage;
        }
        inter.push_back(*c);
      }
      return s.send("POST", "/cas",
                    {{"name", s.name},
                     {"top_ca", *top},
                     {"intermediate_cas", inter},
                     {"certificate_profile_info", s.profile},
                     {"authentication_only", s.auth_only}},
                    s.object());
    });
    add->add_option("--name", s.name)->required();
    add->add_option("--top", s.top_cert, "Top CA certificate (PEM file)")->required();
    add->add_option("--intermediate", s.intermediates, "Intermediate CA certificate (PEM file)");
    add->add_option("--ocsp", s.ocsp_urls, "OCSP responder URL of the top CA");
    add->add_option("--profile", s.profile, "certificateProfileInfo class name")
        ->default_val("hansa.DefaultCertificateProfile");
    add->add_flag("--auth-only", s.auth_only, "The CA issues authentication certificates only");
    auto del = verb(r, "delete", "Remove a CA",
                    [&s] { return s.send("DELETE", "/cas/" + encode(s.a1), nullptr, s.object()); });
    del->add_option("id", s.a1)->required();
  }

  // TSAs
  {
    auto r = resource("tsas", "Approved time-stamping authorities");
    verb(r, "list", "List approved TSAs", [&s] {
      return s.send("GET", "/tsas", nullptr, s.table({"id", "name", "url"}));
    });
    auto get = verb(r, "get", "Show a TSA",
                    [&s] { return s.send("GET", "/tsas/" + encode(s.a1), nullptr, s.object()); });
    get->add_option("id", s.a1)->required();
    auto add = verb(r, "add", "Approve a TSA", [&s] {
      auto pem = s.read_file(s.a3);
      if (!pem) {
        return kExitUsage;
      }
      return s.send("POST", "/tsas", {{"name", s.a1}, {"url", s.a2}, {"cert", *pem}}, s.object());
    });
    add->add_option("name", s.a1)->required();
    add->add_option("url", s.a2)->required();
    add->add_option("cert-file", s.a3, "PEM file")->required();
    auto del = verb(r, "delete", "Remove a TSA", [&s] {
      return s.send("DELETE", "/tsas/" + encode(s.a1), nullptr, s.object());
    });
    del->add_option("id", s.a1)->required();
  }

  // settings
  {
    auto r = resource("settings", "Instance settings");
    verb(r, "get", "Show the settings",
         [&s] { return s.send("GET", "/settings", nullptr, s.object()); });
    auto set = verb(r, "set", "Change settings", [&s] {
      Json body = Json::object();
      if (s.ocsp_freshness_opt->count() > 0) {
        body["ocsp_freshness_seconds"] = s.ocsp_freshness;
      }
      if (s.ts_interval_opt->count() > 0) {
        body["time_stamping_interval_seconds"] = s.ts_interval;
      }
      if (s.validity_opt->count() > 0) {
        body["configuration_validity_seconds"] = s.validity;
      }
      if (!s.management_address.empty()) {
        body["management_service_address"] = s.management_address;
      }
      if (!s.management_provider.empty()) {
        body["management_service_provider"] = s.management_provider;
      }
      return s.send("PATCH", "/settings", body, s.object());
    });
    s.ocsp_freshness_opt = set->add_option("--ocsp-freshness", s.ocsp_freshness, "Seconds");
    s.ts_interval_opt = set->add_option("--timestamping-interval", s.ts_interval, "Seconds");
    s.validity_opt = set->add_option("--conf-validity", s.validity, "Seconds");
    set->add_option("--management-address", s.management_address, "Management service URL");
    set->add_option("--management-provider", s.management_provider,
                    "SUBSYSTEM:INSTANCE/CLASS/CODE/SUBSYSTEM");
  }

  // management requests
  {
    auto r = resource("requests", "Management requests");
    auto list = verb(r, "list", "List management requests", [&s] {
      std::string q = s.page_query();
      if (!s.state.empty()) {
        q += "&state=" + encode(s.state);
      }
      if (!s.type.empty()) {
        q += "&type=" + encode(s.type);
      }
      return s.send("GET", "/management-requests?" + q, nullptr,
                    s.table({"id", "type", "state", "server", "client"}));
    });
    paged(list);
    list->add_option("--state", s.state, "pending, approved, rejected, revoked");
    list->add_option("--type", s.type, "authCertReg, clientReg, ...");
    auto get = verb(r, "get", "Show a request", [&s] {
      return s.send("GET", "/management-requests/" + encode(s.a1), nullptr, s.object());
    });
    get->add_option("id", s.a1)->required();
    auto approve = verb(r, "approve", "Approve a pending request", [&s] {
      return s.send("POST", "/management-requests/" + encode(s.a1) + "/approve", nullptr,
                    s.object());
    });
    approve->add_option("id", s.a1)->required();
    auto reject = verb(r, "reject", "Reject a pending request", [&s] {
      Json body = Json::object();
      if (!s.reason.empty()) {
        body["reason"] = s.reason;
      }
      return s.send("POST", "/management-requests/" + encode(s.a1) + "/reject", body, s.object());
    });
    reject->add_option("id", s.a1)->required();
    reject->add_option("--reason", s.reason);
  }

  // tokens
  {
    auto r = resource("tokens", "Admin tokens");
    verb(r, "list", "List admin tokens", [&s] {
      return s.send("GET", "/tokens", nullptr, s.table({"id", "name", "role", "revoked"}));
    });
    auto create = verb(r, "create", "Create a token (the secret is printed once)", [&s] {
      return s.send("POST", "/tokens", {{"name", s.a1}, {"role", s.role}}, [&s](const Json& j) {
        s.out << "id: " << CentralCommands::field(j, "id")
              << "\nrole: " << CentralCommands::field(j, "role")
              << "\nsecret: " << CentralCommands::field(j, "secret") << "\n";
      });
    });
    create->add_option("name", s.a1)->required();
    create->add_option("--role", s.role, "operator or read-only")->default_val("read-only");
    auto revoke = verb(r, "revoke", "Revoke a token", [&s] {
      return s.send("DELETE", "/tokens/" + encode(s.a1), nullptr, s.object());
    });
    revoke->add_option("id", s.a1)->required();
  }

  // audit log
  {
    auto r = resource("audit", "Audit log");
    auto list = verb(r, "list", "Show audit entries, newest first", [&s] {
      std::string q = s.page_query();
      if (!s.actor.empty()) {
        q += "&actor=" + encode(s.actor);
      }
      if (!s.action_prefix.empty()) {
        q += "&action=" + encode(s.action_prefix);
      }
      return s.send("GET", "/audit?" + q, nullptr,
                    s.table({"at", "actor", "action", "target", "result"}));
    });
    paged(list);
    list->add_option("--actor", s.actor);
    list->add_option("--action", s.action_prefix, "Action prefix, e.g. member.");
  }
  return st;
}

}  // namespace hansa::hansactl
