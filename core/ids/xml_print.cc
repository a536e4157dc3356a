#include "core/ids/xml_print.h"

namespace hansa::ids {
namespace {

// Writes the start tag with the objectType attribute and, if asked, the namespace declarations.
void open_element(std::string& out, const XmlElementOptions& options, ObjectType type) {
  out += '<';
  out += options.qualified_name;
  if (options.declare_namespaces) {
    auto colon = options.qualified_name.find(':');
    bool id_prefix =
        colon != std::string_view::npos && options.qualified_name.substr(0, colon) == "id";
    // The "id" prefix is reserved for the identifiers namespace in what this file writes.
    HANSA_CHECK(!id_prefix || options.namespace_uri == kIdentifiersNamespace);
    if (!options.namespace_uri.empty() && !id_prefix) {
      if (colon == std::string_view::npos) {
        out += " xmlns=\"";
      } else {
        out += " xmlns:";
        out += options.qualified_name.substr(0, colon);
        out += "=\"";
      }
      out += xml_escape(options.namespace_uri);
      out += '"';
    }
    out += " xmlns:id=\"";
    out += kIdentifiersNamespace;
    out += '"';
  }
  out += " id:objectType=\"";
  out += object_type_name(type);
  out += "\">";
}

void close_element(std::string& out, const XmlElementOptions& options) {
  out += "</";
  out += options.qualified_name;
  out += '>';
}

void part(std::string& out, Part p, std::string_view value) {
  out += "<id:";
  out += part_name(p);
  out += '>';
  out += xml_escape(value);
  out += "</id:";
  out += part_name(p);
  out += '>';
}

void member_parts(std::string& out, const MemberId& m) {
  part(out, Part::kInstance, m.instance());
  part(out, Part::kMemberClass, m.member_class());
  part(out, Part::kMemberCode, m.member_code());
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
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
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// PR-MESS 2.1: XRoadClientIdentifierType.
std::string to_xml(const ClientId& id, const XmlElementOptions& options) {
  std::string out;
  open_element(out, options, id.object_type());
  member_parts(out, id.member());
  if (id.subsystem_code()) {
    part(out, Part::kSubsystemCode, *id.subsystem_code());
  }
  close_element(out, options);
  return out;
}

// PR-MESS 2.1: XRoadServiceIdentifierType.
std::string to_xml(const ServiceId& id, const XmlElementOptions& options) {
  std::string out;
  open_element(out, options, ObjectType::kService);
  member_parts(out, id.provider().member());
  if (id.subsystem_code()) {
    part(out, Part::kSubsystemCode, *id.subsystem_code());
  }
  part(out, Part::kServiceCode, id.service_code());
  if (id.service_version()) {
    part(out, Part::kServiceVersion, *id.service_version());
  }
  close_element(out, options);
  return out;
}

// PR-MESS Annex A: XRoadSecurityServerIdentifierType.
std::string to_xml(const SecurityServerId& id, const XmlElementOptions& options) {
  std::string out;
  open_element(out, options, ObjectType::kServer);
  member_parts(out, id.owner());
  part(out, Part::kServerCode, id.server_code());
  close_element(out, options);
  return out;
}

// PR-MESS Annex A: XRoadGlobalGroupIdentifierType.
std::string to_xml(const GlobalGroupId& id, const XmlElementOptions& options) {
  std::string out;
  open_element(out, options, ObjectType::kGlobalGroup);
  part(out, Part::kInstance, id.instance());
  part(out, Part::kGroupCode, id.group_code());
  close_element(out, options);
  return out;
}

// PR-MESS Annex A: XRoadLocalGroupIdentifierType.
std::string to_xml(const LocalGroupId& id, const XmlElementOptions& options) {
  std::string out;
  open_element(out, options, ObjectType::kLocalGroup);
  part(out, Part::kGroupCode, id.group_code());
  close_element(out, options);
  return out;
}

}  // namespace hansa::ids
