#pragma once

// OCSP (RFC 6960): request building and response parsing and verification, on DER bytes.
// Certificates are passed as DER (PEM is accepted too). X-Road sends no nonce and identifies the
// certificate by a SHA-1 CertID; responses are checked as X-Road's OcspVerifier does (RFC 6960
// 3.2): certificate ID, signer authorised by the issuing CA, thisUpdate freshness, nextUpdate.
// Threading: OcspResponse is immutable, share freely; the free functions are thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/errors/errors.h"

namespace hansa::ocsp {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Largest OCSP response accepted before parsing (a response carries one or two certificates).
inline constexpr std::size_t kDefaultMaxResponseBytes = 1 << 20;

// RFC 6960 4.2.1 CertStatus.
enum class CertStatus { kGood, kRevoked, kUnknown };

// "good", "revoked", "unknown".
[[nodiscard]] std::string_view cert_status_name(CertStatus status) noexcept;

// RFC 5280 5.3.1 CRLReason; kNone when the response gives no reason.
enum class RevocationReason : int {
  kNone = -1,
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

// Builds a DER OCSPRequest (RFC 6960 4.1.1) for one certificate: SHA-1 CertID, no nonce, unsigned.
// Fails with IncorrectCertificate when a certificate does not parse.
[[nodiscard]] Result<std::string> build_request(std::string_view cert, std::string_view issuer);

// The hex SHA-1 of a certificate's DER: the key X-Road uses for OCSP lookups (`?cert=<hash>`).
// Fails with IncorrectCertificate when the certificate does not parse.
[[nodiscard]] Result<std::string> cert_hash(std::string_view cert);

struct VerifyOptions;

// A parsed OCSP response (RFC 6960 4.2.1) with a successful responseStatus and a basic response.
// It keeps its DER so nodes can attach it to messages. The accessors describe the SingleResponse
// for the certificate the response is about (the first one); verify() checks that it matches.
class OcspResponse final {
 public:
  // Parses `der`. Refuses inputs above `max_bytes` before parsing (LimitExceeded); garbage or
  // truncated DER and non-successful responseStatus (malformedRequest, tryLater, ...) fail with
  // OcspFailed.
  [[nodiscard]] static Result<OcspResponse> parse(std::string_view der,
                                                  std::size_t max_bytes = kDefaultMaxResponseBytes);

  [[nodiscard]] const std::string& der() const noexcept;
  [[nodiscard]] CertStatus status() const noexcept;
  [[nodiscard]] TimePoint this_update() const noexcept;
  [[nodiscard]] std::optional<TimePoint> next_update() const noexcept;
  [[nodiscard]] TimePoint produced_at() const noexcept;
  // Set when status() is kRevoked.
  [[nodiscard]] std::optional<TimePoint> revocation_time() const noexcept;
  [[nodiscard]] RevocationReason revocation_reason() const noexcept;
  // The ResponderID as text: "name:<RFC 2253 DN>" or "key:<hex SHA-1 of the key>".
  [[nodiscard]] const std::string& responder() const noexcept;
  // Serial number (hex, upper case) of the certificate the first SingleResponse is about.
  [[nodiscard]] const std::string& serial_hex() const noexcept;

  struct Impl;

 private:
  friend Result<std::string> verify_validity(const OcspResponse&, std::string_view,
                                             std::string_view, TimePoint, const VerifyOptions&);
  explicit OcspResponse(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// How responses are judged.
struct VerifyOptions {
  // X-Road's ocspFreshnessSeconds (global settings): thisUpdate must be at most this old.
  std::int64_t ocsp_freshness_seconds = 3600;
  // X-Road's verifyNextUpdate: when set, a nextUpdate before the verification time is refused.
  bool verify_next_update = true;
  // A thisUpdate later than the verification time by more than this is refused (a responder
  // clock far ahead, or a response made for the future).
  std::int64_t max_clock_skew_seconds = 300;
  // Responder certificates configured for the CA (global configuration `ocsp/cert`): these may
  // sign responses without a delegation from the CA. Delegated responders (id-kp-OCSPSigning,
  // issued by the CA) and the CA itself are always accepted. DER or PEM.
  std::vector<std::string> trusted_responders;
};

// Checks that `response` is about `cert` (issued by `issuer`), signed by the issuer or by a
// responder it authorised, fresh at `at`, and (if configured) not past its nextUpdate. Does not
// look at the status. Fails with CertValidation; IncorrectCertificate for unparsable certificates.
// Returns the DER of the certificate that signed the response.
[[nodiscard]] Result<std::string> verify_validity(const OcspResponse& response,
                                                  std::string_view cert, std::string_view issuer,
                                                  TimePoint at, const VerifyOptions& options = {});

// The verification times for which a check that passed at some time inside keeps its answer:
// verify_validity() of `response` under `options` (thisUpdate within clock skew and freshness,
// nextUpdate; `signer_der`, what verify_validity() returned, valid) and every certificate of
// `chain` valid. Lets callers remember a passed check without judging time-dependent parts wrong.
struct StableWindow {
  TimePoint from = TimePoint::min();
  TimePoint until = TimePoint::max();
  [[nodiscard]] bool contains(TimePoint at) const noexcept { return from <= at && at <= until; }
};
// Empty (contains() nothing) when `signer_der` does not parse.
[[nodiscard]] StableWindow stable_window(const OcspResponse& response, const VerifyOptions& options,
                                         std::string_view signer_der,
                                         const std::vector<crypto::Certificate>& chain);

// verify_validity() and then the status: revoked and unknown fail with CertValidation (the
// message names the status, revocation time and reason).
[[nodiscard]] Status verify(const OcspResponse& response, std::string_view cert,
                            std::string_view issuer, TimePoint at,
                            const VerifyOptions& options = {});

}  // namespace hansa::ocsp
