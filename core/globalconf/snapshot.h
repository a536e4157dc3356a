#pragma once

// An immutable snapshot of the verified global configuration with the lookups a node makes on its
// message path, each answered from index maps built once when the snapshot is created (hash
// lookups, no scans over members or servers).
//
// A snapshot holds the private parameters of the node's own instance (absent for a snapshot made
// of shared parameters only), the shared parameters of the own instance and of every federated
// instance, and the directory's expiry. Nodes keep it in a std::shared_ptr<const
// GlobalConfSnapshot> and swap the pointer atomically when a newer verified copy arrives.
//
// Threading: immutable after create(); share freely, query from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/errors/errors.h"
#include "core/globalconf/model.h"
#include "core/ids/ids.h"

namespace hansa::globalconf {

class GlobalConfSnapshot final {
 public:
  // Builds the snapshot and its indexes. `shared` must hold at most one SharedParameters per
  // instance; when `private_parameters` is given, the shared parameters of its instance must be
  // among `shared`. InvalidGlobalConf otherwise (also for a server client or a global group
  // member whose instance differs from its shared parameters').
  [[nodiscard]] static Result<std::shared_ptr<const GlobalConfSnapshot>> create(
      std::optional<PrivateParameters> private_parameters, std::vector<SharedParameters> shared,
      TimePoint expires_at);

  GlobalConfSnapshot(const GlobalConfSnapshot&) = delete;
  GlobalConfSnapshot& operator=(const GlobalConfSnapshot&) = delete;
  ~GlobalConfSnapshot();

  // --- Whole parts ---

  // The own instance: the private parameters' instance, else that of the first shared parameters.
  [[nodiscard]] const std::string& instance_identifier() const noexcept;
  [[nodiscard]] const std::optional<PrivateParameters>& private_parameters() const noexcept;
  // Shared parameters of every instance, own instance first.
  [[nodiscard]] const std::vector<SharedParameters>& all_shared_parameters() const noexcept;
  // The own instance's shared parameters.
  [[nodiscard]] const SharedParameters& shared_parameters() const noexcept;
  // Shared parameters of `instance`, null when unknown.
  [[nodiscard]] const SharedParameters* shared_parameters(std::string_view instance) const;
  // Instance identifiers, own first.
  [[nodiscard]] std::vector<std::string> instances() const;

  // --- Validity ---

  [[nodiscard]] TimePoint expires_at() const noexcept;
  // A number unique to this snapshot within the process (snapshots created later have larger
  // numbers): results derived from a snapshot can be remembered under it.
  [[nodiscard]] std::uint64_t generation() const noexcept;
  // OutdatedGlobalConf when `now` is at or after expires_at().
  [[nodiscard]] Status check_valid(TimePoint now) const;

  // --- Members and subsystems ---

  // True when `client` (a member, or a subsystem of a member) is listed in its instance's shared
  // parameters.
  [[nodiscard]] bool client_exists(const ids::ClientId& client) const;
  // The member's name (for a subsystem: its member's name); nullopt when unknown.
  [[nodiscard]] std::optional<std::string> member_name(const ids::ClientId& client) const;
  // The subsystem's name (schema v6); nullopt when unknown or unnamed.
  [[nodiscard]] std::optional<std::string> subsystem_name(const ids::SubsystemId& subsystem) const;
  // The member entry, null when unknown.
  [[nodiscard]] const Member* member(const ids::MemberId& member) const;
  // Every member and subsystem of `instance` (empty for an unknown instance), in file order.
  [[nodiscard]] std::vector<ids::ClientId> clients(std::string_view instance) const;

  // --- Security servers ---

