#include "core/xml/xml.h"

#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include <cstring>
#include <mutex>

#include "core/xml/libxml_ptr.h"

namespace hansa::xml {
namespace {

const xmlChar* as_xml(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
std::string_view as_view(const xmlChar* s) {
  return s == nullptr ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(s));
}

// Error sink that drops everything: installed as the per-thread (and per-new-thread default)
// generic and structured handler so nothing reaches stderr.
void silent_generic(void*, const char*, ...) {}
void silent_structured(void*, xmlErrorPtr) {}

// Refuses every external resource that is not a local file (http, https, ftp, ...). Process-wide
// in libxml2 2.9.14; only XSD imports and includes legitimately load anything.
xmlParserInputPtr local_only_loader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (url != nullptr) {
    std::string_view u(url);
    const auto colon = u.find(':');
    const auto slash = u.find('/');
    const bool has_scheme = colon != std::string_view::npos && colon > 1 &&
                            (slash == std::string_view::npos || colon < slash);
    if (has_scheme && u.substr(0, colon) != "file") {
      return nullptr;
    }
  }
  return xmlNoNetExternalEntityLoader(url, id, ctxt);
}

std::string position_detail(int line, int column, std::string_view message) {
  std::string out;
  if (line > 0) {
    out = "line " + std::to_string(line);
    if (column > 0) {
      out += ", column " + std::to_string(column);
    }
    if (!message.empty()) {
      out += ": ";
    }
  }
  // libxml2 messages end with a newline.
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  out += message;
  return out;
}

// Collects the first error of one parse / validation / XPath run.
struct ErrorCollector {
  bool has_error = false;
  std::string detail;

  static void on_error(void* user, xmlErrorPtr err) {
    auto* self = static_cast<ErrorCollector*>(user);
    if (self == nullptr || err == nullptr || err->level == XML_ERR_WARNING || self->has_error) {
      return;
    }
    self->has_error = true;
    self->detail = position_detail(err->line, err->int2, as_view(as_xml(err->message)));
  }
};

// State of one hardened parse, reached from the SAX hooks through ctxt->_private.
struct ParseState {
  const ParseLimits* limits = nullptr;
  std::size_t depth = 0;
  std::size_t elements = 0;
  std::size_t text_run = 0;
  std::optional<Error> error;  // our own refusal (DOCTYPE, limits)
  ErrorCollector libxml_errors;
  startElementNsSAX2Func start_element = nullptr;
  endElementNsSAX2Func end_element = nullptr;
  charactersSAXFunc characters = nullptr;
  charactersSAXFunc ignorable_whitespace = nullptr;
  cdataBlockSAXFunc cdata = nullptr;
};

ParseState* state_of(void* ctx) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  return static_cast<ParseState*>(ctxt->_private);
}

void refuse(void* ctx, FaultCode code, std::string message) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  ParseState* st = state_of(ctx);
  if (!st->error) {
    const int line = ctxt->input != nullptr ? ctxt->input->line : 0;
    const int col = ctxt->input != nullptr ? ctxt->input->col : 0;
    st->error = Error(code, std::move(message), position_detail(line, col, ""));
  }
  xmlStopParser(ctxt);
}

void hook_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  // Called when <!DOCTYPE is seen, before any internal subset is parsed.
  refuse(ctx, FaultCode::kInvalidXml, "DOCTYPE declarations are not allowed");
}

void hook_start_element(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                        const xmlChar* uri, int nb_namespaces, const xmlChar** namespaces,
                        int nb_attributes, int nb_defaulted, const xmlChar** attributes) {
  ParseState* st = state_of(ctx);
  if (st->error) {
    return;
  }
  st->text_run = 0;
  ++st->depth;
  ++st->elements;
  if (st->depth > st->limits->max_depth) {
    refuse(ctx, FaultCode::kLimitExceeded,
           "XML nesting depth exceeds max_depth (" + std::to_string(st->limits->max_depth) + ")");
    return;
  }
  if (st->elements > st->limits->max_elements) {
    refuse(ctx, FaultCode::kLimitExceeded,
           "XML element count exceeds max_elements (" + std::to_string(st->limits->max_elements) +
               ")");
    return;
  }
  if (static_cast<std::size_t>(nb_attributes) > st->limits->max_attributes_per_element) {
    refuse(ctx, FaultCode::kLimitExceeded,
           "XML attribute count exceeds max_attributes_per_element (" +
               std::to_string(st->limits->max_attributes_per_element) + ")");
    return;
  }
  // attributes holds 5 pointers per attribute: local name, prefix, URI, value start, value end.
  for (int i = 0; i < nb_attributes; ++i) {
    const auto len = static_cast<std::size_t>(attributes[i * 5 + 4] - attributes[i * 5 + 3]);
    if (len > st->limits->max_text_bytes) {
      refuse(ctx, FaultCode::kLimitExceeded,
             "XML attribute value exceeds max_text_bytes (" +
                 std::to_string(st->limits->max_text_bytes) + ")");
      return;
    }
  }
  st->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                    nb_defaulted, attributes);
}

