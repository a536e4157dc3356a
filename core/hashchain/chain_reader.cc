#include "core/hashchain/chain_reader.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/xml/xml.h"

namespace hansa::hashchain::internal {

// schemas/hashchain.xsd, compiled in at build time (hashchain_xsd.cc.in).
extern const std::string_view kHashChainXsd;

namespace {

using crypto::DigestAlgorithm;

constexpr std::string_view kDsNs = "http://www.w3.org/2000/09/xmldsig#";

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kMalformedHashChain, std::move(message), std::move(detail));
}

// ---------------------------------------------------------------------------------------------
// The general reader: libxml2, hashchain.xsd, then the tree.

const xml::Schema& hash_chain_schema() {
  // Compiled once (thread-safe static initialization), then only read.
  static const xml::Schema schema = [] {
    auto s = xml::Schema::load_memory(kHashChainXsd);
    HANSA_CHECK(s.ok());
    return std::move(s).value();
  }();
  return schema;
}

Result<xml::Document> parse_and_validate(std::string_view text, const xml::ParseLimits& limits,
                                         std::string_view what) {
  auto doc = xml::Document::parse(text, limits);
  if (!doc.ok()) {
    return malformed("cannot parse " + std::string(what),
                     doc.error().message +
                         (doc.error().detail.empty() ? std::string() : ": " + doc.error().detail));
  }
  if (auto st = hash_chain_schema().validate(*doc); !st.ok()) {
    return malformed(std::string(what) + " does not match hashchain.xsd", st.error().detail);
  }
  return std::move(doc).value();
}

Result<DigestAlgorithm> algorithm_of(const xml::Element& method) {
  auto uri = method.attribute("Algorithm");
  if (!uri) {
    return malformed("DigestMethod without Algorithm");
  }
  auto alg = crypto::digest_from_uri(*uri);
  if (!alg) {
    return malformed("unsupported digest algorithm", *uri);
  }
  return *alg;
}

Result<std::string> digest_of(const xml::Element& value) {
  auto raw = crypto::base64_decode(value.text());
  if (!raw.ok()) {
    return malformed("DigestValue is not base64");
  }
  return std::move(raw).value();
}

