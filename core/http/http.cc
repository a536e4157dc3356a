#include "core/http/http.h"

#include <poll.h>
#include <sys/socket.h>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/http/server.h"

namespace hansa::http {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool idle_connection_usable(int fd) noexcept {
  if (fd < 0) {
    return false;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 0) {
    return true;  // nothing arrived: the peer still waits for a request
  }
  if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
    return false;
  }
  // Readable: an end of stream, an error, or bytes nobody asked for. None leaves the connection
  // in a state to send a request on.
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
         (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

int status_for(FaultCode code) noexcept {
  switch (code) {
    case FaultCode::kBadRequest:
    case FaultCode::kInvalidRequest:
    case FaultCode::kInvalidClientIdentifier:
    case FaultCode::kInvalidServiceIdentifier:
    case FaultCode::kInvalidSecurityServer:
    case FaultCode::kInvalidIdentifier:
    case FaultCode::kMimeParsingFailed:
    case FaultCode::kMissingHeader:
    case FaultCode::kMissingHeaderField:
    case FaultCode::kDuplicateHeaderField:
    case FaultCode::kMissingBody:
    case FaultCode::kInconsistentHeaders:
    case FaultCode::kMissingSoap:
    case FaultCode::kInvalidSoap:
    case FaultCode::kInvalidXml:
    case FaultCode::kMissingRest:
    case FaultCode::kInvalidRest:
    case FaultCode::kInvalidProtocolVersion:
    case FaultCode::kServiceType:
    case FaultCode::kClientProxyVersionNotSupported:
      return 400;
    case FaultCode::kUnauthorized:
    case FaultCode::kSslAuthenticationFailed:
      return 401;
    case FaultCode::kForbidden:
    case FaultCode::kAccessDenied:
      return 403;
    case FaultCode::kNotFound:
    case FaultCode::kUnknownService:
    case FaultCode::kUnknownMember:
    case FaultCode::kCertNotFound:
    case FaultCode::kKeyNotFound:
    case FaultCode::kTokenNotFound:
    case FaultCode::kCsrNotFound:
    case FaultCode::kAsicContainerNotFound:
      return 404;
    case FaultCode::kConflict:
      return 409;
    case FaultCode::kLimitExceeded:
      return 413;
    case FaultCode::kInvalidContentType:
      return 415;
    case FaultCode::kNetworkError:
    case FaultCode::kServiceFailed:
    case FaultCode::kTimestamperFailed:
    case FaultCode::kOcspFailed:
      return 502;
    case FaultCode::kServiceDisabled:
    case FaultCode::kMaintenanceMode:
    case FaultCode::kOutdatedGlobalConf:
      return 503;
    case FaultCode::kTimeout:
      return 504;
    default:
      return 500;
  }
}

std::string error_json(const Error& error, Origin origin) {
  nlohmann::json body = {
      {"type", error.render(origin)}, {"message", error.message}, {"detail", error.detail}};
  // Replace invalid UTF-8 rather than throwing: messages may quote peer input.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Response::set_header(std::string_view name, std::string_view value) {
  for (auto& [key, current] : headers) {
    if (iequals(key, name)) {
      current = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

void Response::set_body(std::string body_bytes, std::string_view content_type) {
  body = std::move(body_bytes);
  set_header("Content-Type", content_type);
}

void Response::set_error(const Error& error, Origin origin) {
  status = status_for(error.code);
  set_body(error_json(error, origin), "application/json");
}

}  // namespace hansa::http
