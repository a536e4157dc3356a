#pragma once

// XML for Hansa: hardened parsing into an owning Document, read access to elements, small
// building/serialization, XSD validation against local schemas, canonicalization (C14N 1.0,
// exclusive C14N 1.0, C14N 1.1) of documents and subtrees, and XPath with caller-registered
// namespace prefixes. Backed by libxml2; no libxml2 type appears here.
//
// Security policy of the parser (every X-Road/Hansa message is DTD-free):
//  - a document containing a DOCTYPE declaration is rejected (InvalidXml) before its internal
//    subset is read, so entity declarations (billion laughs, external entities) never take effect;
//  - external entities and DTDs are never loaded; the network is never used (XML_PARSE_NONET);
//  - size, depth, text, attribute and element-count limits are enforced while parsing
//    (ParseLimits; LimitExceeded).
// libxml2 never prints to stderr: errors are collected per parse/validation context.
//
// Threading: Document has one owner; its const methods (reading, canonicalization, XPath) may run
// concurrently as long as nobody modifies it. Element is a non-owning handle valid while its
// Document lives (moving the Document keeps it valid). Schema is immutable after loading: share it
// freely and validate from many threads at once.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::xml {

struct DocumentAccess;  // internal access to libxml2 handles (core/xml/libxml_ptr.h)

// Limits applied while parsing untrusted XML. Every field has a safe default; raise them only for
// trusted, known-large inputs (global configuration, archives).
struct ParseLimits {
  // Input larger than this is refused before parsing starts.
  std::size_t max_document_bytes = 16 * 1024 * 1024;
  // Maximum element nesting depth (the root element is depth 1).
  std::size_t max_depth = 128;
  // Maximum size of one text (or CDATA) node or attribute value, in bytes. (Comments, PIs and
  // names stay under libxml2's own hard limits, 10 MB and 50 kB, since XML_PARSE_HUGE is off.)
  std::size_t max_text_bytes = 8 * 1024 * 1024;
  // Maximum attributes (namespace declarations not counted) on one element.
  std::size_t max_attributes_per_element = 64;
  // Maximum number of elements in the whole document.
  std::size_t max_elements = 1'000'000;
};

// One attribute of an element. Views are valid while the Document lives and is not modified.
struct Attribute {
  std::string_view namespace_uri;  // empty when the attribute has no namespace
  std::string_view local_name;
  std::string value;
};

// A non-owning handle to an element of a Document; a default-constructed Element is "null".
// Threading: as its Document.
class Element final {
 public:
  Element() = default;

