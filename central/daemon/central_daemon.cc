#include "central/daemon/central_daemon.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <utility>

#include "central/api/admin_api.h"
#include "central/daemon/central_monitoring.h"
#include "central/management/endpoint.h"
#include "central/management/management_service.h"
#include "central/publisher/publisher.h"
#include "central/registry/registry.h"
#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/key.h"
#include "core/db/database.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/server.h"
#include "core/ids/ids.h"
#include "core/metrics/endpoints.h"
#include "core/metrics/metrics.h"

namespace hansa::central {

namespace {

constexpr std::size_t kMaxPemBytes = 256 * 1024;

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot read file", path.string());
  }
  std::string data(kMaxPemBytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > kMaxPemBytes) {
    return Error(FaultCode::kLimitExceeded, "file too large", path.string());
  }
  return data;
}

// The host of "scheme://host[:port]/...". IPv6 literals in brackets keep no brackets.
std::string url_host(std::string_view url) {
  auto scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  if (rest.starts_with('[')) {
    return std::string(rest.substr(1, rest.find(']') - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

// Opens the database, creating the directory of a SQLite file.
Result<std::unique_ptr<db::Database>> open_database(const db::DbConfig& config) {
  std::string_view uri = config.uri;
  if (uri.starts_with("sqlite://")) {
    std::filesystem::path file(uri.substr(9));
    std::error_code ec;
    if (file.has_parent_path()) {
      std::filesystem::create_directories(file.parent_path(), ec);
      if (ec) {
        return Error(FaultCode::kIoError, "cannot create database directory",
                     file.parent_path().string() + ": " + ec.message());
      }
    }
  }
  return db::Database::open(config);
}

PublisherOptions publisher_options(const CentralConf& conf,
                                   std::optional<crypto::Certificate> management_cert) {
  PublisherOptions o;
  o.public_url = conf.publisher_public_url;
  o.management_service_address = conf.management_public_url;
  o.management_service_cert = std::move(management_cert);
  o.configuration_validity = conf.configuration_validity;
  o.regeneration_interval = conf.regeneration_interval;
  o.keep_directories = conf.keep_directories;
  return o;
}

// Everything that lives on the database.
struct Storage {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<ManagementService> management;
  std::unique_ptr<Publisher> publisher;
};

Result<Storage> open_storage(const CentralConf& conf,
                             std::optional<crypto::Certificate> management_cert) {
  Storage s;
  HANSA_ASSIGN_OR_RETURN(s.db, open_database(conf.database));
  HANSA_ASSIGN_OR_RETURN(s.registry, Registry::open(*s.db));
  ManagementServiceOptions mo;
  mo.auto_approve_auth_cert_reg = conf.auto_approve_auth_cert_reg;
  mo.auto_approve_client_reg = conf.auto_approve_client_reg;
  mo.auto_approve_owner_change = conf.auto_approve_owner_change;
  HANSA_ASSIGN_OR_RETURN(s.management, ManagementService::open(*s.db, *s.registry, mo));
  HANSA_ASSIGN_OR_RETURN(
      s.publisher,
      Publisher::open(*s.db, *s.registry, publisher_options(conf, std::move(management_cert))));
  return s;
}

// The management service's TLS key and certificate: loaded, or generated when both are missing.
Result<std::pair<std::string, std::string>> management_tls(const CentralConf& conf, bool generate,
                                                           bool* generated) {
  const bool have_cert = std::filesystem::exists(conf.management_tls_cert_file);
  const bool have_key = std::filesystem::exists(conf.management_tls_key_file);
  if (!have_cert && !have_key && generate) {
    HANSA_ASSIGN_OR_RETURN(
        auto generated_key,
        generate_tls_key(conf.management_tls_key_file, conf.management_tls_cert_file,
                         url_host(conf.management_public_url), std::chrono::hours(24 * 365 * 5)));
    (void)generated_key;
    if (generated != nullptr) {
      *generated = true;
    }
  }
  HANSA_ASSIGN_OR_RETURN(auto cert_pem, read_file(conf.management_tls_cert_file));
  HANSA_ASSIGN_OR_RETURN(auto key_pem, read_file(conf.management_tls_key_file));
  return std::make_pair(std::move(cert_pem), std::move(key_pem));
}

Result<crypto::Certificate> leaf_of(const std::string& chain_pem) {
  auto certs = crypto::Certificate::bundle_from_pem(chain_pem);
  if (!certs.ok()) {
    return std::move(certs).error();
  }
  if (certs->empty()) {
    return Error(FaultCode::kInvalidCertificate, "no certificate in the management TLS file");
  }
  return certs->front();
}

Status setup_logging(const CentralConf& conf) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (conf.log_file) {
      logger = spdlog::basic_logger_mt("hansa-central", conf.log_file->string());
    } else {
      logger = spdlog::stderr_color_mt("hansa-central");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(conf.log_level));
    spdlog::flush_on(spdlog::level::info);
  } catch (const std::exception& e) {
    return Error(FaultCode::kInvalidConfiguration, "cannot set up logging", e.what());
  }
  return ok_status();
}

}  // namespace

// --- init ---

Result<InitOutcome> init_central(const CentralConf& conf) {
  InitOutcome out;
  out.instance_identifier = conf.instance_identifier;
  const AuditContext ctx{.actor = "system", .source = "hansa-central init", .in_transaction = {}};

  {
    // Refuse before touching any file when the instance exists already.
    HANSA_ASSIGN_OR_RETURN(auto storage, open_storage(conf, std::nullopt));
    if (auto existing = storage.registry->instance_identifier(); existing.ok()) {
      return Error(
          FaultCode::kConflict, "the central server is already initialised",
          "instance " + *existing + " in " + std::string(db::backend_name(storage.db->backend())));
    }
  }

  HANSA_ASSIGN_OR_RETURN(auto tls, management_tls(conf, true, &out.management_tls_generated));
  HANSA_ASSIGN_OR_RETURN(auto tls_cert, leaf_of(tls.first));
  HANSA_ASSIGN_OR_RETURN(auto storage, open_storage(conf, tls_cert));
  Registry& registry = *storage.registry;

  // The configuration-signing key: generated unless both files exist.
  std::optional<crypto::Certificate> signing_cert;
  if (std::filesystem::exists(conf.signing_key_file) &&
      std::filesystem::exists(conf.signing_cert_file)) {
    HANSA_ASSIGN_OR_RETURN(auto pem, read_file(conf.signing_cert_file));
    HANSA_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_pem(pem));
    signing_cert.emplace(std::move(cert));
  } else {
    HANSA_ASSIGN_OR_RETURN(auto generated,
                           generate_signing_key(conf.signing_key_file, conf.signing_cert_file,
                                                conf.instance_identifier + " configuration signing",
                                                conf.signing_key_type));
    signing_cert.emplace(generated.cert);
    out.signing_key_generated = true;
  }

  HANSA_RETURN_IF_ERROR(registry.initialize(ctx, conf.instance_identifier));
  HANSA_ASSIGN_OR_RETURN(
      auto key_id, storage.publisher->add_signing_key(ctx, conf.signing_key_file, *signing_cert));
  (void)key_id;

  HANSA_ASSIGN_OR_RETURN(auto settings, registry.settings());
  settings.management_service_address = conf.management_public_url;
  settings.management_service_cert = tls_cert;
  if (conf.management_service_provider) {
    HANSA_ASSIGN_OR_RETURN(auto provider,
                           ids::SubsystemId::parse(*conf.management_service_provider));
    const auto& member = provider.member();
    HANSA_ASSIGN_OR_RETURN(auto classes, registry.member_classes());
    bool have_class = false;
    for (const auto& c : classes) {
      have_class = have_class || c.code == member.member_class();
    }
    if (!have_class) {
      HANSA_RETURN_IF_ERROR(
          registry.add_member_class(ctx, {member.member_class(), member.member_class()}));
    }
    if (!registry.member(member).ok()) {
      HANSA_RETURN_IF_ERROR(
          registry.add_member(ctx, member, conf.management_service_provider_name));
    }
    HANSA_RETURN_IF_ERROR(registry.add_subsystem(ctx, provider, "Management services"));
    settings.management_service_provider = ids::ClientId(provider);
  }
  HANSA_RETURN_IF_ERROR(registry.update_settings(ctx, settings));

  HANSA_ASSIGN_OR_RETURN(auto token,
                         registry.create_token(ctx, "initial-admin", AdminRole::kOperator));
  out.admin_token = std::move(token.secret);
  HANSA_ASSIGN_OR_RETURN(auto anchor, storage.publisher->anchor_xml());
  out.anchor_hash = globalconf::configuration_anchor_hash(anchor);
  return out;
}

