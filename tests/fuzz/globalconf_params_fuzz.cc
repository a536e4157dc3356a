// Fuzz target: global configuration files (core/globalconf parse_shared_parameters,
// parse_private_parameters, parse_configuration_anchor; PR-GCONF Annex B, C, E). The first byte
// picks the parser (modulo 3: shared, private, anchor).
// Invariant: a parsed file writes back (write_*), and writing the re-parsed output gives the same
// bytes (writing is deterministic and loses nothing parsing kept).

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/globalconf/xml_codec.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace gc = hansa::globalconf;

template <typename Parse, typename Write>
void round_trip(std::string_view xml, const gc::GlobalConfLimits& limits, Parse parse,
                Write write) {
  auto parsed = parse(xml, limits);
  if (!parsed.ok()) {
    return;
  }
  auto written = write(*parsed);
  invariant(written.ok(), "a parsed file can be written");
  auto reparsed = parse(*written, gc::GlobalConfLimits{});
  invariant(reparsed.ok(), "a written file parses");
  auto rewritten = write(*reparsed);
  invariant(rewritten.ok() && *rewritten == *written, "writing is stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto input = hansa::fuzz::as_view(data, size);
  const auto selector = hansa::fuzz::take_selector(input);
  const gc::GlobalConfLimits limits{.max_file_bytes = 256 * 1024,
                                    .max_depth = 16,
                                    .max_elements = 4096,
                                    .max_text_bytes = 16 * 1024};
  switch (selector % 3) {
    case 0:
      round_trip(
          input, limits,
          [](std::string_view x, const gc::GlobalConfLimits& l) {
            return gc::parse_shared_parameters(x, l);
          },
          [](const gc::SharedParameters& p) { return gc::write_shared_parameters(p); });
      break;
    case 1:
      round_trip(
          input, limits,
          [](std::string_view x, const gc::GlobalConfLimits& l) {
            return gc::parse_private_parameters(x, l);
          },
          [](const gc::PrivateParameters& p) { return gc::write_private_parameters(p); });
      break;
    default:
      round_trip(
          input, limits,
          [](std::string_view x, const gc::GlobalConfLimits& l) {
            return gc::parse_configuration_anchor(x, l);
          },
          [](const gc::ConfigurationAnchor& a) { return gc::write_configuration_anchor(a); });
      break;
  }
  // Times as they appear in generatedAt and Expire-date.
  if (input.size() <= 64) {
    if (auto time = gc::parse_utc(input); time.ok()) {
      auto again = gc::parse_utc(gc::format_utc(*time));
      invariant(again.ok() && *again == *time, "UTC time round-trips");
    }
  }
  return 0;
}
