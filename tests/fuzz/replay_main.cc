// Replay driver: runs fuzz targets over files, so every seed corpus replays in the normal test run
// (and a crashing input found by libFuzzer can be reproduced in any build).
//
//   hansa_fuzz_replay TARGET PATH...   replays every regular file under each PATH (a file or a
//                                      directory, walked recursively in sorted order)
//   hansa_fuzz_replay --list           prints the target names
//
// Fails (exit 1) for an unknown target or when no input was found, so a missing corpus is noticed.
// A crash, sanitizer report or broken invariant aborts the process with the input's path printed
// first.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/replay_registry.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> collect(const fs::path& root) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    files.push_back(root);
    return files;
  }
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  const auto targets = hansa::fuzz::replay_targets();
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const auto& target : targets) {
      std::printf("%s\n", target.name);
    }
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET PATH... | --list\n", argv[0]);
    return 2;
  }
  const std::string_view name = argv[1];
  const auto found = std::find_if(targets.begin(), targets.end(),
                                  [&](const auto& target) { return target.name == name; });
  if (found == targets.end()) {
    std::fprintf(stderr, "unknown fuzz target '%s' (see --list)\n", argv[1]);
    return 1;
  }
  std::size_t replayed = 0;
  for (int i = 2; i < argc; ++i) {
    for (const auto& path : collect(argv[i])) {
      std::ifstream in(path, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
      }
      std::fprintf(stderr, "replay %s (%zu bytes)\n", path.c_str(), bytes.size());
      const auto start = std::chrono::steady_clock::now();
      // A copy in its own allocation, so ASan sees reads past the end as libFuzzer would.
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
      found->run(copy.data(), copy.size());
      const auto took = std::chrono::steady_clock::now() - start;
      if (took > std::chrono::seconds(2)) {
        std::fprintf(stderr, "slow input: %s took %lld ms\n", path.c_str(),
                     static_cast<long long>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
      }
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "no inputs found for %s\n", argv[1]);
    return 1;
  }
  std::printf("%s: replayed %zu inputs\n", argv[1], replayed);
  return 0;
}
