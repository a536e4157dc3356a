// hansactl entry point: everything happens in run_hansactl (tools/hansactl/cli.h).

#include <iostream>
#include <string>
#include <vector>

#include "tools/hansactl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return hansa::hansactl::run_hansactl(args, std::cout, std::cerr,
                                       hansa::hansactl::process_environment());
}
