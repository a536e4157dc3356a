#pragma once

// The global configuration model (PR-GCONF Annex B, C and E; X-Road schema versions 2 to 6):
// shared parameters, private parameters and configuration anchors as plain immutable values.
//
// Identifiers are core/ids types; certificates are core/crypto Certificates (DER in
// Certificate::der(); X-Road's base64-of-PEM CA certificates are read too and written back as
// base64 DER, which X-Road reads as well). Optional elements
// of the XML are std::optional here and stay absent when written back.
//
// The XML codec is in core/globalconf/xml_codec.h, the signed directory in
// core/globalconf/signed_directory.h and the indexed lookups the node uses on its message path
// in core/globalconf/snapshot.h.
//
// Threading: plain values; share freely once built (const access only).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/ids/ids.h"

namespace hansa::globalconf {

using TimePoint = std::chrono::system_clock::time_point;

// The namespace of the root elements conf and configurationAnchor (X-Road's, all versions).
inline constexpr std::string_view kGlobalConfNamespace = "http://x-road.eu/xsd/xroad.xsd";

// costType of OCSP responders and TSAs (schema v6).
enum class CostType : std::uint8_t { kUndefined, kFree, kPaid };
// "UNDEFINED", "FREE", "PAID".
[[nodiscard]] std::string_view cost_type_name(CostType type) noexcept;
[[nodiscard]] std::optional<CostType> cost_type_from_name(std::string_view name) noexcept;

// defaultCsrFormat of an approved CA (schema v6).
enum class CsrFormat : std::uint8_t { kPem, kDer };
// "PEM", "DER".
[[nodiscard]] std::string_view csr_format_name(CsrFormat format) noexcept;
[[nodiscard]] std::optional<CsrFormat> csr_format_from_name(std::string_view name) noexcept;

// --- Shared parameters (PR-GCONF Annex B) ---

// shared-params source: a configuration source of this instance and the certificates whose keys
// sign its internal and external directories (new keys are announced here before use).
struct ConfigurationSource {
  std::string address;
  std::vector<crypto::Certificate> internal_verification_certs;
  std::vector<crypto::Certificate> external_verification_certs;
};

// ocsp: one OCSP responder of a CA. `cert` is the responder's certificate when the CA delegates
// OCSP signing to a certificate it did not issue directly.
struct OcspResponder {
  std::string url;
  std::optional<crypto::Certificate> cert;
  std::optional<CostType> cost_type;
};

// topCA / intermediateCA: a CA certificate and its OCSP responders.
struct CaInfo {
  crypto::Certificate cert;
  std::vector<OcspResponder> ocsp;
};

// acmeServer (schema v6).
struct AcmeServer {
  std::string directory_url;
  std::optional<std::string> ip_address;
  std::optional<std::string> authentication_certificate_profile_id;
  std::optional<std::string> signing_certificate_profile_id;
};

// approvedCA: a CA whose certificates members and nodes may use.
struct ApprovedCa {
  std::string name;
  // True when the CA issues authentication certificates only. Absent means false.
  std::optional<bool> authentication_only;
  CaInfo top_ca;
  std::vector<CaInfo> intermediate_cas;
  // Java class name of X-Road's certificate profile provider (see core/crypto/cert_profile.h).
  std::string certificate_profile_info;
  std::optional<CsrFormat> default_csr_format;
  std::optional<AcmeServer> acme_server;
};

// approvedTSA: a time-stamping authority.
struct ApprovedTsa {
  std::string name;
  std::string url;
  crypto::Certificate cert;
  std::optional<CostType> cost_type;
};

// memberClass (in member and in globalSettings).
struct MemberClass {
  std::string code;
  std::string description;
};

// subsystem of a member.
struct Subsystem {
  ids::SubsystemId id;
  std::optional<std::string> name;  // subsystemName (schema v6)
};

// member. `id` carries the instance of the enclosing shared parameters.
struct Member {
  ids::MemberId id;
  std::string member_class_description;
  std::string name;
  std::vector<Subsystem> subsystems;
};

// inMaintenanceMode of a security server (schema v6); present means the server is in maintenance.
struct MaintenanceMode {
  std::optional<std::string> message;
};

// securityServer. The owner is id.owner(); it must be one of the members. Clients are members or
// subsystems listed in the same shared parameters.
struct SecurityServer {
  ids::SecurityServerId id;
  std::optional<std::string> address;
  // authCertHash values as raw digest bytes of the DER authentication certificate (X-Road: SHA-256
  // in version 6 files, SHA-1 in older ones; the length tells which).
  std::vector<std::string> auth_cert_hashes;
  std::vector<ids::ClientId> clients;
  std::optional<MaintenanceMode> maintenance_mode;
};

// globalGroup.
struct GlobalGroup {
  ids::GlobalGroupId id;
  std::string description;
  std::vector<ids::ClientId> members;
};

// centralService (kept for compatibility with older files; X-Road 7 publishes none).
struct CentralService {
  std::string service_code;
  std::optional<ids::ServiceId> implementing_service;
};

// globalSettings.
struct GlobalSettings {
  std::vector<MemberClass> member_classes;
  std::int64_t ocsp_freshness_seconds = 3600;
};

// conf in shared-params.xml: everything nodes of all federated instances need about one instance.
struct SharedParameters {
  std::string instance_identifier;
  std::vector<ConfigurationSource> sources;
  std::vector<ApprovedCa> approved_cas;
  std::vector<ApprovedTsa> approved_tsas;
  std::vector<Member> members;
  std::vector<SecurityServer> security_servers;
  std::vector<GlobalGroup> global_groups;
  std::vector<CentralService> central_services;
  GlobalSettings global_settings;
};

// --- Configuration anchors (PR-GCONF 2.2, Annex E) ---

// source of an anchor: where to download a signed directory and the certificates whose keys may
// have signed it (during key rotation, more than one).
struct AnchorSource {
  std::string download_url;
  std::vector<crypto::Certificate> verification_certs;
};

// configurationAnchor: the standalone anchor file, and the federation anchors inside private
// parameters. generatedAt is required in anchor files and optional in private parameters.
struct ConfigurationAnchor {
  std::optional<TimePoint> generated_at;
  std::string instance_identifier;
  std::vector<AnchorSource> sources;
};

// --- Private parameters (PR-GCONF Annex C) ---

// managementService: where nodes send management requests (PR-MSERV).
struct ManagementService {
  std::string auth_cert_reg_service_address;
  std::optional<crypto::Certificate> auth_cert_reg_service_cert;
  ids::ClientId management_request_service_provider_id;
};

// conf in private-params.xml: what only the nodes of this instance receive.
struct PrivateParameters {
  std::string instance_identifier;
  // Anchors of federation partners' (or detached shared-parameters) configuration sources.
  std::vector<ConfigurationAnchor> configuration_anchors;
  ManagementService management_service;
  std::int64_t time_stamping_interval_seconds = 60;
};

}  // namespace hansa::globalconf