Result<std::string> export_anchor(const CentralConf& conf) {
  HANSA_ASSIGN_OR_RETURN(auto storage, open_storage(conf, std::nullopt));
  if (!storage.registry->instance_identifier().ok()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "the central server is not initialised (run hansa-central init)");
  }
  return storage.publisher->anchor_xml();
}

// --- serve ---

struct CentralServer::Impl {
  CentralConf conf;
  Storage storage;
  std::unique_ptr<AdminApi> admin_api;
  std::unique_ptr<http::Server> admin;
  std::unique_ptr<http::Server> management;
  std::unique_ptr<http::Server> publisher;
  // Health and metrics (central/daemon/central_monitoring.h); `monitoring` is set only with a
  // dedicated port.
  metrics::Registry metrics_registry;
  std::unique_ptr<CentralMonitoring> monitor;
  std::unique_ptr<http::Server> monitoring;
  std::mutex mu;
  bool started = false;
};

CentralServer::CentralServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CentralServer::~CentralServer() { stop(); }

namespace {

http::ServerOptions server_options(const ListenConf& l) {
  http::ServerOptions o;
  o.host = l.host;
  o.port = l.port;
  o.worker_threads = l.worker_threads;
  o.max_body_bytes = l.max_body_bytes;
  o.read_timeout = l.read_timeout;
  o.body_timeout = l.body_timeout;
  o.min_body_rate = l.min_body_rate;
  return o;
}

}  // namespace

