#include "core/ids/rest_form.h"

#include <array>
#include <vector>

#include "core/ids/internal.h"

namespace hansa::ids {
namespace {

bool is_unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(char c) noexcept {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// RFC 3986 3.3 pchar, without the pct-encoded alternative.
bool is_pchar(char c) noexcept {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Checks that `text` holds only characters accepted by `allowed` and well-formed %XX escapes.
// Returns the position of the first problem, or npos.
template <typename Pred>
std::size_t find_bad_char(std::string_view text, Pred allowed) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
        return i;
      }
      i += 2;
    } else if (!allowed(c)) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  return v;
}

// Splits a header value at '/' into at most `max_parts` parts; nullopt when there are more.
std::optional<std::vector<std::string_view>> split_value(std::string_view value,
                                                         std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (true) {
    if (parts.size() == max_parts) {
      return std::nullopt;
    }
    auto slash = value.find('/');
    parts.push_back(value.substr(0, slash));
    if (slash == std::string_view::npos) {
      return parts;
    }
    value.remove_prefix(slash + 1);
  }
}

// Decodes the parts of an identifier, naming the part in errors.
Result<std::vector<std::string>> decode_parts(const std::vector<std::string_view>& raw,
                                              const std::vector<Part>& names, FaultCode code) {
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto decoded = percent_decode_segment(raw[i], code);
    if (!decoded.ok()) {
      return Error(code, std::string(kind_label(code)) + ": " + std::string(part_name(names[i])) +
                             ": " + decoded.error().message);
    }
    out.push_back(std::move(decoded).value());
  }
  return out;
}

Error too_many_or_few(FaultCode code, std::string_view header, std::string_view expected,
                      std::string_view value) {
  return Error(code, std::string(kind_label(code)) + ": " + std::string(header) + " needs " +
                         std::string(expected) + " parts separated by '/', got " +
                         quote_for_message(value));
}

void append_encoded(std::string& out, std::string_view part) {
  out += percent_encode_segment(part);
}

std::string encode_client(const ClientId& id) {
  std::string out;
  append_encoded(out, id.instance());
  out += '/';
  append_encoded(out, id.member_class());
  out += '/';
  append_encoded(out, id.member_code());
  if (id.subsystem_code()) {
    out += '/';
    append_encoded(out, *id.subsystem_code());
  }
  return out;
}

// Validates the free-form path after the service code: pchar segments, well-formed escapes and no
// dot segments (which a provider could resolve above the service's base URL).
Status check_service_path(std::string_view path) {
  if (path.empty()) {
    return ok_status();
  }
  if (path.front() != '/') {
    return Error(FaultCode::kInvalidRequest, "REST service path must start with '/'");
  }
  auto bad = find_bad_char(path, [](char c) { return is_pchar(c) || c == '/'; });
  if (bad != std::string_view::npos) {
    return Error(FaultCode::kInvalidRequest,
                 "REST service path has an illegal character or malformed percent-encoding at "
                 "position " +
                     std::to_string(bad));
  }
  std::string_view rest = path.substr(1);
  while (true) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    auto decoded = percent_decode_segment(seg);
    if (decoded.ok() && (*decoded == "." || *decoded == "..")) {
      return Error(FaultCode::kInvalidRequest, "REST service path has a dot segment");
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return ok_status();
}

Status check_query(std::string_view query) {
  auto bad = find_bad_char(query, [](char c) { return is_pchar(c) || c == '/' || c == '?'; });
  if (bad != std::string_view::npos) {
    return Error(FaultCode::kInvalidRequest,
                 "REST query has an illegal character or malformed percent-encoding at position " +
                     std::to_string(bad));
  }
  return ok_status();
}

}  // namespace

std::string percent_encode_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    if (is_pchar(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  return out;
}

Result<std::string> percent_decode_segment(std::string_view segment, FaultCode code) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '%') {
      int hi = i + 1 < segment.size() ? hex_value(segment[i + 1]) : -1;
      int lo = i + 2 < segment.size() ? hex_value(segment[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Error(code, "malformed percent-encoding at position " + std::to_string(i));
      }
      out += static_cast<char>((hi << 4) | lo);
      i += 2;
    } else if (is_pchar(c)) {
      out += c;
    } else {
      return Error(code, "character " + quote_for_message(segment.substr(i, 1)) + " at position " +
                             std::to_string(i) + " must be percent-encoded");
    }
  }
  return out;
}

// PR-REST 4.3 X-Road-Client.
std::string to_rest_client(const ClientId& id) { return encode_client(id); }

Result<ClientId> parse_rest_client(std::string_view value) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  value = trim_ows(value);
  if (value.size() > kMaxStringFormLength) {
    return Error(kCode, "client identifier: X-Road-Client longer than " +
                            std::to_string(kMaxStringFormLength) + " bytes");
  }
  auto raw = split_value(value, 4);
  if (!raw || raw->size() < 3) {
    return too_many_or_few(kCode, "X-Road-Client", "3 or 4", value);
  }
  static const std::vector<Part> kNames{Part::kInstance, Part::kMemberClass, Part::kMemberCode,
                                        Part::kSubsystemCode};
  HANSA_ASSIGN_OR_RETURN(auto p, decode_parts(*raw, kNames, kCode));
  std::optional<std::string_view> sub;
  if (p.size() == 4) {
    sub = p[3];
  }
  return make_client(p[0], p[1], p[2], sub, kCode);
}

// PR-REST 4.3 X-Road-Security-Server.
std::string to_rest_security_server(const SecurityServerId& id) {
  std::string out;
  append_encoded(out, id.instance());
  out += '/';
  append_encoded(out, id.member_class());
  out += '/';
  append_encoded(out, id.member_code());
  out += '/';
  append_encoded(out, id.server_code());
  return out;
}

