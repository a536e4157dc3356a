#include "node/message/rest.h"

#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "node/message/internal.h"

namespace hansa::message {

namespace {

using internal::find_last_field;
using internal::trim;

constexpr std::array<std::string_view, 13> kFilteredHeaders = {"connection",
                                                               "keep-alive",
                                                               "proxy-authenticate",
                                                               "proxy-authorization",
                                                               "te",
                                                               "trailer",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "host",
                                                               "user-agent",
                                                               "server",
                                                               "content-length",
                                                               "expect"};

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!is_tchar(c)) {
      return false;
    }
  }
  return true;
}

// A header value may not hold CR, LF or NUL (it would break the head part's framing).
bool is_safe_value(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Status check_header_limits(const HeaderFields& headers, const RestLimits& limits) {
  if (headers.size() > limits.max_headers) {
    return Error(FaultCode::kLimitExceeded, "Too many HTTP headers",
                 std::to_string(limits.max_headers));
  }
  std::size_t bytes = 0;
  for (const auto& [n, v] : headers) {
    bytes += n.size() + v.size();
  }
  if (bytes > limits.max_header_bytes) {
    return Error(FaultCode::kLimitExceeded, "HTTP headers too large",
                 std::to_string(limits.max_header_bytes) + " bytes");
  }
  return ok_status();
}

// X-Road-Represented-Party: "[class/]code", each part percent-decoded (PR-REST 4.3).
Result<RepresentedParty> parse_represented_party(std::string_view value) {
  value = trim(value);
  const auto slash = value.find('/');
  RepresentedParty party;
  auto decode = [](std::string_view part) -> Result<std::string> {
    if (part.empty()) {
      return Error(FaultCode::kInvalidRequest, "Invalid X-Road-Represented-Party header");
    }
    auto d = ids::percent_decode_segment(part, FaultCode::kInvalidRequest);
    if (!d.ok()) {
      return Error(FaultCode::kInvalidRequest, "Invalid X-Road-Represented-Party header",
                   d.error().message);
    }
    return d;
  };
  if (slash == std::string_view::npos) {
    HANSA_ASSIGN_OR_RETURN(party.party_code, decode(value));
  } else {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      return Error(FaultCode::kInvalidRequest, "Invalid X-Road-Represented-Party header");
    }
    HANSA_ASSIGN_OR_RETURN(party.party_class, decode(value.substr(0, slash)));
    HANSA_ASSIGN_OR_RETURN(party.party_code, decode(value.substr(slash + 1)));
  }
  return party;
}

// Splits a head part into lines at CRLF (a final line without CRLF is accepted).
Result<std::vector<std::string_view>> split_lines(std::string_view bytes,
                                                  const RestLimits& limits) {
  if (bytes.size() > limits.max_head_part_bytes) {
    return Error(FaultCode::kLimitExceeded, "REST head part too large",
                 std::to_string(limits.max_head_part_bytes));
  }
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto end = bytes.find("\r\n", pos);
    if (end == std::string_view::npos) {
      lines.push_back(bytes.substr(pos));
      break;
    }
    lines.push_back(bytes.substr(pos, end - pos));
    pos = end + 2;
  }
  for (std::string_view l : lines) {
    if (l.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Error(FaultCode::kInvalidRest, "Malformed REST head part: bare CR, LF or NUL");
    }
  }
  return lines;
}

Result<HeaderFields> parse_head_headers(std::span<const std::string_view> lines,
                                        const RestLimits& limits) {
  HeaderFields headers;
  headers.reserve(lines.size());
  for (std::string_view line : lines) {
    if (line.empty()) {
      continue;  // tolerate an empty line (some writers end the block with one)
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Error(FaultCode::kInvalidRest, "Malformed REST header line", std::string(line));
    }
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) {
      return Error(FaultCode::kInvalidRest, "Malformed REST header name", std::string(name));
    }
    if (is_filtered_header(name)) {
      return Error(FaultCode::kInvalidRest, "Header not allowed in a REST head part",
                   std::string(name));
    }
    headers.emplace_back(std::string(name), std::string(line.substr(colon + 1)));
  }
  HANSA_RETURN_IF_ERROR(check_header_limits(headers, limits));
  return headers;
}

void append_headers(std::string& out, const HeaderFields& headers) {
  for (const auto& [n, v] : headers) {
    out += n;
    out += ':';
    out += v;
    out += "\r\n";
  }
}

}  // namespace

bool is_filtered_header(std::string_view name) noexcept {
  for (std::string_view f : kFilteredHeaders) {
    if (mime::iequals(name, f)) {
      return true;
    }
  }
  return false;
}

HeaderFields filter_headers(const HeaderFields& headers) {
  HeaderFields out;
  out.reserve(headers.size());
  for (const auto& h : headers) {
    if (!is_filtered_header(h.first)) {
      out.push_back(h);
    }
  }
  return out;
}

