#pragma once

// ASiC-E containers (ETSI EN 319 162; reference section 4) as X-Road's message log writes them,
// and message-log archives (reference section 8): a zip of `.asice` files plus `linkinginfo`
// chaining every container to the archive before.
//
// Container layout (written in this order; mimetype first and stored uncompressed):
//   mimetype                      "application/vnd.etsi.asic-e+zip"
//   message.xml                   SOAP message or REST message head
//   attachmentN                   attachments / REST body (N from 1)
//   META-INF/signatures.xml       XAdES signature (core/signature)
//   sig-hashchainresult.xml       batch signature only
//   sig-hashchain.xml             batch signature only
//   ts-hashchainresult.xml        batch time-stamp only
//   ts-hashchain.xml              batch time-stamp only
//   META-INF/manifest.xml         ODF manifest
//   META-INF/ASiCManifest.xml     batch time-stamp only: names timestamp.tst and the ts result
//   META-INF/timestamp.tst        batch time-stamp only: RFC 3161 token
//
// Reading is defensive: entry count, per-entry and total uncompressed size (counted while
// inflating, never trusting the declared sizes), names (no "..", absolute paths, backslashes,
// drive letters, control characters, duplicates) and the mimetype entry are checked.
// Errors: AsicMalformed for a structurally bad container or archive, LimitExceeded for a limit,
// ArchiveLinkMismatch when linking does not verify.
//
// Threading: free functions over values, thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"

