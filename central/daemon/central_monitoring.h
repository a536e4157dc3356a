#pragma once

// The central server's health checks and metrics, served as `GET /health` (JSON; 200 for ok and
// degraded, 503 for failed; no token) and `GET /metrics` (Prometheus text format 0.0.4).
//
// Checks: database (a read transaction), signing_key (an active configuration-signing key whose
// key file loads and matches its certificate, which is valid and not about to expire), publish
// (age of the newest signed directory and its expiry). Metrics (prefix hansa_central_): last
// publish age, configuration expiry, signing certificate expiry, database pool use.
//
// Threading: thread-safe; checks and callbacks run on the HTTP workers' threads.

#include <chrono>
#include <functional>
#include <memory>

#include "core/metrics/health.h"
#include "core/metrics/metrics.h"

namespace hansa::db {
class Database;
}

namespace hansa::central {

class Publisher;

struct CentralMonitoringOptions {
  // publish: degraded when the newest directory is older than this (the publisher regenerates
  // on every interval, so this is a few missed intervals).
  std::chrono::seconds max_publish_age{std::chrono::minutes(10)};
  // signing_key: degraded when the active signing certificate expires within this.
  std::chrono::seconds certificate_expiry_warning{std::chrono::hours(24 * 30)};
  std::function<std::chrono::system_clock::time_point()> clock;
};

class CentralMonitoring final {
 public:
  // `db` and `publisher` must outlive this; the gauges are registered in `registry`.
  CentralMonitoring(db::Database& db, Publisher& publisher, CentralMonitoringOptions options,
                    metrics::Registry& registry);
  ~CentralMonitoring();
  CentralMonitoring(const CentralMonitoring&) = delete;
  CentralMonitoring& operator=(const CentralMonitoring&) = delete;

  [[nodiscard]] metrics::Health& health() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::central
