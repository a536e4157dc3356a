#include "core/hashchain/hashchain.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/crypto/parse_memo.h"
#include "core/hashchain/chain_reader.h"

namespace hansa::hashchain {

namespace {

using crypto::DigestAlgorithm;

constexpr std::string_view kAttachmentUriPrefix = "/attachment";
constexpr std::string_view kStepIdPrefix = "STEP";

// --- DER (X.690) ---

void append_der_length(std::string& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<char>(len));
    return;
  }
  int bytes = 0;
  for (std::size_t l = len; l != 0; l >>= 8) {
    ++bytes;
  }
  out.push_back(static_cast<char>(0x80 | bytes));
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

// Bytes of a DER element (tag, length, content) whose content is `len` bytes.
std::size_t der_size(std::size_t len) {
  std::size_t header = 2;
  if (len >= 0x80) {
    for (std::size_t l = len; l != 0; l >>= 8) {
      ++header;
    }
  }
  return header + len;
}

void append_der_header(std::string& out, unsigned char tag, std::size_t len) {
  out.push_back(static_cast<char>(tag));
  append_der_length(out, len);
}

void append_der(std::string& out, unsigned char tag, std::string_view content) {
  append_der_header(out, tag, content.size());
  out.append(content);
}

constexpr unsigned char kDerOctetString = 0x04;
constexpr unsigned char kDerUtf8String = 0x0c;
constexpr unsigned char kDerSequence = 0x30;

// --- XML output, laid out as X-Road's marshaller writes it ---

std::string escape_attribute(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

constexpr std::string_view kXmlHeader =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr std::string_view kNamespaceDecls =
    " xmlns=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:ns2=\"http://cyber.ee/hashchain\"";

using internal::ValueKind;

// One child of a hash step, for writing.
struct StepValue {
  ValueKind kind;
  std::string uri;     // StepRef, DataRef
  std::string digest;  // HashValue, DataRef
};

struct Step {
  std::vector<StepValue> values;
};

// The writers below append piece by piece into one buffer sized up front: a node writes a chain
// for every message it signs in a batch.
void write_value(std::string& out, const StepValue& v) {
  switch (v.kind) {
    case ValueKind::kStepRef:
      out += "        <ns2:StepRef URI=\"";
      out += escape_attribute(v.uri);
      out += "\"/>\n";
      return;
    case ValueKind::kHashValue:
      out += "        <ns2:HashValue>\n";
      break;
    case ValueKind::kDataRef:
      out += "        <ns2:DataRef URI=\"";
      out += escape_attribute(v.uri);
      out += "\">\n";
      break;
  }
  out += "            <DigestValue>";
  out += crypto::base64_encode(v.digest);
  out += "</DigestValue>\n";
  out +=
      v.kind == ValueKind::kHashValue ? "        </ns2:HashValue>\n" : "        </ns2:DataRef>\n";
}

std::string write_chain_xml(DigestAlgorithm alg, const std::vector<Step>& steps) {
  // About 250 bytes per value (a SHA-512 digest in base64 and its markup), 60 per step.
  std::size_t values = 0;
  for (const auto& step : steps) {
    values += step.values.size();
  }
  std::string out;
  out.reserve(kXmlHeader.size() + kNamespaceDecls.size() + 256 + 64 * steps.size() + 256 * values);
  out += kXmlHeader;
  out += "<ns2:HashChain";
  out += kNamespaceDecls;
  out += ">\n    <ns2:DefaultDigestMethod Algorithm=\"";
  out += escape_attribute(crypto::digest_uri(alg));
  out += "\"/>\n";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    out += "    <ns2:HashStep id=\"";
    out += kStepIdPrefix;
    out += std::to_string(i);
    out += "\">\n";
    for (const auto& v : steps[i].values) {
      write_value(out, v);
    }
    out += "    </ns2:HashStep>\n";
  }
  out += "</ns2:HashChain>\n";
  return out;
}

std::string step_ref(std::size_t index) {
  std::string out = "#";
  out += kStepIdPrefix;
  out += std::to_string(index);
  return out;
}

// The final step of a multipart input: the message and each attachment by DataRef.
Step multipart_step(const ChainInput& input, const std::string& data_uri) {
  Step step;
  step.values.push_back({ValueKind::kDataRef, data_uri, input.digest});
  for (std::size_t i = 0; i < input.attachment_digests.size(); ++i) {
    step.values.push_back({ValueKind::kDataRef,
                           std::string(kAttachmentUriPrefix) + std::to_string(i + 1),
                           input.attachment_digests[i]});
  }
  return step;
}

// --- Verification ---

using internal::ParsedChain;
using internal::ParsedValue;

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kMalformedHashChain, std::move(message), std::move(detail));
}

