// Fuzz target: REST request targets (core/ids parse_rest_request_target, PR-REST 4.2).
// Invariant: a parsed target is rebuilt by to_rest_request_target into a target that parses to
// the same service, path and query.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ids/rest_form.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  const auto text = hansa::fuzz::as_view(data, size);

  // A small limit too, so the length check is reached with short inputs.
  const hansa::ids::RestTargetLimits small{.max_target_length = 64};
  (void)hansa::ids::parse_rest_request_target(text, small);

  auto target = hansa::ids::parse_rest_request_target(text);
  if (target.ok()) {
    invariant(target->service_path.empty() || target->service_path.front() == '/',
              "service path is empty or absolute");
    invariant(!target->service.service_version().has_value(), "REST services carry no version");
    std::optional<std::string_view> query;
    if (target->query) {
      query = *target->query;
    }
    auto rebuilt = hansa::ids::to_rest_request_target(target->service, target->service_path, query);
    invariant(rebuilt.ok(), "a parsed target can be rebuilt");
    auto again = hansa::ids::parse_rest_request_target(*rebuilt);
    invariant(again.ok(), "a rebuilt target parses");
    invariant(again->service == target->service, "service round-trips");
    invariant(again->service_path == target->service_path, "path round-trips");
    invariant(again->query == target->query, "query round-trips");
  }

  // Single segments as percent-decoding sees them.
  auto decoded = hansa::ids::percent_decode_segment(text);
  if (decoded.ok()) {
    const auto encoded = hansa::ids::percent_encode_segment(*decoded);
    auto again = hansa::ids::percent_decode_segment(encoded);
    invariant(again.ok() && *again == *decoded, "percent encoding round-trips");
  }
  return 0;
}
