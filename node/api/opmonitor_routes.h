#pragma once

// The operations routes of the node admin API (node/api/admin_api.cc wires them;
// schemas/node-admin-api.yaml documents them): operational records (auditor and operator),
// operational data with getSecurityServerOperationalData semantics for a given caller,
// environmental data, and maintenance mode. Each function reads the request's query parameters,
// calls node/opmonitor and returns the JSON body; bad parameters fail with BadRequest (or the
// identifier fault codes), hostile ranges and page sizes are refused by node/opmonitor.
//
// Threading: stateless functions; thread-safe as OpMonitor and NodeMonitoring are.

#include <string>

#include "core/errors/errors.h"
#include "core/http/server.h"
#include "core/ids/ids.h"

namespace hansa::opmonitor {
class OpMonitor;
class NodeMonitoring;
}  // namespace hansa::opmonitor

namespace hansa::nodeapi {

// GET .../opmonitor/records?from=&to=&client=&provider=&service_code=&succeeded=&limit=&offset=
// (from/to: unix seconds; from defaults to an hour before `to`, `to` to now; client and provider
// are identifier strings such as "SUBSYSTEM:EE/GOV/1234/app").
[[nodiscard]] Result<std::string> opmonitor_records(const opmonitor::OpMonitor& monitor,
                                                    const http::Request& request);

// GET .../opmonitor/operational-data?caller=&records_from=&records_to=[&client=][&fields=a,b]:
// what `caller` would get from getSecurityServerOperationalData (PR-OPMON 2): all records when
// it is `owner` or a configured monitoring client, else only its own. Body
// {"recordsCount":n,"nextRecordsFrom":t|null,"records":[...]}.
[[nodiscard]] Result<std::string> opmonitor_operational_data(const opmonitor::OpMonitor& monitor,
                                                             const http::Request& request,
                                                             const ids::MemberId& owner);

// GET .../environment: the node's environmental data (node/opmonitor/environment.h).
[[nodiscard]] std::string environment_json(const opmonitor::NodeMonitoring& monitoring);

// GET/POST .../maintenance: {"draining": bool}. POST takes the same body; true makes GET /health
// answer 503 "draining" so load balancers stop sending (running requests finish).
[[nodiscard]] std::string maintenance_json(const opmonitor::NodeMonitoring& monitoring);

}  // namespace hansa::nodeapi
