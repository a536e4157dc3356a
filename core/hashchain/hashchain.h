#pragma once

// X-Road hash chains (reference section 4, namespace http://cyber.ee/hashchain): the DER digest
// list, building a Merkle tree over a batch of inputs with one HashChain per input and a
// HashChainResult for the root, and verifying a chain against its inputs.
//
// Build: inputs are paired left to right into an array-stored binary tree; an orphan is promoted
// to the next level without hashing. A step value is H(DER DigestList(left, right)). An input with
// attachments first becomes H(DigestList(message, attachment1, ...)) and its chain ends with a step
// holding one DataRef per part ("/message.xml", "/attachment1", ...).
//
// Verify: the HashChainResult names the first step ("/sig-hashchain.xml#STEP0"); each step's value
// is H(DigestList) of its HashValue / StepRef / DataRef children in document order. Errors (plain
// codes; signature code wraps them as MalformedSignature.<code>):
//   MalformedHashChain     XML not well-formed, not schema-valid, bad digest, unknown algorithm,
//                          unsupported Transforms, or a VerifyLimits field exceeded;
//   InvalidHashChainRef    a StepRef/result URI that names no step, a step cycle, an unresolvable
//                          chain file or required input, or a DataRef whose data does not match;
//   InvalidHashChain       the recomputed root differs from the HashChainResult digest;
//   HashChainUnusedInputs  a required input is not referenced by any DataRef.
//
// Threading: all functions are thread-safe (the compiled schema is immutable and shared).

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/xml/xml.h"

namespace hansa::hashchain {

inline constexpr std::string_view kNamespace = "http://cyber.ee/hashchain";

// A digest together with the algorithm that produced it.
struct DigestValue {
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  std::string digest;  // raw bytes
  friend bool operator==(const DigestValue&, const DigestValue&) = default;
};

// DER SEQUENCE OF SingleDigest{OCTET STRING digest, UTF8String digestMethodURI, SEQUENCE {}}.
[[nodiscard]] std::string encode_digest_list(const std::vector<DigestValue>& items);

// H(DigestList(digests)), every item tagged with `algorithm`'s URI: one hash step.
[[nodiscard]] std::string digest_hash_step(crypto::DigestAlgorithm algorithm,
                                           const std::vector<std::string>& digests);

// --- Building ---

// One input of a batch: the digest of its data and, for a message with attachments, the digests
// of the attachments (in order; they are referenced as "/attachment1", "/attachment2", ...).
struct ChainInput {
  std::string digest;
  std::vector<std::string> attachment_digests;
};

struct BuildOptions {
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  // Where each input's HashChain is stored; the result URI is this plus "#STEP0".
  std::string hash_chain_uri = "/sig-hashchain.xml";
  // The DataRef URI of each input's own data ("/message.xml", "/META-INF/signatures.xml").
  std::string data_uri = "/message.xml";
  // Refuse batches larger than this (LimitExceeded).
  std::size_t max_inputs = 10'000;  // X-Road time-stamps at most 10000 records a batch
};

struct BuiltHashChains {
  std::string root_digest;              // the HashChainResult DigestValue (raw bytes)
  std::string result_xml;               // HashChainResult document
  std::vector<std::string> chain_xmls;  // one HashChain document per input, in input order
};

// A batch's tree, kept so that any input's chain can be written later: a message log stores a
// time-stamp batch's input digests once and writes a record's chain when a container is asked
// for, instead of storing a chain per record. Writing one chain costs O(log n) from the tree.
class Tree {
 public:
  // Builds the tree over `inputs`. Fails as build_hash_chains() does.
  [[nodiscard]] static Result<Tree> build(std::vector<ChainInput> inputs,
                                          const BuildOptions& options = {});

