#include "node/daemon/node_conf.h"

#include <utility>

#include "core/conf/reader.h"

namespace hansa::node {

namespace {

using namespace std::chrono_literals;

bool is_postgres_uri(std::string_view uri) {
  return uri.starts_with("postgresql://") || uri.starts_with("postgres://") ||
         uri.find('=') != std::string_view::npos;
}

// A SQLite URI or path resolved against the configuration's directory.
std::string resolve_sqlite(std::string_view uri, const std::filesystem::path& base_dir) {
  std::string_view path = uri;
  if (path.starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (path.starts_with("sqlite:")) {
    path.remove_prefix(7);
  }
  std::filesystem::path p(path);
  if (p.is_relative()) {
    p = (base_dir.empty() ? std::filesystem::current_path() : base_dir) / p;
  }
  return "sqlite://" + p.lexically_normal().string();
}

Result<NodeConf> read_conf(conf::ConfReader& reader, const std::filesystem::path& base_dir) {
  NodeConf c;

  // [database]
  {
    auto t = reader.table("database");
    const std::string uri = t.get_string("uri", "var/node.db");
    if (uri.empty()) {
      t.add_problem("uri", "must not be empty");
    }
    c.database.uri = is_postgres_uri(uri) ? uri : resolve_sqlite(uri, base_dir);
    c.database.pool_size = static_cast<std::size_t>(t.get_integer("pool_size", 8, 1, 256));
    c.database.acquire_timeout = t.get_duration("acquire_timeout", 5s, 100ms, 600s);
    c.database.busy_timeout = t.get_duration("busy_timeout", 5s, 100ms, 600s);
    c.database.connect_timeout = t.get_duration("connect_timeout", 10s, 1s, 600s);
    c.database.statement_timeout = t.get_duration("statement_timeout", 30s, 0ms, 3600s);
  }

  // [node]
  {
    auto t = reader.table("node");
    c.state_dir = t.get_path("state_dir", "var");
    c.reload_interval = t.get_duration("reload_interval", 5s, 100ms, 3600s);
    c.memory_trim_interval = t.get_duration("memory_trim_interval", 10s, 0ms, 3600s);
  }

  // [token]
  {
    auto t = reader.table("token");
    const auto type = t.get_choice("type", "software", {"software", "pkcs11"});
    c.token_type = type == "pkcs11" ? TokenType::kPkcs11 : TokenType::kSoftware;
    c.software_token_dir = t.get_path("software_dir", c.state_dir / "token");
    c.pkcs11_module = t.get_string("pkcs11_module", "/usr/lib/softhsm/libsofthsm2.so");
    c.pkcs11_token_label = t.get_string("pkcs11_token_label", "");
    if (c.token_type == TokenType::kPkcs11) {
      if (c.pkcs11_token_label.empty()) {
        t.add_problem("pkcs11_token_label", "is required when type = \"pkcs11\"");
      }
      if (c.pkcs11_module.empty()) {
        t.add_problem("pkcs11_module", "must not be empty when type = \"pkcs11\"");
      }
    }
    c.token_pin = t.get_optional_secret("pin");
    c.min_pin_length = static_cast<std::size_t>(t.get_integer("min_pin_length", 10, 4, 256));
    c.kdf_iterations =
        static_cast<int>(t.get_integer("kdf_iterations", 310'000, 1'000, 10'000'000));
  }

  // [admin_api]
  {
    auto t = reader.table("admin_api");
    c.admin_host = t.get_string("listen_host", "127.0.0.1");
    if (c.admin_host.empty()) {
      t.add_problem("listen_host", "must not be empty");
    }
    c.admin_port = static_cast<std::uint16_t>(t.get_integer("listen_port", 4100, 0, 65535));
    c.admin_worker_threads = static_cast<std::size_t>(t.get_integer("worker_threads", 4, 1, 256));
    c.admin_max_body_bytes =
        static_cast<std::size_t>(t.get_integer("max_body_bytes", 1 << 20, 1024, 64 << 20));
    c.admin_max_upload_bytes =
        static_cast<std::size_t>(t.get_integer("max_upload_bytes", 8 << 20, 1024, 64 << 20));
    if (c.admin_max_upload_bytes < c.admin_max_body_bytes) {
      t.add_problem("max_upload_bytes", "must not be smaller than max_body_bytes");
    }
    c.admin_read_timeout = t.get_duration("read_timeout", 10s, 100ms, 600s);
    if (t.has("tls_cert_file")) {
      c.admin_tls_cert_file = t.get_path("tls_cert_file", {});
    }
    if (t.has("tls_key_file")) {
      c.admin_tls_key_file = t.get_path("tls_key_file", {});
    }
    if (c.admin_tls_cert_file.has_value() != c.admin_tls_key_file.has_value()) {
      t.add_problem("tls_cert_file", "tls_cert_file and tls_key_file must be given together");
    }
  }

  // [globalconf]
  {
    auto t = reader.table("globalconf");
    c.globalconf_refresh_interval = t.get_duration("refresh_interval", 60s, 1s, 24 * 3600s);
    c.globalconf_connect_timeout = t.get_duration("connect_timeout", 5s, 100ms, 600s);
    c.globalconf_read_timeout = t.get_duration("read_timeout", 10s, 100ms, 600s);
    c.globalconf_total_timeout = t.get_duration("total_timeout", 30s, 100ms, 3600s);
    c.globalconf_max_file_bytes =
        static_cast<std::size_t>(t.get_integer("max_file_bytes", 32 << 20, 1024, 1 << 30));
    if (c.globalconf_total_timeout < c.globalconf_read_timeout) {
      t.add_problem("total_timeout", "must not be shorter than read_timeout");
    }
  }

  // [ocsp]
  {
    auto t = reader.table("ocsp");
    c.ocsp_refresh_interval = t.get_duration("refresh_interval", 1200s, 10s, 24 * 3600s);
  }

  // [proxy]
  {
    auto t = reader.table("proxy");
    c.proxy_enabled = t.get_bool("enabled", false);
    c.proxy_require_message_log = t.get_bool("require_message_log", true);
    auto& p = c.proxy;
    auto port = [&](std::string_view key, std::int64_t def) {
      return static_cast<std::uint16_t>(t.get_integer(key, def, 0, 65535));
    };
    p.client_http_host = t.get_string("client_http_host", "127.0.0.1");
    p.client_http_port = port("client_http_port", 8080);
    p.client_https_host = t.get_string("client_https_host", "127.0.0.1");
    p.client_https_port = port("client_https_port", 8443);
    p.server_host = t.get_string("server_host", "0.0.0.0");
    p.server_port = port("server_port", 5500);
    if (p.server_host.empty()) {
      t.add_problem("server_host", "must not be empty");
    }
    if (p.client_http_host.empty() && p.client_https_host.empty()) {
      t.add_problem("client_http_host", "client_http_host and client_https_host are both empty");
    }
    p.peer_port = port("peer_port", 5500);
    if (p.peer_port == 0) {
      t.add_problem("peer_port", "must not be 0");
    }
    p.client_worker_threads =
        static_cast<std::size_t>(t.get_integer("client_worker_threads", 256, 1, 10'000));
    p.server_worker_threads =
        static_cast<std::size_t>(t.get_integer("server_worker_threads", 256, 1, 10'000));
    p.max_queued_connections =
        static_cast<std::size_t>(t.get_integer("max_queued_connections", 1024, 1, 100'000));
    p.max_body_bytes =
        static_cast<std::size_t>(t.get_integer("max_body_bytes", 64 << 20, 1024, 1 << 30));
    p.read_timeout = t.get_duration("read_timeout", 30s, 100ms, 3600s);
    p.header_timeout = t.get_duration("header_timeout", 20s, 100ms, 600s);
    p.body_timeout = t.get_duration("body_timeout", 20s, 100ms, 3600s);
    p.min_body_rate =
        static_cast<std::size_t>(t.get_integer("min_body_rate", 4096, 0, 1'000'000'000));
    p.keep_alive_timeout = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("keep_alive_timeout", 60s, 1s, 3600s));
    p.peer_connect_timeout = t.get_duration("peer_connect_timeout", 5s, 100ms, 600s);
    p.peer_total_timeout = t.get_duration("peer_total_timeout", 120s, 1s, 3600s);
    p.node_race_deadline = t.get_duration("node_race_deadline", 2s, 10ms, 600s);
    p.node_cache_ttl = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("node_cache_ttl", 3600s, 1s, 7 * 24 * 3600s));
    p.peer_pool_size = static_cast<std::size_t>(t.get_integer("peer_pool_size", 64, 1, 10'000));
    p.provider_connect_timeout = t.get_duration("provider_connect_timeout", 5s, 100ms, 600s);
    p.provider_timeout = t.get_duration("provider_timeout", 120s, 1s, 3600s);
    p.max_signing_queue =
        static_cast<std::size_t>(t.get_integer("max_signing_queue", 10'000, 1, 1'000'000));
    p.max_batch = static_cast<std::size_t>(t.get_integer("max_batch", 1'000, 1, 100'000));
    p.sign_batch_linger = t.get_duration("sign_batch_linger", 2ms, 0ms, 100ms);
    p.replay_window = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("replay_window", 600s, 1s, 7 * 24 * 3600s));
    p.max_clock_skew = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("max_clock_skew", 300s, 1s, 24 * 3600s));
    p.max_replay_entries =
        static_cast<std::size_t>(t.get_integer("max_replay_entries", 500'000, 1, 100'000'000));
  }

  // [monitoring]
  {
    auto t = reader.table("monitoring");
    c.monitoring_dedicated_port = t.get_bool("dedicated_port", false);
    c.monitoring_host = t.get_string("listen_host", "127.0.0.1");
    c.monitoring_port = static_cast<std::uint16_t>(t.get_integer("listen_port", 5590, 0, 65535));
    for (const auto& p : t.get_string_array("disk_paths", {})) {
      std::filesystem::path path(p);
      c.monitoring_disk_paths.push_back(path.is_relative() ? base_dir / path : path);
    }
    if (c.monitoring_disk_paths.empty()) {
      c.monitoring_disk_paths.push_back(c.state_dir);
    }
    c.monitoring_min_free_disk_bytes = static_cast<std::uint64_t>(
        t.get_integer("min_free_disk_bytes", 1LL << 30, 0, std::int64_t{1} << 50));
    c.monitoring_globalconf_max_age = t.get_duration("globalconf_max_age", 600s, 1s, 86400s);
    c.monitoring_certificate_expiry_warning =
        t.get_duration("certificate_expiry_warning", 14 * 86400s, 0s, 3650 * 86400s);
    c.monitoring_timestamp_backlog_warning =
        t.get_integer("timestamp_backlog_warning", 10'000, 1, 1'000'000'000);
    c.opmonitor_retention = t.get_duration("opmonitor_retention", 7 * 86400s, 3600s, 3650 * 86400s);
    c.opmonitor_queue_capacity =
        static_cast<std::size_t>(t.get_integer("opmonitor_queue_capacity", 20'000, 1, 10'000'000));
    c.opmonitor_max_records_in_payload = static_cast<std::size_t>(
        t.get_integer("opmonitor_max_records_in_payload", 10'000, 1, 100'000));
    c.opmonitor_monitoring_clients = t.get_string_array("monitoring_clients", {});
    for (const auto& id : c.opmonitor_monitoring_clients) {
      if (!ids::ClientId::parse(id).ok()) {
        t.add_problem("monitoring_clients", "not a client identifier: " + id);
      }
    }
  }

  // [messagelog]
  {
    auto t = reader.table("messagelog");
    auto& m = c.messagelog;
    c.messagelog_enabled = t.get_bool("enabled", true);
    m.body_logging = t.get_choice("body_logging", "full", {"full", "metadata"}) == "full"
                         ? messagelog::BodyLogging::kFull
                         : messagelog::BodyLogging::kMetadataOnly;
    for (const auto& [key, mode] :
         {std::pair{"metadata_only_clients", messagelog::BodyLogging::kMetadataOnly},
          std::pair{"full_body_clients", messagelog::BodyLogging::kFull}}) {
      for (const auto& id : t.get_string_array(key, {})) {
        auto parsed = ids::ClientId::parse(id);
        if (!parsed.ok()) {
          t.add_problem(key, "not a client identifier: " + id);
        } else {
          m.client_body_logging[parsed->to_string()] = mode;
        }
      }
    }
    m.max_body_bytes = static_cast<std::size_t>(
        t.get_integer("max_body_bytes", 10 * 1024 * 1024, 0, std::int64_t{1} << 34));
    m.oversize_policy = t.get_choice("oversize", "refuse", {"refuse", "metadata"}) == "refuse"
                            ? messagelog::OversizePolicy::kRefuse
                            : messagelog::OversizePolicy::kMetadataOnly;
    m.max_queue = static_cast<std::size_t>(t.get_integer("max_queue", 20'000, 1, 10'000'000));
    m.max_commit_batch =
        static_cast<std::size_t>(t.get_integer("max_commit_batch", 2'000, 1, 100'000));
    m.commit_writers = static_cast<std::size_t>(t.get_integer("commit_writers", 0, 0, 16));
    m.enqueue_timeout = t.get_duration("enqueue_timeout", 10s, 10ms, 600s);
    m.timestamp_interval = t.get_duration("timestamp_interval", 60s, 100ms, 86400s);
    m.timestamp_batch =
        static_cast<std::size_t>(t.get_integer("timestamp_batch", 10'000, 1, 10'000));
    m.timestamp_immediately = t.get_bool("timestamp_immediately", false);
    m.acceptable_failure_period =
        t.get_duration("acceptable_timestamp_failure_period", 14400s, 0s, 30 * 86400s);
    m.tsa_connect_timeout = t.get_duration("tsa_connect_timeout", 5s, 100ms, 600s);
    m.tsa_read_timeout = t.get_duration("tsa_read_timeout", 20s, 100ms, 600s);
    c.messagelog_tsa_urls = t.get_string_array("tsa_urls", {});
    m.archive_dir = t.get_path("archive_dir", c.state_dir / "archive");
    m.archive_interval = t.get_duration("archive_interval", 6 * 3600s, 1s, 30 * 86400s);
    m.archive_max_bytes = static_cast<std::size_t>(
        t.get_integer("archive_max_bytes", 32 * 1024 * 1024, 1024, std::int64_t{1} << 34));
    const std::string grouping =
        t.get_choice("archive_grouping", "none", {"none", "member", "subsystem"});
    m.archive_grouping = grouping == "member"      ? messagelog::ArchiveGrouping::kMember
                         : grouping == "subsystem" ? messagelog::ArchiveGrouping::kSubsystem
                                                   : messagelog::ArchiveGrouping::kNone;
    m.archive_transfer_command = t.get_string("archive_transfer_command", "");
    m.retention = std::chrono::hours(24 * t.get_integer("retention_days", 30, 1, 36'500));
    m.cleanup_interval = t.get_duration("cleanup_interval", 12 * 3600s, 1s, 30 * 86400s);
  }

  // [logging]
  {
    auto t = reader.table("logging");
    c.log_level = t.get_choice("level", "info", {"trace", "debug", "info", "warn", "error"});
    if (t.has("file")) {
      c.log_file = t.get_path("file", {});
    }
  }
  return reader.finish(std::move(c));
}

}  // namespace

Result<NodeConf> parse_node_conf(std::string_view toml, const std::filesystem::path& base_dir,
                                 std::string_view source_name) {
  HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_string(toml, source_name, base_dir));
  return read_conf(reader, base_dir);
}

Result<NodeConf> load_node_conf(const std::filesystem::path& file) {
  // Absolute, so relative paths in the file resolve to absolute paths (the daemon may chdir).
  const auto absolute = std::filesystem::absolute(file);
  HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_file(absolute));
  HANSA_ASSIGN_OR_RETURN(auto c, read_conf(reader, absolute.parent_path()));
  c.source = file;
  return c;
}

}  // namespace hansa::node