Error bad_ref(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidHashChainRef, std::move(message), std::move(detail));
}

// Recomputes step values with memoization (a step shared by several references is hashed once)
// and cycle detection.
class Recomputer final {
 public:
  Recomputer(const ReferenceResolver& resolver, const RequiredInputs& inputs,
             const VerifyLimits& limits)
      : resolver_(resolver), inputs_(inputs), limits_(limits) {}

  // The DER digest list of the step named by `uri`, relative to chain `current` ("" = none).
  Result<std::string> step_list(std::string_view uri, const std::string& current,
                                std::size_t depth) {
    if (depth > limits_.max_reference_depth) {
      return malformed("hash step references nest deeper than max_reference_depth",
                       std::to_string(limits_.max_reference_depth));
    }
    const auto hash = uri.find('#');
    if (hash == std::string_view::npos || hash + 1 == uri.size()) {
      return bad_ref("hash step URI names no step", std::string(uri));
    }
    std::string chain_uri(uri.substr(0, hash));
    const std::string step_id(uri.substr(hash + 1));
    if (chain_uri.empty()) {
      if (current.empty()) {
        return bad_ref("hash step URI names no hash chain", std::string(uri));
      }
      chain_uri = current;
    }
    HANSA_ASSIGN_OR_RETURN(const ParsedChain* chain, load_chain(chain_uri));
    const auto step = chain->steps.find(step_id);
    if (step == chain->steps.end()) {
      return bad_ref("no hash step with this id", std::string(uri));
    }
    const std::string key = chain_uri + "#" + step_id;
    if (auto done = memo_.find(key); done != memo_.end()) {
      return done->second;
    }
    if (!in_progress_.insert(key).second) {
      return bad_ref("hash step references form a cycle", key);
    }
    std::vector<DigestValue> digests;
    digests.reserve(step->second.size());
    for (const ParsedValue& v : step->second) {
      HANSA_ASSIGN_OR_RETURN(DigestValue d, resolve_value(v, *chain, chain_uri, depth));
      digests.push_back(std::move(d));
    }
    in_progress_.erase(key);
    std::string list = encode_digest_list(digests);
    memo_.emplace(key, list);
    return list;
  }

  std::set<std::string> take_used_inputs() { return std::move(used_inputs_); }

 private:
  Result<const ParsedChain*> load_chain(const std::string& uri) {
    if (auto it = chains_.find(uri); it != chains_.end()) {
      return &it->second;
    }
    if (chains_.size() >= limits_.max_chain_documents) {
      return malformed("more than max_chain_documents hash chain files",
                       std::to_string(limits_.max_chain_documents));
    }
    auto text = resolver_ ? resolver_(uri) : std::nullopt;
    if (!text) {
      return bad_ref("cannot resolve hash chain", uri);
    }
    HANSA_ASSIGN_OR_RETURN(ParsedChain chain, internal::parse_chain(*text, limits_));
    return &chains_.emplace(uri, std::move(chain)).first->second;
  }

  static Result<DigestAlgorithm> value_algorithm(const ParsedValue& v, const ParsedChain& chain) {
    if (v.algorithm) {
      return *v.algorithm;
    }
    if (chain.default_algorithm) {
      return *chain.default_algorithm;
    }
    return malformed("hash step value without digest method and no DefaultDigestMethod");
  }

