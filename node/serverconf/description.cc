#include "node/serverconf/description.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "core/http/client.h"
#include "core/ids/ids.h"
#include "core/xml/xml.h"
#include "node/serverconf/path_pattern.h"

namespace hansa::serverconf {
namespace {

using nlohmann::json;

constexpr std::string_view kWsdlNs = "http://schemas.xmlsoap.org/wsdl/";
constexpr std::string_view kSoap11Ns = "http://schemas.xmlsoap.org/wsdl/soap/";
constexpr std::string_view kXrdNs = "http://x-road.eu/xsd/xroad.xsd";
constexpr std::size_t kMaxUrlLength = 2048;

Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidRequest, std::move(message), std::move(detail));
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

Status check_size(std::string_view document, const DescriptionLimits& limits,
                  std::string_view what) {
  if (document.size() > limits.max_document_bytes) {
    return Error(FaultCode::kLimitExceeded,
                 std::string(what) + " document is larger than the limit of " +
                     std::to_string(limits.max_document_bytes) + " bytes",
                 std::to_string(document.size()) + " bytes");
  }
  if (document.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return invalid(std::string(what) + " document is empty");
  }
  return ok_status();
}

Status check_service_code(std::string_view code) {
  return ids::validate_part(ids::Part::kServiceCode, code, FaultCode::kInvalidServiceIdentifier);
}

// --- WSDL ---

// portType operation name -> xrd:title (PR-MESS 3.2, Table 2).
std::map<std::string, std::string> wsdl_titles(const xml::Element& root) {
  std::map<std::string, std::string> titles;
  for (const auto& port_type : root.children(kWsdlNs, "portType")) {
    for (const auto& op : port_type.children(kWsdlNs, "operation")) {
      const auto name = op.attribute("name");
      const auto doc = op.first_child(kWsdlNs, "documentation");
      if (!name || !doc) {
        continue;
      }
      if (const auto title = doc.first_child(kXrdNs, "title")) {
        titles.emplace(*name, trim(title.text()));
      }
    }
  }
  return titles;
}

Status check_literal_use(const xml::Element& op) {
  for (std::string_view dir : {"input", "output"}) {
    for (const auto& io : op.children(kWsdlNs, dir)) {
      for (const auto& body : io.children(kSoap11Ns, "body")) {
        const auto use = body.attribute("use");
        if (use && *use != "literal") {
          return invalid("WSDL operation " + op.attribute("name").value_or("") +
                         " uses soap:body use=\"" + *use +
                         "\"; X-Road services must be document/literal");
        }
      }
    }
  }
  return ok_status();
}

// --- OpenAPI: JSON and YAML into one JSON value, with depth and node limits ---

struct LimitTrip {
  std::string what;
};

Result<json> parse_json_limited(std::string_view text, const DescriptionLimits& limits) {
  std::size_t nodes = 0;
  const auto max_depth = static_cast<int>(limits.max_depth);
  auto callback = [&](int depth, json::parse_event_t event, json&) -> bool {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      // `depth` is the depth of the enclosing value; the new collection is one deeper.
      if (depth + 1 > max_depth) {
        throw LimitTrip{"nesting deeper than " + std::to_string(limits.max_depth)};
      }
    }
    if (event == json::parse_event_t::value || event == json::parse_event_t::object_start ||
        event == json::parse_event_t::array_start) {
      if (++nodes > limits.max_nodes) {
        throw LimitTrip{"more than " + std::to_string(limits.max_nodes) + " values"};
      }
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const LimitTrip& trip) {
    return Error(FaultCode::kLimitExceeded, "OpenAPI document exceeds a limit: " + trip.what);
  } catch (const json::exception& e) {
    return invalid("OpenAPI document is not valid JSON", e.what());
  }
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The length of the quoted scalar at the start of `s` (up to and including its closing quote, or
// all of `s` when it continues on the next line).
std::size_t skip_quoted(std::string_view s) {
  const char q = s.front();
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (q == '"' && s[i] == '\\') {
      ++i;
    } else if (s[i] == q) {
      if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return s.size();
}

// The position of the ':' that ends a mapping key (followed by a space, a tab or the line end),
// searching from `from`; npos when none.
std::size_t find_mapping_colon(std::string_view s, std::size_t from) {
  for (std::size_t i = s.find(':', from); i != std::string_view::npos; i = s.find(':', i + 1)) {
    if (i + 1 == s.size() || is_space(s[i + 1])) {
      return i;
    }
  }
  return std::string_view::npos;
}

// A cheap upper bound of the nesting depth of a YAML text, computed before yaml-cpp (whose parser
// recurses and has no depth limit) sees it: indentation levels of block collections, compact
// "- " / "? " indicators, and flow brackets. Stops counting once past `stop_above`.
std::size_t yaml_depth_bound(std::string_view doc, std::size_t stop_above) {
  std::vector<std::size_t> indents;
  std::size_t flow = 0;
  std::size_t max_depth = 0;
  std::size_t block_scalar_indent = std::string_view::npos;  // inside a | or > scalar
  char quote = 0;
  std::size_t pos = 0;
  auto scan_flow = [&](std::string_view s, std::size_t base) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (quote != 0) {
        if (quote == '"' && c == '\\') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '[' || c == '{') {
        ++flow;
        max_depth = std::max(max_depth, base + flow);
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      } else if (c == '#' && (i == 0 || is_space(s[i - 1]))) {
        return;  // comment to the end of the line
      }
    }
  };
  while (pos <= doc.size() && max_depth <= stop_above) {
    std::size_t eol = doc.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = doc.size();
    }
    std::string_view line = doc.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (flow > 0 || quote != 0) {
      scan_flow(line, indents.size());
      continue;
    }
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') {
      ++indent;
    }
    std::string_view rest = line.substr(indent);
    if (rest.empty() || rest.front() == '#') {
      continue;
    }
    if (block_scalar_indent != std::string_view::npos) {
      if (indent > block_scalar_indent) {
        continue;  // content of a literal or folded scalar
      }
      block_scalar_indent = std::string_view::npos;
    }
    while (!indents.empty() && indents.back() > indent) {
      indents.pop_back();
    }
    if (indents.empty() || indents.back() < indent) {
      indents.push_back(indent);
    }
    std::size_t depth = indents.size();
    // A document start marker may carry content: "--- [ ...".
    if (rest.starts_with("---") && (rest.size() == 3 || is_space(rest[3]))) {
      rest.remove_prefix(3);
      while (!rest.empty() && is_space(rest.front())) {
        rest.remove_prefix(1);
      }
    }
    // Compact nested collections on one line: "- - - x", "? ? x", "- key: ...".
    while (rest.size() >= 2 && (rest[0] == '-' || rest[0] == '?') && is_space(rest[1])) {
      ++depth;
      rest.remove_prefix(2);
      while (!rest.empty() && is_space(rest.front())) {
        rest.remove_prefix(1);
      }
    }
    if (rest == "-" || rest == "?") {
      ++depth;
    }
    max_depth = std::max(max_depth, depth);
    // Anchors and tags may stand before a collection: "&a [", "- !!seq [".
    while (!rest.empty() && (rest.front() == '&' || rest.front() == '!')) {
      const auto sp = rest.find_first_of(" \t");
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      while (!rest.empty() && is_space(rest.front())) {
        rest.remove_prefix(1);
      }
    }
    // The value of "key: value" (a flow collection may start there); the key may be quoted.
    std::string_view value = rest;
    if (!rest.empty() && rest.front() != '[' && rest.front() != '{') {
      std::size_t key_end = 0;
      if (rest.front() == '"' || rest.front() == '\'') {
        key_end = skip_quoted(rest);
      }
      const auto colon = find_mapping_colon(rest, key_end);
      if (colon != std::string_view::npos) {
        value = rest.substr(colon + 1);
        ++depth;
        max_depth = std::max(max_depth, depth);
      } else {
        value = {};  // a plain or quoted scalar: brackets inside it are text
      }
    }
    while (!value.empty() && is_space(value.front())) {
      value.remove_prefix(1);
    }
    // Anchors and tags before the value: "&a [", "!!seq [".
    while (!value.empty() && (value.front() == '&' || value.front() == '!')) {
      const auto sp = value.find_first_of(" \t");
      value = sp == std::string_view::npos ? std::string_view{} : value.substr(sp + 1);
      while (!value.empty() && is_space(value.front())) {
        value.remove_prefix(1);
      }
    }
    if (!value.empty() && (value.front() == '[' || value.front() == '{')) {
      scan_flow(value, depth);
    } else if (!value.empty() && (value.front() == '|' || value.front() == '>')) {
      block_scalar_indent = indent;
    }
  }
  return max_depth;
}