void hook_end_element(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                      const xmlChar* uri) {
  ParseState* st = state_of(ctx);
  if (st->error) {
    return;
  }
  st->text_run = 0;
  if (st->depth > 0) {
    --st->depth;
  }
  st->end_element(ctx, localname, prefix, uri);
}

bool text_allowed(void* ctx, int len) {
  ParseState* st = state_of(ctx);
  if (st->error) {
    return false;
  }
  st->text_run += static_cast<std::size_t>(len);
  if (st->text_run > st->limits->max_text_bytes) {
    refuse(ctx, FaultCode::kLimitExceeded,
           "XML text node exceeds max_text_bytes (" + std::to_string(st->limits->max_text_bytes) +
               ")");
    return false;
  }
  return true;
}

void hook_characters(void* ctx, const xmlChar* ch, int len) {
  if (text_allowed(ctx, len)) {
    state_of(ctx)->characters(ctx, ch, len);
  }
}

void hook_ignorable_whitespace(void* ctx, const xmlChar* ch, int len) {
  if (text_allowed(ctx, len)) {
    state_of(ctx)->ignorable_whitespace(ctx, ch, len);
  }
}

void hook_cdata(void* ctx, const xmlChar* ch, int len) {
  if (text_allowed(ctx, len)) {
    state_of(ctx)->cdata(ctx, ch, len);
  }
}

void hook_structured_error(void* user, xmlErrorPtr err) {
  // userData of a parser context is the context itself.
  auto* ctxt = static_cast<xmlParserCtxtPtr>(user);
  if (ctxt != nullptr && ctxt->_private != nullptr) {
    ErrorCollector::on_error(&static_cast<ParseState*>(ctxt->_private)->libxml_errors, err);
  }
}

std::pair<std::string, std::string> split_qname(std::string_view qname) {
  const auto colon = qname.find(':');
  if (colon == std::string_view::npos) {
    return {std::string(), std::string(qname)};
  }
  return {std::string(qname.substr(0, colon)), std::string(qname.substr(colon + 1))};
}

xmlNodePtr next_element(xmlNodePtr n) {
  while (n != nullptr && n->type != XML_ELEMENT_NODE) {
    n = n->next;
  }
  return n;
}

bool node_is(xmlNodePtr n, std::string_view ns, std::string_view local) {
  if (n == nullptr || n->type != XML_ELEMENT_NODE || as_view(n->name) != local) {
    return false;
  }
  const std::string_view actual = n->ns != nullptr ? as_view(n->ns->href) : std::string_view{};
  return actual == ns;
}

// The namespace in scope of `node` binding `prefix` to `uri`, declared on `node` when missing.
xmlNsPtr ensure_ns(xmlNodePtr node, const std::string& prefix, std::string_view uri) {
  const std::string href(uri);
  xmlNsPtr found = xmlSearchNs(node->doc, node, prefix.empty() ? nullptr : as_xml(prefix.c_str()));
  if (found != nullptr && as_view(found->href) == uri) {
    return found;
  }
  return xmlNewNs(node, as_xml(href.c_str()), prefix.empty() ? nullptr : as_xml(prefix.c_str()));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Initialization and helpers

void ensure_libxml_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    // Defaults for threads whose libxml2 state is created later.
    xmlThrDefSetGenericErrorFunc(nullptr, silent_generic);
    xmlThrDefSetStructuredErrorFunc(nullptr, silent_structured);
    xmlSetExternalEntityLoader(local_only_loader);
  });
  // libxml2 2.9 keeps error handlers per thread: silence this thread once.
  thread_local bool silenced = false;
  if (!silenced) {
    xmlSetGenericErrorFunc(nullptr, silent_generic);
    xmlSetStructuredErrorFunc(nullptr, silent_structured);
    silenced = true;
  }
}

std::string take_xml_chars(xmlChar* p) {
  XmlCharsPtr owned(p);
  return owned ? std::string(reinterpret_cast<const char*>(owned.get())) : std::string();
}

