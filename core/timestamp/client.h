#pragma once

// RFC 3161 over HTTP (RFC 3161 3.4): POST application/timestamp-query, answer
// application/timestamp-reply, through hansa::http::Client with bounded connect and read times.
// Threading: thread-safe (each call uses its own connection).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/timestamp/timestamp.h"

namespace hansa::timestamp {

struct ClientOptions {
  // Bound on connecting to the TSA.
  std::chrono::milliseconds connect_timeout{5'000};
  // Bound on each read and write; a TSA that never answers fails with Timeout.
  std::chrono::milliseconds read_timeout{20'000};
  // Largest reply accepted (LimitExceeded beyond it).
  std::size_t max_reply_bytes = kDefaultMaxReplyBytes;
  // What the request asks for (digest, certReq, nonce, policy).
  RequestOptions request;
};

class TimestampClient final {
 public:
  explicit TimestampClient(ClientOptions options = {}) : options_(std::move(options)) {}

  // Time-stamps `data` at the TSA `tsa_url` ("http://host:port[/path]") and verifies the token
  // against `verify_options` (approved TSA certificates, policy) and the request's imprint and
  // nonce. Fails with Timeout / NetworkError (transport), TimestamperFailed (HTTP status other
  // than 200, rejection, malformed reply), TimestampValidation (token does not verify),
  // LimitExceeded, InvalidConfiguration (URL).
  [[nodiscard]] Result<TimestampToken> stamp(std::string_view tsa_url, std::string_view data,
                                             const VerifyOptions& verify_options) const;

  // As stamp(), for an imprint already hashed with options().request.digest.
  [[nodiscard]] Result<TimestampToken> stamp_imprint(std::string_view tsa_url,
                                                     std::string_view imprint,
                                                     const VerifyOptions& verify_options) const;

  [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }

 private:
  [[nodiscard]] Result<TimestampToken> exchange(std::string_view tsa_url,
                                                const TimestampRequest& request,
                                                const VerifyOptions& verify_options) const;
  ClientOptions options_;
};

}  // namespace hansa::timestamp