// yaml-cpp's tree into JSON (every scalar a string), bounded by depth and node count.
Result<json> yaml_to_json(const YAML::Node& node, std::size_t depth, std::size_t& nodes,
                          const DescriptionLimits& limits) {
  if (++nodes > limits.max_nodes) {
    return Error(FaultCode::kLimitExceeded, "OpenAPI document exceeds a limit: more than " +
                                                std::to_string(limits.max_nodes) + " values");
  }
  if (depth > limits.max_depth) {
    return Error(FaultCode::kLimitExceeded,
                 "OpenAPI document exceeds a limit: nesting deeper than " +
                     std::to_string(limits.max_depth));
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      return json(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        HANSA_ASSIGN_OR_RETURN(json v, yaml_to_json(item, depth + 1, nodes, limits));
        out.push_back(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return invalid("OpenAPI document has a mapping key that is not a plain value");
        }
        HANSA_ASSIGN_OR_RETURN(json v, yaml_to_json(kv.second, depth + 1, nodes, limits));
        out[kv.first.Scalar()] = std::move(v);
      }
      return out;
    }
  }
  return json(nullptr);
}

Result<json> parse_yaml_limited(std::string_view text, const DescriptionLimits& limits) {
  const std::size_t bound = yaml_depth_bound(text, limits.max_depth);
  if (bound > limits.max_depth) {
    return Error(FaultCode::kLimitExceeded,
                 "OpenAPI document exceeds a limit: nesting deeper than " +
                     std::to_string(limits.max_depth));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalid("OpenAPI document is not valid YAML",
                   "line " + std::to_string(e.mark.line + 1) + ", column " +
                       std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  std::size_t nodes = 0;
  try {
    return yaml_to_json(root, 1, nodes, limits);
  } catch (const YAML::Exception& e) {
    return invalid("OpenAPI document is not valid YAML", e.what());
  }
}

// servers[0].url with {variables} replaced by their defaults; empty when unusable.
std::string openapi_server_url(const json& root) {
  const auto servers = root.find("servers");
  if (servers == root.end() || !servers->is_array() || servers->empty() ||
      !(*servers)[0].is_object()) {
    return {};
  }
  const json& server = (*servers)[0];
  const auto url_it = server.find("url");
  if (url_it == server.end() || !url_it->is_string()) {
    return {};
  }
  std::string url = url_it->get<std::string>();
  const auto vars = server.find("variables");
  std::string out;
  for (std::size_t i = 0; i < url.size(); ++i) {
    if (url[i] != '{') {
      out.push_back(url[i]);
      continue;
    }
    const auto close = url.find('}', i);
    if (close == std::string::npos || vars == server.end() || !vars->is_object()) {
      return {};
    }
    const std::string name = url.substr(i + 1, close - i - 1);
    const auto var = vars->find(name);
    if (var == vars->end() || !var->is_object() || !var->contains("default") ||
        !(*var)["default"].is_string()) {
      return {};
    }
    out += (*var)["default"].get<std::string>();
    i = close;
  }
  return out;
}

}  // namespace

Status validate_url(std::string_view url) {
  if (url.size() > kMaxUrlLength) {
    return invalid("URL is longer than " + std::to_string(kMaxUrlLength) + " bytes");
  }
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return invalid("URL must start with http:// or https://", std::string(url));
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f) {
      return invalid("URL holds a space or control character");
    }
  }
  const auto host_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, host_end);
  if (authority.empty() || authority.front() == ':' ||
      authority.find('@') != std::string_view::npos) {
    return invalid("URL has no host (or holds user information)", std::string(url));
  }
  return ok_status();
}

