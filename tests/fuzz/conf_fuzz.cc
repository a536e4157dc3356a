// Fuzz target: TOML configuration (core/conf ConfReader::from_string) and the typed reads a
// daemon's loader makes. Secrets are not read (they may name files).
// Invariant: finish() succeeds exactly when no problem was recorded, and calling it again gives
// the same answer.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/conf/reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  using std::chrono::milliseconds;
  namespace conf = hansa::conf;

  const conf::LoadLimits limits{.max_config_bytes = 64 * 1024, .max_array_items = 64};
  auto reader = conf::ConfReader::from_string(hansa::fuzz::as_view(data, size), "fuzz.toml",
                                              "/nonexistent-fuzz-base", limits);
  if (!reader.ok()) {
    return 0;
  }
  (void)reader->has("server");
  (void)reader->get_string("name", "x");
  (void)reader->get_choice("mode", "a", {"a", "b"});
  (void)reader->get_bool("enabled", false);
  auto server = reader->table("server");
  (void)server.get_integer("port", 8080, 1, 65535);
  (void)server.get_duration("timeout", milliseconds(1000), milliseconds(1), milliseconds(60000));
  (void)server.get_path("dir", "data");
  (void)server.get_optional_string("host");
  (void)server.get_string_array("hosts", {});
  (void)server.get_integer_array("ports", {}, 0, 65535);
  for (auto& peer : reader->table_array("peers")) {
    (void)peer.require_string("url");
    (void)peer.get_integer("weight", 1, 0, 100);
    peer.ignore("extra");
  }
  (void)reader->table("a").table("b").get_string("c", "");
  (void)reader->get_string("dotted.key.path", "");
  reader->ignore("ignored");

  const bool had_problems = !reader->problems().empty();
  const auto first = reader->finish();
  invariant(first.ok() == (!had_problems && reader->problems().empty()),
            "finish fails exactly when there are problems");
  const auto second = reader->finish();
  invariant(second.ok() == first.ok(), "finish is repeatable");
  return 0;
}
