// hansa-verify: the auditor's offline verifier (logic in tools/hansa-verify/verifier.h).

#include <iostream>
#include <string>
#include <vector>

#include "tools/hansa-verify/verifier.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return hansa::verify::run(args, std::cout, std::cerr);
}
