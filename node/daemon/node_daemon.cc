#include "node/daemon/node_daemon.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "core/db/database.h"
#include "core/http/server.h"
#include "core/metrics/endpoints.h"
#include "core/metrics/metrics.h"
#include "node/api/admin_api.h"
#include "node/api/admin_store.h"
#include "node/globalconf/configuration_client.h"
#include "node/messagelog/message_log.h"
#include "node/opmonitor/call_metrics.h"
#include "node/opmonitor/node_monitoring.h"
#include "node/opmonitor/opmonitor.h"
#include "node/proxy/proxy_service.h"
#include "node/registration/registration.h"
#include "node/serverconf/store.h"
#include "node/signer/pkcs11_token.h"
#include "node/signer/signer.h"
#include "node/signer/software_token.h"

namespace hansa::node {

namespace {

// The message log when [proxy] require_message_log = false (benchmarks of the proxies alone):
// accepts and forgets every record.
class UnloggedMessages final : public messagelog::MessageLogWriter {
 public:
  Status append(messagelog::LogRecord) override { return ok_status(); }
  Status check_usable() const override { return ok_status(); }
};

constexpr std::size_t kMaxPemBytes = 256 * 1024;
constexpr std::size_t kMaxPinBytes = 1024;

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot read file", path.string());
  }
  std::string data(max + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > max) {
    return Error(FaultCode::kLimitExceeded, "file too large", path.string());
  }
  return data;
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

signer::SoftwareTokenOptions software_options(const NodeConf& conf) {
  signer::SoftwareTokenOptions o;
  o.dir = conf.software_token_dir;
  o.min_pin_length = conf.min_pin_length;
  o.kdf_iterations = conf.kdf_iterations;
  return o;
}

Result<std::unique_ptr<signer::Token>> open_token(const NodeConf& conf) {
  if (conf.token_type == TokenType::kPkcs11) {
    signer::Pkcs11TokenOptions o;
    o.module_path = conf.pkcs11_module;
    o.token_label = conf.pkcs11_token_label;
    HANSA_ASSIGN_OR_RETURN(auto t, signer::Pkcs11Token::open(o));
    return std::unique_ptr<signer::Token>(std::move(t));
  }
  HANSA_ASSIGN_OR_RETURN(auto t, signer::SoftwareToken::open(software_options(conf)));
  return std::unique_ptr<signer::Token>(std::move(t));
}

Status setup_logging(const NodeConf& conf) {
  try {
    std::shared_ptr<spdlog::logger> logger = spdlog::get("hansa-node");
    if (!logger) {
      logger = conf.log_file ? spdlog::basic_logger_mt("hansa-node", conf.log_file->string())
                             : spdlog::stderr_color_mt("hansa-node");
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

Result<ids::SecurityServerId> parse_server(std::string_view owner, std::string_view server_code) {
  const auto first = owner.find('/');
  const auto second = first == std::string_view::npos ? first : owner.find('/', first + 1);
  if (second == std::string_view::npos || owner.find('/', second + 1) != std::string_view::npos) {
    return Error(FaultCode::kInvalidClientIdentifier, "the owner is written INSTANCE/CLASS/CODE",
                 std::string(owner));
  }
  return ids::SecurityServerId::create(owner.substr(0, first),
                                       owner.substr(first + 1, second - first - 1),
                                       owner.substr(second + 1), server_code);
}

// --- init ---

Result<InitOutcome> init_node(const NodeConf& conf, const InitRequest& request) {
  InitOutcome out;
  out.server = request.server.to_string();
  HANSA_ASSIGN_OR_RETURN(auto db, open_database(conf.database));
  HANSA_ASSIGN_OR_RETURN(auto store, serverconf::ServerConfStore::open(*db));
  HANSA_ASSIGN_OR_RETURN(auto admin, nodeapi::AdminStore::open(*db));

  // Refuse before creating anything when the node exists already.
  if (const auto& existing = store->snapshot()->server()) {
    return Error(FaultCode::kConflict, "the node is already initialised", existing->to_string());
  }
  std::unique_ptr<signer::Token> token;
  if (conf.token_type == TokenType::kSoftware) {
    auto created =
        signer::SoftwareToken::initialize(software_options(conf), request.token_pin, "softToken-0");
    if (!created.ok()) {
      return std::move(created).error();
    }
    out.software_token_created = true;
  } else {
    // The PKCS#11 token must exist (initialised with the HSM's tools).
    HANSA_ASSIGN_OR_RETURN(token, open_token(conf));
  }
  auto undo = [&](Error e) -> Result<InitOutcome> {
    if (out.software_token_created) {
      std::error_code ec;
      std::filesystem::remove_all(conf.software_token_dir, ec);
    }
    return e;
  };
  if (auto st = store->initialize(request.server); !st.ok()) {
    return undo(std::move(st).error());
  }
  const nodeapi::AuditContext ctx{.actor = "init", .source = "hansa-node init"};
  auto created = admin->create_token(ctx, "initial-admin", nodeapi::AdminRole::kOperator);
  if (!created.ok()) {
    return std::move(created).error();
  }
  (void)admin->record(ctx, "node.init", out.server, "");
  out.admin_token = std::move(created->secret);
  return out;
}

// --- serve ---

struct NodeServer::Impl {
  NodeConf conf;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<serverconf::ServerConfStore> serverconf;
  std::unique_ptr<nodeapi::AdminStore> admin_store;
  std::unique_ptr<confclient::ConfigurationClient> confclient;
  std::unique_ptr<signer::Signer> signer;
  signer::SoftwareToken* software_token = nullptr;  // owned by the signer
  std::unique_ptr<registration::Registration> registration;
  // [monitoring]: metrics, operational records, health (GET /health, GET /metrics on the admin
  // port or on `monitoring_server`).
  metrics::Registry metrics_registry;
  std::unique_ptr<opmonitor::OpMonitor> opmonitor;
  std::unique_ptr<opmonitor::CallMetrics> call_metrics;
  std::unique_ptr<opmonitor::NodeMonitoring> monitoring;
  std::unique_ptr<http::Server> monitoring_server;
  std::unique_ptr<nodeapi::NodeAdminApi> api;
  std::unique_ptr<http::Server> admin;
  // [messagelog]: the node's own message log (set as message_log when enabled).
  std::unique_ptr<messagelog::MessageLog> own_message_log;
  // Message exchange ([proxy]): built once the message log is set and the auth key is usable.
  messagelog::MessageLogWriter* message_log = nullptr;  // set_message_log()
  UnloggedMessages unlogged;
  std::vector<opmonitor::CallObserver*> call_observers;  // add_call_observer()
  std::unique_ptr<proxy::ProxyService> proxies;          // guarded by proxy_mu
  std::string last_proxy_error;                          // guarded by proxy_mu
  std::mutex proxy_mu;

  std::mutex mu;
  bool started = false;
  std::condition_variable cv;
  bool stopping = false;
  std::thread worker;

  // Known members for CSRs and certificates: the owner and the members of the node's clients,
  // named as in the global configuration (the member code when it is not there yet).
  std::optional<std::string> member_name(const ids::MemberId& member) const {
    auto snap = serverconf->snapshot();
    bool known = snap->server() && snap->server()->owner() == member;
    for (const auto& c : snap->clients()) {
      known = known || (c.id.instance() == member.instance() &&
                        c.id.member_class() == member.member_class() &&
                        c.id.member_code() == member.member_code());
    }
    if (!known) {
      return std::nullopt;
    }
    if (auto gc = confclient->current()) {
      if (auto name = gc->member_name(ids::ClientId(member))) {
        return name;
      }
    }
    return member.member_code();
  }

  // Builds and starts the proxies when enabled and not running yet. Refuses without a message
  // log when one is required; a missing auth key (not registered yet, token logged out) is
  // retried by the worker.
  Status ensure_proxies() {
    std::lock_guard lock(proxy_mu);
    if (!conf.proxy_enabled || proxies) {
      return ok_status();
    }
    messagelog::MessageLogWriter* log = message_log;
    if (log == nullptr) {
      if (conf.proxy_require_message_log) {
        return Error(FaultCode::kInvalidConfiguration,
                     "proxy.enabled needs the message log (proxy.require_message_log)");
      }
      log = &unlogged;
    }
    proxy::ProxyServiceDeps deps;
    deps.signer = signer.get();
    confclient::ConfigurationClient* cc = confclient.get();
    serverconf::ServerConfStore* sc = serverconf.get();
    deps.globalconf = [cc] { return cc->current(); };
    deps.serverconf = [sc] { return sc->snapshot(); };
    deps.documents = [sc](std::int64_t id) { return sc->description_document(id); };
    deps.message_log = log;
    deps.observers = call_observers;
    auto built = proxy::ProxyService::create(conf.proxy, std::move(deps));
    Status started = built.ok() ? (*built)->start() : Status(built.error());
    if (!started.ok()) {
      if (started.error().to_string() != last_proxy_error) {
        last_proxy_error = started.error().to_string();
        spdlog::warn("message exchange not started: {}", last_proxy_error);
      }
      return started;
    }
    proxies = std::move(built).value();
    last_proxy_error.clear();
    spdlog::info("message exchange: client proxy on {}:{} / {}:{}, server proxy on {}:{}",
                 conf.proxy.client_http_host, proxies->client_http_port(),
                 conf.proxy.client_https_host, proxies->client_https_port(), conf.proxy.server_host,
                 proxies->server_port());
    return ok_status();
  }

  void stop_proxies() {
    std::lock_guard lock(proxy_mu);
    if (proxies) {
      proxies->stop();
      proxies.reset();
    }
  }

  // Whether an active certificate of the node has no OCSP response yet.
  bool ocsp_missing() const {
    for (const auto& c : signer->certificates()) {
      auto st = signer->ocsp_status(c.id);
      if (c.active && st.ok() && !st->response_der.has_value()) {
        return true;
      }
    }
    return false;
  }

  // Picks up changes other instances committed to a shared database and refreshes the OCSP
  // responses of the node's certificates.
  void run_worker() {
    std::unique_lock lock(mu);
    auto next_ocsp = std::chrono::steady_clock::now();
    auto next_trim = std::chrono::steady_clock::now() + conf.memory_trim_interval;
    std::shared_ptr<const globalconf::GlobalConfSnapshot> last_gc;
    while (!stopping) {
      lock.unlock();
      // An anchor imported through the admin API starts the periodic download (start() is
      // idempotent); a new configuration brings its CA certificates to the signer at once, and
      // OCSP responses still missing (a certificate just imported) are fetched now rather than
      // an OCSP refresh interval later.
      if (confclient->anchor()) {
        confclient->start();
      }
      if (auto gc = confclient->current(); gc != nullptr && gc != last_gc) {
        signer->set_ca_certificates(gc->ca_certificates());
        last_gc = std::move(gc);
      }
      if (last_gc != nullptr && ocsp_missing()) {
        next_ocsp = std::chrono::steady_clock::now();
      }
      auto changed = serverconf->reload_if_changed();
      if (!changed.ok()) {
        spdlog::warn("server configuration reload failed: {}", changed.error().to_string());
      }
      if (auto reloaded = signer->reload(); !reloaded.ok()) {
        spdlog::warn("signer registry reload failed: {}", reloaded.error().to_string());
      }
      if (auto synced = registration->sync_with_global_conf(); !synced.ok()) {
        spdlog::warn("registration state sync failed: {}", synced.error().to_string());
      }
      if (std::chrono::steady_clock::now() >= next_ocsp) {
        if (auto gc = confclient->current()) {
          signer->set_ca_certificates(gc->ca_certificates());
        }
        const auto refreshed = signer->refresh_ocsp();
        if (refreshed > 0) {
          spdlog::info("refreshed {} OCSP responses", refreshed);
        }
        next_ocsp = std::chrono::steady_clock::now() + conf.ocsp_refresh_interval;
      }
      (void)ensure_proxies();  // retried until the auth key and certificate are usable
      if (conf.memory_trim_interval.count() > 0 && std::chrono::steady_clock::now() >= next_trim) {
        ::malloc_trim(0);
        next_trim = std::chrono::steady_clock::now() + conf.memory_trim_interval;
      }
      lock.lock();
      cv.wait_for(lock, conf.reload_interval, [this] { return stopping; });
    }
  }
};

NodeServer::NodeServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NodeServer::~NodeServer() { stop(); }

Result<std::unique_ptr<NodeServer>> NodeServer::create(const NodeConf& conf) {
  auto impl = std::make_unique<Impl>();
  impl->conf = conf;
  HANSA_ASSIGN_OR_RETURN(impl->db, open_database(conf.database));
  HANSA_ASSIGN_OR_RETURN(impl->serverconf, serverconf::ServerConfStore::open(*impl->db));
  if (!impl->serverconf->snapshot()->server()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "the node is not initialised (run hansa-node init)");
  }
  HANSA_ASSIGN_OR_RETURN(impl->admin_store, nodeapi::AdminStore::open(*impl->db));
  HANSA_ASSIGN_OR_RETURN(auto token, open_token(conf));
  if (conf.token_pin) {
    if (auto st = token->login(conf.token_pin->reveal()); !st.ok()) {
      return Error(st.error().code, "cannot log in to the token with token.pin",
                   st.error().message);
    }
  }
  impl->software_token = dynamic_cast<signer::SoftwareToken*>(token.get());

  confclient::ConfigurationClientOptions co;
  co.state_dir = conf.state_dir / "globalconf";
  co.refresh_interval = conf.globalconf_refresh_interval;
  co.connect_timeout = conf.globalconf_connect_timeout;
  co.read_timeout = conf.globalconf_read_timeout;
  co.total_timeout = conf.globalconf_total_timeout;
  co.max_file_bytes = conf.globalconf_max_file_bytes;
  HANSA_ASSIGN_OR_RETURN(impl->confclient, confclient::ConfigurationClient::open(co));

  Impl* raw = impl.get();
  HANSA_ASSIGN_OR_RETURN(impl->signer, signer::Signer::create(*impl->db, signer::SignerOptions{},
                                                              [raw](const ids::MemberId& m) {
                                                                return raw->member_name(m);
                                                              }));
  HANSA_RETURN_IF_ERROR(impl->signer->add_token(std::move(token)));
  confclient::ConfigurationClient* cc = impl->confclient.get();
  HANSA_ASSIGN_OR_RETURN(impl->registration, registration::Registration::create(
                                                 *impl->db, *impl->signer, *impl->serverconf,
                                                 [cc] { return cc->current(); }));

  // The message log: time-stamps from the approved TSAs of the current global configuration
  // (or the configured URLs), archives grouped by the node's own clients.
  if (conf.messagelog_enabled) {
    messagelog::MessageLogOptions mo = conf.messagelog;
    serverconf::ServerConfStore* store = impl->serverconf.get();
    mo.is_local_client = [store](const ids::ClientId& id) {
      return store->snapshot()->find_client(id) != nullptr;
    };
    std::vector<std::string> urls = conf.messagelog_tsa_urls;
    messagelog::TsaSource tsas = [cc, urls] {
      std::vector<messagelog::TsaTarget> out;
      auto gc = cc->current();
      if (!gc) {
        return out;
      }
      std::vector<std::string> approved;
      for (const auto& tsa : gc->approved_tsas()) {
        approved.push_back(tsa.cert.der());
        if (urls.empty()) {
          out.push_back({tsa.url, {tsa.cert.der()}});
        }
      }
      for (const auto& url : urls) {
        out.push_back({url, approved});
      }
      return out;
    };
    // Group commit figures: how long commits take (what every call waits for at least, twice
    // per node) and how many records each one stores.
    auto& commit_seconds = impl->metrics_registry.histogram(
        "hansa_node_messagelog_commit_seconds",
        "Time a message log group commit took, from transaction begin to commit, by outcome",
        {"outcome"}, {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
    auto& commit_records = impl->metrics_registry.histogram(
        "hansa_node_messagelog_commit_records", "Records stored by one message log group commit",
        {}, {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000});
    mo.on_commit = [ok = commit_seconds.with({"ok"}), failed = commit_seconds.with({"failed"}),
                    records = commit_records.with({})](std::chrono::nanoseconds took, std::size_t n,
                                                       bool committed) {
      (committed ? ok : failed).observe(std::chrono::duration<double>(took).count());
      if (committed) {
        records.observe(static_cast<double>(n));
      }
    };
    // Time-stamping figures: tokens stored (one per batch) and the records linked to them.
    auto& ts_batches = impl->metrics_registry.counter(
        "hansa_node_messagelog_timestamp_batches_total",
        "Time-stamp tokens stored with their message log records (one per batch)");
    auto& ts_records =
        impl->metrics_registry.counter("hansa_node_messagelog_timestamped_records_total",
                                       "Message log records linked to a stored time-stamp token");
    mo.on_timestamp = [batches = ts_batches.with({}),
                       records = ts_records.with({})](std::size_t linked) {
      batches.inc();
      records.inc(static_cast<double>(linked));
    };
    HANSA_ASSIGN_OR_RETURN(impl->own_message_log,
                           messagelog::MessageLog::create(*impl->db, std::move(mo), tsas));
    impl->message_log = impl->own_message_log.get();
  }

  // Operations: operational records and call metrics observe every call; health checks.
  {
    opmonitor::OpMonitorOptions oo;
    oo.retention = std::chrono::duration_cast<std::chrono::seconds>(conf.opmonitor_retention);
    oo.queue_capacity = conf.opmonitor_queue_capacity;
    oo.max_records_in_payload = conf.opmonitor_max_records_in_payload;
    oo.software_version = "Hansa " + opmonitor::hansa_version();
    for (const auto& id : conf.opmonitor_monitoring_clients) {
      HANSA_ASSIGN_OR_RETURN(auto client, ids::ClientId::parse(id));
      oo.monitoring_clients.push_back(std::move(client));
    }
    HANSA_ASSIGN_OR_RETURN(impl->opmonitor,
                           opmonitor::OpMonitor::create(*impl->db, oo, &impl->metrics_registry));
    impl->call_metrics = std::make_unique<opmonitor::CallMetrics>(impl->metrics_registry);
    impl->call_observers.push_back(impl->opmonitor.get());
    impl->call_observers.push_back(impl->call_metrics.get());
    opmonitor::NodeMonitoringOptions mo;
    for (const auto& p : conf.monitoring_disk_paths) {
      mo.disk_paths.push_back(p.string());
    }
    mo.min_free_disk_bytes = conf.monitoring_min_free_disk_bytes;
    mo.globalconf_max_age =
        std::chrono::duration_cast<std::chrono::seconds>(conf.monitoring_globalconf_max_age);
    mo.certificate_expiry_warning = std::chrono::duration_cast<std::chrono::seconds>(
        conf.monitoring_certificate_expiry_warning);
    mo.timestamp_backlog_warning = conf.monitoring_timestamp_backlog_warning;
    opmonitor::NodeMonitoringServices ms{
        .db = impl->db.get(), .confclient = impl->confclient.get(), .signer = impl->signer.get()};
    ms.tsa_urls = [cc = impl->confclient.get()] {
      std::vector<std::string> urls;
      if (auto gc = cc->current()) {
        for (const auto& tsa : gc->approved_tsas()) {
          urls.push_back(tsa.url);
        }
      }
      return urls;
    };
    // The message log's time-stamper, once set_message_log() has given one.
    ms.messagelog = [raw]() -> Result<opmonitor::MessageLogHealth> {
      messagelog::MessageLogWriter* writer = nullptr;
      {
        std::lock_guard lock(raw->proxy_mu);
        writer = raw->message_log;
      }
      auto* log = dynamic_cast<messagelog::MessageLog*>(writer);
      if (log == nullptr) {
        return opmonitor::MessageLogHealth{};  // no message log (yet): nothing waits
      }
      HANSA_ASSIGN_OR_RETURN(auto st, log->timestamper_status());
      opmonitor::MessageLogHealth h;
      h.blocking = st.blocking;
      h.last_success = st.last_success;
      h.failing_since = st.failing_since;
      h.last_error = st.last_error;
      h.backlog = st.backlog;
      h.unarchived = st.unarchived;
      return h;
    };
    impl->monitoring = std::make_unique<opmonitor::NodeMonitoring>(std::move(ms), std::move(mo),
                                                                   impl->metrics_registry);
  }
  // The proxies' own counters (since the proxies last started; absent while they are down).
  auto proxy_gauge = [raw](std::string_view name, std::string_view help,
                           std::uint64_t proxy::ProxyServiceStats::*field) {
    raw->metrics_registry.callback_gauge(name, help, {}, [raw, field] {
      std::lock_guard lock(raw->proxy_mu);
      if (!raw->proxies) {
        return std::vector<metrics::Sample>{};
      }
      return std::vector<metrics::Sample>{{{}, static_cast<double>(raw->proxies->stats().*field)}};
    });
  };
  proxy_gauge("hansa_node_signed_messages", "Messages signed since the proxies started",
              &proxy::ProxyServiceStats::signed_messages);
  proxy_gauge("hansa_node_signing_batches",
              "Signing key operations (one per batch) since the proxies started",
              &proxy::ProxyServiceStats::signing_batches);
  proxy_gauge("hansa_node_signing_largest_batch", "Largest signing batch since the proxies started",
              &proxy::ProxyServiceStats::largest_batch);
  proxy_gauge("hansa_node_peer_connections", "Connections opened to other nodes",
              &proxy::ProxyServiceStats::peer_connections);
  proxy_gauge("hansa_node_peer_calls", "Calls sent to other nodes",
              &proxy::ProxyServiceStats::peer_calls);
  proxy_gauge("hansa_node_peer_tls_handshakes", "Full TLS handshakes with other nodes",
              &proxy::ProxyServiceStats::peer_tls_handshakes);
  proxy_gauge("hansa_node_peer_tls_resumed", "Resumed TLS sessions with other nodes",
              &proxy::ProxyServiceStats::peer_tls_resumed);
  raw->metrics_registry.callback_gauge(
      "hansa_node_refused_requests",
      "Requests the proxies refused before reading them (over a limit, too slow, malformed), by "
      "proxy (client: from information systems; server: from other nodes) and HTTP status, since "
      "the proxies started",
      {"proxy", "status"}, [raw] {
        std::lock_guard lock(raw->proxy_mu);
        std::vector<metrics::Sample> out;
        if (!raw->proxies) {
          return out;
        }
        const proxy::ProxyServiceStats stats = raw->proxies->stats();
        for (const auto& [proxy_name, counts] : {std::pair{"client", &stats.client_refusals},
                                                 std::pair{"server", &stats.server_refusals}}) {
          for (const http::RefusalCount& r : *counts) {
            out.push_back({{proxy_name, std::to_string(r.status)}, static_cast<double>(r.count)});
          }
        }
        return out;
      });

  http::ServerOptions so;
  so.host = conf.admin_host;
  so.port = conf.admin_port;
  so.worker_threads = conf.admin_worker_threads;
  // The HTTP layer refuses (unaudited, without reading them) only bodies far beyond the API's
  // own caps; the API refuses and audits the rest.
  so.max_body_bytes = 2 * conf.admin_max_upload_bytes;
  so.read_timeout = conf.admin_read_timeout;
  if (conf.admin_tls_cert_file) {
    HANSA_ASSIGN_OR_RETURN(auto cert, read_file(*conf.admin_tls_cert_file, kMaxPemBytes));
    HANSA_ASSIGN_OR_RETURN(auto key, read_file(*conf.admin_tls_key_file, kMaxPemBytes));
    so.tls = http::ServerTlsConfig{.cert_chain_pem = cert, .key_pem = key};
  }
  HANSA_ASSIGN_OR_RETURN(impl->admin, http::Server::create(so));
  nodeapi::NodeApiOptions ao;
  ao.max_body_bytes = conf.admin_max_body_bytes;
  ao.max_upload_bytes = conf.admin_max_upload_bytes;
  std::vector<signer::SoftwareToken*> soft;
  if (impl->software_token != nullptr) {
    soft.push_back(impl->software_token);
  }
  impl->api = std::make_unique<nodeapi::NodeAdminApi>(
      nodeapi::NodeApiServices{.admin = impl->admin_store.get(),
                               .serverconf = impl->serverconf.get(),
                               .confclient = impl->confclient.get(),
                               .signer = impl->signer.get(),
                               .registration = impl->registration.get(),
                               .software_tokens = soft,
                               .opmonitor = impl->opmonitor.get(),
                               .monitoring = impl->monitoring.get(),
                               .messagelog = impl->own_message_log.get()},
      ao);
  impl->api->register_routes(*impl->admin);
  if (conf.monitoring_dedicated_port) {
    http::ServerOptions mso;
    mso.host = conf.monitoring_host;
    mso.port = conf.monitoring_port;
    mso.worker_threads = 4;
    mso.max_body_bytes = 64 * 1024;
    HANSA_ASSIGN_OR_RETURN(impl->monitoring_server, http::Server::create(mso));
    impl->monitoring->register_routes(*impl->monitoring_server);
  } else {
    impl->monitoring->register_routes(*impl->admin);
  }
  return std::unique_ptr<NodeServer>(new NodeServer(std::move(impl)));
}

Status NodeServer::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) {
    return ok_status();
  }
  if (impl_->conf.proxy_enabled && impl_->conf.proxy_require_message_log &&
      impl_->message_log == nullptr) {
    return Error(FaultCode::kInvalidConfiguration,
                 "proxy.enabled needs the message log (set_message_log before start)");
  }
  HANSA_RETURN_IF_ERROR(impl_->admin->start());
  if (impl_->monitoring_server) {
    if (auto st = impl_->monitoring_server->start(); !st.ok()) {
      impl_->admin->stop();
      return st;
    }
  }
  impl_->opmonitor->start();
  if (impl_->own_message_log) {
    impl_->own_message_log->start();  // time-stamper, archiver, cleanup (stopped when destroyed)
  }
  if (auto proxies = impl_->ensure_proxies();
      !proxies.ok() && proxies.error().code == FaultCode::kNetworkError) {
    impl_->admin->stop();
    return proxies;  // a port is taken: a configuration problem, not a state to wait out
  }
  if (impl_->confclient->anchor()) {
    impl_->confclient->start();
  }
  impl_->stopping = false;
  impl_->worker = std::thread([impl = impl_.get()] { impl->run_worker(); });
  impl_->started = true;
  spdlog::info("hansa-node {}: admin API on {}:{}",
               impl_->serverconf->snapshot()->server()->to_string(), impl_->conf.admin_host,
               impl_->admin->port());
  return ok_status();
}

void NodeServer::stop() {
  std::unique_lock lock(impl_->mu);
  if (!impl_->started) {
    return;
  }
  impl_->started = false;
  impl_->stopping = true;
  lock.unlock();
  impl_->cv.notify_all();
  if (impl_->worker.joinable()) {
    impl_->worker.join();
  }
  impl_->stop_proxies();
  impl_->admin->stop();
  if (impl_->monitoring_server) {
    impl_->monitoring_server->stop();
  }
  impl_->opmonitor->stop();  // stores what the proxies reported last
  impl_->confclient->stop();
  spdlog::info("hansa-node stopped");
}

std::uint16_t NodeServer::admin_port() const noexcept { return impl_->admin->port(); }

std::uint16_t NodeServer::monitoring_port() const noexcept {
  return impl_->monitoring_server ? impl_->monitoring_server->port() : impl_->admin->port();
}

void NodeServer::set_message_log(messagelog::MessageLogWriter* log) {
  std::lock_guard lock(impl_->proxy_mu);
  HANSA_CHECK(!impl_->proxies);  // before start()
  impl_->message_log = log;
}

void NodeServer::add_call_observer(opmonitor::CallObserver* observer) {
  std::lock_guard lock(impl_->proxy_mu);
  HANSA_CHECK(!impl_->proxies);  // before start()
  impl_->call_observers.push_back(observer);
}

std::uint16_t NodeServer::client_proxy_port() const noexcept {
  std::lock_guard lock(impl_->proxy_mu);
  return impl_->proxies ? impl_->proxies->client_http_port() : 0;
}

std::uint16_t NodeServer::server_proxy_port() const noexcept {
  std::lock_guard lock(impl_->proxy_mu);
  return impl_->proxies ? impl_->proxies->server_port() : 0;
}

// --- command line ---

int node_main(int argc, char** argv) {
  CLI::App app{"hansa-node: the Hansa node (security server)"};
  app.require_subcommand(1);
  std::string config;
  std::string owner;
  std::string server_code;
  std::string pin_file;
  auto* init =
      app.add_subcommand("init", "create the node's database, token and first admin token");
  init->add_option("--config,-c", config, "configuration file (TOML)")->required();
  init->add_option("--owner", owner, "owner member: INSTANCE/CLASS/CODE")->required();
  init->add_option("--server-code", server_code, "the node's server code")->required();
  init->add_option("--pin-file", pin_file, "file holding the new software token's PIN");
  auto* serve = app.add_subcommand("serve", "run the admin API and the configuration client");
  serve->add_option("--config,-c", config, "configuration file (TOML)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto conf = load_node_conf(config);
  if (!conf.ok()) {
    std::cerr << "hansa-node: " << conf.error().message << "\n";
    if (!conf.error().detail.empty()) {
      std::cerr << "  (" << conf.error().detail << ")\n";
    }
    return 2;
  }
  if (auto st = setup_logging(*conf); !st.ok()) {
    std::cerr << "hansa-node: " << st.error().to_string() << "\n";
    return 2;
  }

  if (init->parsed()) {
    auto server = parse_server(owner, server_code);
    if (!server.ok()) {
      std::cerr << "hansa-node init: " << server.error().to_string() << "\n";
      return 2;
    }
    std::string pin;
    if (conf->token_type == TokenType::kSoftware) {
      if (!pin_file.empty()) {
        auto text = read_file(pin_file, kMaxPinBytes);
        if (!text.ok()) {
          std::cerr << "hansa-node init: " << text.error().to_string() << "\n";
          return 2;
        }
        pin = std::move(text).value();
      } else if (conf->token_pin) {
        pin = conf->token_pin->reveal();
      } else if (const char* env = std::getenv("HANSA_NODE_TOKEN_PIN"); env != nullptr) {
        pin = env;
      } else {
        std::cerr << "software token PIN: " << std::flush;
        std::getline(std::cin, pin);
      }
      while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) {
        pin.pop_back();
      }
    }
    auto out = init_node(*conf, InitRequest{*server, pin});
    if (!out.ok()) {
      std::cerr << "hansa-node init: " << out.error().to_string() << "\n";
      return out.error().code == FaultCode::kConflict ? 3 : 1;
    }
    std::cout << "initialised node " << out->server << "\n";
    if (out->software_token_created) {
      std::cout << "software token created: " << conf->software_token_dir.string() << "\n";
    }
    std::cout << "admin token (shown once, keep it safe):\n" << out->admin_token << "\n";
    return 0;
  }

  // serve: block the stop signals in every thread, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = NodeServer::create(*conf);
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

}  // namespace hansa::node