// Reads the ds:DigestMethod / ds:Transforms / ds:DigestValue children of a value element.
Result<ParsedValue> parse_value(const xml::Element& e, ValueKind kind) {
  ParsedValue v;
  v.kind = kind;
  if (kind != ValueKind::kHashValue) {
    auto uri = e.attribute("URI");
    if (!uri) {
      return malformed("reference without URI");
    }
    v.uri = std::move(*uri);
  }
  bool have_digest = false;
  for (xml::Element c = e.first_child(); c; c = c.next_sibling()) {
    if (c.namespace_uri() != kDsNs) {
      return malformed("unexpected element in hash step value", std::string(c.local_name()));
    }
    if (c.local_name() == "DigestMethod" && !v.algorithm && !have_digest) {
      HANSA_ASSIGN_OR_RETURN(v.algorithm, algorithm_of(c));
    } else if (c.local_name() == "DigestValue" && kind != ValueKind::kStepRef && !have_digest) {
      HANSA_ASSIGN_OR_RETURN(v.digest, digest_of(c));
      have_digest = true;
    } else if (c.local_name() == "Transforms") {
      return malformed("Transforms in hash chains are not supported");
    } else {
      return malformed("unexpected element in hash step value", std::string(c.local_name()));
    }
  }
  if (kind != ValueKind::kStepRef && !have_digest) {
    return malformed("hash step value without DigestValue");
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The strict reader. Every check returns false ("decline") rather than an error.

// One element of a strictly read document. Views point into the document's bytes.
struct Node {
  static constexpr std::uint32_t kNone = UINT32_MAX;
  static constexpr std::size_t kMaxAttributes = 2;  // no hash chain element has more
  std::string_view ns;
  std::string_view local;
  std::array<std::pair<std::string_view, std::string_view>, kMaxAttributes> attributes{};
  std::size_t attribute_count = 0;
  std::string_view text;      // character data of an element without children
  bool any_text = false;      // character data, whitespace included
  bool element_text = false;  // character data other than whitespace
  std::uint32_t first_child = kNone;
  std::uint32_t next_sibling = kNone;
  std::size_t child_count = 0;

  [[nodiscard]] std::optional<std::string_view> attribute(std::string_view name) const {
    for (std::size_t i = 0; i < attribute_count; ++i) {
      if (attributes[i].first == name) {
        return attributes[i].second;
      }
    }
    return std::nullopt;
  }
  // Exactly the attributes named (each present once, nothing else).
  [[nodiscard]] bool has_only_attributes(std::initializer_list<std::string_view> names) const {
    if (attribute_count != names.size()) {
      return false;
    }
    for (std::string_view n : names) {
      if (!attribute(n)) {
        return false;
      }
    }
    return true;
  }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// An NCName in ASCII (also the shape an xs:ID must have).
bool is_ncname(std::string_view s) {
  if (s.empty() || !is_name_start(s.front())) {
    return false;
  }
  for (char c : s) {
    if (!is_name_char(c)) {
      return false;
    }
  }
  return true;
}

// A conservative xs:anyURI: the characters X-Road's references and algorithm URIs use, an
// optional scheme, an authority of host characters, at most one fragment.
bool is_plain_uri(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!is_name_char(c) && c != ':' && c != '/' && c != '#' && c != '~') {
      return false;
    }
  }
  const std::size_t hash = s.find('#');
  if (hash != std::string_view::npos && s.find('#', hash + 1) != std::string_view::npos) {
    return false;
  }
  // A ':' before any '/' or '#' ends a scheme: a letter, then letters, digits, '.' or '-'.
  const std::size_t colon = s.find(':');
  const std::size_t path = s.find_first_of("/#");
  std::string_view rest = s;
  if (colon != std::string_view::npos && (path == std::string_view::npos || colon < path)) {
    const std::string_view scheme = s.substr(0, colon);
    if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme.front())) ||
        scheme.find_first_of("_~") != std::string_view::npos) {
      return false;
    }
    rest = s.substr(colon + 1);
  }
  if (rest.starts_with("//")) {
    const std::string_view authority = rest.substr(2, rest.find_first_of("/#", 2) - 2);
    if (authority.empty() || authority.find_first_of(":_~") != std::string_view::npos) {
      return false;  // no ports, user information or unusual host names
    }
  }
  return true;
}

class StrictReader {
 public:
  static constexpr std::size_t kMaxNamespaceDeclarations = 8;  // on one element

  StrictReader(std::string_view doc, const xml::ParseLimits& limits) : s_(doc), limits_(limits) {}