// ---------------------------------------------------------------------------------------------
// Document

struct Document::Impl {
  DocPtr doc;
};

Document::Document(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

xmlDoc* DocumentAccess::doc(const Document& d) noexcept { return d.impl_->doc.get(); }

Document DocumentAccess::adopt(DocPtr doc) {
  HANSA_CHECK(doc != nullptr && xmlDocGetRootElement(doc.get()) != nullptr);
  auto impl = std::make_unique<Document::Impl>();
  impl->doc = std::move(doc);
  return Document(std::move(impl));
}

Result<Document> Document::parse(std::string_view bytes, const ParseLimits& limits) {
  ensure_libxml_initialized();
  if (bytes.size() > limits.max_document_bytes) {
    return Error(FaultCode::kLimitExceeded,
                 "XML document exceeds max_document_bytes (" +
                     std::to_string(limits.max_document_bytes) + ")",
                 std::to_string(bytes.size()) + " bytes");
  }
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    return Error(FaultCode::kLimitExceeded, "XML document too large");
  }
  ParserCtxtPtr ctxt(xmlCreateMemoryParserCtxt(bytes.data(), static_cast<int>(bytes.size())));
  if (!ctxt) {
    return Error(FaultCode::kInvalidXml, "cannot parse XML", "empty or unreadable input");
  }
  // NONET: never the network. No NOENT (entities are not substituted), no DTDLOAD/DTDATTR/DTDVALID,
  // no HUGE (libxml2's own hard limits stay in force). NOERROR/NOWARNING: nothing on stderr.
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

  ParseState st;
  st.limits = &limits;
  xmlSAXHandler* sax = ctxt->sax;
  st.start_element = sax->startElementNs;
  st.end_element = sax->endElementNs;
  st.characters = sax->characters;
  st.ignorable_whitespace = sax->ignorableWhitespace;
  st.cdata = sax->cdataBlock;
  HANSA_CHECK(st.start_element != nullptr && st.end_element != nullptr &&
              st.characters != nullptr && st.ignorable_whitespace != nullptr &&
              st.cdata != nullptr);
  sax->internalSubset = hook_internal_subset;
  sax->externalSubset = nullptr;
  sax->startElementNs = hook_start_element;
  sax->endElementNs = hook_end_element;
  sax->characters = hook_characters;
  sax->ignorableWhitespace = hook_ignorable_whitespace;
  sax->cdataBlock = hook_cdata;
  sax->serror = hook_structured_error;
  sax->error = nullptr;
  sax->warning = nullptr;
  sax->fatalError = nullptr;
  ctxt->_private = &st;
  ctxt->vctxt.error = nullptr;
  ctxt->vctxt.warning = nullptr;

  (void)xmlParseDocument(ctxt.get());
  DocPtr doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  // Namespace errors (unbound prefixes) leave wellFormed set: they are fatal for us too.
  const bool well_formed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
  ctxt->_private = nullptr;

  if (st.error) {
    return std::move(*st.error);
  }
  if (!well_formed || !doc) {
    std::string detail = st.libxml_errors.has_error ? st.libxml_errors.detail : "not well-formed";
    return Error(FaultCode::kInvalidXml, "malformed XML", std::move(detail));
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return Error(FaultCode::kInvalidXml, "DOCTYPE declarations are not allowed");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    return Error(FaultCode::kInvalidXml, "malformed XML", "no root element");
  }
  return DocumentAccess::adopt(std::move(doc));
}

Document Document::create(std::string_view namespace_uri, std::string_view qualified_name) {
  ensure_libxml_initialized();
  DocPtr doc(xmlNewDoc(as_xml("1.0")));
  HANSA_CHECK(doc != nullptr);
  const auto [prefix, local] = split_qname(qualified_name);
  xmlNodePtr root = xmlNewDocNode(doc.get(), nullptr, as_xml(local.c_str()), nullptr);
  HANSA_CHECK(root != nullptr);
  xmlDocSetRootElement(doc.get(), root);
  if (!namespace_uri.empty()) {
    xmlSetNs(root, ensure_ns(root, prefix, namespace_uri));
  }
  return DocumentAccess::adopt(std::move(doc));
}

Element Document::root() const noexcept { return Element(xmlDocGetRootElement(impl_->doc.get())); }

Document Document::clone() const {
  ensure_libxml_initialized();
  DocPtr copy(xmlCopyDoc(impl_->doc.get(), 1));
  HANSA_CHECK(copy != nullptr);
  return DocumentAccess::adopt(std::move(copy));
}