Result<ParsedDescription> parse_wsdl(std::string_view document, const DescriptionLimits& limits,
                                     const std::optional<std::string>& url_override) {
  HANSA_RETURN_IF_ERROR(check_size(document, limits, "WSDL"));
  xml::ParseLimits xml_limits;
  xml_limits.max_document_bytes = limits.max_document_bytes;
  xml_limits.max_depth = limits.max_depth;
  xml_limits.max_elements = limits.max_xml_elements;
  auto parsed = xml::Document::parse(document, xml_limits);
  if (!parsed.ok()) {
    Error e = std::move(parsed).error();
    e.message = (e.code == FaultCode::kLimitExceeded ? "WSDL exceeds a limit: "
                                                     : "WSDL is not well-formed XML: ") +
                e.message;
    return e;
  }
  const xml::Element root = parsed->root();
  if (!root.is(kWsdlNs, "definitions")) {
    return invalid(
        "not a WSDL 1.1 document: the root element must be {" + std::string(kWsdlNs) +
            "}definitions",
        "found {" + std::string(root.namespace_uri()) + "}" + std::string(root.local_name()));
  }
  const auto titles = wsdl_titles(root);

  ParsedDescription out;
  out.type = DescriptionType::kWsdl;
  std::set<std::pair<std::string, std::string>> seen;
  bool any_soap_binding = false;
  for (const auto& binding : root.children(kWsdlNs, "binding")) {
    const auto soap_binding = binding.first_child(kSoap11Ns, "binding");
    if (!soap_binding) {
      continue;  // HTTP or SOAP 1.2 bindings are not X-Road services
    }
    any_soap_binding = true;
    const std::string binding_style = soap_binding.attribute("style").value_or("document");
    std::set<std::pair<std::string, std::string>> in_binding;
    for (const auto& op : binding.children(kWsdlNs, "operation")) {
      const auto name = op.attribute("name");
      if (!name || name->empty()) {
        return invalid("WSDL binding operation has no name");
      }
      std::string style = binding_style;
      if (const auto soap_op = op.first_child(kSoap11Ns, "operation")) {
        style = soap_op.attribute("style").value_or(style);
      }
      if (style != "document") {
        return invalid("WSDL operation " + *name + " has style \"" + style +
                       "\"; X-Road services must be document/literal wrapped (PR-MESS 3.2)");
      }
      HANSA_RETURN_IF_ERROR(check_literal_use(op));
      if (auto st = check_service_code(*name); !st.ok()) {
        Error e = std::move(st).error();
        e.message = "WSDL operation name is not a valid service code: " + e.message;
        return e;
      }
      std::optional<std::string> version;
      if (const auto v = op.first_child(kXrdNs, "version")) {
        version = trim(v.text());
        if (auto st = ids::validate_part(ids::Part::kServiceVersion, *version,
                                         FaultCode::kInvalidServiceIdentifier);
            !st.ok()) {
          Error e = std::move(st).error();
          e.message = "WSDL operation " + *name + " has an invalid xrd:version: " + e.message;
          return e;
        }
      }
      auto key = std::make_pair(*name, version.value_or(""));
      if (!in_binding.insert(key).second) {
        return invalid("WSDL binding defines operation " + *name + " twice",
                       "version " + version.value_or("(none)"));
      }
      if (!seen.insert(key).second) {
        continue;  // the same operation in another SOAP binding of the same port type
      }
      if (out.services.size() >= limits.max_services) {
        return Error(FaultCode::kLimitExceeded,
                     "WSDL has more than " + std::to_string(limits.max_services) + " operations");
      }
      ParsedService svc;
      svc.service_code = *name;
      svc.service_version = version;
      if (const auto t = titles.find(*name); t != titles.end()) {
        svc.title = t->second;
      }
      out.services.push_back(std::move(svc));
    }
  }
  if (!any_soap_binding) {
    return invalid("WSDL has no SOAP 1.1 binding (soap:binding in namespace " +
                   std::string(kSoap11Ns) + ")");
  }
  if (out.services.empty()) {
    return invalid("WSDL defines no operations");
  }
  std::string url;
  if (url_override) {
    url = *url_override;
  } else {
    for (const auto& service : root.children(kWsdlNs, "service")) {
      for (const auto& port : service.children(kWsdlNs, "port")) {
        if (const auto addr = port.first_child(kSoap11Ns, "address")) {
          url = addr.attribute("location").value_or("");
          break;
        }
      }
      if (!url.empty()) {
        break;
      }
    }
    if (url.empty()) {
      return invalid("WSDL has no soap:address location; give the provider URL");
    }
  }
  if (auto st = validate_url(url); !st.ok()) {
    Error e = std::move(st).error();
    e.message = "WSDL provider URL is invalid: " + e.message;
    return e;
  }
  for (auto& s : out.services) {
    s.url = url;
  }
  return out;
}

