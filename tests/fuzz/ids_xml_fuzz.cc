// Fuzz target: identifiers in their XML form (core/ids xml_parse: the SOAP header's client and
// service elements, PR-MESS 2.1). Every element of the parsed document is tried as an identifier.
// Invariant: an identifier read from XML has a string form that parses to an equal identifier.

#include <cstddef>
#include <cstdint>

#include "core/ids/xml_parse.h"
#include "core/xml/xml.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void try_element(const hansa::xml::Element& element, int depth) {
  using hansa::fuzz::invariant;
  namespace ids = hansa::ids;
  if (auto any = ids::any_from_xml(element); any.ok()) {
    auto again = ids::parse_any(ids::to_string(*any));
    invariant(again.ok() && *again == *any, "XML identifier has a parseable string form");
  }
  (void)ids::client_from_xml(element);
  (void)ids::service_from_xml(element);
  (void)ids::security_server_from_xml(element);
  (void)ids::global_group_from_xml(element);
  (void)ids::local_group_from_xml(element);
  if (depth > 8) {
    return;
  }
  for (auto child = element.first_child(); child; child = child.next_sibling()) {
    try_element(child, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hansa::xml::ParseLimits limits{.max_document_bytes = 64 * 1024, .max_depth = 16};
  auto doc = hansa::xml::Document::parse(hansa::fuzz::as_view(data, size), limits);
  if (doc.ok()) {
    try_element(doc->root(), 0);
  }
  return 0;
}