  // The server entry, null when unknown.
  [[nodiscard]] const SecurityServer* security_server(const ids::SecurityServerId& server) const;
  // The servers that host `client` as a client, or own it (a member owning a server is served by
  // it), in file order; empty when none.
  [[nodiscard]] std::span<const ids::SecurityServerId> servers_hosting(
      const ids::ClientId& client) const;
  // The servers `owner` owns.
  [[nodiscard]] std::vector<ids::SecurityServerId> servers_owned_by(
      const ids::MemberId& owner) const;
  // The server's address; nullopt when the server is unknown or has none.
  [[nodiscard]] std::optional<std::string> server_address(
      const ids::SecurityServerId& server) const;
  // The server whose registered authCertHash matches `auth_cert`, nullopt when none.
  [[nodiscard]] std::optional<ids::SecurityServerId> server_by_auth_cert(
      const crypto::Certificate& auth_cert) const;
  // True when `auth_cert`'s hash is registered for a server that hosts `client` (the check a
  // server proxy makes on its TLS peer, PR-MESSTRANSP).
  [[nodiscard]] bool is_auth_cert_of_client_server(const crypto::Certificate& auth_cert,
                                                   const ids::ClientId& client) const;
  // True when `auth_cert`'s hash is registered for `server`.
  [[nodiscard]] bool is_auth_cert_of_server(const crypto::Certificate& auth_cert,
                                            const ids::SecurityServerId& server) const;
  // True when `server` is in maintenance mode (schema v6).
  [[nodiscard]] bool in_maintenance_mode(const ids::SecurityServerId& server) const;

  // --- Certification authorities and OCSP ---

  // The approved CA (of any instance) whose top or intermediate CA certificate issued `cert`
  // (issuer name matches and the signature verifies); null when none.
  [[nodiscard]] const ApprovedCa* approved_ca_for(const crypto::Certificate& cert) const;
  // The CaInfo (top or intermediate) whose certificate issued `cert`; null when none.
  [[nodiscard]] const CaInfo* issuer_ca_info(const crypto::Certificate& cert) const;
  // The OCSP responders listed for the CA certificate `ca_cert`; empty when it is not approved.
  [[nodiscard]] std::span<const OcspResponder> ocsp_responders(
      const crypto::Certificate& ca_cert) const;
  // Every approved top and intermediate CA certificate of every instance (trust store input).
  [[nodiscard]] std::vector<crypto::Certificate> ca_certificates() const;
  // Certificates of the OCSP responders of every instance (responder certs that are not the CA).
  [[nodiscard]] std::vector<crypto::Certificate> ocsp_responder_certificates() const;
  // ocspFreshnessSeconds of the own instance.
  [[nodiscard]] std::int64_t ocsp_freshness_seconds() const noexcept;

  // --- Time-stamping ---

  // The own instance's approved TSAs, in file order.
  [[nodiscard]] std::span<const ApprovedTsa> approved_tsas() const noexcept;
  // The approved TSA (of any instance) with this certificate; null when none.
  [[nodiscard]] const ApprovedTsa* approved_tsa_by_cert(const crypto::Certificate& cert) const;
  // timeStampingIntervalSeconds of the private parameters (60 when absent).
  [[nodiscard]] std::int64_t time_stamping_interval_seconds() const noexcept;

  // --- Global groups ---

  // True when `client` is listed in the group (exact identifier match).
  [[nodiscard]] bool is_global_group_member(const ids::GlobalGroupId& group,
                                            const ids::ClientId& client) const;
  // The group, null when unknown.
  [[nodiscard]] const GlobalGroup* global_group(const ids::GlobalGroupId& group) const;
  // The groups `client` belongs to.
  [[nodiscard]] std::vector<ids::GlobalGroupId> global_groups_of(const ids::ClientId& client) const;

  // --- Management ---

  // The management service of the private parameters; null when the snapshot has none.
  [[nodiscard]] const ManagementService* management_service() const noexcept;
  // Member classes of the own instance (globalSettings).
  [[nodiscard]] std::span<const MemberClass> member_classes() const noexcept;

 private:
  struct Index;
  GlobalConfSnapshot(std::optional<PrivateParameters> private_parameters,
                     std::vector<SharedParameters> shared, TimePoint expires_at);

  std::optional<PrivateParameters> private_;
  std::vector<SharedParameters> shared_;
  TimePoint expires_at_;
  std::uint64_t generation_;
  std::unique_ptr<const Index> index_;
};

}  // namespace hansa::globalconf
