// hansa-central-it-tool: what the central integration test needs to do as a node would, from a
// shell script:
//
//   mgmt-send     build, sign and POST a management request (PR-MSERV authCertReg / clientReg)
//                 with core/management, to the management service's HTTPS address (pinned TLS
//                 certificate); prints the requestId.
//   gconf-verify  download a signed directory (PR-GCONF 2.6), verify it with an anchor file with
//                 core/globalconf, download and check every file, and print what the shared
//                 parameters list (members, subsystems, servers with base64 authCertHash).
//
// Test tooling only (no limits beyond the libraries' defaults).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/crypto/certificate.h"
#include "core/crypto/encoding.h"
#include "core/crypto/key.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/client.h"
#include "core/ids/ids.h"
#include "core/management/request.h"
#include "core/mime/content_type.h"

namespace {

using namespace hansa;

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

// "https://host:port/path" -> {"https://host:port", "/path"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) {
    return {url, "/"};
  }
  return {url.substr(0, slash), url.substr(slash)};
}

ids::SecurityServerId parse_server(const std::string& text) {
  // INSTANCE/CLASS/CODE/SERVER
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string p; std::getline(ss, p, '/');) {
    parts.push_back(p);
  }
  if (parts.size() != 4) {
    std::cerr << "--server must be INSTANCE/CLASS/CODE/SERVER\n";
    std::exit(2);
  }
  return must(ids::SecurityServerId::create(parts[0], parts[1], parts[2], parts[3]), "--server");
}

int mgmt_send(const std::string& type, const std::string& url, const std::string& pin_cert,
              const std::string& server, const std::string& client, const std::string& provider,
              const std::string& owner_key, const std::string& owner_cert,
              const std::string& owner_ocsp, const std::string& auth_key,
              const std::string& auth_cert, const std::string& address) {
  const auto server_id = parse_server(server);
  auto algorithm_for = [](const crypto::PrivateKey& key) {
    return key.type() == crypto::KeyType::kEc ? crypto::SignatureAlgorithm::kEcdsaSha512
                                              : crypto::SignatureAlgorithm::kRsaSha512;
  };
  std::optional<management::SigningParty> auth;
  auto body = [&]() -> management::RequestBody {
    if (type == "authCertReg") {
      const auto cert = must(crypto::Certificate::from_pem(read_file(auth_cert)), "--auth-cert");
      const auto key = must(crypto::PrivateKey::from_pem(read_file(auth_key)), "--auth-key");
      auth = management::SigningParty{.algorithm = algorithm_for(key),
                                      .sign = management::key_signer(key)};
      return management::RequestBody::auth_cert_reg(
          server_id, cert.der(),
          address.empty() ? std::nullopt : std::optional<std::string>(address));
    }
    if (type == "clientReg") {
      return management::RequestBody::client_reg(server_id,
                                                 must(ids::ClientId::parse(client), "--client"));
    }
    std::cerr << "--type must be authCertReg or clientReg\n";
    std::exit(2);
  }();
  const auto owner_key_value =
      must(crypto::PrivateKey::from_pem(read_file(owner_key)), "--owner-key");
  management::RequestToSign in{
      .body = std::move(body),
      .service_provider = must(ids::ClientId::parse(provider), "--provider"),
      .message_id = {},
      .owner = management::SigningParty{.algorithm = algorithm_for(owner_key_value),
                                        .sign = management::key_signer(owner_key_value)},
      .owner_cert_der =
          must(crypto::Certificate::from_pem(read_file(owner_cert)), "--owner-cert").der(),
      .owner_ocsp_der = read_file(owner_ocsp),
      .auth = std::move(auth)};
  const auto built = must(management::build_request(in), "build_request");

  const auto [base, path] = split_url(url);
  http::ClientOptions options;
  options.tls.pinned_cert_pem = read_file(pin_cert);
  options.tls.verify_hostname = false;
  auto client_http = must(http::Client::create(base, options), "client");
  auto response = must(client_http->post(path, built.body, built.content_type), "POST " + url);
  if (response.status != 200) {
    std::cerr << "HTTP " << response.status << "\n" << response.body << "\n";
    return 1;
  }
  const auto parsed = must(management::parse_response(response.body), "response");
  std::cout << parsed.request_id << "\n";
  return 0;
}