Result<RestRequest> parse_rest_request(std::string_view method, std::string_view target,
                                       const HeaderFields& headers, std::string body,
                                       const RestParseOptions& options) {
  const RestLimits& limits = options.limits;
  if (!is_token(method)) {
    return Error(FaultCode::kInvalidRequest, "Invalid HTTP method", std::string(method));
  }
  if (body.size() > limits.max_body_bytes) {
    return Error(FaultCode::kLimitExceeded, "Request body too large",
                 std::to_string(body.size()) + " > " + std::to_string(limits.max_body_bytes));
  }
  HANSA_RETURN_IF_ERROR(check_header_limits(headers, limits));
  for (const auto& [n, v] : headers) {
    if (!is_token(n) || !is_safe_value(v)) {
      return Error(FaultCode::kInvalidRequest, "Malformed HTTP header", n);
    }
  }
  HANSA_ASSIGN_OR_RETURN(ids::RestRequestTarget t,
                         ids::parse_rest_request_target(target, limits.target));

  // PR-REST 4.3: the last X-Road-Client wins when repeated.
  const auto client_value = find_last_field(headers, kXRoadClientHeader);
  if (!client_value || trim(*client_value).empty()) {
    return Error(FaultCode::kMissingHeaderField, "Missing X-Road-Client header");
  }
  HANSA_ASSIGN_OR_RETURN(ids::ClientId client, ids::parse_rest_client(*client_value));

  std::string id;
  bool generated = false;
  if (auto v = find_last_field(headers, kXRoadIdHeader); v && !trim(*v).empty()) {
    id = std::string(trim(*v));
  } else if (options.generate_missing_id) {
    id = crypto::time_ordered_uuid();
    generated = true;
  } else {
    return Error(FaultCode::kMissingHeaderField, "Missing X-Road-Id header");
  }

  std::optional<ids::SecurityServerId> security_server;
  if (auto v = find_last_field(headers, kXRoadSecurityServerHeader)) {
    HANSA_ASSIGN_OR_RETURN(security_server, ids::parse_rest_security_server(*v));
  }
  std::optional<RepresentedParty> party;
  if (auto v = find_last_field(headers, kXRoadRepresentedPartyHeader)) {
    HANSA_ASSIGN_OR_RETURN(party, parse_represented_party(*v));
  }
  std::optional<std::string> user_id;
  if (auto v = find_last_field(headers, kXRoadUserIdHeader)) {
    user_id = std::string(trim(*v));
  }
  std::optional<std::string> issue;
  if (auto v = find_last_field(headers, kXRoadIssueHeader)) {
    issue = std::string(trim(*v));
  }

  return RestRequest{.method = std::string(method),
                     .target = std::string(target),
                     .service = std::move(t.service),
                     .service_path = std::move(t.service_path),
                     .query = std::move(t.query),
                     .client = std::move(client),
                     .id = std::move(id),
                     .id_generated = generated,
                     .user_id = std::move(user_id),
                     .issue = std::move(issue),
                     .security_server = std::move(security_server),
                     .represented_party = std::move(party),
                     .headers = filter_headers(headers),
                     .body = std::move(body)};
}

std::string serialize_rest_request_head(const RestRequestHead& head) {
  std::string out;
  std::size_t n = head.method.size() + head.target.size() + 4;
  for (const auto& [k, v] : head.headers) {
    n += k.size() + v.size() + 3;
  }
  out.reserve(n);
  out += head.method;
  out += "\r\n";
  out += head.target;
  out += "\r\n";
  append_headers(out, head.headers);
  return out;
}

std::string serialize_rest_response_head(const RestResponseHead& head) {
  std::string out;
  std::size_t n = head.reason.size() + 8;
  for (const auto& [k, v] : head.headers) {
    n += k.size() + v.size() + 3;
  }
  out.reserve(n);
  out += std::to_string(head.status);
  out += "\r\n";
  out += head.reason;
  out += "\r\n";
  append_headers(out, head.headers);
  return out;
}

Result<RestRequestHead> parse_rest_request_head(std::string_view bytes, const RestLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto lines, split_lines(bytes, limits));
  if (lines.size() < 2) {
    return Error(FaultCode::kInvalidRest, "Malformed REST request head: no request line");
  }
  if (!is_token(lines[0])) {
    return Error(FaultCode::kInvalidRest, "Malformed REST request head: bad method",
                 std::string(lines[0]));
  }
  if (lines[1].empty() || lines[1].front() != '/' ||
      lines[1].find_first_of(" \t") != std::string_view::npos) {
    return Error(FaultCode::kInvalidRest, "Malformed REST request head: bad target",
                 std::string(lines[1]));
  }
  RestRequestHead head;
  head.method = std::string(lines[0]);
  head.target = std::string(lines[1]);
  HANSA_ASSIGN_OR_RETURN(head.headers, parse_head_headers(std::span(lines).subspan(2), limits));
  return head;
}