  // The elements in document order (the root first), or nullopt to decline.
  std::optional<std::vector<Node>> read() {
    if (s_.size() > limits_.max_document_bytes || s_.size() >= UINT32_MAX) {
      return std::nullopt;
    }
    for (char c : s_) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u >= 0x7f || c == '&') {
        return std::nullopt;  // non-ASCII, control characters, entity and character references
      }
    }
    if (s_.starts_with("<?xml") && !declaration()) {
      return std::nullopt;
    }
    skip_space();
    if (!element(1)) {
      return std::nullopt;
    }
    skip_space();
    if (pos_ != s_.size()) {
      return std::nullopt;
    }
    return std::move(nodes_);
  }

 private:
  // <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"]?>
  bool declaration() {
    pos_ = 5;
    if (!optional_pseudo_attribute("version", {"1.0"}, true) ||
        !optional_pseudo_attribute("encoding", {"UTF-8", "utf-8"}, false) ||
        !optional_pseudo_attribute("standalone", {"yes", "no"}, false)) {
      return false;
    }
    skip_space();
    return consume("?>");
  }

  // ` name="value"` with one of `allowed`; when absent (and not `required`), nothing is consumed.
  bool optional_pseudo_attribute(std::string_view wanted,
                                 std::initializer_list<std::string_view> allowed, bool required) {
    const std::size_t mark = pos_;
    std::string_view name;
    std::string_view value;
    if (!space_then_pseudo_attribute(name, value) || name != wanted) {
      pos_ = mark;
      return !required;
    }
    for (std::string_view a : allowed) {
      if (value == a) {
        return true;
      }
    }
    return false;
  }

  bool space_then_pseudo_attribute(std::string_view& name, std::string_view& value) {
    if (pos_ >= s_.size() || !is_space(s_[pos_])) {
      return false;
    }
    skip_space();
    return attribute(name, value);
  }

  // name S? = S? "value" (or 'value'); the value holds no '<', no line breaks or tabs.
  bool attribute(std::string_view& name, std::string_view& value) {
    name = qname();
    if (name.empty()) {
      return false;
    }
    skip_space();
    if (!consume("=")) {
      return false;
    }
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
      return false;
    }
    const char quote = s_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      const char c = s_[pos_];
      if (c == '<' || c == '\t' || c == '\n' || c == '\r') {
        return false;  // '<' is not well-formed; the others are normalized by a parser
      }
      ++pos_;
    }
    if (pos_ >= s_.size() || pos_ - start > limits_.max_text_bytes) {
      return false;
    }
    value = s_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }

  // NCName or NCName:NCName; empty when there is none.
  std::string_view qname() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && (is_name_char(s_[pos_]) || s_[pos_] == ':')) {
      ++pos_;
    }
    const std::string_view name = s_.substr(start, pos_ - start);
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos
            ? !is_ncname(name)
            : !is_ncname(name.substr(0, colon)) || !is_ncname(name.substr(colon + 1))) {
      return {};
    }
    return name;
  }

  bool element(std::size_t depth) {
    if (depth >= limits_.max_depth || nodes_.size() >= limits_.max_elements || !consume("<")) {
      return false;
    }
    const std::uint32_t index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    const std::string_view tag = qname();
    if (tag.empty()) {
      return false;
    }
    const std::size_t bindings_before = bindings_.size();
    // Attributes: namespace declarations are bound first, then the element's name resolved.
    std::array<std::pair<std::string_view, std::string_view>, Node::kMaxAttributes> attrs{};
    std::size_t attr_count = 0;
    bool empty = false;
    for (;;) {
      const bool spaced = pos_ < s_.size() && is_space(s_[pos_]);
      skip_space();
      if (consume("/>")) {
        empty = true;
        break;
      }
      if (consume(">")) {
        break;
      }
      std::string_view name;
      std::string_view value;
      if (!spaced || !attribute(name, value)) {
        return false;
      }
      if (name == "xmlns" || name.starts_with("xmlns:")) {
        const std::string_view prefix = name == "xmlns" ? std::string_view() : name.substr(6);
        // Bounded: each declaration is compared with the element's others (hash chains use two).
        if (prefix == "xml" || prefix == "xmlns" || !is_plain_uri(value) ||
            bindings_.size() - bindings_before == kMaxNamespaceDeclarations) {
          return false;
        }
        for (std::size_t i = bindings_before; i < bindings_.size(); ++i) {
          if (bindings_[i].first == prefix) {
            return false;  // declared twice on one element
          }
        }
        bindings_.emplace_back(prefix, value);
        continue;
      }
      if (name.find(':') != std::string_view::npos || attr_count == attrs.size() ||
          attr_count == limits_.max_attributes_per_element) {
        return false;  // namespaced attributes and more than hash chains use
      }
      for (std::size_t i = 0; i < attr_count; ++i) {
        if (attrs[i].first == name) {
          return false;
        }
      }
      attrs[attr_count++] = {name, value};
    }
    const std::size_t colon = tag.find(':');
    const std::string_view prefix =
        colon == std::string_view::npos ? std::string_view() : tag.substr(0, colon);
    const std::optional<std::string_view> ns = lookup(prefix);
    if (!ns || (!prefix.empty() && prefix == "xml")) {
      return false;  // an unbound prefix
    }
    {
      Node& n = nodes_[index];
      n.ns = *ns;
      n.local = colon == std::string_view::npos ? tag : tag.substr(colon + 1);
      n.attributes = attrs;
      n.attribute_count = attr_count;
    }
    if (!empty && !content(index, depth, tag)) {
      return false;
    }
    bindings_.resize(bindings_before);
    return true;
  }

  // Character data and child elements up to and including the end tag.
  bool content(std::uint32_t index, std::size_t depth, std::string_view tag) {
    std::uint32_t last_child = Node::kNone;
    for (;;) {
      const std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != '<') {
        const char c = s_[pos_];
        if (c == '>') {
          return false;  // legal, but "]]>" is not; no hash chain needs it
        }
        if (!is_space(c)) {
          nodes_[index].element_text = true;
        }
        ++pos_;
      }
      if (pos_ >= s_.size() || pos_ - start > limits_.max_text_bytes) {
        return false;
      }
      if (pos_ > start) {
        nodes_[index].any_text = true;
        nodes_[index].text = s_.substr(start, pos_ - start);
      }
      if (consume("</")) {
        if (qname() != tag) {
          return false;
        }
        skip_space();
        if (!consume(">")) {
          return false;
        }
        if (nodes_[index].child_count > 0) {
          nodes_[index].text = {};  // text is read only from elements without children
        }
        return true;
      }
      if (pos_ + 1 < s_.size() && (s_[pos_ + 1] == '!' || s_[pos_ + 1] == '?')) {
        return false;  // comments, CDATA, processing instructions
      }
      const auto child = static_cast<std::uint32_t>(nodes_.size());
      if (!element(depth + 1)) {
        return false;
      }
      if (last_child == Node::kNone) {
        nodes_[index].first_child = child;
      } else {
        nodes_[last_child].next_sibling = child;
      }
      last_child = child;
      ++nodes_[index].child_count;
    }
  }

  std::optional<std::string_view> lookup(std::string_view prefix) const {
    for (std::size_t i = bindings_.size(); i-- > 0;) {
      if (bindings_[i].first == prefix) {
        return bindings_[i].second;
      }
    }
    if (prefix.empty()) {
      return std::string_view();  // no default namespace: the element has none
    }
    return std::nullopt;
  }

  bool consume(std::string_view token) {
    if (s_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }

  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) {
      ++pos_;
    }
  }

  std::string_view s_;
  const xml::ParseLimits& limits_;
  std::size_t pos_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::pair<std::string_view, std::string_view>> bindings_;  // prefix -> namespace
};