Result<std::unique_ptr<CentralServer>> CentralServer::create(const CentralConf& conf) {
  auto impl = std::make_unique<Impl>();
  impl->conf = conf;
  HANSA_ASSIGN_OR_RETURN(auto tls, management_tls(conf, false, nullptr));
  HANSA_ASSIGN_OR_RETURN(auto tls_cert, leaf_of(tls.first));
  HANSA_ASSIGN_OR_RETURN(impl->storage, open_storage(conf, tls_cert));
  auto instance = impl->storage.registry->instance_identifier();
  if (!instance.ok()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "the central server is not initialised (run hansa-central init)");
  }
  if (*instance != conf.instance_identifier) {
    return Error(FaultCode::kInvalidConfiguration,
                 "instance.identifier differs from the database's instance",
                 conf.instance_identifier + " vs " + *instance);
  }

  // Admin API.
  auto admin_options = server_options(conf.admin);
  if (conf.admin_tls_cert_file) {
    HANSA_ASSIGN_OR_RETURN(auto cert, read_file(*conf.admin_tls_cert_file));
    HANSA_ASSIGN_OR_RETURN(auto key, read_file(*conf.admin_tls_key_file));
    admin_options.tls = http::ServerTlsConfig{.cert_chain_pem = cert, .key_pem = key};
  }
  HANSA_ASSIGN_OR_RETURN(impl->admin, http::Server::create(admin_options));
  AdminApiOptions api_options;
  api_options.max_body_bytes = conf.admin.max_body_bytes;
  impl->admin_api =
      std::make_unique<AdminApi>(*impl->storage.registry, api_options,
                                 AdminApiServices{.management = impl->storage.management.get(),
                                                  .publisher = impl->storage.publisher.get()});
  impl->admin_api->register_routes(*impl->admin);

  // Health and metrics: on the admin port, or on their own.
  impl->monitor = std::make_unique<CentralMonitoring>(
      *impl->storage.db, *impl->storage.publisher,
      CentralMonitoringOptions{
          .max_publish_age = conf.monitoring_max_publish_age,
          .certificate_expiry_warning = conf.monitoring_certificate_expiry_warning,
          .clock = {}},
      impl->metrics_registry);
  http::Server* monitoring_server = impl->admin.get();
  if (conf.monitoring_dedicated_port) {
    HANSA_ASSIGN_OR_RETURN(impl->monitoring, http::Server::create(server_options(conf.monitoring)));
    monitoring_server = impl->monitoring.get();
  }
  metrics::register_endpoints(*monitoring_server, impl->monitor->health(), impl->metrics_registry);

  // Management service (HTTPS).
  auto management_options = server_options(conf.management);
  management_options.tls =
      http::ServerTlsConfig{.cert_chain_pem = tls.first, .key_pem = tls.second};
  HANSA_ASSIGN_OR_RETURN(impl->management, http::Server::create(management_options));
  add_management_routes(*impl->management, *impl->storage.management);

  // Configuration publishing (plain HTTP, PR-GCONF 2.4).
  HANSA_ASSIGN_OR_RETURN(impl->publisher, http::Server::create(server_options(conf.publisher)));
  impl->storage.publisher->register_routes(*impl->publisher);

  return std::unique_ptr<CentralServer>(new CentralServer(std::move(impl)));
}

