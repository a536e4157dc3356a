#pragma once

// hansa-verify: the auditor's offline verifier for message-log containers (ASiC-E) and archives
// (reference sections 4 and 8; X-Road's asicverifier and messagelog-archive-verifier). For each
// container it checks, in X-Road's order:
//   structure          the zip, mimetype, entries (core/asic)
//   references         the signature covers message.xml and the attachments, or the sig hash chain
//   timestamp          SignatureTimeStamp over the SignatureValue, or META-INF/timestamp.tst over
//                      ts-hashchainresult.xml with the ts hash chain consuming signatures.xml
//   signer             the member in the signing certificate is the message's client (request) or
//                      the service provider (response)
//   signature-value    SignedProperties, signing certificate digest and the XML signature value
//   asic-manifest      META-INF/ASiCManifest.xml names timestamp.tst and the ts result digest
//   certificate        the chain to an approved CA and the embedded OCSP at the time-stamp's time
// and for an archive, the linkinginfo chain. Every failure carries X-Road's fault code.
//
// Threading: Verifier is immutable after construction; share freely.

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/asic/asic.h"
#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/signature/signature.h"

namespace hansa::verify {

using TimePoint = signature::TimePoint;

// One check of the report.
struct Check {
  std::string name;  // "structure", "references", ...
  bool ok = false;
  std::string detail;  // what was found, or what is wrong
  std::string fault;   // X-Road fault code when failed ("MalformedSignature.HashChainUnusedInputs")
};

// Who a message says should have signed it.
struct MessageParties {
  bool response = false;
  std::optional<ids::ClientId> client;
  std::optional<ids::ServiceId> service;
  std::string query_id;
  // The expected signer: the client for a request, the service provider for a response.
  [[nodiscard]] std::optional<ids::ClientId> expected_signer() const;
};

// Reads the parties of message.xml: a SOAP envelope (X-Road headers; a body element whose name
// ends in "Response" makes it a response) or a REST message head (a request line or a status
// line, then "name:value" headers with x-road-client / x-road-service / x-road-id).
// InvalidSoap / InvalidRest / InvalidClientIdentifier on bad input.
[[nodiscard]] Result<MessageParties> read_message_parties(std::string_view message_xml);

struct ContainerReport {
  std::string name;
  std::vector<Check> checks;
  std::optional<Error> error;  // the first failure
  // Details for the auditor (empty when not established).
  std::string message_kind;  // "request" / "response"
  std::string query_id;
  std::string expected_signer;
  std::string signer;              // member id from the certificate
  std::string signer_certificate;  // subject
  std::string signer_serial;
  std::string ca;
  std::string ocsp;       // status, producedAt, responder
  std::string timestamp;  // genTime and TSA
  std::string signing_time;
  std::vector<std::string> notes;
  [[nodiscard]] bool ok() const { return !error.has_value(); }
};

struct ArchiveReport {
  std::vector<ContainerReport> containers;
  std::optional<Error> linking_error;
  std::optional<Error> structure_error;
  std::string previous_digest;
  std::string last_digest;  // when linking verified
  [[nodiscard]] bool ok() const;
};

struct VerifierOptions {
  asic::ReadLimits container_limits;
  asic::ArchiveLimits archive_limits;
  signature::ParseLimits signature_limits;
  hashchain::VerifyLimits hash_chain_limits;
  // Refuse containers whose mimetype entry is not first and stored (X-Road's own are lenient).
  bool strict_mimetype = false;
  // Archives: check only linkinginfo, not the containers.
  bool linking_only = false;
};

class Verifier final {
 public:
  explicit Verifier(std::shared_ptr<const globalconf::GlobalConfSnapshot> conf,
                    VerifierOptions options = {});

  // Verifies one .asice container (never fails: problems are in the report).
  [[nodiscard]] ContainerReport verify_container(std::string_view bytes,
                                                 std::string_view name = {}) const;

  // Verifies an archive: every container and the linking. `previous_digest` is the last digest
  // of the archive before ("" for the first; nullopt = trust the header).
  [[nodiscard]] ArchiveReport verify_archive(
      std::string_view bytes, const std::optional<std::string>& previous_digest) const;

 private:
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  VerifierOptions options_;
};

// Verification configuration from shared-params files (the first file's instance is the own).
[[nodiscard]] Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> load_shared_params(
    const std::vector<std::filesystem::path>& files);

// Verification configuration from a signed directory file verified with `anchor_file`; the
// SHARED-PARAMETERS files it lists are read from `files_dir` (by content file name, last path
// segment or location relative to it) and checked against their directory digests.
[[nodiscard]] Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> load_signed_directory(
    const std::filesystem::path& directory_file, const std::filesystem::path& anchor_file,
    const std::filesystem::path& files_dir);

// Report rendering.
[[nodiscard]] std::string to_text(const ContainerReport& report);
[[nodiscard]] std::string to_text(const ArchiveReport& report);
[[nodiscard]] std::string to_json(const ContainerReport& report);
[[nodiscard]] std::string to_json(const ArchiveReport& report);

// Exit codes of hansa-verify.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // verification failed
inline constexpr int kExitUsage = 2;   // bad command line or unreadable input/configuration

// Runs the command line (`args` without the program name); writes the report to `out`, usage and
// configuration problems to `err`. Returns the exit code.
[[nodiscard]] int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace hansa::verify