  [[nodiscard]] bool valid() const noexcept { return node_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  friend bool operator==(const Element& a, const Element& b) noexcept { return a.node_ == b.node_; }

  // Local name ("Envelope"), namespace URI (empty when none) and prefix (empty when none).
  [[nodiscard]] std::string_view local_name() const noexcept;
  [[nodiscard]] std::string_view namespace_uri() const noexcept;
  [[nodiscard]] std::string_view prefix() const noexcept;
  // "{namespace URI}local name", for messages about an unexpected element.
  [[nodiscard]] std::string expanded_name() const;
  // True when the element has this namespace URI and local name.
  [[nodiscard]] bool is(std::string_view namespace_uri, std::string_view local_name) const noexcept;
  // Line number in the parsed input (0 when unknown or built in memory).
  [[nodiscard]] int line() const noexcept;

  // Value of the attribute without namespace `name`, nullopt when absent.
  [[nodiscard]] std::optional<std::string> attribute(std::string_view name) const;
  // Value of the attribute {namespace_uri}local_name, nullopt when absent.
  [[nodiscard]] std::optional<std::string> attribute(std::string_view namespace_uri,
                                                     std::string_view local_name) const;
  // All attributes in document order (namespace declarations excluded).
  [[nodiscard]] std::vector<Attribute> attributes() const;

  // The namespace URI bound to `prefix` in scope at this element ("" = default namespace), for
  // QName-valued content such as a SOAP faultcode; nullopt when unbound.
  [[nodiscard]] std::optional<std::string> lookup_namespace(std::string_view prefix) const;

  // Concatenated text of all descendant text and CDATA nodes.
  [[nodiscard]] std::string text() const;

  // Navigation over element nodes only (text, comments and PIs are skipped); null when none.
  [[nodiscard]] Element parent() const noexcept;
  [[nodiscard]] Element first_child() const noexcept;
  [[nodiscard]] Element next_sibling() const noexcept;
  // First child / next sibling with this namespace URI and local name; null when none.
  [[nodiscard]] Element first_child(std::string_view namespace_uri,
                                    std::string_view local_name) const noexcept;
  [[nodiscard]] Element next_sibling(std::string_view namespace_uri,
                                     std::string_view local_name) const noexcept;
  // All element children, optionally only those with this namespace URI and local name.
  [[nodiscard]] std::vector<Element> children() const;
  [[nodiscard]] std::vector<Element> children(std::string_view namespace_uri,
                                              std::string_view local_name) const;
  // True when the element has child nodes other than elements, whitespace text and comments
  // (i.e. non-blank text or CDATA): useful to reject mixed content in strict formats.
  [[nodiscard]] bool has_non_blank_text_child() const;

  // --- Building (the Document must not be read concurrently while modified) ---

  // Appends a child element {namespace_uri}qualified_name ("prefix:local" or "local"). The
  // namespace is declared on the new element unless an ancestor already binds that prefix to it.
  // An empty namespace_uri makes an element without namespace.
  Element append_element(std::string_view namespace_uri, std::string_view qualified_name);
  // Deep-copies `source` (from any Document) as the last child of this element.
  Element append_copy(const Element& source);
  // Declares xmlns:prefix="namespace_uri" (or a default namespace for an empty prefix).
  void declare_namespace(std::string_view prefix, std::string_view namespace_uri);
  // Sets (or replaces) an attribute without namespace.
  void set_attribute(std::string_view name, std::string_view value);
  // Sets (or replaces) attribute {namespace_uri}qualified_name; declares the prefix if needed.
  void set_attribute(std::string_view namespace_uri, std::string_view qualified_name,
                     std::string_view value);
  // Replaces all children with one text node holding `text` (escaped on output).
  void set_text(std::string_view text);
  // Appends a text node.
  void append_text(std::string_view text);
  // Unlinks and frees this element and its subtree; the handle becomes invalid. Removing the
  // root element is a bug (aborts).
  void remove();

  // Serializes this subtree as XML text (namespace declarations of ancestors are not repeated).
  [[nodiscard]] std::string serialize() const;

 private:
  friend class Document;
  friend struct DocumentAccess;
  explicit Element(void* node) noexcept : node_(node) {}
  void* node_ = nullptr;  // xmlNode*
};

// An owning XML document. Threading: one owner; const methods may run concurrently.
class Document final {
 public:
  // Parses `bytes` with the hardened settings above. Fails with InvalidXml (malformed, DOCTYPE,
  // unsupported encoding; detail "line L, column C: ...") or LimitExceeded (a ParseLimits field).
  [[nodiscard]] static Result<Document> parse(std::string_view bytes,
                                              const ParseLimits& limits = {});

  // A new document whose root element is {namespace_uri}qualified_name.
  [[nodiscard]] static Document create(std::string_view namespace_uri,
                                       std::string_view qualified_name);

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;
  ~Document();

  // The root element (never null for a parsed or created document).
  [[nodiscard]] Element root() const noexcept;

  // A deep copy of this document.
  [[nodiscard]] Document clone() const;

  // Serializes the document. With `xml_declaration`, starts with
  // <?xml version="1.0" encoding="UTF-8"?> and a newline. Output is UTF-8. `size_hint`, when
  // known (say, the size of the bytes the document was parsed from), is reserved up front so that
  // a large document is not copied again as the output grows.
  [[nodiscard]] std::string serialize(bool xml_declaration = true, std::size_t size_hint = 0) const;

