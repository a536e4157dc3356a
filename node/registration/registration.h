#pragma once

// The node's side of registration (PR-MSERV 2.1-2.6; reference section 6): it sends the signed
// management requests authCertReg, clientReg, clientDeletion, addressChange and ownerChange to the
// central server and tracks their outcome from the global configuration.
//
// Sending: the request is built with core/management; the owner's (or the client member's)
// signature and the authCertReg proof of possession are made inside the token through
// node/signer (keys never leave it); the signing certificate's OCSP response comes from the
// signer's cache. It is posted over HTTPS to private-params managementService
// authCertRegServiceAddress, the central's TLS certificate pinned to authCertRegServiceCert, with
// bounded timeouts. Central's answer (the requestId) is recorded in the node database (migration
// component "node_registration"), and the certificate / client moves to "registration in
// progress" (deletion: "deletion in progress"). A SOAP fault from central comes back as an Error
// with X-Road's code (e.g. kInvalidSignatureValue, kAccessDenied, kConflict); transport failures
// as kTimeout, kNetworkError, kSslAuthenticationFailed.
//
// Tracking (sync_with_global_conf, called by the daemon after each configuration refresh): an
// authentication certificate in progress whose hash is listed under this server becomes
// REGISTERED; one being deleted that is no longer listed becomes SAVED. A client in progress that
// the server's entry lists (the owner member: once the server itself is listed) becomes
// registered; a registered client that disappears becomes global_error (and back when it
// reappears).
//
// Threading: thread-safe; sends are serialized (one request to central at a time).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.h"
#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/http/client.h"
#include "core/ids/ids.h"
#include "core/management/request.h"
#include "node/serverconf/store.h"
#include "node/signer/signer.h"

namespace hansa::registration {

// Settings. Plain value; every limit has a safe default.
struct RegistrationOptions {
  // Bounds on one call to central: connecting, each read/write, the whole call.
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds total_timeout{60'000};
  // Largest answer accepted from central.
  std::size_t max_response_bytes = 1024 * 1024;
  // TLS trust for central when the configuration carries no authCertRegServiceCert (tests and
  // operators who pin a CA instead). When the configuration has the certificate, it is pinned and
  // this is ignored.
  std::optional<http::ClientTlsConfig> fallback_tls;
  // Rows of the request log kept (oldest removed first).
  std::size_t max_logged_requests = 10'000;
};

// One request sent to central, as recorded. Plain value.
struct SentRequest {
  std::int64_t id = 0;  // local row id
  management::RequestType type = management::RequestType::kAuthCertReg;
  std::string target;                   // certificate id (hash), client id or address
  std::int64_t central_request_id = 0;  // requestId from central's response
  std::string message_id;               // the SOAP header id
  std::int64_t sent_at = 0;             // unix seconds
};

// What one sync_with_global_conf() changed.
struct SyncResult {
  std::vector<std::string> certs_registered;  // certificate ids now REGISTERED
  std::vector<std::string> certs_deleted;     // certificate ids back to SAVED after deletion
  std::vector<ids::ClientId> clients_registered;
  std::vector<ids::ClientId> clients_missing;  // registered here, gone from the configuration
};

// The current global configuration (null before the first download). The node daemon passes
// ConfigurationClient::current.
using ConfigurationFn = std::function<std::shared_ptr<const globalconf::GlobalConfSnapshot>()>;

class Registration final {
 public:
  // Migrates "node_registration" in `db`. `db`, `signer` and `store` must outlive the object.
  // Fails with DatabaseError.
  [[nodiscard]] static Result<std::unique_ptr<Registration>> create(
      db::Database& db, signer::Signer& signer, serverconf::ServerConfStore& store,
      ConfigurationFn configuration, RegistrationOptions options = {});
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // authCertReg (PR-MSERV 2.1) for the imported authentication certificate `cert_id`, optionally
  // announcing the server's address (DNS name or IP). The certificate becomes
  // REGISTRATION_IN_PROGRESS. Fails with CertNotFound, WrongCertUsage (not an auth certificate),
  // InvalidRequest (already registered), InvalidConfiguration (node not initialized, no
  // configuration or no management service in it), the signer's codes (no signing certificate of
  // the owner: CertNotFound; token logged out: KeyNotAvailable; no OCSP response: OcspFailed) and
  // the sending codes above.
  [[nodiscard]] Result<SentRequest> register_auth_cert(std::string_view cert_id,
                                                       std::optional<std::string> address = {});
  // clientReg (PR-MSERV 2.2) for a client known to serverconf (not the owner member, which is
  // registered with the server itself). Signed with the client member's signing certificate.
  // The client becomes registration_in_progress. NotFound (unknown client), InvalidRequest (the
  // owner member, or already registered), and the codes above.
  [[nodiscard]] Result<SentRequest> register_client(const ids::ClientId& client,
                                                    std::optional<std::string> subsystem_name = {});
  // clientDeletion (PR-MSERV 2.3). The client becomes deletion_in_progress. NotFound,
  // InvalidRequest (the owner member), and the codes above.
  [[nodiscard]] Result<SentRequest> unregister_client(const ids::ClientId& client);
  // addressChange (PR-MSERV 2.6): the server's new address. InvalidRequest (empty or too long).
  [[nodiscard]] Result<SentRequest> change_address(std::string address);
  // ownerChange (PR-MSERV 2.5): ask to make `new_owner` (a client member of this node) the owner.
  // Signed with the new owner's signing certificate. NotFound (not a client here).
  [[nodiscard]] Result<SentRequest> change_owner(const ids::MemberId& new_owner);

  // Updates certificate and client states from the current global configuration (see the header
  // comment). Without a configuration or before initialization it changes nothing. Fails only
  // with the signer's / store's database errors.
  [[nodiscard]] Result<SyncResult> sync_with_global_conf();

  // The recorded requests, newest first (at most `limit`).
  [[nodiscard]] Result<std::vector<SentRequest>> sent_requests(std::size_t limit = 100) const;

 private:
  struct Impl;
  explicit Registration(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::registration
