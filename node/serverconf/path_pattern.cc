#include "node/serverconf/path_pattern.h"

#include <array>

namespace hansa::serverconf {
namespace {

constexpr std::array<std::string_view, 8> kMethods = {"GET",   "POST", "PUT",     "DELETE",
                                                      "PATCH", "HEAD", "OPTIONS", "TRACE"};

// Splits "/a/b" into {"a","b"}; "/" into {""}; the leading slash is required by the caller.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty()) {
    path = "/";
  }
  std::size_t start = path.front() == '/' ? 1 : 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

Error bad_endpoint(std::string message, const EndpointKey& e) {
  return Error(FaultCode::kInvalidRequest, std::move(message), e.method + " " + e.path);
}

}  // namespace

bool is_valid_method(std::string_view method) noexcept {
  if (method == "*") {
    return true;
  }
  for (std::string_view m : kMethods) {
    if (m == method) {
      return true;
    }
  }
  return false;
}

Status validate_endpoint(const EndpointKey& endpoint) {
  if (!is_valid_method(endpoint.method)) {
    return bad_endpoint("endpoint method must be an HTTP method (GET, POST, ...) or *", endpoint);
  }
  const std::string& path = endpoint.path;
  if (path.size() > kMaxEndpointPathLength) {
    return Error(FaultCode::kInvalidRequest, "endpoint path is too long",
                 std::to_string(path.size()) + " bytes");
  }
  if (path == "**") {
    return ok_status();
  }
  if (path.empty() || path.front() != '/') {
    return bad_endpoint("endpoint path must start with / (or be ** for every path)", endpoint);
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '?' || c == '#') {
      return bad_endpoint("endpoint path holds a space, control character, ? or #", endpoint);
    }
  }
  const auto segments = split_path(path);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string_view s = segments[i];
    if (s == "**") {
      if (i + 1 != segments.size()) {
        return bad_endpoint("** may only be the last path segment", endpoint);
      }
      continue;
    }
    const bool opens = s.find('{') != std::string_view::npos;
    const bool closes = s.find('}') != std::string_view::npos;
    if (opens || closes) {
      if (s.size() < 3 || s.front() != '{' || s.back() != '}' ||
          s.substr(1, s.size() - 2).find_first_of("{}") != std::string_view::npos) {
        return bad_endpoint("a path parameter must be a whole segment {name}", endpoint);
      }
    }
    if (s.find("**") != std::string_view::npos) {
      return bad_endpoint("** must be a whole segment", endpoint);
    }
  }
  return ok_status();
}

Result<PathPattern> PathPattern::create(const EndpointKey& endpoint) {
  HANSA_RETURN_IF_ERROR(validate_endpoint(endpoint));
  PathPattern p;
  p.key_ = endpoint;
  p.specificity_.exact_method = endpoint.method != "*";
  if (endpoint.path == "**") {
    p.segments_.push_back({SegmentKind::kRest, {}});
    p.specificity_.no_suffix_wildcard = false;
    return p;
  }
  for (std::string_view s : split_path(endpoint.path)) {
    if (s == "**") {
      p.segments_.push_back({SegmentKind::kRest, {}});
      p.specificity_.no_suffix_wildcard = false;
    } else if (s == "*" || (s.size() >= 3 && s.front() == '{' && s.back() == '}')) {
      p.segments_.push_back({SegmentKind::kOne, {}});
      ++p.specificity_.single_wildcards;
    } else {
      p.segments_.push_back({SegmentKind::kLiteral, std::string(s)});
      ++p.specificity_.literals;
    }
  }
  return p;
}

bool PathPattern::matches(std::string_view method, std::string_view path) const {
  if (key_.method != "*" && key_.method != method) {
    return false;
  }
  const auto parts = split_path(path);
  std::size_t i = 0;
  for (const Segment& seg : segments_) {
    if (seg.kind == SegmentKind::kRest) {
      return true;
    }
    if (i >= parts.size()) {
      return false;
    }
    if (seg.kind == SegmentKind::kLiteral && seg.literal != parts[i]) {
      return false;
    }
    if (seg.kind == SegmentKind::kOne && parts[i].empty()) {
      return false;
    }
    ++i;
  }
  return i == parts.size();
}

}  // namespace hansa::serverconf