std::string Document::serialize(bool xml_declaration, std::size_t size_hint) const {
  ensure_libxml_initialized();
  // libxml2 hands its output over in blocks of a few KB, appended here; an xmlBuffer would double
  // as it grows and then be copied into the string once more.
  struct Sink {
    std::string out;
    bool failed = false;
  } sink;
  sink.out.reserve(size_hint);
  auto append = [](void* context, const char* data, int len) -> int {
    auto* to = static_cast<Sink*>(context);
    try {
      to->out.append(data, static_cast<std::size_t>(len));
    } catch (...) {
      to->failed = true;  // out of memory
      return -1;
    }
    return len;
  };
  {
    SaveCtxtPtr save(
        xmlSaveToIO(append, nullptr, &sink, "UTF-8", xml_declaration ? 0 : XML_SAVE_NO_DECL));
    HANSA_CHECK(save != nullptr);
    HANSA_CHECK(xmlSaveDoc(save.get(), impl_->doc.get()) >= 0);
  }  // closing flushes
  HANSA_CHECK(!sink.failed);
  return std::move(sink.out);
}

// ---------------------------------------------------------------------------------------------
// Element

namespace {
// Using a null Element is a bug.
xmlNodePtr N(const void* p) {
  HANSA_CHECK(p != nullptr);
  return static_cast<xmlNodePtr>(const_cast<void*>(p));
}
}  // namespace

std::string_view Element::local_name() const noexcept { return as_view(N(node_)->name); }

std::string Element::expanded_name() const {
  const std::string_view ns = namespace_uri();
  const std::string_view local = local_name();
  std::string out;
  out.reserve(ns.size() + local.size() + 2);
  out += '{';
  out += ns;
  out += '}';
  out += local;
  return out;
}

std::string_view Element::namespace_uri() const noexcept {
  const xmlNodePtr n = N(node_);
  return n->ns != nullptr ? as_view(n->ns->href) : std::string_view{};
}

std::string_view Element::prefix() const noexcept {
  const xmlNodePtr n = N(node_);
  return n->ns != nullptr ? as_view(n->ns->prefix) : std::string_view{};
}

bool Element::is(std::string_view ns, std::string_view local) const noexcept {
  return node_is(N(node_), ns, local);
}

int Element::line() const noexcept { return static_cast<int>(xmlGetLineNo(N(node_))); }

std::optional<std::string> Element::attribute(std::string_view name) const {
  const std::string n(name);
  xmlAttrPtr attr = xmlHasNsProp(N(node_), as_xml(n.c_str()), nullptr);
  if (attr == nullptr || attr->type != XML_ATTRIBUTE_NODE) {
    return std::nullopt;
  }
  return take_xml_chars(xmlNodeGetContent(reinterpret_cast<xmlNodePtr>(attr)));
}

std::optional<std::string> Element::attribute(std::string_view ns, std::string_view local) const {
  if (ns.empty()) {
    return attribute(local);
  }
  const std::string n(local);
  const std::string u(ns);
  xmlAttrPtr attr = xmlHasNsProp(N(node_), as_xml(n.c_str()), as_xml(u.c_str()));
  if (attr == nullptr || attr->type != XML_ATTRIBUTE_NODE) {
    return std::nullopt;
  }
  return take_xml_chars(xmlNodeGetContent(reinterpret_cast<xmlNodePtr>(attr)));
}

std::vector<Attribute> Element::attributes() const {
  std::vector<Attribute> out;
  for (xmlAttrPtr a = N(node_)->properties; a != nullptr; a = a->next) {
    Attribute attr;
    attr.namespace_uri = a->ns != nullptr ? as_view(a->ns->href) : std::string_view{};
    attr.local_name = as_view(a->name);
    attr.value = take_xml_chars(xmlNodeGetContent(reinterpret_cast<xmlNodePtr>(a)));
    out.push_back(std::move(attr));
  }
  return out;
}

std::optional<std::string> Element::lookup_namespace(std::string_view prefix) const {
  const std::string p(prefix);
  xmlNsPtr ns = xmlSearchNs(N(node_)->doc, N(node_), p.empty() ? nullptr : as_xml(p.c_str()));
  if (ns == nullptr || ns->href == nullptr || (p.empty() && ns->href[0] == 0)) {
    return std::nullopt;
  }
  return std::string(as_view(ns->href));
}

std::string Element::text() const { return take_xml_chars(xmlNodeGetContent(N(node_))); }

