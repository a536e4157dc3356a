// Fuzz target: hardened XML parsing (core/xml Document::parse) and what callers do with a parsed
// document: walking it, serializing and canonicalizing.
// Invariant: a parsed document serializes to text that parses again, and serializing that second
// document gives the same text (serialization is a fixed point after one round).

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/xml/xml.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// Visits every element below `element` (bounded by the parse limits' depth).
std::size_t walk(const hansa::xml::Element& element) {
  std::size_t count = 1;
  (void)element.local_name();
  (void)element.namespace_uri();
  (void)element.attributes();
  (void)element.has_non_blank_text_child();
  (void)element.lookup_namespace("");
  for (auto child = element.first_child(); child; child = child.next_sibling()) {
    count += walk(child);
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace xml = hansa::xml;
  const auto text = hansa::fuzz::as_view(data, size);

  // Small limits so that every limit is reachable with small inputs.
  const xml::ParseLimits limits{.max_document_bytes = 64 * 1024,
                                .max_depth = 16,
                                .max_text_bytes = 4096,
                                .max_attributes_per_element = 8,
                                .max_elements = 512};
  auto doc = xml::Document::parse(text, limits);
  if (!doc.ok()) {
    return 0;
  }
  const auto root = doc->root();
  invariant(root.valid(), "a parsed document has a root");
  const auto elements = walk(root);
  invariant(elements <= limits.max_elements, "element limit holds");
  (void)root.text();

  const auto first = doc->serialize();
  auto reparsed = xml::Document::parse(first);
  invariant(reparsed.ok(), "serialized document parses again");
  const auto second = reparsed->serialize();
  auto third_doc = xml::Document::parse(second);
  invariant(third_doc.ok(), "second serialization parses");
  invariant(third_doc->serialize() == second, "serialization is stable");

  auto c14n = xml::canonicalize(*doc, xml::C14nMethod::kExclusiveC14n10);
  auto c14n_again = xml::canonicalize(*reparsed, xml::C14nMethod::kExclusiveC14n10);
  if (c14n.ok() && c14n_again.ok()) {
    invariant(*c14n == *c14n_again, "canonical form survives serialization");
  }
  (void)xml::canonicalize(root, xml::C14nMethod::kC14n11WithComments);

  auto clone = doc->clone();
  invariant(clone.serialize() == first, "a clone serializes like the original");
  return 0;
}
