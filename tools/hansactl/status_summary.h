#pragma once

// The operations lines of `hansactl node status` and `hansactl central status`: overall health
// and each check that is not ok (GET /health), call counts (GET /metrics), and for a node the
// certificates (GET /api/v1/environment, when the token's role may read it).
//
// Threading: stateless functions.

#include <ostream>
#include <string>
#include <string_view>

#include "central/api/admin_client.h"

namespace hansa::hansactl {

// Prints "health: ..." (one line, then one indented line per check that is not ok, with its
// most telling details), "message log: ..." and "calls: ..." for a node. Unreachable endpoints
// are reported, never fatal.
void print_ops_summary(std::ostream& out, central::AdminClient& client, bool node);

}  // namespace hansa::hansactl
