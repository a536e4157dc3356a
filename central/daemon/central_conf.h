#pragma once

// The configuration of `hansa-central`: one TOML file (deploy/examples/central.toml documents
// every key), parsed once through core/conf, validated completely (every problem listed with its
// key), then frozen into CentralConf.
//
// Threading: plain value; share freely once loaded.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "central/publisher/publisher.h"
#include "core/db/database.h"
#include "core/errors/errors.h"

namespace hansa::central {

// One listening socket and its HTTP limits.
struct ListenConf {
  std::string host;
  std::uint16_t port = 0;  // 0: a free port (tests)
  std::size_t worker_threads = 8;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  // A request body, and an answer's blocked sends: body_timeout plus a second per min_body_rate
  // bytes (http::ServerOptions; 0: per read and write only).
  std::chrono::milliseconds body_timeout{20'000};
  std::size_t min_body_rate = 4096;
};

struct CentralConf {
  // The file it was read from (for messages); empty for configuration from a string.
  std::filesystem::path source;

  // [instance]
  std::string instance_identifier;
  // Optional: the management service provider (a subsystem) `init` creates with its member and
  // member class, and records in the registry settings (private-params managementService).
  std::optional<std::string> management_service_provider;  // "SUBSYSTEM:EE/GOV/CODE/MANAGEMENT"
  std::string management_service_provider_name;            // the provider member's name

  // [database]
  db::DbConfig database;

  // [admin_api]: the admin REST API (loopback by default; HTTPS when a certificate is given).
  ListenConf admin;
  std::optional<std::filesystem::path> admin_tls_cert_file;
  std::optional<std::filesystem::path> admin_tls_key_file;

  // [management]: the management-request service (HTTPS, PR-MSERV).
  ListenConf management;
  std::filesystem::path management_tls_cert_file;
  std::filesystem::path management_tls_key_file;
  // The address nodes use (private-params authCertRegServiceAddress).
  std::string management_public_url;
  // X-Road's auto-approve-{auth-cert-reg,client-reg,owner-change}-requests.
  bool auto_approve_auth_cert_reg = false;
  bool auto_approve_client_reg = false;
  bool auto_approve_owner_change = false;

  // [publisher]: global configuration over plain HTTP (PR-GCONF 2.4).
  ListenConf publisher;
  std::string publisher_public_url;
  std::chrono::milliseconds regeneration_interval{60'000};
  // When set, replaces the registry's configuration validity setting.
  std::optional<std::chrono::seconds> configuration_validity;
  std::size_t keep_directories = 20;

  // [signing]: the configuration-signing key that `init` creates when missing.
  std::filesystem::path signing_key_file;
  std::filesystem::path signing_cert_file;
  SigningKeyType signing_key_type = SigningKeyType::kRsa3072;

  // [monitoring]: GET /health and GET /metrics (no token). On the admin API's port unless
  // `dedicated_port` is set, then on their own socket (listen_host/listen_port).
  bool monitoring_dedicated_port = false;
  ListenConf monitoring;
  // publish check: degraded when the newest directory is older than this.
  std::chrono::seconds monitoring_max_publish_age{600};
  // signing_key check: degraded when the signing certificate expires within this.
  std::chrono::seconds monitoring_certificate_expiry_warning{30 * 24 * 3600};

  // [logging]
  std::string log_level = "info";                 // trace, debug, info, warn, error
  std::optional<std::filesystem::path> log_file;  // stderr when absent
};

// Reads and validates a configuration file. Relative paths (and a relative SQLite database
// path) resolve against the file's directory. InvalidConfiguration lists every problem.
[[nodiscard]] Result<CentralConf> load_central_conf(const std::filesystem::path& file);
// The same for TOML text; relative paths resolve against `base_dir`.
[[nodiscard]] Result<CentralConf> parse_central_conf(std::string_view toml,
                                                     const std::filesystem::path& base_dir,
                                                     std::string_view source_name = "<string>");

}  // namespace hansa::central
