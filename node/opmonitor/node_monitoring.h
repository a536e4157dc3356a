#pragma once

// The node's health checks and metrics, served as `GET /health` (JSON, 200 for ok and degraded,
// 503 for failed or draining; no token) and `GET /metrics` (Prometheus text format 0.0.4), plus
// the environmental data the admin API shows.
//
// Health checks: database (a read transaction), globalconf (anchor, usable, age of the last
// successful download, time to expiry), token (logged in), certificates (active signing and
// authentication certificates: validity and OCSP status), tsa (the approved time-stamping
// authorities answer: degraded when none does), messagelog (time-stamping failing or blocking,
// time-stamp backlog; only when the daemon supplies the message log's status), disk (free space
// of the configured directories, the message archive first).
// Metrics (prefix hansa_node_): global configuration age and expiry, certificate expiry and OCSP
// state, token login, database pool use, disk space, process resources, draining, time-stamp
// backlog; plus whatever the other components register in the same registry.
//
// Threading: thread-safe; checks and callbacks run on the HTTP workers' threads and only call
// thread-safe services.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors/errors.h"
#include "core/metrics/health.h"
#include "core/metrics/metrics.h"
#include "node/opmonitor/environment.h"

namespace hansa::db {
class Database;
}
namespace hansa::confclient {
class ConfigurationClient;
}
namespace hansa::signer {
class Signer;
}
namespace hansa::http {
class Server;
}

namespace hansa::opmonitor {

// What the message log reports for health (an adapter over node/messagelog's time-stamper
// status, so this component does not depend on it).
struct MessageLogHealth {
  bool blocking = false;  // message exchange is refused (time-stamping failed too long)
  std::optional<std::chrono::system_clock::time_point> last_success;
  std::optional<std::chrono::system_clock::time_point> failing_since;
  std::string last_error;
  std::int64_t backlog = 0;     // records without a time-stamp
  std::int64_t unarchived = 0;  // time-stamped records not archived yet
};

// Thresholds of the checks; each default is what an operator would want paged on.
struct NodeMonitoringOptions {
  // globalconf: degraded when the last successful download is older than this.
  std::chrono::seconds globalconf_max_age{std::chrono::minutes(10)};
  // globalconf: degraded when the configuration in use expires within this (X-Road's default
  // validity is 600 s with a download every 60 s, so 120 s means several missed downloads).
  std::chrono::seconds globalconf_expiry_warning{std::chrono::minutes(2)};
  // certificates: degraded when one expires within this.
  std::chrono::seconds certificate_expiry_warning{std::chrono::hours(24 * 14)};
  // messagelog: degraded when more records than this wait for a time-stamp.
  std::int64_t timestamp_backlog_warning = 10000;
  // tsa: how long one reachability probe may take.
  std::chrono::milliseconds tsa_probe_timeout{2000};
  // disk: degraded below this many free bytes (or below the ratio); failed when nothing is free.
  std::uint64_t min_free_disk_bytes = 1ull << 30;
  double min_free_disk_ratio = 0.05;
  // Directories whose disks are checked and reported (the message archive first).
  std::vector<std::string> disk_paths;
  // Paths served.
  std::string health_path = "/health";
  std::string metrics_path = "/metrics";
  // The clock (tests inject one).
  std::function<std::chrono::system_clock::time_point()> clock;
};

// The node's parts the checks look at; null ones are left out of the health report.
struct NodeMonitoringServices {
  db::Database* db = nullptr;
  confclient::ConfigurationClient* confclient = nullptr;
  signer::Signer* signer = nullptr;
  // The message log's time-stamper state; unset when the node runs without a message log.
  std::function<Result<MessageLogHealth>()> messagelog{};
  // The URLs of the approved time-stamping authorities (global configuration); when set, the
  // "tsa" check probes each over HTTP (any answer counts as reachable).
  std::function<std::vector<std::string>()> tsa_urls{};
};

class NodeMonitoring final {
 public:
  // Registers the health checks and the node's gauges in `registry` (which must outlive this).
  NodeMonitoring(NodeMonitoringServices services, NodeMonitoringOptions options,
                 metrics::Registry& registry);
  ~NodeMonitoring();
  NodeMonitoring(const NodeMonitoring&) = delete;
  NodeMonitoring& operator=(const NodeMonitoring&) = delete;

  // The health checks (maintenance mode: health().set_draining(true)).
  [[nodiscard]] metrics::Health& health() noexcept;
  [[nodiscard]] const metrics::Health& health() const noexcept;
  [[nodiscard]] metrics::Registry& registry() noexcept;

  // Registers GET health_path and GET metrics_path on `server` (no authentication: bind the
  // server to a trusted interface). Call before server.start().
  void register_routes(http::Server& server);

  // Environmental data now (certificates from the signer, disks from the options).
  [[nodiscard]] EnvironmentData environment() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::opmonitor