Result<ParsedDescription> parse_openapi(std::string_view document, std::string_view service_code,
                                        const DescriptionLimits& limits,
                                        const std::optional<std::string>& url_override) {
  HANSA_RETURN_IF_ERROR(check_size(document, limits, "OpenAPI"));
  HANSA_RETURN_IF_ERROR(check_service_code(service_code));
  std::string_view text = document;
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  const bool is_json = first != std::string_view::npos && text[first] == '{';
  HANSA_ASSIGN_OR_RETURN(
      json root, is_json ? parse_json_limited(text, limits) : parse_yaml_limited(text, limits));
  if (!root.is_object()) {
    return invalid("OpenAPI document is not an object");
  }
  const auto version = root.find("openapi");
  if (version == root.end() || !version->is_string() ||
      !version->get<std::string>().starts_with("3.")) {
    if (root.contains("swagger")) {
      return invalid("Swagger 2.0 documents are not supported: need OpenAPI 3.x");
    }
    return invalid("not an OpenAPI 3 document: the field \"openapi\" must be a string 3.x");
  }
  const auto paths = root.find("paths");
  if (paths == root.end() || !paths->is_object() || paths->empty()) {
    return invalid("OpenAPI document has no paths");
  }
  static const std::set<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                                 "options", "head", "patch", "trace"};
  static const std::set<std::string> kOtherKeys = {"summary", "description", "servers",
                                                   "parameters", "$ref"};
  ParsedDescription out;
  out.type = DescriptionType::kOpenApi;
  for (const auto& [path, item] : paths->items()) {
    if (path.empty() || path.front() != '/') {
      return invalid("OpenAPI path must start with /", path);
    }
    if (!item.is_object()) {
      return invalid("OpenAPI path item is not an object", path);
    }
    for (const auto& [key, op] : item.items()) {
      if (kMethods.contains(key)) {
        EndpointKey ep;
        ep.method = key;
        std::transform(ep.method.begin(), ep.method.end(), ep.method.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        ep.path = path;
        if (auto st = validate_endpoint(ep); !st.ok()) {
          Error e = std::move(st).error();
          e.message = "OpenAPI path is not usable as an endpoint: " + e.message;
          return e;
        }
        if (out.endpoints.size() >= limits.max_endpoints) {
          return Error(FaultCode::kLimitExceeded, "OpenAPI document has more than " +
                                                      std::to_string(limits.max_endpoints) +
                                                      " operations");
        }
        out.endpoints.push_back(std::move(ep));
      } else if (!kOtherKeys.contains(key) && !key.starts_with("x-")) {
        return invalid("OpenAPI path " + path + " has an invalid method \"" + key + "\"");
      }
    }
  }
  if (out.endpoints.empty()) {
    return invalid("OpenAPI document defines no operations under its paths");
  }
  std::sort(out.endpoints.begin(), out.endpoints.end());
  out.endpoints.erase(std::unique(out.endpoints.begin(), out.endpoints.end()), out.endpoints.end());
  ParsedService svc;
  svc.service_code = std::string(service_code);
  if (const auto info = root.find("info"); info != root.end() && info->is_object() &&
                                           info->contains("title") &&
                                           (*info)["title"].is_string()) {
    svc.title = (*info)["title"].get<std::string>();
  }
  svc.url = url_override ? *url_override : openapi_server_url(root);
  if (auto st = validate_url(svc.url); !st.ok()) {
    if (!url_override) {
      return invalid(
          "OpenAPI servers[0].url is missing or not an absolute http(s) URL; give the provider "
          "URL",
          svc.url);
    }
    return std::move(st).error();
  }
  out.services.push_back(std::move(svc));
  return out;
}