bool is(const Node& n, std::string_view ns, std::string_view local) {
  return n.ns == ns && n.local == local;
}

// An element without content (whitespace included) and children.
bool is_empty(const Node& n) { return !n.any_text && n.child_count == 0; }

std::optional<DigestAlgorithm> strict_algorithm(const Node& n) {
  if (!n.has_only_attributes({"Algorithm"}) || !is_empty(n)) {
    return std::nullopt;
  }
  const std::string_view uri = *n.attribute("Algorithm");
  if (!is_plain_uri(uri)) {
    return std::nullopt;
  }
  return crypto::digest_from_uri(uri);
}

std::optional<std::string> strict_digest(const Node& n) {
  if (n.attribute_count != 0 || n.child_count != 0) {
    return std::nullopt;
  }
  auto raw = crypto::base64_decode(n.text);
  if (!raw.ok()) {
    return std::nullopt;
  }
  return std::move(raw).value();
}

// A HashValue, StepRef or DataRef: the schema's DsChildren (at most three XML-DSig elements),
// read as parse_value reads them.
std::optional<ParsedValue> strict_value(const std::vector<Node>& nodes, const Node& e,
                                        ValueKind kind) {
  ParsedValue v;
  v.kind = kind;
  if (kind == ValueKind::kHashValue) {
    if (e.attribute_count != 0) {
      return std::nullopt;
    }
  } else {
    if (!e.has_only_attributes({"URI"}) || !is_plain_uri(*e.attribute("URI"))) {
      return std::nullopt;
    }
    v.uri = std::string(*e.attribute("URI"));
  }
  if (e.element_text || e.child_count > 3) {
    return std::nullopt;
  }
  bool have_digest = false;
  for (std::uint32_t i = e.first_child; i != Node::kNone; i = nodes[i].next_sibling) {
    const Node& c = nodes[i];
    if (c.ns != kDsNs) {
      return std::nullopt;
    }
    if (c.local == "DigestMethod" && !v.algorithm && !have_digest) {
      v.algorithm = strict_algorithm(c);
      if (!v.algorithm) {
        return std::nullopt;
      }
    } else if (c.local == "DigestValue" && kind != ValueKind::kStepRef && !have_digest) {
      auto digest = strict_digest(c);
      if (!digest) {
        return std::nullopt;
      }
      v.digest = std::move(*digest);
      have_digest = true;
    } else {
      return std::nullopt;
    }
  }
  if (kind != ValueKind::kStepRef && !have_digest) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<ParsedChain> parse_chain_general(std::string_view text, const VerifyLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, parse_and_validate(text, limits.xml, "HashChain"));
  const xml::Element root = doc.root();
  if (!root.is(kNamespace, "HashChain")) {
    return malformed("not a HashChain document", std::string(root.local_name()));
  }
  ParsedChain chain;
  std::size_t step_count = 0;
  for (xml::Element c = root.first_child(); c; c = c.next_sibling()) {
    if (c.is(kNamespace, "DefaultDigestMethod")) {
      HANSA_ASSIGN_OR_RETURN(chain.default_algorithm, algorithm_of(c));
      continue;
    }
    if (!c.is(kNamespace, "HashStep")) {
      return malformed("unexpected element in HashChain", std::string(c.local_name()));
    }
    if (++step_count > limits.max_steps_per_chain) {
      return malformed("hash chain has more than max_steps_per_chain steps",
                       std::to_string(limits.max_steps_per_chain));
    }
    auto id = c.attribute("id");
    if (!id || id->empty()) {
      return malformed("HashStep without id");
    }
    std::vector<ParsedValue> values;
    for (xml::Element v = c.first_child(); v; v = v.next_sibling()) {
      if (values.size() >= limits.max_values_per_step) {
        return malformed("hash step has more than max_values_per_step values",
                         std::to_string(limits.max_values_per_step));
      }
      ValueKind kind;
      if (v.is(kNamespace, "HashValue")) {
        kind = ValueKind::kHashValue;
      } else if (v.is(kNamespace, "StepRef")) {
        kind = ValueKind::kStepRef;
      } else if (v.is(kNamespace, "DataRef")) {
        kind = ValueKind::kDataRef;
      } else {
        return malformed("unexpected element in HashStep", std::string(v.local_name()));
      }
      HANSA_ASSIGN_OR_RETURN(ParsedValue pv, parse_value(v, kind));
      values.push_back(std::move(pv));
    }
    if (!chain.steps.emplace(std::move(*id), std::move(values)).second) {
      return malformed("duplicate HashStep id");
    }
  }
  return chain;
}

