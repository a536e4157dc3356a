#pragma once

// The signed configuration directory (PR-GCONF 2.3, 2.4, 2.5, 2.7): building it on the central
// side and verifying it on the node side.
//
// Wire form (multipart/related):
//   part 1  multipart/mixed directory: a header-only entry "Expire-date" + "Version", then one
//           entry per file (Content-type application/octet-stream, Content-transfer-encoding
//           base64, Content-identifier "SHARED-PARAMETERS; instance='X'", Content-location,
//           Hash-algorithm-id; body = base64 digest of the file);
//   part 2  the signature (Signature-algorithm-id, Verification-certificate-hash
//           "b64; hash-algorithm-id=\"uri\"", body = base64 signature) computed over the raw
//           body of part 1: from the inner opening boundary line through the CRLF after the inner
//           closing boundary.
//
// Verification order: parse (MalformedGlobalConf, or LimitExceeded with the path
// MalformedGlobalConf), pick the certificate among the anchor's by Verification-certificate-hash
// (InvalidGlobalConf when none matches), verify the signature (InvalidGlobalConf), check the
// version (InvalidGlobalConf), the expiry against the caller's time (OutdatedGlobalConf), and the
// entries' instance against the anchor's (InvalidGlobalConf). Files are checked against their
// entries with verify_file (InvalidGlobalConf on a hash mismatch).
//
// Key rotation: an anchor source may list several verification certificates; a directory signed
// with any of them verifies. The builder signs with the key it is given (SigningKeys::current).
//
// Threading: pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "core/globalconf/model.h"
#include "core/mime/content_type.h"
#include "core/mime/limits.h"

namespace hansa::globalconf {

// PR-GCONF 2.5 content identifiers.
inline constexpr std::string_view kSharedParametersContentId = "SHARED-PARAMETERS";
inline constexpr std::string_view kPrivateParametersContentId = "PRIVATE-PARAMETERS";

// The configuration version Hansa publishes and asks for (?version=6), PR-GCONF 2.7.
inline constexpr int kConfigurationVersion = 6;

// One file of a directory, as listed in it.
struct DirectoryEntry {
  std::string content_identifier;       // "SHARED-PARAMETERS", "PRIVATE-PARAMETERS" or custom
  std::optional<std::string> instance;  // the instance parameter of Content-identifier
  std::string content_location;         // URL, possibly relative to the directory's
  std::optional<std::string> content_file_name;
  crypto::DigestAlgorithm hash_algorithm = crypto::DigestAlgorithm::kSha512;
  std::string hash;  // raw digest bytes
};

// A verified directory.
struct SignedDirectory {
  TimePoint expires_at;
  int version = 0;
  std::vector<DirectoryEntry> entries;
  crypto::SignatureAlgorithm signature_algorithm = crypto::SignatureAlgorithm::kRsaSha512;
  // The anchor certificate whose key verified the signature.
  std::optional<crypto::Certificate> verification_cert;

