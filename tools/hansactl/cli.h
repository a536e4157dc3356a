#pragma once

// hansactl: the command-line client of Hansa's admin APIs. `hansactl central ...` talks to the
// central server's admin API (tools/hansactl/central_commands.h); further command groups (e.g.
// `hansactl node ...`) register themselves the same way in cli.cc.
// Threading: run_hansactl is reentrant; it keeps no global state.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace hansa::hansactl {

// Looks up an environment variable (injectable for tests).
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
[[nodiscard]] Environment process_environment();

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;     // the server refused the request (4xx/5xx)
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitUnreachable = 3;  // no answer (network, TLS, timeout)

// Runs hansactl with `args` (without the program name), writing results to `out` and problems to
// `err`. Returns the exit code.
[[nodiscard]] int run_hansactl(const std::vector<std::string>& args, std::ostream& out,
                               std::ostream& err, const Environment& env);

}  // namespace hansa::hansactl
