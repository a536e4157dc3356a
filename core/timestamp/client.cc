#include "core/timestamp/client.h"

#include <memory>
#include <utility>

#include "core/http/client.h"

namespace hansa::timestamp {

Result<TimestampToken> TimestampClient::stamp(std::string_view tsa_url, std::string_view data,
                                              const VerifyOptions& verify_options) const {
  HANSA_ASSIGN_OR_RETURN(TimestampRequest request, build_request(data, options_.request));
  return exchange(tsa_url, request, verify_options);
}

Result<TimestampToken> TimestampClient::stamp_imprint(std::string_view tsa_url,
                                                      std::string_view imprint,
                                                      const VerifyOptions& verify_options) const {
  HANSA_ASSIGN_OR_RETURN(TimestampRequest request,
                         build_request_for_imprint(imprint, options_.request));
  return exchange(tsa_url, request, verify_options);
}

Result<TimestampToken> TimestampClient::exchange(std::string_view tsa_url,
                                                 const TimestampRequest& request,
                                                 const VerifyOptions& verify_options) const {
  std::size_t scheme_end = tsa_url.find("://");
  if (scheme_end == std::string_view::npos ||
      (tsa_url.substr(0, scheme_end) != "http" && tsa_url.substr(0, scheme_end) != "https") ||
      tsa_url.size() == scheme_end + 3) {
    return Error(FaultCode::kInvalidConfiguration, "bad TSA URL", std::string(tsa_url));
  }
  std::size_t path_start = tsa_url.find('/', scheme_end + 3);
  std::string base(tsa_url.substr(0, path_start));
  std::string path =
      path_start == std::string_view::npos ? "/" : std::string(tsa_url.substr(path_start));

  http::ClientOptions http_options;
  http_options.connect_timeout = options_.connect_timeout;
  http_options.read_timeout = options_.read_timeout;
  http_options.write_timeout = options_.read_timeout;
  http_options.max_response_body_bytes = options_.max_reply_bytes;
  http_options.keep_alive = false;
  HANSA_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                         http::Client::create(base, http_options));
  auto reply = client->post(path, request.der, "application/timestamp-query",
                            {{"Accept", "application/timestamp-reply"}});
  if (!reply.ok()) {
    return std::move(reply).error();
  }
  if (reply->status != 200) {
    return Error(FaultCode::kTimestamperFailed, "TSA answered with HTTP status",
                 std::to_string(reply->status) + " from " + std::string(tsa_url));
  }
  HANSA_ASSIGN_OR_RETURN(TimestampToken token, parse_reply(reply->body, options_.max_reply_bytes));
  VerifyOptions checks = verify_options;
  if (!request.nonce.empty()) {
    checks.nonce = request.nonce;
  }
  if (token.imprint_digest() != request.digest) {
    return Error(FaultCode::kTimestampValidation,
                 "TSA time-stamped with another imprint algorithm");
  }
  HANSA_RETURN_IF_ERROR(verify_imprint(token, request.imprint, checks));
  return token;
}

}  // namespace hansa::timestamp
