// Node-side driver of the node integration test (node_test.sh): each subcommand opens the node's
// persistent state (database, token, configuration client state directory), does one step an
// operator would do, and exits. Built on the node libraries directly (node/signer,
// node/serverconf, node/globalconf, node/registration).
//
//   hansa-node-it-tool --db URI --state DIR --pin PIN [--pkcs11-label L [--pkcs11-module M]]
//                      [--ca-cert PEM ...] <command>
//   init --owner INST/CLASS/CODE --server-code CODE --client SUBSYSTEM:...   (serverconf, token)
//   anchor --file ANCHOR                  import the anchor and download the configuration
//   csrs --out-dir D                      auth and sign keys on the token, auth.csr / sign.csr
//   import --cert PEM                     import a certificate (prints its id)
//   register-auth [--address A]           authCertReg (prints central's request id)
//   register-client --client C            clientReg (prints central's request id)
//   refresh                               download the configuration, sync states, print them

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/db/database.h"
#include "core/ids/ids.h"
#include "node/globalconf/configuration_client.h"
#include "node/registration/registration.h"
#include "node/serverconf/store.h"
#include "node/signer/pkcs11_token.h"
#include "node/signer/signer.h"
#include "node/signer/software_token.h"

namespace {

using namespace hansa;
namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
T must(Result<T> r, std::string_view what) {
  if (!r.ok()) {
    std::cerr << what << ": " << r.error().to_string() << "\n";
    std::exit(1);
  }
  return std::move(r).value();
}

void must(const Status& s, std::string_view what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s.error().to_string() << "\n";
    std::exit(1);
  }
}

struct Settings {
  std::string db_uri;
  std::string state;
  std::string pin;
  std::string pkcs11_label;
  std::string pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
  std::vector<std::string> ca_certs;
};

// The node's components over its persistent state.
struct Node {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<serverconf::ServerConfStore> store;
  std::unique_ptr<confclient::ConfigurationClient> conf;
  std::unique_ptr<signer::Signer> signer;
  std::unique_ptr<registration::Registration> registration;
  std::string token_id;

  static std::unique_ptr<Node> open(const Settings& s, bool create_token) {
    auto n = std::make_unique<Node>();
    db::DbConfig cfg;
    cfg.uri = s.db_uri;
    n->db = must(db::Database::open(cfg), "database");
    n->store = must(serverconf::ServerConfStore::open(*n->db), "serverconf");
    confclient::ConfigurationClientOptions copts;
    copts.state_dir = fs::path(s.state) / "globalconf";
    n->conf = must(confclient::ConfigurationClient::open(copts), "configuration client");
    auto* conf = n->conf.get();
    signer::MemberDirectory members = [conf](const ids::MemberId& m) -> std::optional<std::string> {
      auto snap = conf->current();
      return snap == nullptr ? std::nullopt : snap->member_name(ids::ClientId(m));
    };
    n->signer = must(signer::Signer::create(*n->db, signer::SignerOptions{}, members), "signer");
    std::vector<crypto::Certificate> cas;
    for (const auto& path : s.ca_certs) {
      cas.push_back(must(crypto::Certificate::from_pem(read_file(path)), path));
    }
    n->signer->set_ca_certificates(std::move(cas));
    std::unique_ptr<signer::Token> token;
    if (!s.pkcs11_label.empty()) {
      signer::Pkcs11TokenOptions popts;
      popts.token_label = s.pkcs11_label;
      popts.module_path = s.pkcs11_module;
      token = must(signer::Pkcs11Token::open(popts), "PKCS#11 token");
    } else {
      signer::SoftwareTokenOptions topts;
      topts.dir = fs::path(s.state) / "token";
      token = create_token
                  ? must(signer::SoftwareToken::initialize(topts, s.pin, "node"), "software token")
                  : must(signer::SoftwareToken::open(topts), "software token");
    }
    n->token_id = token->id();
    must(n->signer->add_token(std::move(token)), "add token");
    must(n->signer->login(n->token_id, s.pin), "token login");
    n->registration = must(registration::Registration::create(*n->db, *n->signer, *n->store,
                                                              [conf] { return conf->current(); }),
                           "registration");
    return n;
  }
};