  Result<DigestValue> resolve_value(const ParsedValue& v, const ParsedChain& chain,
                                    const std::string& chain_uri, std::size_t depth) {
    HANSA_ASSIGN_OR_RETURN(DigestAlgorithm alg, value_algorithm(v, chain));
    if (v.kind != ValueKind::kStepRef && v.digest.size() != crypto::digest_size(alg)) {
      return malformed("DigestValue length does not fit its digest method", v.uri);
    }
    switch (v.kind) {
      case ValueKind::kHashValue:
        return DigestValue{alg, v.digest};
      case ValueKind::kStepRef: {
        HANSA_ASSIGN_OR_RETURN(std::string list, step_list(v.uri, chain_uri, depth + 1));
        return DigestValue{alg, crypto::digest(alg, list)};
      }
      case ValueKind::kDataRef:
        return resolve_data_ref(v, alg);
    }
    HANSA_CHECK(false);
    return malformed("unknown value kind");
  }

  Result<DigestValue> resolve_data_ref(const ParsedValue& v, DigestAlgorithm alg) {
    const auto input = inputs_.find(v.uri);
    const bool required = input != inputs_.end();
    if (required) {
      used_inputs_.insert(v.uri);
      // A known digest of the input wins over the DigestValue written in the chain.
      if (input->second && input->second->algorithm == alg) {
        return *input->second;
      }
    }
    auto data = resolver_ ? resolver_(v.uri) : std::nullopt;
    if (!data) {
      if (required) {
        return bad_ref("cannot resolve hash chain input", v.uri);
      }
      // Data not available (an attachment known only by digest): take the chain's word.
      return DigestValue{alg, v.digest};
    }
    std::string computed = crypto::digest(alg, *data);
    if (computed != v.digest) {
      return bad_ref("DataRef digest does not match the referenced data", v.uri);
    }
    return DigestValue{alg, std::move(computed)};
  }

  const ReferenceResolver& resolver_;
  const RequiredInputs& inputs_;
  const VerifyLimits& limits_;
  std::map<std::string, ParsedChain> chains_;
  std::map<std::string, std::string> memo_;
  std::set<std::string> in_progress_;
  std::set<std::string> used_inputs_;
};

}  // namespace

// Reference section 4: DigestList = SEQUENCE OF SingleDigest.
std::string encode_digest_list(const std::vector<DigestValue>& items) {
  // Sizes first, so that the list is written into one allocation: it is built for every step of
  // every chain a node writes or checks.
  const auto item_size = [](const DigestValue& item) {
    return der_size(item.digest.size()) + der_size(crypto::digest_uri(item.algorithm).size()) +
           der_size(0);
  };
  std::size_t content = 0;
  for (const auto& item : items) {
    content += der_size(item_size(item));
  }
  std::string out;
  out.reserve(der_size(content));
  append_der_header(out, kDerSequence, content);
  for (const auto& item : items) {
    append_der_header(out, kDerSequence, item_size(item));
    append_der(out, kDerOctetString, item.digest);
    append_der(out, kDerUtf8String, crypto::digest_uri(item.algorithm));
    append_der(out, kDerSequence, {});
  }
  return out;
}

std::string digest_hash_step(DigestAlgorithm algorithm, const std::vector<std::string>& digests) {
  std::vector<DigestValue> items;
  items.reserve(digests.size());
  for (const auto& d : digests) {
    items.push_back({algorithm, d});
  }
  return crypto::digest(algorithm, encode_digest_list(items));
}

std::string hash_chain_result_xml(std::string_view uri, DigestAlgorithm algorithm,
                                  std::string_view digest) {
  std::string out(kXmlHeader);
  out += "<ns2:HashChainResult URI=\"" + escape_attribute(uri) + "\"";
  out += kNamespaceDecls;
  out += ">\n    <DigestMethod Algorithm=\"";
  out += escape_attribute(crypto::digest_uri(algorithm));
  out += "\"/>\n    <DigestValue>" + crypto::base64_encode(digest) + "</DigestValue>\n";
  out += "</ns2:HashChainResult>\n";
  return out;
}