int gconf_verify(const std::string& anchor_file, const std::string& url,
                 const std::string& out_dir) {
  const auto anchor =
      must(globalconf::parse_configuration_anchor(read_file(anchor_file)), "--anchor");
  const auto [base, path] = split_url(url);
  auto client = must(http::Client::create(base), "client");
  auto response = must(client->get(path), "GET " + url);
  if (response.status != 200) {
    std::cerr << "HTTP " << response.status << " for " << url << "\n";
    return 1;
  }
  const auto content_type =
      must(mime::ContentType::parse(std::string(response.header("Content-Type").value_or(""))),
           "Content-Type");
  const auto dir = must(globalconf::verify_signed_directory(content_type, response.body, anchor,
                                                            globalconf::DirectoryVerifyOptions{}),
                        "directory");
  std::cout << "directory verified: version " << dir.version << ", expires "
            << globalconf::format_utc(dir.expires_at) << ", signed by "
            << (dir.verification_cert ? dir.verification_cert->subject() : "?") << "\n";
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    std::ofstream(std::filesystem::path(out_dir) / "directory.body", std::ios::binary)
        << response.body;
  }
  for (const auto& entry : dir.entries) {
    auto file = must(client->get(entry.content_location), "GET " + entry.content_location);
    if (file.status != 200) {
      std::cerr << "HTTP " << file.status << " for " << entry.content_location << "\n";
      return 1;
    }
    auto st = globalconf::verify_file(entry, file.body);
    if (!st.ok()) {
      std::cerr << entry.content_location << ": " << st.error().to_string() << "\n";
      return 1;
    }
    std::cout << "file verified: " << entry.content_identifier << " " << entry.content_location
              << "\n";
    if (!out_dir.empty()) {
      std::ofstream(std::filesystem::path(out_dir) /
                        (entry.content_identifier == globalconf::kSharedParametersContentId
                             ? "shared-params.xml"
                             : "private-params.xml"),
                    std::ios::binary)
          << file.body;
    }
    if (entry.content_identifier == globalconf::kSharedParametersContentId) {
      const auto shared = must(globalconf::parse_shared_parameters(file.body), "shared-params");
      for (const auto& m : shared.members) {
        std::cout << "member " << m.id.to_string() << " \"" << m.name << "\"\n";
        for (const auto& s : m.subsystems) {
          std::cout << "subsystem " << s.id.to_string() << "\n";
        }
      }
      for (const auto& s : shared.security_servers) {
        std::cout << "server " << s.id.to_string() << " address " << s.address.value_or("") << "\n";
        for (const auto& h : s.auth_cert_hashes) {
          std::cout << "authcerthash " << s.id.to_string() << " " << crypto::base64_encode(h)
                    << "\n";
        }
        for (const auto& c : s.clients) {
          std::cout << "client " << s.id.to_string() << " " << c.to_string() << "\n";
        }
      }
    } else if (entry.content_identifier == globalconf::kPrivateParametersContentId) {
      const auto priv = must(globalconf::parse_private_parameters(file.body), "private-params");
      std::cout << "management " << priv.management_service.auth_cert_reg_service_address << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hansa-central-it-tool: node-side steps for the central integration test"};
  app.require_subcommand(1);
  std::string type, url, pin, server, client, provider, owner_key, owner_cert, owner_ocsp, auth_key,
      auth_cert, address, anchor, out_dir;
  auto* send = app.add_subcommand("mgmt-send", "send a signed management request");
  send->add_option("--type", type)->required();
  send->add_option("--url", url)->required();
  send->add_option("--pin-cert", pin)->required();
  send->add_option("--server", server)->required();
  send->add_option("--client", client);
  send->add_option("--provider", provider)->required();
  send->add_option("--owner-key", owner_key)->required();
  send->add_option("--owner-cert", owner_cert)->required();
  send->add_option("--owner-ocsp", owner_ocsp)->required();
  send->add_option("--auth-key", auth_key);
  send->add_option("--auth-cert", auth_cert);
  send->add_option("--address", address);
  auto* verify = app.add_subcommand("gconf-verify", "download and verify global configuration");
  verify->add_option("--anchor", anchor)->required();
  verify->add_option("--url", url)->required();
  verify->add_option("--out-dir", out_dir);
  CLI11_PARSE(app, argc, argv);
  if (send->parsed()) {
    return mgmt_send(type, url, pin, server, client, provider, owner_key, owner_cert, owner_ocsp,
                     auth_key, auth_cert, address);
  }
  return gconf_verify(anchor, url, out_dir);
}