Element Element::parent() const noexcept {
  xmlNodePtr p = N(node_)->parent;
  return Element(p != nullptr && p->type == XML_ELEMENT_NODE ? p : nullptr);
}

Element Element::first_child() const noexcept { return Element(next_element(N(node_)->children)); }

Element Element::next_sibling() const noexcept { return Element(next_element(N(node_)->next)); }

Element Element::first_child(std::string_view ns, std::string_view local) const noexcept {
  for (xmlNodePtr c = next_element(N(node_)->children); c != nullptr; c = next_element(c->next)) {
    if (node_is(c, ns, local)) {
      return Element(c);
    }
  }
  return Element();
}

Element Element::next_sibling(std::string_view ns, std::string_view local) const noexcept {
  for (xmlNodePtr c = next_element(N(node_)->next); c != nullptr; c = next_element(c->next)) {
    if (node_is(c, ns, local)) {
      return Element(c);
    }
  }
  return Element();
}

std::vector<Element> Element::children() const {
  std::vector<Element> out;
  for (xmlNodePtr c = next_element(N(node_)->children); c != nullptr; c = next_element(c->next)) {
    out.push_back(Element(c));
  }
  return out;
}

std::vector<Element> Element::children(std::string_view ns, std::string_view local) const {
  std::vector<Element> out;
  for (xmlNodePtr c = next_element(N(node_)->children); c != nullptr; c = next_element(c->next)) {
    if (node_is(c, ns, local)) {
      out.push_back(Element(c));
    }
  }
  return out;
}

bool Element::has_non_blank_text_child() const {
  for (xmlNodePtr c = N(node_)->children; c != nullptr; c = c->next) {
    if (c->type == XML_CDATA_SECTION_NODE || c->type == XML_ENTITY_REF_NODE) {
      return true;
    }
    if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c) == 0) {
      return true;
    }
  }
  return false;
}

Element Element::append_element(std::string_view ns, std::string_view qualified_name) {
  xmlNodePtr parent = N(node_);
  const auto [prefix, local] = split_qname(qualified_name);
  xmlNodePtr child = xmlNewDocNode(parent->doc, nullptr, as_xml(local.c_str()), nullptr);
  HANSA_CHECK(child != nullptr);
  xmlAddChild(parent, child);
  if (!ns.empty()) {
    xmlSetNs(child, ensure_ns(child, prefix, ns));
  }
  return Element(child);
}

Element Element::append_copy(const Element& source) {
  xmlNodePtr parent = N(node_);
  xmlNodePtr copy = xmlDocCopyNode(N(source.node_), parent->doc, 1);
  HANSA_CHECK(copy != nullptr);
  xmlAddChild(parent, copy);
  (void)xmlReconciliateNs(parent->doc, copy);
  return Element(copy);
}

void Element::declare_namespace(std::string_view prefix, std::string_view ns) {
  const std::string p(prefix);
  const std::string u(ns);
  (void)xmlNewNs(N(node_), as_xml(u.c_str()), p.empty() ? nullptr : as_xml(p.c_str()));
}

void Element::set_attribute(std::string_view name, std::string_view value) {
  const std::string n(name);
  const std::string v(value);
  (void)xmlSetNsProp(N(node_), nullptr, as_xml(n.c_str()), as_xml(v.c_str()));
}

void Element::set_attribute(std::string_view ns, std::string_view qualified_name,
                            std::string_view value) {
  if (ns.empty()) {
    set_attribute(qualified_name, value);
    return;
  }
  const auto [prefix, local] = split_qname(qualified_name);
  // Attributes in a namespace need a prefix; an unprefixed name gets "ns1".
  xmlNsPtr xns = ensure_ns(N(node_), prefix.empty() ? std::string("ns1") : prefix, ns);
  const std::string v(value);
  (void)xmlSetNsProp(N(node_), xns, as_xml(local.c_str()), as_xml(v.c_str()));
}

void Element::set_text(std::string_view text) {
  xmlNodePtr n = N(node_);
  while (n->children != nullptr) {
    NodePtr child(n->children);
    xmlUnlinkNode(child.get());
  }
  append_text(text);
}

void Element::append_text(std::string_view text) {
  xmlNodePtr n = N(node_);
  xmlNodePtr t =
      xmlNewDocTextLen(n->doc, as_xml(std::string(text).c_str()), static_cast<int>(text.size()));
  HANSA_CHECK(t != nullptr);
  if (xmlAddChild(n, t) == nullptr) {
    xmlFreeNode(t);
  }
}

