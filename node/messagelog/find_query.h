#pragma once

// The statement behind MessageLog::find(), apart so that the tests can ask each backend how it
// plans it (a search must not read the whole log to return a page).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/database.h"
#include "node/messagelog/message_log.h"

namespace hansa::messagelog {

struct FindStatement {
  std::string sql;
  std::vector<db::Value> params;
};

// Records matching `q`, ordered by time and then id, at most q.limit of them. `q.from` and
// `q.to` are used as they are (find() fills in the defaults first). When paging, `after` is the
// time (ms) and id of the last record of the previous page and the page starts after it.
struct FindAfter {
  std::int64_t time_ms = 0;
  std::int64_t id = 0;
};
[[nodiscard]] FindStatement find_statement(const RecordQuery& q,
                                           const std::optional<FindAfter>& after);

}  // namespace hansa::messagelog
