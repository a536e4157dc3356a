#pragma once

// `hansactl central <resource> <verb> ...`: every resource of the central admin API
// (schemas/central-admin-api.yaml). Connection: --url / HANSA_CENTRAL_URL (default
// http://127.0.0.1:4000), --token / HANSA_TOKEN / --token-file, --ca-file for HTTPS. Output is
// human-readable by default and the API's JSON with --json.
// Threading: one owner (the objects live for one run_hansactl call).

#include <functional>
#include <iosfwd>
#include <memory>

#include <CLI/CLI.hpp>

#include "tools/hansactl/cli.h"

namespace hansa::hansactl {

// What a parsed command does once CLI11 has read every option; returns the exit code.
using Action = std::function<int()>;

// Adds the `central` subcommand tree to `app`. The returned state must outlive parsing; the
// parsed command's action is stored into `action`.
struct CentralCommands;
[[nodiscard]] std::shared_ptr<CentralCommands> add_central_commands(CLI::App& app, Action& action,
                                                                    std::ostream& out,
                                                                    std::ostream& err,
                                                                    const Environment& env);

}  // namespace hansa::hansactl
