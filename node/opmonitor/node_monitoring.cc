#include "node/opmonitor/node_monitoring.h"

#include <algorithm>

#include "core/crypto/certificate.h"
#include "core/db/database.h"
#include "core/http/client.h"
#include "core/metrics/endpoints.h"
#include "core/ocsp/response.h"
#include "node/globalconf/configuration_client.h"
#include "node/signer/signer.h"

namespace hansa::opmonitor {

namespace {

using Clock = std::chrono::system_clock;
using metrics::CheckResult;

std::string seconds_text(std::int64_t s) { return std::to_string(s) + " s"; }

std::int64_t epoch_s(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

struct NodeMonitoring::Impl {
  NodeMonitoringServices services;
  NodeMonitoringOptions options;
  metrics::Registry& registry;
  metrics::Health health{"node"};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  Impl(NodeMonitoringServices s, NodeMonitoringOptions o, metrics::Registry& r)
      : services(std::move(s)), options(std::move(o)), registry(r) {}

  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }

  CheckResult check_database() const {
    auto tx = services.db->begin(db::Access::kReadOnly);
    if (!tx.ok()) {
      return CheckResult::failed("cannot start a transaction: " + tx.error().to_string());
    }
    auto row = tx->query_one("SELECT 1");
    if (!row.ok()) {
      return CheckResult::failed("query failed: " + row.error().to_string());
    }
    const auto stats = services.db->stats();
    return std::move(CheckResult::ok("reachable")
                         .with("backend", std::string(db::backend_name(services.db->backend())))
                         .with("connections_in_use", std::to_string(stats.in_use))
                         .with("connections_max", std::to_string(stats.max)));
  }

  CheckResult check_globalconf() const {
    const auto st = services.confclient->status();
    const auto t = now();
    if (st.instance_identifier.empty()) {
      return CheckResult::failed("no configuration anchor imported");
    }
    CheckResult r = CheckResult::ok("in use");
    r.with("instance", st.instance_identifier);
    if (st.version) {
      r.with("version", std::to_string(*st.version));
    }
    if (st.last_success) {
      r.with("age", seconds_text(epoch_s(t) - epoch_s(*st.last_success)));
    }
    if (st.expires_at) {
      r.with("expires_in", seconds_text(epoch_s(*st.expires_at) - epoch_s(t)));
    }
    if (st.last_error) {
      r.with("last_error", st.last_error->to_string());
    }
    if (!st.usable || (st.expires_at && *st.expires_at <= t)) {
      r.state = metrics::HealthState::kFailed;
      r.message = st.last_success ? "the global configuration has expired"
                                  : "no global configuration downloaded yet";
      return r;
    }
    if (st.expires_at && *st.expires_at - t < options.globalconf_expiry_warning) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "the global configuration expires soon";
    } else if (st.last_success && t - *st.last_success > options.globalconf_max_age) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "the global configuration has not been refreshed recently";
    } else if (st.consecutive_failures > 0) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "the last download failed";
    }
    return r;
  }

  CheckResult check_token() const {
    const auto tokens = services.signer->tokens();
    if (tokens.empty()) {
      return CheckResult::failed("no token configured");
    }
    std::size_t logged_in = 0;
    CheckResult r;
    for (const auto& t : tokens) {
      r.with("token " + t.id, !t.status.active     ? "not available"
                              : t.status.logged_in ? "logged in"
                                                   : "logged out");
      logged_in += t.status.active && t.status.logged_in ? 1 : 0;
    }
    if (logged_in == 0) {
      r.state = metrics::HealthState::kFailed;
      r.message = "no token is logged in: signing is impossible";
    } else if (logged_in < tokens.size()) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "some tokens are logged out";
    } else {
      r.message = "logged in";
    }
    return r;
  }

  CheckResult check_certificates() const {
    const auto certs = services.signer->certificates();
    const auto t = now();
    CheckResult r = CheckResult::ok("valid, OCSP good");
    std::size_t signing = 0;
    std::size_t auth = 0;
    auto worsen = [&](metrics::HealthState s, std::string message) {
      if (static_cast<int>(s) > static_cast<int>(r.state)) {
        r.state = s;
        r.message = std::move(message);
      }
    };
    for (const auto& c : certs) {
      if (!c.active) {
        continue;
      }
      const std::string usage = std::string(signer::key_usage_name(c.usage));
      (c.usage == signer::KeyUsage::kSigning ? signing : auth) += 1;
      const std::string key = usage + " " + c.id.substr(0, std::min<std::size_t>(c.id.size(), 16));
      std::string state = "OCSP good";
      if (c.certificate.not_after() <= t) {
        worsen(metrics::HealthState::kFailed, "a certificate has expired");
        state = "expired";
      } else if (c.certificate.not_after() - t < options.certificate_expiry_warning) {
        worsen(metrics::HealthState::kDegraded, "a certificate expires soon");
        state = "expires in " + seconds_text(epoch_s(c.certificate.not_after()) - epoch_s(t));
      }
      auto ocsp = services.signer->ocsp_status(c.id);
      if (!ocsp.ok() || !ocsp->status) {
        worsen(metrics::HealthState::kDegraded, "no fresh OCSP response for a certificate");
        state = "no OCSP response" +
                (ocsp.ok() && ocsp->last_error ? ": " + ocsp->last_error->message : "");
      } else if (*ocsp->status == ocsp::CertStatus::kRevoked) {
        worsen(metrics::HealthState::kFailed, "a certificate is revoked");
        state = "revoked";
      } else if (*ocsp->status == ocsp::CertStatus::kUnknown) {
        worsen(metrics::HealthState::kFailed, "a certificate is unknown to its OCSP responder");
        state = "OCSP unknown";
      }
      r.with(key, state);
    }
    if (auth == 0) {
      worsen(metrics::HealthState::kDegraded, "no active authentication certificate");
    }
    if (signing == 0) {
      worsen(metrics::HealthState::kDegraded, "no active signing certificate");
    }
    return r;
  }

  CheckResult check_messagelog() const {
    auto st = services.messagelog();
    if (!st.ok()) {
      return CheckResult::failed("message log status unavailable: " + st.error().to_string());
    }
    CheckResult r = CheckResult::ok("time-stamping works");
    r.with("backlog", std::to_string(st->backlog));
    r.with("unarchived", std::to_string(st->unarchived));
    if (st->last_success) {
      r.with("last_timestamp_age", seconds_text(epoch_s(now()) - epoch_s(*st->last_success)));
    }
    if (!st->last_error.empty()) {
      r.with("last_error", st->last_error);
    }
    if (st->blocking) {
      r.state = metrics::HealthState::kFailed;
      r.message = "time-stamping has failed for too long: message exchange is stopped";
    } else if (st->failing_since) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "the time-stamping authority is not reachable";
      r.with("failing_for", seconds_text(epoch_s(now()) - epoch_s(*st->failing_since)));
    } else if (st->backlog > options.timestamp_backlog_warning) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "many records wait for a time-stamp";
    }
    return r;
  }

  CheckResult check_tsa() const {
    const auto urls = services.tsa_urls();
    if (urls.empty()) {
      return CheckResult::degraded(
          "no approved time-stamping authority in the global configuration");
    }
    CheckResult r = CheckResult::ok("reachable");
    std::size_t reachable = 0;
    for (const auto& url : urls) {
      // Probe the base URL (scheme://host[:port]); any HTTP answer means the TSA is up.
      const auto scheme = url.find("://");
      const auto path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
      const std::string base = path == std::string::npos ? url : url.substr(0, path);
      http::ClientOptions co;
      co.connect_timeout = options.tsa_probe_timeout;
      co.read_timeout = options.tsa_probe_timeout;
      co.write_timeout = options.tsa_probe_timeout;
      co.total_timeout = options.tsa_probe_timeout;
      co.max_response_body_bytes = 64 * 1024;
      co.keep_alive = false;
      auto client = http::Client::create(base, co);
      if (!client.ok()) {
        r.with(url, "unusable URL: " + client.error().message);
        continue;
      }
      auto answer = (*client)->get(path == std::string::npos ? "/" : url.substr(path));
      if (answer.ok()) {
        ++reachable;
        r.with(url, "answers (HTTP " + std::to_string(answer->status) + ")");
      } else {
        r.with(url, "not reachable: " + answer.error().message);
      }
    }
    if (reachable == 0) {
      r.state = metrics::HealthState::kDegraded;
      r.message = "no time-stamping authority is reachable";
    } else if (reachable < urls.size()) {
      r.message = "some time-stamping authorities are not reachable";
    }
    return r;
  }

  CheckResult check_disk() const {
    CheckResult r = CheckResult::ok("enough free space");
    for (const auto& path : options.disk_paths) {
      auto d = disk_usage(path);
      if (!d) {
        r.state = std::max(r.state, metrics::HealthState::kDegraded);
        r.message = "cannot read the file system of " + path;
        r.with(path, "unreadable");
        continue;
      }
      r.with(path, std::to_string(d->free_bytes / (1024 * 1024)) + " MiB free of " +
                       std::to_string(d->total_bytes / (1024 * 1024)) + " MiB");
      const double ratio =
          d->total_bytes > 0 ? static_cast<double>(d->free_bytes) / d->total_bytes : 0.0;
      if (d->free_bytes == 0) {
        r.state = metrics::HealthState::kFailed;
        r.message = "no free space on " + path;
      } else if (d->free_bytes < options.min_free_disk_bytes ||
                 ratio < options.min_free_disk_ratio) {
        if (r.state == metrics::HealthState::kOk) {
          r.state = metrics::HealthState::kDegraded;
          r.message = "little free space on " + path;
        }
      }
    }
    return r;
  }

  void add_checks() {
    if (services.db != nullptr) {
      health.add_check("database", [this] { return check_database(); });
    }
    if (services.confclient != nullptr) {
      health.add_check("globalconf", [this] { return check_globalconf(); });
    }
    if (services.signer != nullptr) {
      health.add_check("token", [this] { return check_token(); });
      health.add_check("certificates", [this] { return check_certificates(); });
    }
    if (services.tsa_urls) {
      health.add_check("tsa", [this] { return check_tsa(); });
    }
    if (services.messagelog) {
      health.add_check("messagelog", [this] { return check_messagelog(); });
    }
    if (!options.disk_paths.empty()) {
      health.add_check("disk", [this] { return check_disk(); });
    }
  }

  void add_metrics() {
    using metrics::Sample;
    registry.gauge("hansa_build_info", "Hansa version of this process", {"version"})
        .with({hansa_version()})
        .set(1);
    registry.callback_gauge("hansa_node_draining", "1 while the node is in maintenance mode", {},
                            [this] {
                              return std::vector<Sample>{{{}, health.draining() ? 1.0 : 0.0}};
                            });
    registry.callback_gauge(
        "hansa_node_uptime_seconds", "Seconds since the node process started", {}, [this] {
          return std::vector<Sample>{
              {{},
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}};
        });
    registry.callback_gauge("hansa_node_process_resident_memory_bytes",
                            "Resident memory of the node process", {}, [] {
                              EnvironmentOptions eo;
                              auto e = collect_environment(eo);
                              std::vector<Sample> out;
                              if (e.process_resident) {
                                out.push_back({{}, static_cast<double>(*e.process_resident)});
                              }
                              return out;
                            });
    registry.callback_gauge("hansa_node_open_files", "Open file descriptors of the node process",
                            {}, [] {
                              EnvironmentOptions eo;
                              auto e = collect_environment(eo);
                              std::vector<Sample> out;
                              if (e.open_files) {
                                out.push_back({{}, static_cast<double>(*e.open_files)});
                              }
                              return out;
                            });
    if (services.db != nullptr) {
      registry.callback_gauge(
          "hansa_node_db_connections", "Database pool connections by state (open, in_use, max)",
          {"state"}, [this] {
            const auto s = services.db->stats();
            return std::vector<Sample>{{{"open"}, static_cast<double>(s.open)},
                                       {{"in_use"}, static_cast<double>(s.in_use)},
                                       {{"max"}, static_cast<double>(s.max)}};
          });
    }
    if (services.confclient != nullptr) {
      registry.callback_gauge(
          "hansa_node_globalconf_age_seconds",
          "Seconds since the global configuration was last downloaded and verified", {}, [this] {
            const auto st = services.confclient->status();
            std::vector<Sample> out;
            if (st.last_success) {
              out.push_back({{}, std::chrono::duration<double>(now() - *st.last_success).count()});
            }
            return out;
          });
      registry.callback_gauge("hansa_node_globalconf_expiry_timestamp_seconds",
                              "When the global configuration in use expires (unix seconds)", {},
                              [this] {
                                const auto st = services.confclient->status();
                                std::vector<Sample> out;
                                if (st.expires_at) {
                                  out.push_back({{}, static_cast<double>(epoch_s(*st.expires_at))});
                                }
                                return out;
                              });
      registry.callback_gauge(
          "hansa_node_globalconf_usable", "1 when a valid global configuration is in use", {},
          [this] {
            return std::vector<Sample>{{{}, services.confclient->status().usable ? 1.0 : 0.0}};
          });
      registry.callback_gauge(
          "hansa_node_globalconf_consecutive_failures",
          "Failed global configuration downloads since the last success", {}, [this] {
            return std::vector<Sample>{
                {{}, static_cast<double>(services.confclient->status().consecutive_failures)}};
          });
    }
    if (services.signer != nullptr) {
      registry.callback_gauge(
          "hansa_node_certificate_expiry_timestamp_seconds",
          "When each active certificate of the node expires (unix seconds)", {"usage", "id"},
          [this] {
            std::vector<Sample> out;
            for (const auto& c : services.signer->certificates()) {
              if (c.active) {
                out.push_back({{std::string(signer::key_usage_name(c.usage)), c.id},
                               static_cast<double>(epoch_s(c.certificate.not_after()))});
              }
            }
            return out;
          });
      registry.callback_gauge(
          "hansa_node_certificate_ocsp_good",
          "1 when an active certificate has a fresh OCSP response saying good", {"usage", "id"},
          [this] {
            std::vector<Sample> out;
            for (const auto& c : services.signer->certificates()) {
              if (!c.active) {
                continue;
              }
              auto o = services.signer->ocsp_status(c.id);
              const bool good = o.ok() && o->status && *o->status == ocsp::CertStatus::kGood;
              out.push_back(
                  {{std::string(signer::key_usage_name(c.usage)), c.id}, good ? 1.0 : 0.0});
            }
            return out;
          });
      registry.callback_gauge("hansa_node_token_logged_in", "1 when the token is logged in",
                              {"token"}, [this] {
                                std::vector<Sample> out;
                                for (const auto& t : services.signer->tokens()) {
                                  out.push_back({{t.id}, t.status.logged_in ? 1.0 : 0.0});
                                }
                                return out;
                              });
    }
    if (services.messagelog) {
      registry.callback_gauge(
          "hansa_node_messagelog_timestamp_backlog_records",
          "Message log records waiting for a time-stamp", {}, [this] {
            auto st = services.messagelog();
            return st.ok() ? std::vector<Sample>{{{}, static_cast<double>(st->backlog)}}
                           : std::vector<Sample>{};
          });
      registry.callback_gauge(
          "hansa_node_messagelog_unarchived_records",
          "Time-stamped message log records not archived yet", {}, [this] {
            auto st = services.messagelog();
            return st.ok() ? std::vector<Sample>{{{}, static_cast<double>(st->unarchived)}}
                           : std::vector<Sample>{};
          });
      registry.callback_gauge(
          "hansa_node_messagelog_timestamping_failing",
          "1 while time-stamping fails (2 when message exchange is stopped)", {}, [this] {
            auto st = services.messagelog();
            if (!st.ok()) {
              return std::vector<Sample>{};
            }
            return std::vector<Sample>{{{}, st->blocking ? 2.0 : st->failing_since ? 1.0 : 0.0}};
          });
    }
    if (!options.disk_paths.empty()) {
      registry.callback_gauge("hansa_node_disk_free_bytes",
                              "Free bytes of the file systems the node writes to", {"path"},
                              [this] {
                                std::vector<Sample> out;
                                for (const auto& p : options.disk_paths) {
                                  if (auto d = disk_usage(p)) {
                                    out.push_back({{p}, static_cast<double>(d->free_bytes)});
                                  }
                                }
                                return out;
                              });
    }
  }
};

NodeMonitoring::NodeMonitoring(NodeMonitoringServices services, NodeMonitoringOptions options,
                               metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(services), std::move(options), registry)) {
  impl_->add_checks();
  impl_->add_metrics();
}

NodeMonitoring::~NodeMonitoring() = default;

metrics::Health& NodeMonitoring::health() noexcept { return impl_->health; }

const metrics::Health& NodeMonitoring::health() const noexcept { return impl_->health; }

metrics::Registry& NodeMonitoring::registry() noexcept { return impl_->registry; }

void NodeMonitoring::register_routes(http::Server& server) {
  metrics::register_endpoints(server, impl_->health, impl_->registry,
                              {impl_->options.health_path, impl_->options.metrics_path});
}

EnvironmentData NodeMonitoring::environment() const {
  EnvironmentOptions eo;
  eo.disk_paths = impl_->options.disk_paths;
  eo.process_start = impl_->started;
  eo.signer = impl_->services.signer;
  return collect_environment(eo);
}

}  // namespace hansa::opmonitor
