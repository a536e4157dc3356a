#pragma once

// Test-only: reads the development PKI's pki.env (certs/README.md) from HANSA_TEST_PKI_DIR.

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace hansa::ocsp::testing {

// KEY=VALUE lines of pki.env; empty when the dev PKI has not been generated.
inline std::map<std::string, std::string> read_pki_env(const std::filesystem::path& dir) {
  std::map<std::string, std::string> env;
  std::ifstream in(dir / "pki.env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

}  // namespace hansa::ocsp::testing
