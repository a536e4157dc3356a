#pragma once

// RFC 3161 time-stamping: request building, reply parsing and token verification on DER bytes.
// X-Road time-stamps with SHA-512 imprints by default and checks tokens against the approved TSA
// certificates of the global configuration (TimestampVerifier); Hansa does the same and also
// checks the nonce, the policy and the ESSCertID/ESSCertIDv2 binding of the signer certificate.
// Threading: TimestampToken is immutable, share freely; the free functions are thread-safe.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"

namespace hansa::timestamp {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Largest TimeStampResp / token accepted before parsing (a token carries a certificate or two).
inline constexpr std::size_t kDefaultMaxReplyBytes = 1 << 20;

struct RequestOptions {
  // Hash of the message imprint (X-Road: SHA-512 unless configured otherwise).
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha512;
  // certReq: ask the TSA to embed its certificate in the token.
  bool cert_req = true;
  // Send a random 64-bit nonce and require it back.
  bool nonce = true;
  // reqPolicy (dotted OID); empty for none.
  std::string policy_oid;
};

// A DER TimeStampReq (RFC 3161 2.4.1) and what the reply must echo.
struct TimestampRequest {
  std::string der;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha512;
  std::string imprint;  // the hashed message (raw bytes)
  std::string nonce;    // big-endian unsigned bytes; empty when no nonce was sent
};

// Builds a request over `data` (hashed here with options.digest).
[[nodiscard]] Result<TimestampRequest> build_request(std::string_view data,
                                                     const RequestOptions& options = {});

// Builds a request over an already computed `imprint` made with options.digest.
[[nodiscard]] Result<TimestampRequest> build_request_for_imprint(
    std::string_view imprint, const RequestOptions& options = {});

// A parsed time-stamp token (RFC 3161 2.4.2: a CMS SignedData ContentInfo holding a TSTInfo).
// Keeps its DER: X-Road stores it in `META-INF/timestamp.tst` or XAdES `EncapsulatedTimeStamp`.
class TimestampToken final {
 public:
  // Parses a token. Inputs above `max_bytes` fail with LimitExceeded; malformed ones with
  // TimestampValidation.
  [[nodiscard]] static Result<TimestampToken> parse(std::string_view der,
                                                    std::size_t max_bytes = kDefaultMaxReplyBytes);

  [[nodiscard]] const std::string& der() const noexcept;
  [[nodiscard]] TimePoint gen_time() const noexcept;
  [[nodiscard]] const std::string& policy_oid() const noexcept;
  [[nodiscard]] crypto::DigestAlgorithm imprint_digest() const noexcept;
  [[nodiscard]] const std::string& imprint() const noexcept;
  // Big-endian unsigned bytes without leading zeros; empty when the token has no nonce.
  [[nodiscard]] const std::string& nonce() const noexcept;
  // Serial number, upper-case hex.
  [[nodiscard]] const std::string& serial_hex() const noexcept;

  struct Impl;

 private:
  friend struct TokenAccess;
  explicit TimestampToken(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Parses a TimeStampResp (RFC 3161 2.4.2). A status other than granted / grantedWithMods fails
// with TimestamperFailed, the status text and failure info in the detail; a malformed reply or a
// granted reply without a token also fails with TimestamperFailed; LimitExceeded above the cap.
[[nodiscard]] Result<TimestampToken> parse_reply(std::string_view der,
                                                 std::size_t max_bytes = kDefaultMaxReplyBytes);

struct VerifyOptions {
  // The approved TSA certificates (global configuration approvedTSA/cert), DER or PEM. The token
  // must be signed by one of them; it need not embed the certificate.
  std::vector<std::string> tsa_certs;
  // When not empty, the token's policy must equal this OID.
  std::string required_policy;
  // When set, the token's nonce must equal it (from TimestampRequest::nonce).
  std::optional<std::string> nonce;
  // Certificate validity is checked at the token's genTime (X-Road archives are verified long
  // after the TSA certificate may have expired).
};

// What a successful verification established.
struct VerifiedTimestamp {
  TimePoint gen_time;
  std::string policy_oid;
  std::string tsa_cert;  // DER of the approved certificate that signed the token
};

// Verifies `token` over the message imprint `imprint` (already hashed with the token's algorithm,
// see imprint_digest()): CMS signature by an approved TSA certificate with
// extendedKeyUsage timeStamping, ESSCertID/ESSCertIDv2 naming that certificate, imprint, nonce and
// policy. Fails with TimestampValidation (IncorrectCertificate for unparsable approved certs).
[[nodiscard]] Result<VerifiedTimestamp> verify_imprint(const TimestampToken& token,
                                                       std::string_view imprint,
                                                       const VerifyOptions& options);

// As verify_imprint(), hashing `data` with the token's imprint algorithm first.
[[nodiscard]] Result<VerifiedTimestamp> verify(const TimestampToken& token, std::string_view data,
                                               const VerifyOptions& options);

}  // namespace hansa::timestamp