 private:
  friend struct DocumentAccess;
  struct Impl;
  explicit Document(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// --- Canonicalization (W3C C14N 1.0, Exclusive C14N 1.0, C14N 1.1) ---

enum class C14nMethod {
  kC14n10,                       // http://www.w3.org/TR/2001/REC-xml-c14n-20010315
  kC14n10WithComments,           // ...#WithComments
  kExclusiveC14n10,              // http://www.w3.org/2001/10/xml-exc-c14n#
  kExclusiveC14n10WithComments,  // http://www.w3.org/2001/10/xml-exc-c14n#WithComments
  kC14n11,                       // http://www.w3.org/2006/12/xml-c14n11
  kC14n11WithComments,           // http://www.w3.org/2006/12/xml-c14n11#WithComments
};

// The algorithm URI used in XML-DSig (Transform / CanonicalizationMethod Algorithm).
[[nodiscard]] std::string_view c14n_uri(C14nMethod method) noexcept;
[[nodiscard]] std::optional<C14nMethod> c14n_from_uri(std::string_view uri) noexcept;

// Canonicalizes the whole document. `inclusive_prefixes` is the exclusive-C14N
// InclusiveNamespaces PrefixList ("#default" for the default namespace); ignored by the
// inclusive methods. Fails with InvalidXml only when libxml2 cannot canonicalize.
[[nodiscard]] Result<std::string> canonicalize(
    const Document& doc, C14nMethod method,
    const std::vector<std::string>& inclusive_prefixes = {});

// Canonicalizes the subtree rooted at `element` (the element, its attributes and descendants),
// with the namespace context it has in its document, as XML-DSig does for SignedInfo and
// SignedProperties.
[[nodiscard]] Result<std::string> canonicalize(
    const Element& element, C14nMethod method,
    const std::vector<std::string>& inclusive_prefixes = {});

namespace internal {
// canonicalize(element, ...) without its shortcut (a copy of the subtree in a document of its
// own): libxml2 over the whole document, showing it only the subtree. For tests that compare
// the two.
[[nodiscard]] Result<std::string> canonicalize_in_place(
    const Element& element, C14nMethod method,
    const std::vector<std::string>& inclusive_prefixes = {});
}  // namespace internal

// --- XPath 1.0 ---

// Prefix -> namespace URI bindings for XPath expressions.
using NamespaceBindings = std::vector<std::pair<std::string, std::string>>;

// Evaluates `expr` with `context` as the context node and returns the element nodes it selects
// (non-element nodes are skipped). InvalidXml for a malformed expression or a non-node-set result.
[[nodiscard]] Result<std::vector<Element>> select_elements(
    const Element& context, std::string_view expr, const NamespaceBindings& namespaces = {});

// Evaluates `expr` and converts the result with XPath string() (first node's string value for a
// node-set; "" for an empty one). InvalidXml for a malformed expression.
[[nodiscard]] Result<std::string> select_string(const Element& context, std::string_view expr,
                                                const NamespaceBindings& namespaces = {});

// --- XSD validation ---

// A compiled XML Schema loaded from local files. Imports/includes are resolved relative to the
// importing file; nothing is fetched from the network.
// Threading: immutable after load; validate() may run concurrently from many threads.
class Schema final {
 public:
  // Loads and compiles the XSD at `path`. InvalidConfiguration when the file is missing or the
  // schema is invalid (detail names the file and position).
  [[nodiscard]] static Result<Schema> load_file(const std::filesystem::path& path);

  // Compiles a self-contained XSD held in memory (for schemas embedded into a library at build
  // time; xs:import/xs:include are not resolved). InvalidConfiguration when invalid.
  [[nodiscard]] static Result<Schema> load_memory(std::string_view xsd_text);

  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;
  ~Schema();

  // Validates `doc`. InvalidXml with the first violation ("line L: ...") in the detail.
  [[nodiscard]] Status validate(const Document& doc) const;

 private:
  struct Impl;
  explicit Schema(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::xml
