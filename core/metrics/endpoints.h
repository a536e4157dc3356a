#pragma once

// HTTP endpoints for a daemon's health and metrics on core/http: `GET <health_path>` answers the
// health report as JSON (200 for ok and degraded, 503 for failed or draining) and
// `GET <metrics_path>` the registry in the Prometheus text format 0.0.4. Neither needs a token:
// serve them on a port reachable only by the load balancer and the monitoring system.
// Library hansa_core_metrics_http (keeps hansa_core_metrics free of core/http).
//
// Threading: the handlers are thread-safe (Health and Registry are).

#include <string>

#include "core/metrics/health.h"
#include "core/metrics/metrics.h"

namespace hansa::http {
class Server;
}

namespace hansa::metrics {

struct EndpointPaths {
  std::string health = "/health";
  std::string metrics = "/metrics";
};

// Registers both routes on `server` (call before server.start()). `health` and `registry` must
// outlive the server's handlers.
void register_endpoints(http::Server& server, const Health& health, const Registry& registry,
                        const EndpointPaths& paths = {});

}  // namespace hansa::metrics