// Reference section 4, batch signatures and time-stamps: the Merkle tree and per-input chains.
Result<Tree> Tree::build(std::vector<ChainInput> inputs, const BuildOptions& options) {
  if (inputs.empty()) {
    return Error(FaultCode::kInvalidRequest, "a hash chain needs at least one input");
  }
  if (inputs.size() > options.max_inputs) {
    return Error(FaultCode::kLimitExceeded, "hash chain batch exceeds max_inputs",
                 std::to_string(options.max_inputs));
  }
  const DigestAlgorithm alg = options.algorithm;
  const std::size_t size = crypto::digest_size(alg);
  for (const auto& in : inputs) {
    bool ok = in.digest.size() == size;
    for (const auto& a : in.attachment_digests) {
      ok = ok && a.size() == size;
    }
    if (!ok) {
      return Error(FaultCode::kInvalidRequest, "hash chain input digest has the wrong size");
    }
  }

  Tree t;
  t.options_ = options;
  t.inputs_ = std::move(inputs);
  std::vector<Node>& nodes = t.nodes_;
  nodes.reserve(t.inputs_.size() * 2);
  for (const auto& in : t.inputs_) {
    Node leaf;
    if (in.attachment_digests.empty()) {
      leaf.value = in.digest;
    } else {
      std::vector<std::string> parts{in.digest};
      parts.insert(parts.end(), in.attachment_digests.begin(), in.attachment_digests.end());
      leaf.value = digest_hash_step(alg, parts);
    }
    nodes.push_back(std::move(leaf));
  }
  std::vector<std::size_t>& parent = t.parent_;
  parent.assign(t.inputs_.size(), SIZE_MAX);
  std::vector<std::size_t> level(t.inputs_.size());
  for (std::size_t i = 0; i < level.size(); ++i) {
    level[i] = i;
  }
  // Pair left to right; an orphan moves up unchanged.
  while (level.size() > 1) {
    std::vector<std::size_t> next;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      Node n;
      n.leaf = false;
      n.left = level[i];
      n.right = level[i + 1];
      n.value = digest_hash_step(alg, {nodes[n.left].value, nodes[n.right].value});
      const std::size_t idx = nodes.size();
      nodes.push_back(std::move(n));
      parent.push_back(SIZE_MAX);
      parent[level[i]] = idx;
      parent[level[i + 1]] = idx;
      next.push_back(idx);
    }
    if (level.size() % 2 == 1) {
      next.push_back(level.back());
    }
    level = std::move(next);
  }
  t.root_digest_ = (t.inputs_.size() == 1 && t.inputs_[0].attachment_digests.empty())
                       ? digest_hash_step(alg, {t.inputs_[0].digest})
                       : nodes[level.front()].value;
  return t;
}

std::string Tree::result_xml() const {
  return hash_chain_result_xml(options_.hash_chain_uri + step_ref(0), options_.algorithm,
                               root_digest_);
}

