// Fuzz target: WSDL service descriptions (node/serverconf parse_wsdl, PR-MESS 3.2).
// Invariant: a parsed WSDL yields at least one service and no more than the limit.

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
  auto parsed = sc::parse_wsdl(document, limits);
  if (parsed.ok()) {
    invariant(!parsed->services.empty(), "a parsed WSDL has services");
    invariant(parsed->services.size() <= limits.max_services, "service limit holds");
  }
  (void)sc::parse_wsdl(document, limits, std::string("http://provider.fuzz.invalid/"));
  return 0;
}
