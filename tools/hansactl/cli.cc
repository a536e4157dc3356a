#include "tools/hansactl/cli.h"

#include <cstdlib>
#include <ostream>

#include "tools/hansactl/central_commands.h"
#include "tools/hansactl/node_commands.h"

namespace hansa::hansactl {

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
}

int run_hansactl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 const Environment& env) {
  CLI::App app("hansactl: command-line client of Hansa's admin APIs", "hansactl");
  app.require_subcommand(1);
  Action action;
  auto central = add_central_commands(app, action, out, err, env);
  auto node = add_node_commands(app, action, out, err, env);
  // Further command groups are added here.

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // Prints the help of the (sub)command asked for, or the parse error.
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }
  if (!action) {
    err << "hansactl: incomplete command; see --help\n";
    return kExitUsage;
  }
  return action();
}

}  // namespace hansa::hansactl
