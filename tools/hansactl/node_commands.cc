#include "tools/hansactl/node_commands.h"

#include <cctype>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "central/api/admin_client.h"
#include "tools/hansactl/status_summary.h"

namespace hansa::hansactl {

using Json = nlohmann::json;

namespace {

constexpr const char* kDefaultNodeUrl = "http://127.0.0.1:4100";
constexpr const char* kNodeApi = "/api/v1";
// Largest file read from disk (certificates, anchors, description documents).
constexpr std::size_t kMaxNodeFileBytes = 8 << 20;

// Percent-encodes a path segment or query value (unreserved characters and ':' stay).
std::string encode_segment(std::string_view text) {
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

struct NodeCommands {
  std::ostream& out;
  std::ostream& err;
  Environment env;

  // Connection options.
  std::string url, token, token_file, ca_file;
  bool json = false;

  // Arguments of the parsed verb.
  std::string a1, a2, a3, a4;
  std::string pin, old_pin, new_pin, algorithm, label, usage, member, out_file, file, type,
      description_url, service_code, provider_url, notice, version, service_url, ssl_verify,
      description_text, actor, action_prefix, token_filter, address, subsystem_name;
  std::int64_t endpoint_id = -1;
  std::int64_t timeout = -1;
  std::size_t limit = 0, offset = 0;
  bool replace_instance = false;

  NodeCommands(std::ostream& o, std::ostream& e, Environment en)
      : out(o), err(e), env(std::move(en)) {}

  std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << "hansactl: cannot read " << path << "\n";
      return std::nullopt;
    }
    std::string data(kMaxNodeFileBytes + 1, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxNodeFileBytes) {
      err << "hansactl: " << path << " is larger than " << kMaxNodeFileBytes << " bytes\n";
      return std::nullopt;
    }
    return data;
  }

  std::optional<std::string> resolve_token() {
    if (!token.empty()) {
      return token;
    }
    std::string f = token_file;
    if (f.empty()) {
      if (auto t = env("HANSA_TOKEN")) {
        return *t;
      }
      f = env("HANSA_TOKEN_FILE").value_or("");
    }
    if (f.empty()) {
      return std::string();
    }
    auto text = read_file(f);
    if (text) {
      while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) {
        text->pop_back();
      }
    }
    return text;
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