void Element::remove() {
  // The root element stays: a Document always has one.
  HANSA_CHECK(N(node_)->parent != nullptr && N(node_)->parent->type == XML_ELEMENT_NODE);
  NodePtr n(N(node_));
  xmlUnlinkNode(n.get());
  node_ = nullptr;
}

std::string Element::serialize() const {
  ensure_libxml_initialized();
  BufferPtr buf(xmlBufferCreate());
  HANSA_CHECK(buf != nullptr);
  xmlNodePtr n = N(node_);
  HANSA_CHECK(xmlNodeDump(buf.get(), n->doc, n, 0, 0) >= 0);
  return std::string(reinterpret_cast<const char*>(xmlBufferContent(buf.get())),
                     static_cast<std::size_t>(xmlBufferLength(buf.get())));
}

// ---------------------------------------------------------------------------------------------
// Canonicalization

namespace {

struct C14nInfo {
  C14nMethod method;
  std::string_view uri;
  int mode;
  bool comments;
};

constexpr C14nInfo kC14nTable[] = {
    {C14nMethod::kC14n10, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", XML_C14N_1_0, false},
    {C14nMethod::kC14n10WithComments,
     "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments", XML_C14N_1_0, true},
    {C14nMethod::kExclusiveC14n10, "http://www.w3.org/2001/10/xml-exc-c14n#",
     XML_C14N_EXCLUSIVE_1_0, false},
    {C14nMethod::kExclusiveC14n10WithComments,
     "http://www.w3.org/2001/10/xml-exc-c14n#WithComments", XML_C14N_EXCLUSIVE_1_0, true},
    {C14nMethod::kC14n11, "http://www.w3.org/2006/12/xml-c14n11", XML_C14N_1_1, false},
    {C14nMethod::kC14n11WithComments, "http://www.w3.org/2006/12/xml-c14n11#WithComments",
     XML_C14N_1_1, true},
};

const C14nInfo& c14n_info(C14nMethod m) {
  for (const auto& i : kC14nTable) {
    if (i.method == m) {
      return i;
    }
  }
  HANSA_CHECK(false);
  return kC14nTable[0];
}

bool in_subtree(xmlNodePtr apex, xmlNodePtr n) {
  for (; n != nullptr; n = n->parent) {
    if (n == apex) {
      return true;
    }
  }
  return false;
}

int subtree_visible(void* user_data, xmlNodePtr node, xmlNodePtr parent) {
  auto* apex = static_cast<xmlNodePtr>(user_data);
  if (node != nullptr && node->type == XML_NAMESPACE_DECL) {
    return in_subtree(apex, parent) ? 1 : 0;
  }
  return in_subtree(apex, node) ? 1 : 0;
}

// Canonicalizes `doc`, or with `apex` only the subtree at `apex` in its place in `doc`.
Result<std::string> execute_c14n(xmlDocPtr doc, xmlNodePtr apex, C14nMethod method,
                                 const std::vector<std::string>& prefixes) {
  ensure_libxml_initialized();
  const C14nInfo& info = c14n_info(method);
  std::vector<xmlChar*> prefix_ptrs;
  std::vector<std::string> prefix_copies = prefixes;
  if (info.mode == XML_C14N_EXCLUSIVE_1_0) {
    for (auto& p : prefix_copies) {
      prefix_ptrs.push_back(reinterpret_cast<xmlChar*>(p.data()));
    }
  }
  prefix_ptrs.push_back(nullptr);
  OutputBufferPtr out(xmlAllocOutputBuffer(nullptr));
  HANSA_CHECK(out != nullptr);
  const int rc = xmlC14NExecute(doc, apex != nullptr ? subtree_visible : nullptr, apex, info.mode,
                                prefix_ptrs.size() > 1 ? prefix_ptrs.data() : nullptr,
                                info.comments ? 1 : 0, out.get());
  if (rc < 0) {
    return Error(FaultCode::kInvalidXml, "XML canonicalization failed", std::string(info.uri));
  }
  (void)xmlOutputBufferFlush(out.get());
  const xmlChar* content = xmlOutputBufferGetContent(out.get());
  const std::size_t size = xmlOutputBufferGetSize(out.get());
  return content == nullptr ? std::string()
                            : std::string(reinterpret_cast<const char*>(content), size);
}

// A copy of the subtree at `apex` in a document of its own, with every namespace in scope at the
// apex declared on the copy's root element. Canonicalized whole, it gives the bytes of the
// subtree canonicalized in place, but libxml2 walks only the subtree: in place it walks the whole
// document and builds namespace and attribute lists at every element, visible or not (a
// signature document is walked twice per check, for SignedInfo and SignedProperties). Null, and
// canonicalized in place, when an ancestor carries an xml:* attribute (inclusive C14N inherits
// or fixes those up) or a namespace undeclaration (xmlns="") is in scope.
DocPtr detached_subtree(xmlNodePtr apex) {
  for (xmlNodePtr n = apex->parent; n != nullptr && n->type == XML_ELEMENT_NODE; n = n->parent) {
    for (xmlAttrPtr a = n->properties; a != nullptr; a = a->next) {
      if (a->ns != nullptr && xmlStrEqual(a->ns->href, XML_XML_NAMESPACE)) {
        return nullptr;
      }
    }
  }
  DocPtr doc(xmlNewDoc(as_xml("1.0")));
  HANSA_CHECK(doc != nullptr);
  xmlNodePtr copy = xmlDocCopyNode(apex, doc.get(), 1);
  if (copy == nullptr) {
    return nullptr;
  }
  xmlDocSetRootElement(doc.get(), copy);
  xmlNsPtr* in_scope = xmlGetNsList(apex->doc, apex);
  bool usable = true;
  for (xmlNsPtr* ns = in_scope; usable && ns != nullptr && *ns != nullptr; ++ns) {
    const xmlChar* prefix = (*ns)->prefix;
    if ((*ns)->href == nullptr || (*ns)->href[0] == '\0') {
      usable = false;
    } else if (prefix == nullptr || !xmlStrEqual(prefix, as_xml("xml"))) {
      bool declared = false;
      for (xmlNsPtr d = copy->nsDef; d != nullptr && !declared; d = d->next) {
        declared = xmlStrEqual(d->prefix, prefix) != 0;
      }
      usable = declared || xmlNewNs(copy, (*ns)->href, prefix) != nullptr;
    }
  }
  xmlFree(in_scope);
  return usable ? std::move(doc) : nullptr;
}

Result<std::string> run_c14n(xmlDocPtr doc, xmlNodePtr apex, C14nMethod method,
                             const std::vector<std::string>& prefixes) {
  if (apex != nullptr) {
    if (DocPtr alone = detached_subtree(apex)) {
      return execute_c14n(alone.get(), nullptr, method, prefixes);
    }
  }
  return execute_c14n(doc, apex, method, prefixes);
}

}  // namespace

std::string_view c14n_uri(C14nMethod method) noexcept { return c14n_info(method).uri; }

std::optional<C14nMethod> c14n_from_uri(std::string_view uri) noexcept {
  for (const auto& i : kC14nTable) {
    if (i.uri == uri) {
      return i.method;
    }
  }
  return std::nullopt;
}

Result<std::string> canonicalize(const Document& doc, C14nMethod method,
                                 const std::vector<std::string>& inclusive_prefixes) {
  return run_c14n(DocumentAccess::doc(doc), nullptr, method, inclusive_prefixes);
}

Result<std::string> canonicalize(const Element& element, C14nMethod method,
                                 const std::vector<std::string>& inclusive_prefixes) {
  HANSA_CHECK(element.valid());
  xmlNodePtr n = DocumentAccess::node(element);
  return run_c14n(n->doc, n, method, inclusive_prefixes);
}

namespace internal {

Result<std::string> canonicalize_in_place(const Element& element, C14nMethod method,
                                          const std::vector<std::string>& inclusive_prefixes) {
  HANSA_CHECK(element.valid());
  xmlNodePtr n = DocumentAccess::node(element);
  return execute_c14n(n->doc, n, method, inclusive_prefixes);
}

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// XPath

namespace {

Result<XPathObjectPtr> eval_xpath(const Element& context, std::string_view expr,
                                  const NamespaceBindings& namespaces, ErrorCollector& errors) {
  ensure_libxml_initialized();
  HANSA_CHECK(context.valid());
  xmlNodePtr node = DocumentAccess::node(context);
  XPathContextPtr ctx(xmlXPathNewContext(node->doc));
  HANSA_CHECK(ctx != nullptr);
  ctx->error = ErrorCollector::on_error;
  ctx->userData = &errors;
  ctx->node = node;
  for (const auto& [prefix, uri] : namespaces) {
    if (xmlXPathRegisterNs(ctx.get(), as_xml(prefix.c_str()), as_xml(uri.c_str())) != 0) {
      return Error(FaultCode::kInvalidXml, "cannot register XPath namespace prefix", prefix);
    }
  }
  const std::string e(expr);
  XPathObjectPtr obj(xmlXPathEvalExpression(as_xml(e.c_str()), ctx.get()));
  if (!obj) {
    return Error(FaultCode::kInvalidXml, "XPath evaluation failed",
                 e + (errors.has_error ? ": " + errors.detail : std::string()));
  }
  return obj;
}

}  // namespace

Result<std::vector<Element>> select_elements(const Element& context, std::string_view expr,
                                             const NamespaceBindings& namespaces) {
  ErrorCollector errors;
  HANSA_ASSIGN_OR_RETURN(XPathObjectPtr obj, eval_xpath(context, expr, namespaces, errors));
  if (obj->type != XPATH_NODESET) {
    return Error(FaultCode::kInvalidXml, "XPath result is not a node-set", std::string(expr));
  }
  std::vector<Element> out;
  if (obj->nodesetval != nullptr) {
    for (int i = 0; i < obj->nodesetval->nodeNr; ++i) {
      xmlNodePtr n = obj->nodesetval->nodeTab[i];
      if (n != nullptr && n->type == XML_ELEMENT_NODE) {
        out.push_back(DocumentAccess::element(n));
      }
    }
  }
  return out;
}

Result<std::string> select_string(const Element& context, std::string_view expr,
                                  const NamespaceBindings& namespaces) {
  ErrorCollector errors;
  HANSA_ASSIGN_OR_RETURN(XPathObjectPtr obj, eval_xpath(context, expr, namespaces, errors));
  return take_xml_chars(xmlXPathCastToString(obj.get()));
}

// ---------------------------------------------------------------------------------------------
// Schema

struct Schema::Impl {
  SchemaPtr schema;
};

Schema::Schema(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;
Schema::~Schema() = default;

Result<Schema> Schema::load_file(const std::filesystem::path& path) {
  ensure_libxml_initialized();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error(FaultCode::kInvalidConfiguration, "XML schema file not found", path.string());
  }
  const std::string p = path.string();
  SchemaParserCtxtPtr pctxt(xmlSchemaNewParserCtxt(p.c_str()));
  if (!pctxt) {
    return Error(FaultCode::kInvalidConfiguration, "cannot read XML schema", p);
  }
  ErrorCollector errors;
  xmlSchemaSetParserStructuredErrors(pctxt.get(), ErrorCollector::on_error, &errors);
  SchemaPtr schema(xmlSchemaParse(pctxt.get()));
  if (!schema) {
    return Error(FaultCode::kInvalidConfiguration, "invalid XML schema",
                 p + (errors.has_error ? ": " + errors.detail : std::string()));
  }
  auto impl = std::make_unique<Impl>();
  impl->schema = std::move(schema);
  return Schema(std::move(impl));
}

Result<Schema> Schema::load_memory(std::string_view xsd_text) {
  ensure_libxml_initialized();
  if (xsd_text.size() > static_cast<std::size_t>(INT32_MAX)) {
    return Error(FaultCode::kInvalidConfiguration, "XML schema too large");
  }
  SchemaParserCtxtPtr pctxt(
      xmlSchemaNewMemParserCtxt(xsd_text.data(), static_cast<int>(xsd_text.size())));
  if (!pctxt) {
    return Error(FaultCode::kInvalidConfiguration, "cannot read XML schema");
  }
  ErrorCollector errors;
  xmlSchemaSetParserStructuredErrors(pctxt.get(), ErrorCollector::on_error, &errors);
  SchemaPtr schema(xmlSchemaParse(pctxt.get()));
  if (!schema) {
    return Error(FaultCode::kInvalidConfiguration, "invalid XML schema",
                 errors.has_error ? errors.detail : std::string());
  }
  auto impl = std::make_unique<Impl>();
  impl->schema = std::move(schema);
  return Schema(std::move(impl));
}

Status Schema::validate(const Document& doc) const {
  ensure_libxml_initialized();
  // A validation context per call: the compiled schema itself is only read.
  SchemaValidCtxtPtr vctxt(xmlSchemaNewValidCtxt(impl_->schema.get()));
  HANSA_CHECK(vctxt != nullptr);
  ErrorCollector errors;
  xmlSchemaSetValidStructuredErrors(vctxt.get(), ErrorCollector::on_error, &errors);
  const int rc = xmlSchemaValidateDoc(vctxt.get(), DocumentAccess::doc(doc));
  if (rc != 0) {
    return Error(FaultCode::kInvalidXml, "XML document does not match its schema",
                 errors.has_error ? errors.detail : "validation failed");
  }
  return ok_status();
}

}  // namespace hansa::xml
