#include "central/daemon/central_conf.h"

#include <utility>

#include "core/conf/reader.h"
#include "core/ids/ids.h"

namespace hansa::central {

namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::int64_t kMaxThreads = 256;
constexpr std::int64_t kMaxBody = 64 * 1024 * 1024;

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

ListenConf read_listen(conf::ConfReader& t, std::string_view default_host,
                       std::int64_t default_port, std::size_t default_body) {
  ListenConf l;
  l.host = t.get_string("listen_host", default_host);
  if (l.host.empty()) {
    t.add_problem("listen_host", "must not be empty");
  }
  l.port = static_cast<std::uint16_t>(t.get_integer("listen_port", default_port, 0, 65535));
  l.worker_threads = static_cast<std::size_t>(t.get_integer("worker_threads", 8, 1, kMaxThreads));
  l.max_body_bytes = static_cast<std::size_t>(
      t.get_integer("max_body_bytes", static_cast<std::int64_t>(default_body), 1024, kMaxBody));
  l.read_timeout = t.get_duration("read_timeout", 10s, 100ms, 600s);
  l.body_timeout = t.get_duration("body_timeout", 20s, 100ms, 600s);
  l.min_body_rate =
      static_cast<std::size_t>(t.get_integer("min_body_rate", 4096, 0, 1'000'000'000));
  return l;
}

std::string public_host(const std::string& listen_host) {
  return listen_host == "0.0.0.0" || listen_host == "::" ? "127.0.0.1" : listen_host;
}

void check_url(conf::ConfReader& t, std::string_view key, const std::string& url,
               std::string_view scheme) {
  if (!url.starts_with(scheme) || url.size() <= scheme.size() ||
      url.find_first_of(" \t\r\n") != std::string::npos) {
    t.add_problem(key, "must be an " + std::string(scheme.substr(0, scheme.size() - 3)) + " URL (" +
                           std::string(scheme) + "host[:port]...)");
  }
}

}  // namespace

namespace {

Result<CentralConf> read_conf(conf::ConfReader& reader, const std::filesystem::path& base_dir) {
  CentralConf c;

  // [instance]
  {
    auto t = reader.table("instance");
    c.instance_identifier = t.require_string("identifier");
    if (!c.instance_identifier.empty() &&
        !ids::MemberId::create(c.instance_identifier, "X", "Y").ok()) {
      t.add_problem("identifier", "is not a valid X-Road instance identifier");
    }
    c.management_service_provider = t.get_optional_string("management_service_provider");
    c.management_service_provider_name =
        t.get_string("management_service_provider_name", "Central server operator");
    if (c.management_service_provider) {
      auto id = ids::SubsystemId::parse(*c.management_service_provider);
      if (!id.ok()) {
        t.add_problem("management_service_provider",
                      "must be a subsystem identifier (SUBSYSTEM:INSTANCE/CLASS/CODE/SUBSYSTEM): " +
                          id.error().message);
      } else if (id->member().instance() != c.instance_identifier) {
        t.add_problem("management_service_provider", "must belong to this instance");
      }
    }
  }

  // [database]
  {
    auto t = reader.table("database");
    const std::string uri = t.get_string("uri", "var/central.db");
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

  // [admin_api]
  {
    auto t = reader.table("admin_api");
    c.admin = read_listen(t, "127.0.0.1", 4000, 1024 * 1024);
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

  // [management]
  {
    auto t = reader.table("management");
    c.management = read_listen(t, "0.0.0.0", 4001, 1024 * 1024);
    c.management_tls_cert_file = t.get_path("tls_cert_file", "var/tls/management.cert.pem");
    c.management_tls_key_file = t.get_path("tls_key_file", "var/tls/management.key.pem");
    c.management_public_url =
        t.get_string("public_url", "https://" + public_host(c.management.host) + ":" +
                                       std::to_string(c.management.port) + "/managementservice/");
    check_url(t, "public_url", c.management_public_url, "https://");
    c.auto_approve_auth_cert_reg = t.get_bool("auto_approve_auth_cert_reg", false);
    c.auto_approve_client_reg = t.get_bool("auto_approve_client_reg", false);
    c.auto_approve_owner_change = t.get_bool("auto_approve_owner_change", false);
  }

  // [publisher]
  {
    auto t = reader.table("publisher");
    c.publisher = read_listen(t, "0.0.0.0", 8080, 64 * 1024);
    c.publisher_public_url = t.get_string("public_url", "http://" + public_host(c.publisher.host) +
                                                            ":" + std::to_string(c.publisher.port));
    check_url(t, "public_url", c.publisher_public_url, "http://");
    {
      const std::string_view rest =
          std::string_view(c.publisher_public_url)
              .substr(std::min<std::size_t>(7, c.publisher_public_url.size()));
      const auto slash = rest.find('/');
      if (slash != std::string_view::npos && slash + 1 != rest.size()) {
        t.add_problem("public_url", "must be http://host[:port] without a path");
      }
    }
    c.regeneration_interval = t.get_duration("regeneration_interval", 60s, 1s, 3600s);
    if (t.has("configuration_validity")) {
      c.configuration_validity = std::chrono::duration_cast<std::chrono::seconds>(
          t.get_duration("configuration_validity", 600s, 60s, 7 * 24 * 3600s));
    }
    c.keep_directories = static_cast<std::size_t>(t.get_integer("keep_directories", 20, 1, 10000));
    const auto validity = c.configuration_validity.value_or(600s);
    if (c.regeneration_interval >= validity) {
      t.add_problem("regeneration_interval",
                    "must be shorter than the configuration validity, or nodes see expired "
                    "configuration between generations");
    }
  }

  // [signing]
  {
    auto t = reader.table("signing");
    c.signing_key_file = t.get_path("key_file", "var/signing/conf-signing.key.pem");
    c.signing_cert_file = t.get_path("cert_file", "var/signing/conf-signing.cert.pem");
    const std::string type = t.get_choice("key_type", "rsa3072", {"rsa3072", "rsa2048", "ec-p256"});
    c.signing_key_type = type == "rsa2048"   ? SigningKeyType::kRsa2048
                         : type == "ec-p256" ? SigningKeyType::kEcP256
                                             : SigningKeyType::kRsa3072;
  }

  // [monitoring]
  {
    auto t = reader.table("monitoring");
    c.monitoring_dedicated_port = t.get_bool("dedicated_port", false);
    c.monitoring = read_listen(t, "127.0.0.1", 4090, 64 * 1024);
    c.monitoring_max_publish_age = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("max_publish_age", 600s, 1s, 7 * 24 * 3600s));
    c.monitoring_certificate_expiry_warning = std::chrono::duration_cast<std::chrono::seconds>(
        t.get_duration("certificate_expiry_warning", 30 * 24 * 3600s, 0s, 3650 * 24 * 3600s));
  }

  // [logging]
  {
    auto t = reader.table("logging");
    c.log_level = t.get_choice("level", "info", {"trace", "debug", "info", "warn", "error"});
    if (t.has("file")) {
      c.log_file = t.get_path("file", {});
    }
  }

  // Ports must differ when fixed.
  auto& root = reader;
  if (c.admin.port != 0 && c.admin.port == c.management.port) {
    root.add_problem("management.listen_port", "must differ from admin_api.listen_port");
  }
  if (c.publisher.port != 0 &&
      (c.publisher.port == c.admin.port || c.publisher.port == c.management.port)) {
    root.add_problem("publisher.listen_port", "must differ from the other listen ports");
  }
  return reader.finish(std::move(c));
}

}  // namespace

Result<CentralConf> parse_central_conf(std::string_view toml, const std::filesystem::path& base_dir,
                                       std::string_view source_name) {
  HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_string(toml, source_name, base_dir));
  return read_conf(reader, base_dir);
}

Result<CentralConf> load_central_conf(const std::filesystem::path& file) {
  HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_file(file));
  HANSA_ASSIGN_OR_RETURN(auto c, read_conf(reader, std::filesystem::absolute(file).parent_path()));
  c.source = file;
  return c;
}

}  // namespace hansa::central
