// hansa-trust: DEVELOPMENT-ONLY OCSP responder (RFC 6960) and time-stamping authority (RFC 3161).

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "certs/hansa-trust/revocation_store.h"
#include "certs/hansa-trust/trust_server.h"

namespace {

constexpr const char* kDescription =
    "hansa-trust -- DEVELOPMENT ONLY. NOT FOR PRODUCTION USE.\n"
    "A small OCSP responder (RFC 6960) and time-stamping authority (RFC 3161) for the development\n"
    "PKI made by certs/make-dev-pki.sh. Production uses real trust service providers.";

int fail(const hansa::Error& error) {
  std::cerr << "hansa-trust: " << error.to_string() << "\n";
  return 1;
}

hansa::Result<hansa::trust::TrustConfig> resolve_config(const std::string& config_file,
                                                        const std::string& pki_dir,
                                                        const std::string& state_file) {
  hansa::trust::TrustConfig config;
  if (!config_file.empty()) {
    HANSA_ASSIGN_OR_RETURN(config, hansa::trust::load_trust_config(config_file));
  } else if (!pki_dir.empty()) {
    config = hansa::trust::dev_pki_config(
        pki_dir, std::filesystem::path(pki_dir) / "hansa-trust-state.json");
    config.ocsp_port = 8899;
    config.tsa_port = 8898;
  } else if (state_file.empty()) {
    return hansa::Error(hansa::FaultCode::kInvalidConfiguration,
                        "give --config FILE or --pki-dir DIR (or --state FILE)");
  }
  if (!state_file.empty()) {
    config.ocsp.state_file = state_file;
  }
  return config;
}

int serve(hansa::trust::TrustConfig config) {
  // Signals are taken synchronously below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = hansa::trust::TrustServer::create(config);
  if (!server.ok()) {
    return fail(server.error());
  }
  if (auto started = (*server)->start(); !started.ok()) {
    return fail(started.error());
  }
  std::printf("hansa-trust (DEVELOPMENT ONLY) OCSP http://%s:%u/ocsp TSA http://%s:%u/tsa\n",
              config.host.c_str(), static_cast<unsigned>((*server)->ocsp_port()),
              config.host.c_str(), static_cast<unsigned>((*server)->tsa_port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(kDescription, "hansa-trust");
  app.require_subcommand(1);
  std::string config_file;
  std::string pki_dir;
  std::string state_file;
  app.add_option("--config", config_file, "TOML configuration file (see README.md)");
  app.add_option("--pki-dir", pki_dir,
                 "Use the layout of certs/make-dev-pki.sh in DIR (ports 8899/8898, state file "
                 "DIR/hansa-trust-state.json)");
  app.add_option("--state", state_file, "Revocation state file (overrides the configuration)");

  auto* serve_cmd = app.add_subcommand("serve", "Run the OCSP responder and the TSA");
  int ocsp_port = -1;
  int tsa_port = -1;
  serve_cmd->add_option("--ocsp-port", ocsp_port, "OCSP port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--tsa-port", tsa_port, "TSA port (0 = any free port)")
      ->check(CLI::Range(0, 65535));

  std::string serial;
  std::string reason = "unspecified";
  std::int64_t when = 0;
  auto* revoke_cmd = app.add_subcommand("revoke", "Mark a certificate revoked");
  revoke_cmd->add_option("serial", serial, "Serial number in hex (0x1A, 1A or 01:1A)")->required();
  revoke_cmd->add_option("--reason", reason,
                         "CRL reason: unspecified, keyCompromise, CACompromise, "
                         "affiliationChanged, superseded, cessationOfOperation, "
                         "certificateHold, privilegeWithdrawn, AACompromise");
  revoke_cmd->add_option("--time", when, "Revocation time, seconds since 1970 (default now)");
  auto* unrevoke_cmd = app.add_subcommand("unrevoke", "Mark a certificate good again");
  unrevoke_cmd->add_option("serial", serial, "Serial number in hex")->required();
  auto* status_cmd = app.add_subcommand("status", "Print a certificate's status");
  status_cmd->add_option("serial", serial, "Serial number in hex")->required();

  CLI11_PARSE(app, argc, argv);

  auto config = resolve_config(config_file, pki_dir, state_file);
  if (!config.ok()) {
    return fail(config.error());
  }
  if (serve_cmd->parsed()) {
    if (ocsp_port >= 0) {
      config->ocsp_port = static_cast<std::uint16_t>(ocsp_port);
    }
    if (tsa_port >= 0) {
      config->tsa_port = static_cast<std::uint16_t>(tsa_port);
    }
    return serve(std::move(config).value());
  }
  hansa::trust::RevocationStore store(config->ocsp.state_file, config->ocsp.index_file);
  if (revoke_cmd->parsed()) {
    auto parsed_reason = hansa::trust::reason_from_name(reason);
    if (!parsed_reason) {
      std::cerr << "hansa-trust: unknown reason '" << reason << "'\n";
      return 2;
    }
    auto done = store.revoke(serial, *parsed_reason, when > 0 ? when : std::time(nullptr));
    return done.ok() ? 0 : fail(done.error());
  }
  if (unrevoke_cmd->parsed()) {
    auto done = store.unrevoke(serial);
    return done.ok() ? 0 : fail(done.error());
  }
  auto status = store.lookup(serial);
  if (!status.ok()) {
    return fail(status.error());
  }
  switch (status->state) {
    case hansa::trust::CertState::kGood:
      std::cout << "good\n";
      break;
    case hansa::trust::CertState::kRevoked:
      std::cout << "revoked " << hansa::trust::reason_name(status->reason) << " "
                << status->revocation_time << "\n";
      break;
    case hansa::trust::CertState::kUnknown:
      std::cout << "unknown\n";
      break;
  }
  return 0;
}
