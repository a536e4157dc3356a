#pragma once

// The auditor's message-log routes of the node admin API (node/api/admin_api.cc wires them;
// schemas/node-admin-api.yaml documents them) and X-Road's signed-document download form
// `GET /asic?queryId=&xRoadInstance=&memberClass=&memberCode=[&subsystemCode=]
// [&requestOnly|&responseOnly][&unique][&force]` (X-Road's signed document download manual 2).
// Each function reads the request's query parameters, calls node/messagelog and returns the
// answer; bad parameters fail with BadRequest, an unknown record with NotFound.
//
// Threading: stateless functions; thread-safe as MessageLog is.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/errors/errors.h"
#include "core/http/server.h"

namespace hansa::messagelog {
class MessageLog;
}

namespace hansa::nodeapi {

// One answer: body with its media type and extra headers.
struct LogReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// GET .../messagelog/records?queryId=&client=&service=&response=&from=&to=&limit=&after=
// (from/to: RFC 3339 UTC "2026-01-31T12:00:00Z" or epoch seconds; limit at most `max_limit`).
[[nodiscard]] Result<LogReply> messagelog_find(messagelog::MessageLog& log,
                                               const http::Request& request, std::size_t max_limit);
// GET .../messagelog/records/{id}
[[nodiscard]] Result<LogReply> messagelog_record(messagelog::MessageLog& log, std::int64_t id);
// GET .../messagelog/records/{id}/asic: application/vnd.etsi.asic-e+zip
[[nodiscard]] Result<LogReply> messagelog_container(messagelog::MessageLog& log, std::int64_t id);
// GET .../messagelog/timestamper: status and backlog
[[nodiscard]] Result<LogReply> messagelog_timestamper(messagelog::MessageLog& log);
// POST .../messagelog/archive: one archiving pass now
[[nodiscard]] Result<LogReply> messagelog_archive(messagelog::MessageLog& log);
// GET /asic?... (X-Road's form): a zip of containers, or with `unique` one container.
[[nodiscard]] Result<LogReply> messagelog_asic(messagelog::MessageLog& log,
                                               const http::Request& request);

}  // namespace hansa::nodeapi