Status CentralServer::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) {
    return ok_status();
  }
  HANSA_RETURN_IF_ERROR(impl_->publisher->start());
  auto st = impl_->management->start();
  if (st.ok()) {
    st = impl_->admin->start();
  }
  if (st.ok()) {
    st = impl_->storage.publisher->start();
  }
  if (st.ok() && impl_->monitoring) {
    st = impl_->monitoring->start();
  }
  if (!st.ok()) {
    if (impl_->monitoring) {
      impl_->monitoring->stop();
    }
    impl_->admin->stop();
    impl_->management->stop();
    impl_->publisher->stop();
    return st;
  }
  impl_->started = true;
  spdlog::info(
      "hansa-central {}: admin API on {}:{}, management service on {}:{}, "
      "configuration on {}:{}",
      impl_->conf.instance_identifier, impl_->conf.admin.host, impl_->admin->port(),
      impl_->conf.management.host, impl_->management->port(), impl_->conf.publisher.host,
      impl_->publisher->port());
  return ok_status();
}

void CentralServer::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->started) {
    return;
  }
  impl_->started = false;
  if (impl_->monitoring) {
    impl_->monitoring->stop();
  }
  impl_->admin->stop();
  impl_->management->stop();
  impl_->publisher->stop();
  impl_->storage.publisher->stop();
  spdlog::info("hansa-central stopped");
}

std::uint16_t CentralServer::admin_port() const noexcept { return impl_->admin->port(); }
std::uint16_t CentralServer::management_port() const noexcept { return impl_->management->port(); }
std::uint16_t CentralServer::publisher_port() const noexcept { return impl_->publisher->port(); }
std::uint16_t CentralServer::monitoring_port() const noexcept {
  return impl_->monitoring ? impl_->monitoring->port() : impl_->admin->port();
}

// --- command line ---