void print_state(Node& n) {
  auto snap = n.conf->current();
  const auto server = n.store->snapshot()->server();
  for (const auto& c : n.signer->certificates()) {
    std::cout << "cert " << signer::key_usage_name(c.usage) << " " << c.id << " "
              << signer::cert_status_name(c.status);
    if (c.usage == signer::KeyUsage::kAuthentication && snap != nullptr && server.has_value()) {
      std::cout << (snap->is_auth_cert_of_server(c.certificate, *server) ? " in-conf"
                                                                         : " not-in-conf");
    }
    std::cout << "\n";
  }
  for (const auto& c : n.store->snapshot()->clients()) {
    std::cout << "client " << c.id.to_string() << " "
              << serverconf::registration_state_name(c.state);
    if (snap != nullptr && server.has_value()) {
      const auto* entry = snap->security_server(*server);
      bool listed = false;
      if (entry != nullptr) {
        listed =
            (c.id.is_member() && c.id.member() == server->owner()) ||
            std::find(entry->clients.begin(), entry->clients.end(), c.id) != entry->clients.end();
      }
      std::cout << (listed ? " in-conf" : " not-in-conf");
    }
    std::cout << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Hansa node integration-test driver"};
  Settings s;
  app.add_option("--db", s.db_uri, "node database URI")->required();
  app.add_option("--state", s.state, "state directory")->required();
  app.add_option("--pin", s.pin, "token PIN")->required();
  app.add_option("--pkcs11-label", s.pkcs11_label, "use this PKCS#11 token");
  app.add_option("--pkcs11-module", s.pkcs11_module, "PKCS#11 module");
  app.add_option("--ca-cert", s.ca_certs, "CA certificate (PEM) issuing the node's certificates");
  app.require_subcommand(1);

  std::string owner, server_code, client, file, out_dir, address;
  auto* init = app.add_subcommand("init", "initialize serverconf and the token");
  init->add_option("--owner", owner)->required();
  init->add_option("--server-code", server_code)->required();
  init->add_option("--client", client)->required();
  auto* anchor = app.add_subcommand("anchor", "import the anchor, download the configuration");
  anchor->add_option("--file", file)->required();
  auto* csrs = app.add_subcommand("csrs", "generate auth and sign keys and their CSRs");
  csrs->add_option("--out-dir", out_dir)->required();
  auto* import = app.add_subcommand("import", "import a certificate");
  import->add_option("--cert", file)->required();
  auto* reg_auth = app.add_subcommand("register-auth", "send authCertReg");
  reg_auth->add_option("--address", address);
  auto* reg_client = app.add_subcommand("register-client", "send clientReg");
  reg_client->add_option("--client", client)->required();
  auto* refresh = app.add_subcommand("refresh", "download the configuration and sync states");
  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr: stdout carries the results the script reads.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("node-it"));
  fs::create_directories(s.state);
  if (init->parsed()) {
    auto n = Node::open(s, s.pkcs11_label.empty());
    auto parts = std::vector<std::string>{};
    std::stringstream ss(owner);
    for (std::string p; std::getline(ss, p, '/');) {
      parts.push_back(p);
    }
    if (parts.size() != 3) {
      std::cerr << "--owner must be INST/CLASS/CODE\n";
      return 2;
    }
    auto server =
        must(ids::SecurityServerId::create(parts[0], parts[1], parts[2], server_code), "--owner");
    must(n->store->initialize(server), "initialize");
    must(n->store->add_client(must(ids::ClientId::parse(client), "--client")), "add client");
    std::cout << "initialized " << server.to_string() << " token " << n->token_id << "\n";
    return 0;
  }
  auto n = Node::open(s, false);
  if (anchor->parsed()) {
    must(n->conf->import_anchor(read_file(file)), "import anchor");
    must(n->conf->refresh(), "download configuration");
    std::cout << "configuration version " << n->conf->status().version.value_or(0) << "\n";
  } else if (csrs->parsed()) {
    const auto server = *n->store->snapshot()->server();
    for (auto usage : {signer::KeyUsage::kAuthentication, signer::KeyUsage::kSigning}) {
      const bool auth = usage == signer::KeyUsage::kAuthentication;
      auto key = must(n->signer->generate_key(n->token_id, signer::KeyAlgorithm::kRsa2048,
                                              auth ? "auth" : "sign"),
                      "generate key");
      auto csr = must(n->signer->generate_csr(
                          {key.id, usage, server.owner(), std::string(server.server_code())}),
                      "CSR");
      std::ofstream(fs::path(out_dir) / (auth ? "auth.csr" : "sign.csr")) << csr.pem;
      std::cout << "csr " << (auth ? "auth " : "sign ") << csr.subject << "\n";
    }
  } else if (import->parsed()) {
    auto cert = must(n->signer->import_certificate(read_file(file)), "import certificate");
    std::cout << cert.id << "\n";
  } else if (reg_auth->parsed()) {
    std::string id;
    for (const auto& c : n->signer->certificates()) {
      if (c.usage == signer::KeyUsage::kAuthentication) {
        id = c.id;
      }
    }
    if (id.empty()) {
      std::cerr << "no authentication certificate\n";
      return 1;
    }
    auto sent = must(n->registration->register_auth_cert(
                         id, address.empty() ? std::nullopt : std::optional<std::string>(address)),
                     "authCertReg");
    std::cout << sent.central_request_id << "\n";
  } else if (reg_client->parsed()) {
    auto sent =
        must(n->registration->register_client(must(ids::ClientId::parse(client), "--client")),
             "clientReg");
    std::cout << sent.central_request_id << "\n";
  } else if (refresh->parsed()) {
    must(n->conf->refresh(), "download configuration");
    auto synced = must(n->registration->sync_with_global_conf(), "sync");
    std::cout << "synced certs=" << synced.certs_registered.size()
              << " clients=" << synced.clients_registered.size() << "\n";
    print_state(*n);
  }
  return 0;
}