Result<SecurityServerId> parse_rest_security_server(std::string_view value) {
  constexpr FaultCode kCode = FaultCode::kInvalidSecurityServer;
  value = trim_ows(value);
  if (value.size() > kMaxStringFormLength) {
    return Error(kCode, "security server identifier: X-Road-Security-Server longer than " +
                            std::to_string(kMaxStringFormLength) + " bytes");
  }
  auto raw = split_value(value, 4);
  if (!raw || raw->size() != 4) {
    return too_many_or_few(kCode, "X-Road-Security-Server", "4", value);
  }
  static const std::vector<Part> kNames{Part::kInstance, Part::kMemberClass, Part::kMemberCode,
                                        Part::kServerCode};
  HANSA_ASSIGN_OR_RETURN(auto p, decode_parts(*raw, kNames, kCode));
  return SecurityServerId::create(p[0], p[1], p[2], p[3]);
}

// PR-REST 4.3 X-Road-Service.
std::string to_rest_service(const ServiceId& id) {
  std::string out = encode_client(id.provider());
  out += '/';
  append_encoded(out, id.service_code());
  return out;
}

Result<ServiceId> parse_rest_service(std::string_view value) {
  constexpr FaultCode kCode = FaultCode::kInvalidServiceIdentifier;
  value = trim_ows(value);
  if (value.size() > kMaxStringFormLength) {
    return Error(kCode, "service identifier: X-Road-Service longer than " +
                            std::to_string(kMaxStringFormLength) + " bytes");
  }
  auto raw = split_value(value, 5);
  if (!raw || raw->size() < 4) {
    return too_many_or_few(kCode, "X-Road-Service", "4 or 5", value);
  }
  std::vector<Part> names{Part::kInstance, Part::kMemberClass, Part::kMemberCode};
  if (raw->size() == 5) {
    names.push_back(Part::kSubsystemCode);
  }
  names.push_back(Part::kServiceCode);
  HANSA_ASSIGN_OR_RETURN(auto p, decode_parts(*raw, names, kCode));
  std::optional<std::string_view> sub;
  if (p.size() == 5) {
    sub = p[3];
  }
  HANSA_ASSIGN_OR_RETURN(ClientId provider, make_client(p[0], p[1], p[2], sub, kCode));
  return ServiceId::create(std::move(provider), p.back());
}

// PR-REST 4.1, 4.2: the request target.
Result<RestRequestTarget> parse_rest_request_target(std::string_view target,
                                                    const RestTargetLimits& limits) {
  if (target.size() > limits.max_target_length) {
    return Error(
        FaultCode::kLimitExceeded,
        "REST request target longer than " + std::to_string(limits.max_target_length) + " bytes");
  }
  if (target.empty() || target.front() != '/') {
    return Error(FaultCode::kInvalidRequest, "REST request target must start with '/'");
  }
  if (target.find('#') != std::string_view::npos) {
    return Error(FaultCode::kInvalidRequest, "REST request target must not have a fragment");
  }
  std::string_view path = target;
  std::optional<std::string> query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    std::string_view raw_query = target.substr(q + 1);
    HANSA_RETURN_IF_ERROR(check_query(raw_query));
    query.emplace(raw_query);
  }

  // Segments: version, instance, class, member, subsystem, service code; then the free path.
  std::array<std::string_view, 6> seg{};
  std::size_t count = 0;
  std::string_view rest = path.substr(1);
  std::string_view service_path;
  while (count < seg.size()) {
    auto slash = rest.find('/');
    seg[count++] = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      rest = {};
      break;
    }
    if (count == seg.size()) {
      service_path = rest.substr(slash);
      break;
    }
    rest.remove_prefix(slash + 1);
  }

  if (seg[0] != kRestProtocolVersion) {
    return Error(FaultCode::kInvalidProtocolVersion,
                 "REST protocol version " + quote_for_message(seg[0]) + " is not supported, use " +
                     std::string(kRestProtocolVersion));
  }
  constexpr FaultCode kCode = FaultCode::kInvalidServiceIdentifier;
  if (count < seg.size()) {
    return Error(kCode,
                 "service identifier: REST path needs /r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE, "
                 "got " +
                     std::to_string(count - 1) + " identifier segments");
  }
  static const std::vector<Part> kNames{Part::kInstance, Part::kMemberClass, Part::kMemberCode,
                                        Part::kSubsystemCode, Part::kServiceCode};
  std::vector<std::string_view> raw(seg.begin() + 1, seg.end());
  HANSA_ASSIGN_OR_RETURN(auto p, decode_parts(raw, kNames, kCode));
  HANSA_RETURN_IF_ERROR(check_service_path(service_path));
  HANSA_ASSIGN_OR_RETURN(ClientId provider, make_client(p[0], p[1], p[2], p[3], kCode));
  HANSA_ASSIGN_OR_RETURN(ServiceId service, ServiceId::create(std::move(provider), p[4]));
  return RestRequestTarget{std::move(service), std::string(service_path), std::move(query)};
}

Result<std::string> to_rest_request_target(const ServiceId& service, std::string_view service_path,
                                           std::optional<std::string_view> query) {
  if (!service.provider().is_subsystem()) {
    return Error(FaultCode::kInvalidServiceIdentifier,
                 "service identifier: a REST request target needs a subsystem's service, got " +
                     service.to_string());
  }
  HANSA_RETURN_IF_ERROR(check_service_path(service_path));
  if (query) {
    HANSA_RETURN_IF_ERROR(check_query(*query));
  }
  std::string out = "/";
  out += kRestProtocolVersion;
  out += '/';
  out += to_rest_service(service);
  out += service_path;
  if (query) {
    out += '?';
    out += *query;
  }
  return out;
}

}  // namespace hansa::ids
