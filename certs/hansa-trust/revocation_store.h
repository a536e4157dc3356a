#pragma once

// Certificate status for the development OCSP responder: what the CA issued (an `openssl ca`
// index.txt, optional) overlaid with the changes `hansa-trust revoke`/`unrevoke` made (a small
// JSON state file). Both files are re-read on every lookup so commands take effect at once.
// Threading: thread-safe (no mutable state; writers replace the state file atomically).

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::trust {

// RFC 5280 5.3.1 CRLReason codes.
enum class RevocationReason : int {
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

// "keyCompromise" <-> kKeyCompromise (RFC 5280 spelling, as `openssl ca` writes it).
[[nodiscard]] std::optional<RevocationReason> reason_from_name(std::string_view name);
[[nodiscard]] std::string_view reason_name(RevocationReason reason);

// Normalizes a serial number written in hex ("0x1A", "1a", "01:1A") to lower-case hex without
// leading zeros ("1a"; "0" for zero). Fails with InvalidRequest.
[[nodiscard]] Result<std::string> normalize_serial(std::string_view text);

enum class CertState { kGood, kRevoked, kUnknown };

struct CertStatus {
  CertState state = CertState::kUnknown;
  std::time_t revocation_time = 0;  // when revoked
  RevocationReason reason = RevocationReason::kUnspecified;
};

struct RevocationStoreLimits {
  // Largest index or state file read.
  std::size_t max_file_bytes = 16 * 1024 * 1024;
};

class RevocationStore final {
 public:
  // `index_file` may be empty (then only serials named in the state file are known). The state
  // file need not exist yet.
  RevocationStore(std::filesystem::path state_file, std::filesystem::path index_file,
                  RevocationStoreLimits limits = {});

  // Status of `serial` (normalized hex). Fails with IOError when a file cannot be read or parsed.
  [[nodiscard]] Result<CertStatus> lookup(std::string_view serial_hex) const;

  // Marks `serial` revoked (known from now on even if the index lacks it). IOError on write
  // failure, InvalidRequest on a bad serial.
  [[nodiscard]] Status revoke(std::string_view serial, RevocationReason reason,
                              std::time_t when) const;

  // Marks `serial` good again (overrides a revocation in the index).
  [[nodiscard]] Status unrevoke(std::string_view serial) const;

 private:
  std::filesystem::path state_file_;
  std::filesystem::path index_file_;
  RevocationStoreLimits limits_;
};

}  // namespace hansa::trust