Result<std::string> Tree::chain_xml(std::size_t index) const {
  if (index >= inputs_.size()) {
    return Error(FaultCode::kInvalidRequest, "no such input in the hash chain batch",
                 std::to_string(index));
  }
  const ChainInput& input = inputs_[index];
  const bool multipart = !input.attachment_digests.empty();
  std::vector<std::size_t> path;  // combination nodes from the root down to the leaf
  for (std::size_t n = parent_[index]; n != SIZE_MAX; n = parent_[n]) {
    path.push_back(n);
  }
  std::reverse(path.begin(), path.end());
  std::vector<Step> steps;
  steps.reserve(path.size() + 1);
  for (std::size_t k = 0; k < path.size(); ++k) {
    const Node& n = nodes_[path[k]];
    const std::size_t mine = k + 1 < path.size() ? path[k + 1] : index;
    const bool mine_is_left = n.left == mine;
    const std::size_t other = mine_is_left ? n.right : n.left;
    StepValue my_value;
    if (nodes_[mine].leaf && !multipart) {
      my_value = {ValueKind::kDataRef, options_.data_uri, input.digest};
    } else {
      my_value = {ValueKind::kStepRef, step_ref(k + 1), {}};
    }
    StepValue other_value{ValueKind::kHashValue, {}, nodes_[other].value};
    Step step;
    if (mine_is_left) {
      step.values = {std::move(my_value), std::move(other_value)};
    } else {
      step.values = {std::move(other_value), std::move(my_value)};
    }
    steps.push_back(std::move(step));
  }
  if (multipart) {
    steps.push_back(multipart_step(input, options_.data_uri));
  } else if (path.empty()) {
    // One input without attachments: a single step over its data.
    Step step;
    step.values.push_back({ValueKind::kDataRef, options_.data_uri, input.digest});
    steps.push_back(std::move(step));
  }
  return write_chain_xml(options_.algorithm, steps);
}

Result<BuiltHashChains> build_hash_chains(const std::vector<ChainInput>& inputs,
                                          const BuildOptions& options) {
  HANSA_ASSIGN_OR_RETURN(Tree tree, Tree::build(inputs, options));
  BuiltHashChains out;
  out.chain_xmls.reserve(tree.size());
  for (std::size_t i = 0; i < tree.size(); ++i) {
    HANSA_ASSIGN_OR_RETURN(std::string chain, tree.chain_xml(i));
    out.chain_xmls.push_back(std::move(chain));
  }
  out.root_digest = tree.root_digest();
  out.result_xml = tree.result_xml();
  return out;
}

namespace {

// Results already parsed, by their bytes: the messages of a batch share one result document.
constexpr std::size_t kParsedResultsKept = 256;

crypto::ParseMemo<HashChainResult>& parsed_results() {
  static crypto::ParseMemo<HashChainResult> memo(kParsedResultsKept);
  return memo;
}

}  // namespace

Result<HashChainResult> parse_hash_chain_result(std::string_view xml) {
  if (auto known = parsed_results().find(xml)) {
    return *known;
  }
  HANSA_ASSIGN_OR_RETURN(HashChainResult result, internal::parse_result(xml));
  parsed_results().insert(xml, std::make_shared<const HashChainResult>(result));
  return result;
}

Result<Recomputed> recompute(std::string_view step_uri, DigestAlgorithm algorithm,
                             const ReferenceResolver& resolver, const RequiredInputs& inputs,
                             const VerifyLimits& limits) {
  Recomputer r(resolver, inputs, limits);
  HANSA_ASSIGN_OR_RETURN(std::string list, r.step_list(step_uri, "", 0));
  Recomputed out;
  out.digest = crypto::digest(algorithm, list);
  out.used_inputs = r.take_used_inputs();
  return out;
}

Status verify_hash_chain(std::string_view result_xml, const ReferenceResolver& resolver,
                         const RequiredInputs& inputs, const VerifyLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(HashChainResult result, parse_hash_chain_result(result_xml));
  HANSA_ASSIGN_OR_RETURN(Recomputed computed,
                         recompute(result.uri, result.algorithm, resolver, inputs, limits));
  if (computed.digest != result.digest) {
    return Error(FaultCode::kInvalidHashChain,
                 "hash chain result does not match the hash chain calculation", result.uri);
  }
  std::string unused;
  for (const auto& [uri, digest] : inputs) {
    if (computed.used_inputs.count(uri) == 0) {
      unused += (unused.empty() ? "" : ", ") + uri;
    }
  }
  if (!unused.empty()) {
    return Error(FaultCode::kHashChainUnusedInputs,
                 "some inputs were not referenced by the hash chain", unused);
  }
  return ok_status();
}

}  // namespace hansa::hashchain