int central_main(int argc, char** argv) {
  CLI::App app{"hansa-central: the Hansa central server"};
  app.require_subcommand(1);
  std::string config;
  auto* init =
      app.add_subcommand("init", "create the instance, schema, first admin token and keys");
  init->add_option("--config,-c", config, "configuration file (TOML)")->required();
  auto* serve = app.add_subcommand("serve", "run the admin API, management service and publisher");
  serve->add_option("--config,-c", config, "configuration file (TOML)")->required();
  auto* anchor = app.add_subcommand("anchor", "print the configuration anchor for nodes");
  anchor->add_option("--config,-c", config, "configuration file (TOML)")->required();
  auto* keys = app.add_subcommand("signing-key", "configuration-signing key rotation");
  keys->require_subcommand(1);
  auto* key_list = keys->add_subcommand("list", "list the keys and their states");
  key_list->add_option("--config,-c", config, "configuration file (TOML)")->required();
  std::string key_file;
  std::string cert_file;
  auto* key_add = keys->add_subcommand(
      "add",
      "record a new standby key: the given files, or a new key generated next to the "
      "configured one");
  key_add->add_option("--config,-c", config, "configuration file (TOML)")->required();
  key_add->add_option("--key-file", key_file, "PEM private key (generated when absent)");
  key_add->add_option("--cert-file", cert_file, "PEM certificate (generated when absent)");
  std::int64_t key_id = 0;
  auto* key_activate = keys->add_subcommand("activate", "make a standby key the signing key");
  key_activate->add_option("--config,-c", config, "configuration file (TOML)")->required();
  key_activate->add_option("--id", key_id, "key id (see list)")->required();
  auto* key_retire = keys->add_subcommand("retire", "stop announcing a standby key");
  key_retire->add_option("--config,-c", config, "configuration file (TOML)")->required();
  key_retire->add_option("--id", key_id, "key id (see list)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto conf = load_central_conf(config);
  if (!conf.ok()) {
    std::cerr << "hansa-central: " << conf.error().message << "\n";
    if (!conf.error().detail.empty()) {
      std::cerr << "  (" << conf.error().detail << ")\n";
    }
    return 2;
  }
  if (auto st = setup_logging(*conf); !st.ok()) {
    std::cerr << "hansa-central: " << st.error().to_string() << "\n";
    return 2;
  }

  if (init->parsed()) {
    auto out = init_central(*conf);
    if (!out.ok()) {
      std::cerr << "hansa-central init: " << out.error().to_string() << "\n";
      return out.error().code == FaultCode::kConflict ? 3 : 1;
    }
    std::cout << "initialised instance " << out->instance_identifier << "\n";
    if (out->signing_key_generated) {
      std::cout << "configuration-signing key created: " << conf->signing_key_file.string() << "\n";
    }
    if (out->management_tls_generated) {
      std::cout << "management TLS certificate created: " << conf->management_tls_cert_file.string()
                << "\n";
    }
    std::cout << "anchor hash (SHA-224): " << out->anchor_hash << "\n";
    std::cout << "admin token (shown once, keep it safe):\n" << out->admin_token << "\n";
    return 0;
  }
  if (anchor->parsed()) {
    auto xml = export_anchor(*conf);
    if (!xml.ok()) {
      std::cerr << "hansa-central anchor: " << xml.error().to_string() << "\n";
      return 1;
    }
    std::cout << *xml;
    return 0;
  }

  if (keys->parsed()) {
    const AuditContext ctx{
        .actor = "system", .source = "hansa-central signing-key", .in_transaction = {}};
    auto storage = open_storage(*conf, std::nullopt);
    if (!storage.ok()) {
      std::cerr << "hansa-central signing-key: " << storage.error().to_string() << "\n";
      return 1;
    }
    Publisher& publisher = *storage->publisher;
    Status st = ok_status();
    if (key_add->parsed()) {
      std::filesystem::path kf = key_file;
      std::filesystem::path cf = cert_file;
      if (kf.empty() != cf.empty()) {
        std::cerr << "hansa-central signing-key add: give both --key-file and --cert-file, or "
                     "neither\n";
        return 2;
      }
      if (kf.empty()) {
        const auto stamp = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
        kf = conf->signing_key_file;
        kf.replace_filename(kf.stem().string() + "-" + stamp + kf.extension().string());
        cf = conf->signing_cert_file;
        cf.replace_filename(cf.stem().string() + "-" + stamp + cf.extension().string());
        auto generated = generate_signing_key(
            kf, cf, conf->instance_identifier + " configuration signing", conf->signing_key_type);
        if (!generated.ok()) {
          std::cerr << "hansa-central signing-key add: " << generated.error().to_string() << "\n";
          return 1;
        }
      }
      auto pem = read_file(cf);
      auto cert =
          pem.ok() ? crypto::Certificate::from_pem(*pem) : Result<crypto::Certificate>(pem.error());
      if (!cert.ok()) {
        st = std::move(cert).error();
      } else {
        auto id = publisher.add_signing_key(ctx, kf, *cert);
        if (id.ok()) {
          std::cout << "added signing key " << *id << " (" << kf.string()
                    << "); distribute the new anchor before activating it\n";
        } else {
          st = std::move(id).error();
        }
      }
    } else if (key_activate->parsed()) {
      st = publisher.activate_signing_key(ctx, key_id);
    } else if (key_retire->parsed()) {
      st = publisher.retire_signing_key(ctx, key_id);
    }
    if (!st.ok()) {
      std::cerr << "hansa-central signing-key: " << st.error().to_string() << "\n";
      return 1;
    }
    auto list = publisher.signing_keys();
    if (!list.ok()) {
      std::cerr << "hansa-central signing-key: " << list.error().to_string() << "\n";
      return 1;
    }
    for (const auto& k : *list) {
      std::cout << k.id << "\t" << signing_key_state_name(k.state) << "\t"
                << k.cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256) << "\t"
                << k.cert.subject() << "\t" << k.key_file.string() << "\n";
    }
    return 0;
  }

  // serve: block the stop signals in every thread, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = CentralServer::create(*conf);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.error().to_string());
    return 1;
  }
  if (auto st = (*server)->start(); !st.ok()) {
    spdlog::error("cannot start: {}", st.error().to_string());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received, stopping", sig);
  (*server)->stop();
  return 0;
}

}  // namespace hansa::central