namespace hansa::asic {

inline constexpr std::string_view kMimeType = "application/vnd.etsi.asic-e+zip";
inline constexpr std::string_view kMimeTypeEntry = "mimetype";
inline constexpr std::string_view kMessageEntry = "message.xml";
inline constexpr std::string_view kSignatureEntry = "META-INF/signatures.xml";
inline constexpr std::string_view kManifestEntry = "META-INF/manifest.xml";
inline constexpr std::string_view kAsicManifestEntry = "META-INF/ASiCManifest.xml";
inline constexpr std::string_view kTimestampEntry = "META-INF/timestamp.tst";
inline constexpr std::string_view kSigHashChainResultEntry = "sig-hashchainresult.xml";
inline constexpr std::string_view kSigHashChainEntry = "sig-hashchain.xml";
inline constexpr std::string_view kTsHashChainResultEntry = "ts-hashchainresult.xml";
inline constexpr std::string_view kTsHashChainEntry = "ts-hashchain.xml";
inline constexpr std::string_view kAsicManifestNamespace = "http://uri.etsi.org/2918/v1.2.1#";

// "attachment1" for index 1.
[[nodiscard]] std::string attachment_entry(std::size_t index);

struct ReadLimits {
  std::size_t max_zip_bytes = 512 * 1024 * 1024;    // the zip file itself
  std::size_t max_entries = 1024;                   // entries in the central directory
  std::size_t max_entry_bytes = 64 * 1024 * 1024;   // one entry, uncompressed
  std::size_t max_total_bytes = 256 * 1024 * 1024;  // all entries, uncompressed
  std::size_t max_name_bytes = 512;                 // one entry name
  // X-Road's own containers do not always put mimetype first and stored (the vectors show it
  // deflated and last); when true, such containers are refused instead of noted.
  bool strict_mimetype = false;
};

// One file of a zip, in central-directory order. Directory entries ("META-INF/") are skipped.
struct Entry {
  std::string name;
  std::string data;
  bool stored = false;  // not compressed
};

// A checked ASiC-E container.
struct Container {
  std::vector<Entry> entries;
  // Deviations that were accepted (mimetype not first, compressed); empty for a clean container.
  std::vector<std::string> notes;
  // The data of entry `name`, or null.
  [[nodiscard]] const std::string* find(std::string_view name) const;
};

// Reads the entries of any zip with the limits and name checks above (no mimetype check).
[[nodiscard]] Result<std::vector<Entry>> read_zip(std::string_view zip_bytes,
                                                  const ReadLimits& limits = {});

// Reads an ASiC-E container: read_zip plus a `mimetype` entry holding exactly kMimeType
// (AsicMalformed otherwise).
[[nodiscard]] Result<Container> read_container(std::string_view zip_bytes,
                                               const ReadLimits& limits = {});

// What a container holds, by role. Empty strings mean "absent".
struct ContainerContents {
  std::string message;                   // message.xml
  std::vector<std::string> attachments;  // attachment1, attachment2, ...
  std::string signature;                 // META-INF/signatures.xml
  std::string sig_hash_chain_result;
  std::string sig_hash_chain;
  std::string ts_hash_chain_result;
  std::string ts_hash_chain;
  std::string timestamp;  // DER token; with ts_hash_chain_result it goes to META-INF/timestamp.tst
  // Media type of message.xml in the ODF manifest.
  std::string message_media_type = "text/xml";
  // Entries of a read container that have no role above (kept so that verifiers can resolve hash
  // chain references to them, as X-Road does); not written by write_container.
  std::vector<Entry> other_entries;
};

// Sorts a read container into its roles. AsicMalformed when message.xml or signatures.xml is
// missing or attachments are not numbered 1..N; unknown entries go to other_entries.
[[nodiscard]] Result<ContainerContents> contents_of(const Container& container);

// The ODF manifest listing the container's files (X-Road's layout).
[[nodiscard]] std::string make_manifest(const ContainerContents& contents);
// The ASiCManifest naming META-INF/timestamp.tst and the SHA-512 of ts-hashchainresult.xml.
[[nodiscard]] std::string make_asic_manifest(std::string_view ts_hash_chain_result);

// Writes a container in the order of the file comment, with manifests. InvalidRequest when
// message or signature is empty, or ts_hash_chain_result is set without a timestamp.
[[nodiscard]] Result<std::string> write_container(const ContainerContents& contents);

// --- Message-log archives ---

inline constexpr std::string_view kLinkingInfoEntry = "linkinginfo";

struct LinkingEntry {
  std::string digest_hex;  // d_i
  std::string name;        // container file name in the archive
};

// linkinginfo: "<prev|-> <prevFile|-> <ALG>" then "<hex> <name>" per container.
struct LinkingInfo {
  std::string previous_digest;  // d_0 hex; empty for "-"
  std::string previous_file;    // empty for "-"
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  std::vector<LinkingEntry> entries;
};

// Parses linkinginfo. AsicMalformed on any syntax problem.
[[nodiscard]] Result<LinkingInfo> parse_linking_info(std::string_view text,
                                                     std::size_t max_entries = 100'000);
[[nodiscard]] std::string format_linking_info(const LinkingInfo& info);

// d_i = hex(H(d_{i-1} || hex(H(container)))).
[[nodiscard]] std::string link_digest(crypto::DigestAlgorithm algorithm,
                                      std::string_view previous_hex, std::string_view container);

struct ArchiveEntry {
  std::string name;       // "<queryId>-request-1.asice" or similar
  std::string container;  // the .asice bytes
};

struct Archive {
  LinkingInfo linking;
  std::vector<ArchiveEntry> containers;  // in zip order
};

struct ArchiveLimits {
  ReadLimits zip = {.max_entries = 100'001};
};

// Reads an archive: linkinginfo plus .asice entries. AsicMalformed for a missing or bad
// linkinginfo or a non-.asice entry.
[[nodiscard]] Result<Archive> read_archive(std::string_view zip_bytes,
                                           const ArchiveLimits& limits = {});

// Verifies the linking of `archive` and returns the last digest. `previous_digest` is the last
// digest of the archive before ("" for the first archive; nullopt = take the header's). Fails with
// ArchiveLinkMismatch (header differs from the expected previous digest, a recomputed link
// differs, a listed container is missing) or AsicMalformed (a container not listed, or listed
// twice).
[[nodiscard]] Result<std::string> verify_linking(const Archive& archive,
                                                 const std::optional<std::string>& previous_digest);

// What write_archive produced.
struct WrittenArchive {
  std::string zip;
  std::string last_digest;  // hex, to store and to pass to the next archive
};

// Writes an archive of `containers` linked to `previous_digest` ("" for the first) from
// `previous_file` ("" for none). InvalidRequest for an empty or invalid/duplicate name.
[[nodiscard]] Result<WrittenArchive> write_archive(
    const std::vector<ArchiveEntry>& containers, std::string_view previous_digest,
    std::string_view previous_file,
    crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512);

// Writes a zip of `entries` in order (an entry with `stored` set is not compressed).
// Entry names are checked as when reading. InvalidRequest for bad names.
[[nodiscard]] Result<std::string> write_zip(const std::vector<Entry>& entries);

}  // namespace hansa::asic