std::optional<ParsedChain> parse_chain_strict(std::string_view text, const VerifyLimits& limits) {
  auto read = StrictReader(text, limits.xml).read();
  if (!read) {
    return std::nullopt;
  }
  const std::vector<Node>& nodes = *read;
  const Node& root = nodes.front();
  if (!is(root, kNamespace, "HashChain") || root.attribute_count != 0 || root.element_text) {
    return std::nullopt;
  }
  ParsedChain chain;
  std::size_t step_count = 0;
  for (std::uint32_t i = root.first_child; i != Node::kNone; i = nodes[i].next_sibling) {
    const Node& c = nodes[i];
    if (is(c, kNamespace, "DefaultDigestMethod")) {
      if (i != root.first_child) {
        return std::nullopt;  // the schema's sequence puts it first
      }
      chain.default_algorithm = strict_algorithm(c);
      if (!chain.default_algorithm) {
        return std::nullopt;
      }
      continue;
    }
    if (!is(c, kNamespace, "HashStep") || ++step_count > limits.max_steps_per_chain ||
        !c.has_only_attributes({"id"}) || c.element_text ||
        c.child_count > limits.max_values_per_step) {
      return std::nullopt;
    }
    const std::string_view id = *c.attribute("id");
    if (!is_ncname(id)) {
      return std::nullopt;
    }
    std::vector<ParsedValue> values;
    values.reserve(c.child_count);
    for (std::uint32_t j = c.first_child; j != Node::kNone; j = nodes[j].next_sibling) {
      const Node& v = nodes[j];
      if (v.ns != kNamespace) {
        return std::nullopt;
      }
      ValueKind kind;
      if (v.local == "HashValue") {
        kind = ValueKind::kHashValue;
      } else if (v.local == "StepRef") {
        kind = ValueKind::kStepRef;
      } else if (v.local == "DataRef") {
        kind = ValueKind::kDataRef;
      } else {
        return std::nullopt;
      }
      auto pv = strict_value(nodes, v, kind);
      if (!pv) {
        return std::nullopt;
      }
      values.push_back(std::move(*pv));
    }
    if (!chain.steps.emplace(std::string(id), std::move(values)).second) {
      return std::nullopt;  // xs:ID values are unique
    }
  }
  return chain;
}

