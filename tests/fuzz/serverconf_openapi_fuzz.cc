// Fuzz target: OpenAPI 3 descriptions, JSON or YAML (node/serverconf parse_openapi).
// Invariant: a parsed document yields one REST service with endpoints within the limit.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "node/serverconf/description.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace sc = hansa::serverconf;
  const auto document = hansa::fuzz::as_view(data, size);

  const sc::DescriptionLimits limits{.max_document_bytes = 128 * 1024,
                                     .max_depth = 24,
                                     .max_nodes = 20'000,
                                     .max_xml_elements = 4096,
                                     .max_services = 64,
                                     .max_endpoints = 64};
  auto parsed = sc::parse_openapi(document, "fuzzService", limits);
  if (parsed.ok()) {
    invariant(parsed->services.size() == 1, "one REST service");
    invariant(parsed->endpoints.size() <= limits.max_endpoints, "endpoint limit holds");
  }
  (void)sc::parse_openapi(document, "fuzzService", limits,
                          std::string("https://provider.fuzz.invalid/api"));
  return 0;
}
