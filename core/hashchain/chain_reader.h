#pragma once

// Reading hash chain documents for verification (internal to core/hashchain; exposed for its
// tests and benchmarks, not part of the public API).
//
// Two readers give the same answer for the documents both accept:
//   - the general reader parses with libxml2, validates against hashchain.xsd, then reads the
//     tree. It accepts every schema-valid document and reports precise errors;
//   - the strict reader is a single pass over the bytes for the layout X-Road and Hansa write:
//     ASCII only, an optional XML declaration, elements and attributes with any namespace
//     prefixes, whitespace between elements, base64 text in DigestValue. It checks everything the
//     schema and the general reader check. Anything outside that subset (comments, entity or
//     character references, CDATA, DOCTYPE, processing instructions, unknown attributes, mixed
//     content, a limit reached, any error at all) makes it decline, and the general reader
//     decides. So the strict reader never accepts a document the general reader refuses, and
//     never reports an error of its own.
// parse_chain and parse_result try the strict reader first.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/hashchain/hashchain.h"

namespace hansa::hashchain::internal {

enum class ValueKind { kHashValue, kStepRef, kDataRef };

// One child of a HashStep.
struct ParsedValue {
  ValueKind kind = ValueKind::kHashValue;
  std::optional<crypto::DigestAlgorithm> algorithm;  // own DigestMethod, if any
  std::string uri;                                   // StepRef, DataRef
  std::string digest;                                // raw bytes; HashValue, DataRef
  friend bool operator==(const ParsedValue&, const ParsedValue&) = default;
};

struct ParsedChain {
  std::optional<crypto::DigestAlgorithm> default_algorithm;
  std::map<std::string, std::vector<ParsedValue>, std::less<>> steps;  // by HashStep id
  friend bool operator==(const ParsedChain&, const ParsedChain&) = default;
};

// General reader of a HashChain document. MalformedHashChain on any problem.
[[nodiscard]] Result<ParsedChain> parse_chain_general(std::string_view text,
                                                      const VerifyLimits& limits);
// Strict reader of a HashChain document; nullopt when it declines.
[[nodiscard]] std::optional<ParsedChain> parse_chain_strict(std::string_view text,
                                                            const VerifyLimits& limits);
// Strict reader first, general reader when it declines.
[[nodiscard]] Result<ParsedChain> parse_chain(std::string_view text, const VerifyLimits& limits);

// The same for a HashChainResult document (URI, DigestMethod, DigestValue of the right size).
[[nodiscard]] Result<HashChainResult> parse_result_general(std::string_view text);
[[nodiscard]] std::optional<HashChainResult> parse_result_strict(std::string_view text);
[[nodiscard]] Result<HashChainResult> parse_result(std::string_view text);

}  // namespace hansa::hashchain::internal