  // Entries with this content identifier (and instance, when given), in directory order.
  [[nodiscard]] std::vector<const DirectoryEntry*> find(
      std::string_view content_identifier,
      std::optional<std::string_view> instance = std::nullopt) const;
};

// Limits and policy for verification.
struct DirectoryVerifyOptions {
  // The caller's clock: a directory whose Expire-date is not after `now` is outdated.
  TimePoint now = std::chrono::system_clock::now();
  // Versions accepted in the Version header (PR-GCONF 2.7); the node asks for one of these.
  std::vector<int> accepted_versions = {kConfigurationVersion};
  // Accept a directory without a Version header (versions before 3 had none).
  bool allow_missing_version = false;
  // The whole signed directory, in bytes.
  std::size_t max_directory_bytes = 1024 * 1024;
  // Entries in the directory (the header-only entry not counted).
  std::size_t max_entries = 64;
  mime::MimeLimits mime_limits = {.max_part_count = 66,
                                  .max_header_line_length = 8 * 1024,
                                  .max_transport_padding = 64,
                                  .max_headers_per_part = 32,
                                  .max_header_block_size = 16 * 1024,
                                  .max_part_size = 1024 * 1024,
                                  .max_total_size = 1024 * 1024,
                                  .max_nesting_depth = 1};
};

// Verifies a signed directory given as its Content-Type and body (HTTP response) against the
// certificates of all sources of `anchor`. Instance rule: every PRIVATE-PARAMETERS entry must name
// the anchor's instance and at least one entry must name it (a source may also carry
// SHARED-PARAMETERS of other instances, PR-GCONF 2.5); otherwise InvalidGlobalConf. See the file
// comment for the other checks and codes.
[[nodiscard]] Result<SignedDirectory> verify_signed_directory(
    const mime::ContentType& content_type, std::string_view body, const ConfigurationAnchor& anchor,
    const DirectoryVerifyOptions& options);
// The same for a stored directory file that starts with its own "Content-Type:" header block
// (X-Road's internalconf/externalconf files).
[[nodiscard]] Result<SignedDirectory> verify_signed_directory_file(
    std::string_view file, const ConfigurationAnchor& anchor,
    const DirectoryVerifyOptions& options);
// Lower level: verifies against an explicit certificate list and does not check instances.
[[nodiscard]] Result<SignedDirectory> verify_signed_directory(
    const mime::ContentType& content_type, std::string_view body,
    std::span<const crypto::Certificate> verification_certs, const DirectoryVerifyOptions& options);

// Checks a downloaded file against its directory entry (PR-GCONF 2.6 step 4). InvalidGlobalConf
// when the digest differs.
[[nodiscard]] Status verify_file(const DirectoryEntry& entry, std::string_view file_bytes);

// --- Building (central) ---

// A key that signs directories, with the certificate distributed in anchors for it.
struct SigningKey {
  crypto::PrivateKey key;
  crypto::Certificate cert;
  // RSA keys: kRsaSha512 (X-Road's default); EC keys: kEcdsaSha512 or kEcdsaSha256.
  crypto::SignatureAlgorithm algorithm = crypto::SignatureAlgorithm::kRsaSha512;
};

// The keys of one configuration source during rotation: every certificate goes into the anchor
// and into shared-params source/*VerificationCert; `current` signs.
struct SigningKeys {
  std::vector<SigningKey> keys;
  std::size_t current = 0;

  // Certificates of all keys, for anchors and shared parameters.
  [[nodiscard]] std::vector<crypto::Certificate> certificates() const;
};

// One file to list in a directory.
struct DirectoryFile {
  std::string content_identifier;  // kSharedParametersContentId, kPrivateParametersContentId, ...
  std::string instance;            // written as instance='X' (omitted when empty)
  std::string content_location;    // e.g. "/V6/20251110170000548026000/shared-params.xml"
  std::string content;             // the file's bytes (hashed, not embedded)
};

struct DirectoryBuildOptions {
  TimePoint expires_at;
  int version = kConfigurationVersion;
  crypto::DigestAlgorithm hash_algorithm = crypto::DigestAlgorithm::kSha512;
  crypto::DigestAlgorithm cert_hash_algorithm = crypto::DigestAlgorithm::kSha512;
};

// A built signed directory: serve `body` with `content_type`, or store to_file().
struct BuiltDirectory {
  mime::ContentType content_type;  // multipart/related; charset=UTF-8; boundary=...
  std::string body;

  // "Content-Type: ...\r\n\r\n" + body: the stored form X-Road's servers publish.
  [[nodiscard]] std::string to_file() const;
};

// Builds and signs a directory listing `files`. Fails with InvalidGlobalConf on a bad file entry
// (empty identifier or location, CR/LF in a value), UnsupportedSignAlgorithm / CryptoError from
// signing.
[[nodiscard]] Result<BuiltDirectory> build_signed_directory(std::span<const DirectoryFile> files,
                                                            const SigningKey& key,
                                                            const DirectoryBuildOptions& options);
// Same, signing with keys.keys[keys.current] (InvalidConfiguration when out of range).
[[nodiscard]] Result<BuiltDirectory> build_signed_directory(std::span<const DirectoryFile> files,
                                                            const SigningKeys& keys,
                                                            const DirectoryBuildOptions& options);

}  // namespace hansa::globalconf