  [[nodiscard]] std::size_t size() const { return inputs_.size(); }
  [[nodiscard]] const std::string& root_digest() const { return root_digest_; }
  // The HashChainResult document.
  [[nodiscard]] std::string result_xml() const;
  // The HashChain document of input `index`; InvalidRequest when there is no such input. The
  // same bytes as build_hash_chains() writes for that input.
  [[nodiscard]] Result<std::string> chain_xml(std::size_t index) const;

 private:
  struct Node {
    std::string value;
    std::size_t left = 0;
    std::size_t right = 0;
    bool leaf = true;
  };
  Tree() = default;

  BuildOptions options_;
  std::vector<ChainInput> inputs_;
  std::vector<Node> nodes_;          // leaves first (one per input), then each combination
  std::vector<std::size_t> parent_;  // per node; SIZE_MAX at the root
  std::string root_digest_;
};

// Builds the tree, the result and every input's chain. The XML is laid out as X-Road writes it
// (standalone UTF-8, four-space indentation). A single input without attachments (which X-Road
// signs directly, without a chain) gets a one-step chain whose root is H(DigestList(input)).
// Fails with InvalidRequest for no inputs or a digest of the wrong size, LimitExceeded for
// more than max_inputs.
[[nodiscard]] Result<BuiltHashChains> build_hash_chains(const std::vector<ChainInput>& inputs,
                                                        const BuildOptions& options = {});

// The HashChainResult document for `uri` and the root `digest`.
[[nodiscard]] std::string hash_chain_result_xml(std::string_view uri,
                                                crypto::DigestAlgorithm algorithm,
                                                std::string_view digest);

// --- Verifying ---

// The content of a HashChainResult document.
struct HashChainResult {
  std::string uri;  // "/sig-hashchain.xml#STEP0"
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  std::string digest;
  friend bool operator==(const HashChainResult&, const HashChainResult&) = default;
};

// Parses and schema-validates a HashChainResult. MalformedHashChain on any problem.
[[nodiscard]] Result<HashChainResult> parse_hash_chain_result(std::string_view xml);

// Returns the bytes behind a URI of the container ("/sig-hashchain.xml", "/message.xml"), or
// nullopt when they are not available (an attachment known only by its digest).
using ReferenceResolver = std::function<std::optional<std::string>(std::string_view uri)>;

// Inputs the chain must consume, by DataRef URI. A known digest is used as is (when its algorithm
// matches the DataRef's); without one the data is fetched through the resolver and hashed.
using RequiredInputs = std::map<std::string, std::optional<DigestValue>, std::less<>>;

struct VerifyLimits {
  // Applied to every hash chain document read through the resolver.
  xml::ParseLimits xml = {.max_document_bytes = 4 * 1024 * 1024, .max_depth = 8};
  std::size_t max_chain_documents = 16;    // distinct chain files one result may reach
  std::size_t max_steps_per_chain = 1024;  // HashStep elements in one chain document
  std::size_t max_values_per_step = 4096;  // values (message + attachments) in one step
  std::size_t max_reference_depth = 256;   // nested StepRefs from the result to a leaf
};

// What a successful recomputation found.
struct Recomputed {
  std::string digest;                 // H(DigestList(first step)), comparable to the result digest
  std::set<std::string> used_inputs;  // required inputs referenced by DataRefs
};

// Recomputes the digest of the step named by `step_uri` with `algorithm`, resolving chain files
// and data through `resolver`. Codes as in the header comment (not UnusedInputs).
[[nodiscard]] Result<Recomputed> recompute(std::string_view step_uri,
                                           crypto::DigestAlgorithm algorithm,
                                           const ReferenceResolver& resolver,
                                           const RequiredInputs& inputs,
                                           const VerifyLimits& limits = {});

// Verifies a HashChainResult document: parse, recompute, compare, then check that every required
// input was consumed.
[[nodiscard]] Status verify_hash_chain(std::string_view result_xml,
                                       const ReferenceResolver& resolver,
                                       const RequiredInputs& inputs,
                                       const VerifyLimits& limits = {});

}  // namespace hansa::hashchain
