#pragma once

// The configuration of `hansa-node`: one TOML file (deploy/examples/node.toml documents every
// key), parsed once through core/conf, validated completely (every problem listed with its key),
// then frozen into NodeConf.
//
// Threading: plain value; share freely once loaded.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/conf/secret.h"
#include "core/db/database.h"
#include "core/errors/errors.h"
#include "node/messagelog/message_log.h"
#include "node/proxy/proxy_service.h"

namespace hansa::node {

enum class TokenType : std::uint8_t { kSoftware, kPkcs11 };

struct NodeConf {
  // The file it was read from (for messages); empty for configuration from a string.
  std::filesystem::path source;

  // [database]
  db::DbConfig database;

  // [node]
  std::filesystem::path state_dir;  // global configuration copy and other node state
  // How often `serve` picks up configuration changes another instance committed to a shared
  // database.
  std::chrono::milliseconds reload_interval{5'000};
  // How often memory the process freed is handed back to the system (glibc's malloc_trim): the
  // allocator keeps freed memory in per-thread arenas, and a node with hundreds of proxy threads
  // otherwise stays at the size of its busiest moment. Zero turns it off. Checked on the
  // background cycle that runs every reload_interval, so at most that often.
  std::chrono::milliseconds memory_trim_interval{10'000};

  // [token]
  TokenType token_type = TokenType::kSoftware;
  std::filesystem::path software_token_dir;  // software token directory
  std::string pkcs11_module;                 // PKCS#11 module path
  std::string pkcs11_token_label;            // the token's label
  std::optional<conf::Secret> token_pin;     // logs in at `serve` when given (pin / pin_file)
  std::size_t min_pin_length = 10;
  int kdf_iterations = 310'000;

  // [admin_api]
  std::string admin_host = "127.0.0.1";
  std::uint16_t admin_port = 4100;  // 0: a free port (tests)
  std::size_t admin_worker_threads = 4;
  std::size_t admin_max_body_bytes = 1 << 20;
  std::size_t admin_max_upload_bytes = 8 << 20;
  std::chrono::milliseconds admin_read_timeout{10'000};
  std::optional<std::filesystem::path> admin_tls_cert_file;
  std::optional<std::filesystem::path> admin_tls_key_file;

  // [globalconf]: the configuration client.
  std::chrono::milliseconds globalconf_refresh_interval{60'000};
  std::chrono::milliseconds globalconf_connect_timeout{5'000};
  std::chrono::milliseconds globalconf_read_timeout{10'000};
  std::chrono::milliseconds globalconf_total_timeout{30'000};
  std::size_t globalconf_max_file_bytes = 32 * 1024 * 1024;

  // [ocsp]: refresh of the node's own certificates' OCSP status.
  std::chrono::milliseconds ocsp_refresh_interval{1'200'000};

  // [proxy]: message exchange (client proxy for information systems, server proxy for peer
  // nodes). Off until enabled: a node exchanges messages only with a registered authentication
  // certificate and a message log.
  bool proxy_enabled = false;
  // Refuse to run the proxies without a message log (the default; off only for benchmarks of
  // the proxies alone).
  bool proxy_require_message_log = true;
  proxy::ProxyServiceOptions proxy;

  // [monitoring]: GET /health and GET /metrics (no token), on the admin API's port unless
  // monitoring_dedicated_port, then on monitoring_host:monitoring_port; operational records.
  bool monitoring_dedicated_port = false;
  std::string monitoring_host = "127.0.0.1";
  std::uint16_t monitoring_port = 5590;
  // Directories whose free space the disk check watches (default: the state directory; put the
  // message archive directory first).
  std::vector<std::filesystem::path> monitoring_disk_paths;
  std::uint64_t monitoring_min_free_disk_bytes = 1ull << 30;
  std::chrono::milliseconds monitoring_globalconf_max_age{600'000};
  std::chrono::milliseconds monitoring_certificate_expiry_warning{14LL * 24 * 3'600'000};
  std::int64_t monitoring_timestamp_backlog_warning = 10'000;
  // Operational records: retention, queue, answer size, and the clients that see every record
  // (like the owner; X-Road's central monitoring client).
  std::chrono::milliseconds opmonitor_retention{7LL * 24 * 3'600'000};
  std::size_t opmonitor_queue_capacity = 20'000;
  std::size_t opmonitor_max_records_in_payload = 10'000;
  std::vector<std::string> opmonitor_monitoring_clients;

  // [messagelog]: the message log (node/messagelog). On by default; the proxies need it.
  bool messagelog_enabled = true;
  messagelog::MessageLogOptions messagelog;
  // TSA URLs tried in order instead of the global configuration's approved TSAs (their
  // certificates still come from the approved list); empty: the approved TSAs in file order.
  std::vector<std::string> messagelog_tsa_urls;

  // [logging]
  std::string log_level = "info";                 // trace, debug, info, warn, error
  std::optional<std::filesystem::path> log_file;  // stderr when absent
};

// Reads and validates a configuration file. Relative paths (and a relative SQLite database path)
// resolve against the file's directory. InvalidConfiguration lists every problem.
[[nodiscard]] Result<NodeConf> load_node_conf(const std::filesystem::path& file);
// The same for TOML text; relative paths resolve against `base_dir`.
[[nodiscard]] Result<NodeConf> parse_node_conf(std::string_view toml,
                                               const std::filesystem::path& base_dir,
                                               std::string_view source_name = "<string>");

}  // namespace hansa::node
