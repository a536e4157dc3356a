#include "core/ocsp/client.h"

#include <memory>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/http/client.h"

namespace hansa::ocsp {

namespace {

struct SplitUrl {
  std::string base;  // scheme://host[:port]
  std::string path;  // "" or "/..."
};

Result<SplitUrl> split_url(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || url.substr(0, scheme_end) != "http") {
    // Responders are plain HTTP: the response is signed, TLS adds nothing (RFC 6960 A.1).
    return Error(FaultCode::kInvalidConfiguration, "OCSP responder URL must be http://",
                 std::string(url));
  }
  std::size_t path_start = url.find('/', scheme_end + 3);
  SplitUrl out;
  out.base.assign(url.substr(0, path_start));
  if (path_start != std::string_view::npos) {
    out.path.assign(url.substr(path_start));
  }
  if (out.base.size() == scheme_end + 3) {
    return Error(FaultCode::kInvalidConfiguration, "OCSP responder URL has no host",
                 std::string(url));
  }
  return out;
}

}  // namespace

std::string get_target(std::string_view path, std::string_view request_der) {
  std::string target(path);
  if (target.empty() || target.back() != '/') {
    target += '/';
  }
  for (char c : crypto::base64_encode(request_der)) {
    switch (c) {
      case '+':
        target += "%2B";
        break;
      case '/':
        target += "%2F";
        break;
      case '=':
        target += "%3D";
        break;
      default:
        target += c;
    }
  }
  return target;
}

Result<OcspResponse> OcspClient::fetch(std::string_view responder_url, std::string_view cert,
                                       std::string_view issuer) const {
  HANSA_ASSIGN_OR_RETURN(SplitUrl url, split_url(responder_url));
  HANSA_ASSIGN_OR_RETURN(std::string request, build_request(cert, issuer));

  http::ClientOptions http_options;
  http_options.connect_timeout = options_.connect_timeout;
  http_options.read_timeout = options_.read_timeout;
  http_options.write_timeout = options_.read_timeout;
  http_options.max_response_body_bytes = options_.max_response_bytes;
  http_options.keep_alive = false;
  HANSA_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                         http::Client::create(url.base, http_options));

  std::string target = options_.use_get ? get_target(url.path, request) : std::string();
  const bool use_get = options_.use_get && target.size() <= options_.max_get_url_bytes;
  const http::Headers accept = {{"Accept", "application/ocsp-response"}};
  Result<http::ClientResponse> reply =
      use_get ? client->get(target, accept)
              : client->post(url.path.empty() ? "/" : url.path, request, "application/ocsp-request",
                             accept);
  if (!reply.ok()) {
    return std::move(reply).error();
  }
  if (reply->status != 200) {
    return Error(FaultCode::kOcspFailed, "OCSP responder answered with HTTP status",
                 std::to_string(reply->status) + " from " + std::string(responder_url));
  }
  return OcspResponse::parse(reply->body, options_.max_response_bytes);
}

Result<OcspResponse> OcspClient::fetch_verified(std::string_view responder_url,
                                                std::string_view cert, std::string_view issuer,
                                                TimePoint at,
                                                const VerifyOptions& verify_options) const {
  HANSA_ASSIGN_OR_RETURN(OcspResponse response, fetch(responder_url, cert, issuer));
  HANSA_RETURN_IF_ERROR(verify(response, cert, issuer, at, verify_options));
  return response;
}

}  // namespace hansa::ocsp
