#pragma once

// Printing X-Road identifiers in their XML form (PR-MESS 2.1 and Annex A): a wrapping element
// (for SOAP headers xroad:client, xroad:service, xroad:securityServer in the namespace
// http://x-road.eu/xsd/xroad.xsd) with the attribute id:objectType and child elements in the
// identifiers namespace, in schema order: xRoadInstance, memberClass, memberCode, subsystemCode,
// groupCode, serviceCode, serviceVersion, serverCode. Plain string building, no libxml2; parsing
// is in core/ids/xml_parse.h. schemas/identifiers.xsd describes the form.
//
// Threading: pure functions, thread-safe.

#include <string>
#include <string_view>

#include "core/ids/ids.h"

namespace hansa::ids {

// Namespace of the identifier elements and the objectType attribute (prefix "id").
inline constexpr std::string_view kIdentifiersNamespace = "http://x-road.eu/xsd/identifiers";
// Namespace of the X-Road SOAP header elements client, service, securityServer (prefix "xroad").
inline constexpr std::string_view kXRoadNamespace = "http://x-road.eu/xsd/xroad.xsd";

// How the wrapping element is written.
struct XmlElementOptions {
  // Qualified name of the wrapping element, "prefix:local" or "local". The prefix "id" is taken
  // by the identifiers namespace (using it for another namespace is a bug and aborts).
  std::string_view qualified_name;
  // Namespace of the wrapping element, bound to its prefix (or as default namespace when it has
  // none). Empty: the element is written without a namespace declaration of its own.
  std::string_view namespace_uri = kXRoadNamespace;
  // Write the namespace declarations (xmlns:id and the element's) on the element. Turn off when
  // the element goes inside a document that already declares both prefixes.
  bool declare_namespaces = true;
};

// <xroad:client id:objectType="MEMBER|SUBSYSTEM">...</xroad:client> by default.
[[nodiscard]] std::string to_xml(const ClientId& id,
                                 const XmlElementOptions& options = {"xroad:client"});
// <xroad:service id:objectType="SERVICE">...</xroad:service> by default.
[[nodiscard]] std::string to_xml(const ServiceId& id,
                                 const XmlElementOptions& options = {"xroad:service"});
// <xroad:securityServer id:objectType="SERVER">...</xroad:securityServer> by default.
[[nodiscard]] std::string to_xml(const SecurityServerId& id,
                                 const XmlElementOptions& options = {"xroad:securityServer"});
// Groups have no header element of their own: the caller names the wrapping element.
[[nodiscard]] std::string to_xml(const GlobalGroupId& id, const XmlElementOptions& options);
[[nodiscard]] std::string to_xml(const LocalGroupId& id, const XmlElementOptions& options);

// Escapes text for XML character data and attribute values (& < > " ').
[[nodiscard]] std::string xml_escape(std::string_view text);

}  // namespace hansa::ids