Result<ParsedChain> parse_chain(std::string_view text, const VerifyLimits& limits) {
  if (auto chain = parse_chain_strict(text, limits)) {
    return std::move(*chain);
  }
  return parse_chain_general(text, limits);
}

Result<HashChainResult> parse_result_general(std::string_view text) {
  VerifyLimits limits;
  HANSA_ASSIGN_OR_RETURN(xml::Document doc,
                         parse_and_validate(text, limits.xml, "HashChainResult"));
  const xml::Element root = doc.root();
  if (!root.is(kNamespace, "HashChainResult")) {
    return malformed("not a HashChainResult document", std::string(root.local_name()));
  }
  HashChainResult result;
  result.uri = root.attribute("URI").value_or("");
  const xml::Element method = root.first_child();
  if (!method || !method.is(kDsNs, "DigestMethod")) {
    return malformed("HashChainResult without DigestMethod");
  }
  HANSA_ASSIGN_OR_RETURN(result.algorithm, algorithm_of(method));
  const xml::Element value = method.next_sibling();
  if (!value || !value.is(kDsNs, "DigestValue") || value.next_sibling()) {
    return malformed("HashChainResult must hold DigestMethod and DigestValue");
  }
  HANSA_ASSIGN_OR_RETURN(result.digest, digest_of(value));
  if (result.digest.size() != crypto::digest_size(result.algorithm)) {
    return malformed("HashChainResult DigestValue length does not fit its digest method");
  }
  return result;
}

std::optional<HashChainResult> parse_result_strict(std::string_view text) {
  const VerifyLimits limits;
  auto read = StrictReader(text, limits.xml).read();
  if (!read) {
    return std::nullopt;
  }
  const std::vector<Node>& nodes = *read;
  const Node& root = nodes.front();
  if (!is(root, kNamespace, "HashChainResult") || !root.has_only_attributes({"URI"}) ||
      !is_plain_uri(*root.attribute("URI")) || root.element_text || root.child_count != 2) {
    return std::nullopt;
  }
  const Node& method = nodes[root.first_child];
  const Node& value = nodes[method.next_sibling];
  if (!is(method, kDsNs, "DigestMethod") || !is(value, kDsNs, "DigestValue")) {
    return std::nullopt;
  }
  HashChainResult result;
  result.uri = std::string(*root.attribute("URI"));
  auto algorithm = strict_algorithm(method);
  auto digest = strict_digest(value);
  if (!algorithm || !digest || digest->size() != crypto::digest_size(*algorithm)) {
    return std::nullopt;
  }
  result.algorithm = *algorithm;
  result.digest = std::move(*digest);
  return result;
}

Result<HashChainResult> parse_result(std::string_view text) {
  if (auto result = parse_result_strict(text)) {
    return std::move(*result);
  }
  return parse_result_general(text);
}

}  // namespace hansa::hashchain::internal
