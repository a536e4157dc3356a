// Fuzz target: XAdES signatures as X-Road writes them (core/signature parse_signature,
// signature_value_bytes; signatures.xml of ASiC containers and management requests).
// Invariant: a parsed signature has a signature value and references, and its value bytes can be
// read back by signature_value_bytes.

#include <cstddef>
#include <cstdint>

#include "core/signature/signature.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace sig = hansa::signature;
  const auto xml = hansa::fuzz::as_view(data, size);

  auto parsed = sig::parse_signature(xml);
  (void)sig::signature_value_bytes(xml);
  if (!parsed.ok()) {
    return 0;
  }
  invariant(!parsed->signed_info_c14n.empty(), "SignedInfo was canonicalized");
  (void)parsed->data_references();
  (void)parsed->is_batch();
  (void)sig::verify_signature_value(*parsed);
  return 0;
}
