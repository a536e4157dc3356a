#pragma once

// Owning unique_ptr aliases for the libxml2 handles Hansa touches, and internal access from
// hansa::xml types to their libxml2 handles (for xmlsec-based code). Include this only from .cc
// files: libxml2 types never appear in public headers. No naked xml*Free calls elsewhere.

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/xml/xml.h"

namespace hansa::xml {

template <auto Fn>
struct LibxmlDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

template <typename T, auto Fn>
using LibxmlPtr = std::unique_ptr<T, LibxmlDeleter<Fn>>;

inline void close_output_buffer(xmlOutputBuffer* b) noexcept { (void)xmlOutputBufferClose(b); }
inline void close_save_ctxt(xmlSaveCtxt* c) noexcept { (void)xmlSaveClose(c); }
// xmlFree is a function-pointer variable, not a function: wrap it.
inline void free_xml_chars(xmlChar* p) noexcept { xmlFree(p); }

using DocPtr = LibxmlPtr<xmlDoc, xmlFreeDoc>;
using NodePtr = LibxmlPtr<xmlNode, xmlFreeNode>;
using ParserCtxtPtr = LibxmlPtr<xmlParserCtxt, xmlFreeParserCtxt>;
using XPathContextPtr = LibxmlPtr<xmlXPathContext, xmlXPathFreeContext>;
using XPathObjectPtr = LibxmlPtr<xmlXPathObject, xmlXPathFreeObject>;
using SchemaParserCtxtPtr = LibxmlPtr<xmlSchemaParserCtxt, xmlSchemaFreeParserCtxt>;
using SchemaPtr = LibxmlPtr<xmlSchema, xmlSchemaFree>;
using SchemaValidCtxtPtr = LibxmlPtr<xmlSchemaValidCtxt, xmlSchemaFreeValidCtxt>;
using OutputBufferPtr = LibxmlPtr<xmlOutputBuffer, close_output_buffer>;
using SaveCtxtPtr = LibxmlPtr<xmlSaveCtxt, close_save_ctxt>;
using BufferPtr = LibxmlPtr<xmlBuffer, xmlBufferFree>;
using XmlCharsPtr = LibxmlPtr<xmlChar, free_xml_chars>;

// Initializes libxml2 once per process (thread-safe) and, on the calling thread, installs silent
// error handlers so libxml2 never writes to stderr. Every entry point of hansa::xml calls this;
// code using libxml2/xmlsec directly must call it too before touching libxml2.
void ensure_libxml_initialized();

// Copies an xmlChar string (may be null) into a std::string and frees it.
[[nodiscard]] std::string take_xml_chars(xmlChar* p);

// Internal bridge between the public wrappers and libxml2 handles.
struct DocumentAccess {
  [[nodiscard]] static xmlDoc* doc(const Document& d) noexcept;
  [[nodiscard]] static xmlNode* node(const Element& e) noexcept {
    return static_cast<xmlNode*>(e.node_);
  }
  [[nodiscard]] static Element element(xmlNode* n) noexcept { return Element(n); }
  // Takes ownership of `doc` (which must have a root element).
  [[nodiscard]] static Document adopt(DocPtr doc);
};

}  // namespace hansa::xml
