// Fuzz target: hash chain verification (core/hashchain verify_hash_chain, reference section 4)
// over fuzzed HashChainResult and HashChain documents. Input:
// "<HashChainResult XML>\n#####\n<HashChain XML>\n#####\n<message bytes>"; the chain is served as
// "/sig-hashchain.xml" and the message as "/message.xml", which the chain must consume.
// Invariant: a chain that verifies recomputes to the result's digest and consumed the message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/hashchain/hashchain.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace hc = hansa::hashchain;
  const auto fields = hansa::fuzz::split_fields(hansa::fuzz::as_view(data, size), 3);
  const std::string result_xml(fields[0]);
  const std::string chain_xml(fields[1]);
  const std::string message(fields[2]);

  const hc::ReferenceResolver resolver = [&](std::string_view uri) -> std::optional<std::string> {
    if (uri == "/sig-hashchain.xml") {
      return chain_xml;
    }
    if (uri == "/message.xml") {
      return message;
    }
    return std::nullopt;
  };
  const hc::RequiredInputs inputs{{"/message.xml", std::nullopt}};
  hc::VerifyLimits limits;
  limits.xml.max_document_bytes = 64 * 1024;
  limits.max_steps_per_chain = 64;
  limits.max_values_per_step = 64;
  limits.max_reference_depth = 32;

  auto result = hc::parse_hash_chain_result(result_xml);
  const auto verified = hc::verify_hash_chain(result_xml, resolver, inputs, limits);
  if (verified.ok()) {
    invariant(result.ok(), "a verified result parses");
    auto recomputed = hc::recompute(result->uri, result->algorithm, resolver, inputs, limits);
    invariant(recomputed.ok(), "a verified chain recomputes");
    invariant(recomputed->digest == result->digest, "recomputed digest equals the result's");
    invariant(recomputed->used_inputs.count("/message.xml") == 1, "the message was consumed");
  }
  // The chain document also as its own result (a chain that names itself).
  (void)hc::verify_hash_chain(chain_xml, resolver, inputs, limits);
  return 0;
}