  // Sends one request and prints its answer (`print` for JSON, raw otherwise; JSON with --json).
  int send(const std::string& method, std::string target, const Json& body,
           const std::function<void(const Json&)>& print) {
    const std::string base = !url.empty() ? url : env("HANSA_NODE_URL").value_or(kDefaultNodeUrl);
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
    auto res = (*client)->request(method, std::string(kNodeApi) + target,
                                  body.is_null() ? std::string() : body.dump());
    if (!res.ok()) {
      err << "hansactl: " << res.error().to_string() << "\n";
      return kExitUnreachable;
    }
    const bool is_json = res->content_type.starts_with("application/json");
    Json answer = res->body.empty() || !is_json ? Json() : Json::parse(res->body, nullptr, false);
    if (res->status >= 400) {
      if (answer.is_object()) {
        if (json) {
          out << answer.dump(2) << "\n";
        }
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
    if (!is_json && !res->body.empty()) {
      // A download (CSR PEM).
      if (!out_file.empty()) {
        std::ofstream f(out_file, std::ios::binary);
        f << res->body;
        if (!f) {
          err << "hansactl: cannot write " << out_file << "\n";
          return kExitUsage;
        }
        out << "written to " << out_file << "\n";
      } else {
        out << res->body;
      }
      return kExitOk;
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
      if (j.contains("total") && j.contains("limit")) {
        out << "(" << items.size() << " of " << j["total"].dump() << ")\n";
      }
    };
  }

  std::function<void(const Json&)> object() {
    return [this](const Json& j) {
      for (const auto& [k, v] : j.items()) {
        if (k == "pem" || k == "public_key_pem") {
          continue;
        }
        out << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
      }
    };
  }

  // `pin` or the first line of `file` (a PIN file).
  std::optional<std::string> pin_value(const std::string& value, const std::string& path) {
    if (!value.empty()) {
      return value;
    }
    if (path.empty()) {
      err << "hansactl: give the PIN with --pin or --pin-file\n";
      return std::nullopt;
    }
    auto text = read_file(path);
    if (text) {
      text->erase(text->find_last_not_of("\r\n") + 1);
    }
    return text;
  }
};

std::shared_ptr<NodeCommands> add_node_commands(CLI::App& app, Action& action, std::ostream& out,
                                                std::ostream& err, const Environment& env) {
  auto st = std::make_shared<NodeCommands>(out, err, env);
  NodeCommands& s = *st;
  CLI::App* node = app.add_subcommand("node", "Node (security server) admin API");
  node->require_subcommand(1);
  node->add_option("--url", s.url, "Admin API base URL (env HANSA_NODE_URL)");
  node->add_option("--token", s.token, "Admin token (env HANSA_TOKEN)");
  node->add_option("--token-file", s.token_file,
                   "File holding the admin token (env HANSA_TOKEN_FILE)");
  node->add_option("--ca-file", s.ca_file, "CA certificates (PEM) for an https:// URL");
  node->add_flag("--json", s.json, "Print the API's JSON");

  auto resource = [&](const char* name, const char* help) {
    CLI::App* r = node->add_subcommand(name, help);
    r->require_subcommand(1);
    r->fallthrough();
    return r;
  };
  auto verb = [&](CLI::App* r, const char* name, const char* help, Action a) {
    CLI::App* v = r->add_subcommand(name, help);
    v->fallthrough();
    v->callback([&action, a] { action = a; });
    return v;
  };
  auto paged = [&](CLI::App* v) {
    v->add_option("--limit", s.limit, "Page size");
    v->add_option("--offset", s.offset, "Items to skip");
    return v;
  };
  auto e = [](const std::string& t) { return encode_segment(t); };

  node->add_subcommand("status",
                       "Node identity, health, configuration, certificates, log backlog, calls")
      ->fallthrough()
      ->callback([&action, &s] {
        action = [&s] {
          const int rc = s.send("GET", "/status", nullptr, s.object());
          if (rc == kExitOk && !s.json) {
            const std::string base =
                !s.url.empty() ? s.url : s.env("HANSA_NODE_URL").value_or(kDefaultNodeUrl);
            auto tok = s.resolve_token();
            central::AdminClientOptions options;
            options.ca_file = s.ca_file;
            if (auto client = central::AdminClient::create(base, tok.value_or(""), options);
                client.ok()) {
              print_ops_summary(s.out, **client, true);
            }
          }
          return rc;
        };
      });
  {
    auto v = paged(node->add_subcommand("audit", "The audit log (newest first)"));
    v->fallthrough();
    v->add_option("--actor", s.actor, "Only this actor");
    v->add_option("--action", s.action_prefix, "Only actions starting with this");
    v->callback([&action, &s, e] {
      action = [&s, e] {
        std::string q = "/audit?" + s.page_query();
        if (!s.actor.empty()) {
          q += "&actor=" + e(s.actor);
        }
        if (!s.action_prefix.empty()) {
          q += "&action=" + e(s.action_prefix);
        }
        return s.send("GET", q, nullptr,
                      s.table({"at", "actor", "action", "target", "result", "detail"}));
      };
    });
  }

  // global configuration
  {
    auto r = resource("globalconf", "Configuration anchor and configuration client");
    verb(r, "status", "Configuration client status",
         [&s] { return s.send("GET", "/globalconf", nullptr, s.object()); });
    auto imp = verb(r, "import-anchor", "Import a configuration anchor file", [&s] {
      auto anchor = s.read_file(s.file);
      if (!anchor) {
        return kExitUsage;
      }
      return s.send("POST", "/globalconf/anchor",
                    {{"anchor", *anchor}, {"replace_instance", s.replace_instance}}, s.object());
    });
    imp->add_option("file", s.file, "Anchor XML file")->required();
    imp->add_flag("--replace-instance", s.replace_instance, "Accept another instance's anchor");
    verb(r, "refresh", "Download the global configuration now",
         [&s] { return s.send("POST", "/globalconf/refresh", nullptr, s.object()); });
  }

  // tokens
  {
    auto r = resource("token", "Tokens");
    paged(verb(r, "list", "List tokens", [&s] {
      return s.send("GET", "/tokens?" + s.page_query(), nullptr,
                    s.table({"id", "kind", "label", "active", "logged_in"}));
    }));
    auto login = verb(r, "login", "Log in to a token", [&s, e] {
      auto p = s.pin_value(s.pin, s.file);
      if (!p) {
        return kExitUsage;
      }
      return s.send("POST", "/tokens/" + e(s.a1) + "/login", {{"pin", *p}}, s.object());
    });
    login->add_option("token", s.a1)->required();
    login->add_option("--pin", s.pin, "The PIN");
    login->add_option("--pin-file", s.file, "File holding the PIN");
    auto logout = verb(r, "logout", "Log out of a token", [&s, e] {
      return s.send("POST", "/tokens/" + e(s.a1) + "/logout", nullptr, s.object());
    });
    logout->add_option("token", s.a1)->required();
    auto pin = verb(r, "change-pin", "Change a software token's PIN", [&s, e] {
      return s.send("PUT", "/tokens/" + e(s.a1) + "/pin",
                    {{"old_pin", s.old_pin}, {"new_pin", s.new_pin}}, s.object());
    });
    pin->add_option("token", s.a1)->required();
    pin->add_option("--old-pin", s.old_pin)->required();
    pin->add_option("--new-pin", s.new_pin)->required();
  }

  // keys and CSRs
  {
    auto r = resource("key", "Keys");
    auto list = paged(verb(r, "list", "List keys", [&s, e] {
      std::string q = "/keys?" + s.page_query();
      if (!s.token_filter.empty()) {
        q += "&token=" + e(s.token_filter);
      }
      return s.send("GET", q, nullptr, s.table({"id", "token_id", "label", "usage", "member"}));
    }));
    list->add_option("--token", s.token_filter, "Only keys of this token");
    auto gen = verb(r, "generate", "Generate a key on a token", [&s, e] {
      Json body = {{"algorithm", s.algorithm.empty() ? "RSA-2048" : s.algorithm}};
      if (!s.label.empty()) {
        body["label"] = s.label;
      }
      return s.send("POST", "/tokens/" + e(s.a1) + "/keys", body, s.object());
    });
    gen->add_option("token", s.a1)->required();
    gen->add_option("--algorithm", s.algorithm, "RSA-2048 (default), RSA-3072, EC-P256");
    gen->add_option("--label", s.label, "Friendly name");
    auto del = verb(r, "delete", "Delete a key with its CSRs and certificates",
                    [&s, e] { return s.send("DELETE", "/keys/" + e(s.a1), nullptr, s.object()); });
    del->add_option("key", s.a1)->required();
    auto csr = verb(r, "csr", "Make a CSR (PEM) for a key", [&s, e] {
      Json body = {{"usage", s.usage}};
      if (!s.member.empty()) {
        const auto colon = s.member.find(':');
        if (colon == std::string::npos) {
          s.err << "hansactl: --member is CLASS:CODE\n";
          return kExitUsage;
        }
        body["member_class"] = s.member.substr(0, colon);
        body["member_code"] = s.member.substr(colon + 1);
      }
      return s.send("POST", "/keys/" + e(s.a1) + "/csrs", body, s.object());
    });
    csr->add_option("key", s.a1)->required();
    csr->add_option("--usage", s.usage, "AUTHENTICATION or SIGNING")->required();
    csr->add_option("--member", s.member, "CLASS:CODE (signing; default the owner)");
    csr->add_option("--out", s.out_file, "Write the PEM to this file");
    auto csrs = resource("csr", "Certificate signing requests");
    paged(verb(csrs, "list", "List CSRs", [&s] {
      return s.send("GET", "/csrs?" + s.page_query(), nullptr,
                    s.table({"id", "key_id", "usage", "member", "subject"}));
    }));
    auto cdel = verb(csrs, "delete", "Delete a CSR",
                     [&s, e] { return s.send("DELETE", "/csrs/" + e(s.a1), nullptr, s.object()); });
    cdel->add_option("id", s.a1)->required();
  }

  // certificates
  {
    auto r = resource("cert", "Certificates");
    paged(verb(r, "list", "List certificates", [&s] {
      return s.send("GET", "/certificates?" + s.page_query(), nullptr,
                    s.table({"id", "usage", "member", "status", "active", "subject"}));
    }));
    auto imp = verb(r, "import", "Import a certificate (PEM or DER file)", [&s] {
      auto data = s.read_file(s.file);
      if (!data) {
        return kExitUsage;
      }
      std::string text = *data;
      if (text.find("-----BEGIN") == std::string::npos) {
        static const char* kB64 =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string b64;
        std::size_t i = 0;
        for (; i + 2 < text.size(); i += 3) {
          const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                             (static_cast<unsigned char>(text[i + 1]) << 8) |
                             static_cast<unsigned char>(text[i + 2]);
          b64 += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
        }
        if (i + 1 == text.size()) {
          const unsigned v = static_cast<unsigned char>(text[i]) << 16;
          b64 += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
        } else if (i + 2 == text.size()) {
          const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                             (static_cast<unsigned char>(text[i + 1]) << 8);
          b64 += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
        }
        text = b64;
      }
      return s.send("POST", "/certificates", {{"cert", text}}, s.object());
    });
    imp->add_option("file", s.file)->required();
    for (const auto& [name, active] :
         std::vector<std::pair<const char*, bool>>{{"activate", true}, {"deactivate", false}}) {
      const bool a = active;
      auto v = verb(r, name, a ? "Activate a certificate" : "Deactivate a certificate", [&s, e, a] {
        return s.send("PUT", "/certificates/" + e(s.a1) + "/active", {{"active", a}}, s.object());
      });
      v->add_option("id", s.a1)->required();
    }
    auto del = verb(r, "delete", "Delete a certificate", [&s, e] {
      return s.send("DELETE", "/certificates/" + e(s.a1), nullptr, s.object());
    });
    del->add_option("id", s.a1)->required();
    auto ocsp = verb(r, "ocsp", "OCSP status of a certificate", [&s, e] {
      return s.send("GET", "/certificates/" + e(s.a1) + "/ocsp", nullptr, s.object());
    });
    ocsp->add_option("id", s.a1)->required();
    auto reg = verb(r, "register", "Send authCertReg for an authentication certificate", [&s, e] {
      Json body = Json::object();
      if (!s.address.empty()) {
        body["address"] = s.address;
      }
      return s.send("POST", "/certificates/" + e(s.a1) + "/register", body, s.object());
    });
    reg->add_option("id", s.a1)->required();
    reg->add_option("--address", s.address, "The node's address (host name or IP)");
  }

  // clients
  {
    auto r = resource("client", "Clients (CLASS:CODE or CLASS:CODE:SUBSYSTEM)");
    paged(verb(r, "list", "List clients", [&s] {
      return s.send("GET", "/clients?" + s.page_query(), nullptr,
                    s.table({"id", "registration_state", "connection_type"}));
    }));
    auto add = verb(r, "add", "Add a client", [&s] {
      std::vector<std::string> parts;
      std::size_t start = 0;
      while (true) {
        const auto pos = s.a1.find(':', start);
        parts.push_back(s.a1.substr(start, pos == std::string::npos ? pos : pos - start));
        if (pos == std::string::npos) {
          break;
        }
        start = pos + 1;
      }
      if (parts.size() != 2 && parts.size() != 3) {
        s.err << "hansactl: a client is CLASS:CODE or CLASS:CODE:SUBSYSTEM\n";
        return kExitUsage;
      }
      Json body = {{"member_class", parts[0]}, {"member_code", parts[1]}};
      if (parts.size() == 3) {
        body["subsystem_code"] = parts[2];
      }
      return s.send("POST", "/clients", body, s.object());
    });
    add->add_option("client", s.a1)->required();
    auto show = verb(r, "show", "Show a client",
                     [&s, e] { return s.send("GET", "/clients/" + e(s.a1), nullptr, s.object()); });
    show->add_option("client", s.a1)->required();
    auto del = verb(r, "delete", "Delete a client", [&s, e] {
      return s.send("DELETE", "/clients/" + e(s.a1), nullptr, s.object());
    });
    del->add_option("client", s.a1)->required();
    auto ct = verb(r, "connection-type", "Set how the client's IS connects", [&s, e] {
      return s.send("PUT", "/clients/" + e(s.a1) + "/connection-type", {{"connection_type", s.a2}},
                    s.object());
    });
    ct->add_option("client", s.a1)->required();
    ct->add_option("type", s.a2, "http, https or https_auth")->required();
    auto addc = verb(r, "add-is-cert", "Register an IS certificate (PEM file)", [&s, e] {
      auto data = s.read_file(s.file);
      if (!data) {
        return kExitUsage;
      }
      return s.send("POST", "/clients/" + e(s.a1) + "/is-certs", {{"cert", *data}}, s.object());
    });
    addc->add_option("client", s.a1)->required();
    addc->add_option("file", s.file)->required();
    auto delc = verb(r, "remove-is-cert", "Remove an IS certificate", [&s, e] {
      return s.send("DELETE", "/clients/" + e(s.a1) + "/is-certs/" + e(s.a2), nullptr, s.object());
    });
    delc->add_option("client", s.a1)->required();
    delc->add_option("sha256", s.a2)->required();
    auto reg = verb(r, "register", "Send clientReg for a client to central", [&s, e] {
      Json body = Json::object();
      if (!s.subsystem_name.empty()) {
        body["subsystem_name"] = s.subsystem_name;
      }
      return s.send("POST", "/clients/" + e(s.a1) + "/register", body, s.object());
    });
    reg->add_option("client", s.a1)->required();
    reg->add_option("--subsystem-name", s.subsystem_name, "Name of a new subsystem");
    auto unreg = verb(r, "unregister", "Send clientDeletion for a client to central", [&s, e] {
      return s.send("POST", "/clients/" + e(s.a1) + "/unregister", Json::object(), s.object());
    });
    unreg->add_option("client", s.a1)->required();
  }

  // the server itself and registration requests
  {
    auto r = resource("server", "The node's registration at central");
    auto addr = verb(r, "address", "Send addressChange to central", [&s] {
      return s.send("PUT", "/server/address", {{"address", s.a1}}, s.object());
    });
    addr->add_option("address", s.a1)->required();
    auto owner = verb(r, "owner-change", "Send ownerChange to central", [&s] {
      const auto colon = s.a1.find(':');
      if (colon == std::string::npos) {
        s.err << "hansactl: the new owner is CLASS:CODE\n";
        return kExitUsage;
      }
      return s.send(
          "POST", "/server/owner-change",
          {{"member_class", s.a1.substr(0, colon)}, {"member_code", s.a1.substr(colon + 1)}},
          s.object());
    });
    owner->add_option("member", s.a1, "CLASS:CODE")->required();
    auto reqs = resource("registration", "Requests sent to central");
    paged(verb(reqs, "list", "List the requests sent to central (newest first)", [&s] {
      return s.send("GET", "/registration/requests?" + s.page_query(), nullptr,
                    s.table({"id", "type", "target", "central_request_id", "sent_at"}));
    }));
  }

  // service descriptions
  {
    auto r = resource("description", "Service descriptions");
    auto list = paged(verb(r, "list", "List a client's descriptions", [&s, e] {
      return s.send("GET", "/clients/" + e(s.a1) + "/descriptions?" + s.page_query(), nullptr,
                    s.table({"id", "type", "source", "enabled", "services"}));
    }));
    list->add_option("client", s.a1)->required();
    auto add = verb(r, "add", "Add a WSDL, OpenAPI 3 or REST description", [&s, e] {
      Json body = {{"type", s.type}, {"url", s.description_url}};
      if (!s.file.empty()) {
        auto data = s.read_file(s.file);
        if (!data) {
          return kExitUsage;
        }
        body["document"] = *data;
      }
      if (!s.service_code.empty()) {
        body["service_code"] = s.service_code;
      }
      if (!s.provider_url.empty()) {
        body["provider_url"] = s.provider_url;
      }
      return s.send("POST", "/clients/" + e(s.a1) + "/descriptions", body, s.object());
    });
    add->add_option("client", s.a1)->required();
    add->add_option("--type", s.type, "wsdl, openapi3 or rest")->required();
    add->add_option("--url", s.description_url,
                    "Document URL (or a name for --file; the base URL for rest)")
        ->required();
    add->add_option("--file", s.file, "Upload this document instead of fetching --url");
    add->add_option("--service-code", s.service_code, "Service code (openapi3, rest)");
    add->add_option("--provider-url", s.provider_url, "Replace the document's provider URL");
    auto show = verb(r, "show", "Show a description", [&s, e] {
      return s.send("GET", "/descriptions/" + e(s.a1), nullptr, s.object());
    });
    show->add_option("id", s.a1)->required();
    auto refresh = verb(r, "refresh", "Re-read a description", [&s, e] {
      Json body = Json::object();
      if (!s.file.empty()) {
        auto data = s.read_file(s.file);
        if (!data) {
          return kExitUsage;
        }
        body["document"] = *data;
      }
      return s.send("POST", "/descriptions/" + e(s.a1) + "/refresh", body, s.object());
    });
    refresh->add_option("id", s.a1)->required();
    refresh->add_option("--file", s.file, "Use this document instead of fetching the URL");
    auto enable = verb(r, "enable", "Enable a description's services", [&s, e] {
      return s.send("PUT", "/descriptions/" + e(s.a1) + "/enabled", {{"enabled", true}},
                    s.object());
    });
    enable->add_option("id", s.a1)->required();
    auto disable = verb(r, "disable", "Disable a description's services", [&s, e] {
      return s.send("PUT", "/descriptions/" + e(s.a1) + "/enabled",
                    {{"enabled", false}, {"disabled_notice", s.notice}}, s.object());
    });
    disable->add_option("id", s.a1)->required();
    disable->add_option("--notice", s.notice, "What callers are told");
    auto del = verb(r, "delete", "Delete a description", [&s, e] {
      return s.send("DELETE", "/descriptions/" + e(s.a1), nullptr, s.object());
    });
    del->add_option("id", s.a1)->required();
  }

  // services
  {
    auto r = resource("service", "Services");
    auto list = paged(verb(r, "list", "List a client's services", [&s, e] {
      return s.send("GET", "/clients/" + e(s.a1) + "/services?" + s.page_query(), nullptr,
                    s.table({"service_code", "service_version", "type", "url", "timeout_seconds",
                             "enabled"}));
    }));
    list->add_option("client", s.a1)->required();
    auto upd = verb(r, "update", "Change provider URL, timeout or TLS verification", [&s, e] {
      Json body = Json::object();
      if (!s.service_url.empty()) {
        body["url"] = s.service_url;
      }
      if (s.timeout >= 0) {
        body["timeout_seconds"] = s.timeout;
      }
      if (!s.version.empty()) {
        body["service_version"] = s.version;
      }
      if (!s.ssl_verify.empty()) {
        body["ssl_verify"] = s.ssl_verify == "true";
      }
      return s.send("PATCH", "/clients/" + e(s.a1) + "/services/" + e(s.a2), body,
                    s.table({"service_code", "service_version", "url", "timeout_seconds"}));
    });
    upd->add_option("client", s.a1)->required();
    upd->add_option("code", s.a2)->required();
    upd->add_option("--url", s.service_url, "Provider URL");
    upd->add_option("--timeout", s.timeout, "Timeout in seconds");
    upd->add_option("--version", s.version, "Only this service version");
    upd->add_option("--ssl-verify", s.ssl_verify, "true or false")
        ->check(CLI::IsMember({"true", "false"}));
  }

  // endpoints
  {
    auto r = resource("endpoint", "REST endpoints");
    auto list = paged(verb(r, "list", "List a service's endpoints", [&s, e] {
      return s.send("GET",
                    "/clients/" + e(s.a1) + "/services/" + e(s.a2) + "/endpoints?" + s.page_query(),
                    nullptr, s.table({"id", "method", "path", "generated", "subjects"}));
    }));
    list->add_option("client", s.a1)->required();
    list->add_option("code", s.a2)->required();
    auto add = verb(r, "add", "Add an endpoint", [&s, e] {
      return s.send("POST", "/clients/" + e(s.a1) + "/services/" + e(s.a2) + "/endpoints",
                    {{"method", s.a3}, {"path", s.a4}}, s.object());
    });
    add->add_option("client", s.a1)->required();
    add->add_option("code", s.a2)->required();
    add->add_option("method", s.a3)->required();
    add->add_option("path", s.a4)->required();
    auto del = verb(r, "delete", "Remove an endpoint", [&s, e] {
      return s.send("DELETE",
                    "/clients/" + e(s.a1) + "/services/" + e(s.a2) + "/endpoints/" + e(s.a3),
                    nullptr, s.object());
    });
    del->add_option("client", s.a1)->required();
    del->add_option("code", s.a2)->required();
    del->add_option("id", s.a3)->required();
  }

  // access rights
  {
    auto r = resource("access", "Access rights");
    auto list = paged(verb(r, "list", "List a service's access rights", [&s, e] {
      return s.send("GET",
                    "/clients/" + e(s.a1) + "/services/" + e(s.a2) + "/access?" + s.page_query(),
                    nullptr, s.table({"subject", "method", "path", "service_wide"}));
    }));
    list->add_option("client", s.a1)->required();
    list->add_option("code", s.a2)->required();
    for (const char* name : {"grant", "revoke"}) {
      const bool grant = std::string_view(name) == "grant";
      auto v = verb(r, name, grant ? "Grant a subject access" : "Revoke a subject's access",
                    [&s, e, grant] {
                      Json body = {{"subject", s.a3}};
                      if (s.endpoint_id >= 0) {
                        body["endpoint_id"] = s.endpoint_id;
                      }
                      return s.send("POST",
                                    "/clients/" + e(s.a1) + "/services/" + e(s.a2) + "/access" +
                                        (grant ? "" : "/revoke"),
                                    body, s.object());
                    });
      v->add_option("client", s.a1)->required();
      v->add_option("code", s.a2)->required();
      v->add_option("subject", s.a3, "SUBSYSTEM:..., MEMBER:..., GLOBALGROUP:..., LOCALGROUP:code")
          ->required();
      v->add_option("--endpoint", s.endpoint_id, "Only this endpoint id");
    }
  }

  // local groups
  {
    auto r = resource("local-group", "Local groups");
    auto list = paged(verb(r, "list", "List a client's local groups", [&s, e] {
      return s.send("GET", "/clients/" + e(s.a1) + "/local-groups?" + s.page_query(), nullptr,
                    s.table({"code", "description", "members"}));
    }));
    list->add_option("client", s.a1)->required();
    auto add = verb(r, "add", "Add a local group", [&s, e] {
      return s.send("POST", "/clients/" + e(s.a1) + "/local-groups",
                    {{"code", s.a2}, {"description", s.description_text}}, s.object());
    });
    add->add_option("client", s.a1)->required();
    add->add_option("code", s.a2)->required();
    add->add_option("--description", s.description_text);
    auto del = verb(r, "delete", "Delete a local group", [&s, e] {
      return s.send("DELETE", "/clients/" + e(s.a1) + "/local-groups/" + e(s.a2), nullptr,
                    s.object());
    });
    del->add_option("client", s.a1)->required();
    del->add_option("code", s.a2)->required();
    auto addm = verb(r, "add-member", "Add a member to a local group", [&s, e] {
      return s.send("POST", "/clients/" + e(s.a1) + "/local-groups/" + e(s.a2) + "/members",
                    {{"member", s.a3}}, s.object());
    });
    addm->add_option("client", s.a1)->required();
    addm->add_option("code", s.a2)->required();
    addm->add_option("member", s.a3, "CLASS:CODE[:SUBSYSTEM]")->required();
    auto delm = verb(r, "remove-member", "Remove a member from a local group", [&s, e] {
      return s.send("DELETE",
                    "/clients/" + e(s.a1) + "/local-groups/" + e(s.a2) + "/members/" + e(s.a3),
                    nullptr, s.object());
    });
    delm->add_option("client", s.a1)->required();
    delm->add_option("code", s.a2)->required();
    delm->add_option("member", s.a3)->required();
  }

  // admin tokens
  {
    auto r = resource("admin-token", "Admin API tokens");
    paged(verb(r, "list", "List admin tokens", [&s] {
      return s.send("GET", "/admin-tokens?" + s.page_query(), nullptr,
                    s.table({"id", "name", "role", "created_at", "revoked"}));
    }));
    auto create = verb(r, "create", "Create an admin token (the secret is shown once)", [&s] {
      return s.send("POST", "/admin-tokens", {{"name", s.a1}, {"role", s.a2}}, s.object());
    });
    create->add_option("name", s.a1)->required();
    create->add_option("role", s.a2, "operator, auditor or read-only")->required();
    auto revoke = verb(r, "revoke", "Revoke an admin token", [&s, e] {
      return s.send("DELETE", "/admin-tokens/" + e(s.a1), nullptr, s.object());
    });
    revoke->add_option("id", s.a1)->required();
  }
  return st;
}

}  // namespace hansa::hansactl
