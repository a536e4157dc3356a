#pragma once

// `hansactl node <resource> <verb> ...`: every resource of the node admin API
// (schemas/node-admin-api.yaml). Connection: --url / HANSA_NODE_URL (default
// http://127.0.0.1:4100), --token / HANSA_TOKEN / --token-file, --ca-file for HTTPS. Output is
// human-readable by default and the API's JSON with --json.
// Threading: one owner (the objects live for one run_hansactl call).

#include <iosfwd>
#include <memory>

#include <CLI/CLI.hpp>

#include "tools/hansactl/central_commands.h"
#include "tools/hansactl/cli.h"

namespace hansa::hansactl {

// Adds the `node` subcommand tree to `app`. The returned state must outlive parsing; the parsed
// command's action is stored into `action`.
struct NodeCommands;
[[nodiscard]] std::shared_ptr<NodeCommands> add_node_commands(CLI::App& app, Action& action,
                                                              std::ostream& out, std::ostream& err,
                                                              const Environment& env);

}  // namespace hansa::hansactl
