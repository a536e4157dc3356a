#include "core/metrics/endpoints.h"

#include "core/http/server.h"

namespace hansa::metrics {

void register_endpoints(http::Server& server, const Health& health, const Registry& registry,
                        const EndpointPaths& paths) {
  server.route("GET", paths.health, [&health](const http::Request&, http::Response& res) {
    const HealthReport report = health.evaluate();
    res.status = report.http_status();
    res.set_header("Cache-Control", "no-store");
    res.set_body(report.to_json(), "application/json");
  });
  server.route("GET", paths.metrics, [&registry](const http::Request&, http::Response& res) {
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_body(registry.render(), kTextContentType);
  });
}

}  // namespace hansa::metrics