Result<RestResponseHead> parse_rest_response_head(std::string_view bytes,
                                                  const RestLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto lines, split_lines(bytes, limits));
  if (lines.size() < 2) {
    return Error(FaultCode::kInvalidRest, "Malformed REST response head: no status line");
  }
  int status = 0;
  const std::string_view s = lines[0];
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), status);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.size() != 3 || status < 100 ||
      status > 599) {
    return Error(FaultCode::kInvalidRest, "Malformed REST response head: bad status",
                 std::string(s));
  }
  RestResponseHead head;
  head.status = status;
  head.reason = std::string(lines[1]);
  HANSA_ASSIGN_OR_RETURN(head.headers, parse_head_headers(std::span(lines).subspan(2), limits));
  return head;
}

RestRequestHead make_request_head(const RestRequest& request, std::string_view request_id) {
  RestRequestHead head;
  head.method = request.method;
  head.target = request.target;
  head.headers.reserve(request.headers.size() + 2);
  for (const auto& h : request.headers) {
    if (!mime::iequals(h.first, kXRoadRequestIdHeader) &&
        !mime::iequals(h.first, kXRoadRequestHashHeader)) {
      head.headers.push_back(h);
    }
  }
  head.headers.emplace_back(internal::to_lower(kXRoadRequestIdHeader), std::string(request_id));
  if (request.id_generated) {
    head.headers.emplace_back(internal::to_lower(kXRoadIdHeader), request.id);
  }
  return head;
}

RestResponseHead make_response_head(int status, std::string_view reason,
                                    const HeaderFields& provider_headers,
                                    const RestRequest& request, std::string_view request_id,
                                    std::string_view request_hash) {
  RestResponseHead head;
  head.status = status;
  head.reason = std::string(reason);
  head.headers.reserve(provider_headers.size() + 5);
  for (const auto& h : provider_headers) {
    if (is_filtered_header(h.first) || mime::iequals(h.first, kXRoadIdHeader) ||
        mime::iequals(h.first, kXRoadRequestHashHeader) ||
        mime::iequals(h.first, kXRoadClientHeader) || mime::iequals(h.first, kXRoadServiceHeader) ||
        mime::iequals(h.first, kXRoadRequestIdHeader)) {
      continue;
    }
    if (!is_token(h.first) || !is_safe_value(h.second)) {
      continue;  // a provider header that cannot be framed is dropped, not forwarded
    }
    head.headers.push_back(h);
  }
  head.headers.emplace_back(internal::to_lower(kXRoadIdHeader), request.id);
  head.headers.emplace_back(internal::to_lower(kXRoadClientHeader),
                            ids::to_rest_client(request.client));
  head.headers.emplace_back(internal::to_lower(kXRoadServiceHeader),
                            ids::to_rest_service(request.service));
  head.headers.emplace_back(internal::to_lower(kXRoadRequestIdHeader), std::string(request_id));
  head.headers.emplace_back(internal::to_lower(kXRoadRequestHashHeader), std::string(request_hash));
  return head;
}

std::string compute_rest_request_hash(std::string_view head_bytes,
                                      std::optional<std::string_view> body,
                                      crypto::DigestAlgorithm algorithm) {
  const std::string head_digest = crypto::digest(algorithm, head_bytes);
  if (!body || body->empty()) {
    return crypto::base64_encode(head_digest);
  }
  crypto::Digester d(algorithm);
  d.update(head_digest);
  d.update(crypto::digest(algorithm, *body));
  return crypto::base64_encode(d.finish());
}

Status check_rest_response(const RestRequest& request, std::string_view request_id,
                           const RestResponseHead& response,
                           std::string_view expected_request_hash) {
  auto mismatch = [](std::string_view what) {
    return Error(FaultCode::kInconsistentResponse,
                 "Response " + std::string(what) + " does not match request message");
  };
  const auto id = internal::find_field(response.headers, kXRoadIdHeader);
  if (!id || trim(*id) != request.id) {
    return mismatch("message id");
  }
  const auto service = internal::find_field(response.headers, kXRoadServiceHeader);
  if (!service) {
    return mismatch("service id");
  }
  auto parsed = ids::parse_rest_service(*service);
  if (!parsed.ok() || *parsed != request.service.without_version()) {
    return mismatch("service id");
  }
  const auto rid = internal::find_field(response.headers, kXRoadRequestIdHeader);
  if (!rid || trim(*rid) != request_id) {
    return mismatch("request id");
  }
  const auto hash = internal::find_field(response.headers, kXRoadRequestHashHeader);
  if (!hash || trim(*hash) != expected_request_hash) {
    return mismatch("message hash");
  }
  return ok_status();
}

HeaderFields response_headers_for_client(const RestResponseHead& head) {
  return filter_headers(head.headers);
}

std::string rest_error_json(const Error& error, Origin origin, std::string_view detail_id) {
  nlohmann::json j;
  j["type"] = error.render(origin);
  j["message"] = error.message;
  j["detail"] = std::string(detail_id);
  // Invalid UTF-8 in a message (from a peer) is replaced rather than thrown.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string rest_error_header(const Error& error, Origin origin) { return error.render(origin); }

int rest_error_status(Origin origin) noexcept { return origin == Origin::kClient ? 400 : 500; }

}  // namespace hansa::message