Result<ParsedDescription> rest_description(std::string_view service_code,
                                           std::string_view base_url) {
  HANSA_RETURN_IF_ERROR(check_service_code(service_code));
  HANSA_RETURN_IF_ERROR(validate_url(base_url));
  ParsedDescription out;
  out.type = DescriptionType::kRest;
  ParsedService svc;
  svc.service_code = std::string(service_code);
  svc.url = std::string(base_url);
  out.services.push_back(std::move(svc));
  return out;
}

DescriptionFetcher make_http_fetcher(FetchTlsOptions tls) {
  return [tls = std::move(tls)](std::string_view url,
                                const DescriptionLimits& limits) -> Result<std::string> {
    HANSA_RETURN_IF_ERROR(validate_url(url));
    const std::size_t scheme_end = url.find("://") + 3;
    const std::size_t path_start = url.find_first_of("/?", scheme_end);
    const std::string base(url.substr(0, path_start));
    std::string target =
        path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
    if (target.front() == '?') {
      target.insert(0, "/");
    }
    const auto hash = target.find('#');
    if (hash != std::string::npos) {
      target.resize(hash);
    }
    http::ClientOptions options;
    options.connect_timeout = limits.fetch_connect_timeout;
    options.read_timeout = limits.fetch_timeout;
    options.write_timeout = limits.fetch_timeout;
    options.total_timeout = limits.fetch_timeout;
    options.max_response_body_bytes = limits.max_document_bytes;
    options.keep_alive = false;
    options.tls.ca_pem = tls.ca_pem;
    options.tls.verify_hostname = tls.verify_hostname;
    auto client = http::Client::create(base, options);
    if (!client.ok()) {
      Error e = std::move(client).error();
      if (e.code == FaultCode::kInvalidConfiguration) {
        e.code = FaultCode::kInvalidRequest;
      }
      e.message = "cannot fetch " + std::string(url) + ": " + e.message;
      return e;
    }
    auto response = (*client)->get(target);
    if (!response.ok()) {
      Error e = std::move(response).error();
      e.message = "cannot fetch " + std::string(url) + ": " + e.message;
      return e;
    }
    if (response->status < 200 || response->status > 299) {
      return invalid("fetching the description returned HTTP " + std::to_string(response->status),
                     std::string(url));
    }
    return std::move(response->body);
  };
}

}  // namespace hansa::serverconf
