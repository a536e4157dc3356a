#pragma once

// Development time-stamping authority (RFC 3161) built on OpenSSL's TS_RESP_CTX: SHA-256/384/512
// imprints, certReq honoured, ESSCertIDv2 (RFC 5816) with SHA-256, configurable policy.
// Threading: immutable after create(), share freely; respond() may run concurrently.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::trust {

// The policy the development PKI's TSA uses (certs/make-dev-pki.sh).
inline constexpr std::string_view kDefaultTsaPolicy = "1.3.6.1.4.1.99999.1.1";

struct TsaConfig {
  std::filesystem::path cert;   // PEM; needs critical extendedKeyUsage timeStamping only
  std::filesystem::path key;    // PEM
  std::filesystem::path chain;  // optional PEM: certificates added when certReq is set
  std::string policy{kDefaultTsaPolicy};
};

class TimeStampAuthority final {
 public:
  // Loads the certificate and key and checks that the certificate may sign time-stamps.
  [[nodiscard]] static Result<std::unique_ptr<TimeStampAuthority>> create(TsaConfig config);
  ~TimeStampAuthority();

  // The DER TimeStampResp for a DER TimeStampReq (RFC 3161 2.4). Never fails: a malformed
  // query, an unsupported digest or policy gives status rejection with the failure info.
  [[nodiscard]] std::string respond(std::string_view query_der) const;

 private:
  struct Impl;
  explicit TimeStampAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::trust
