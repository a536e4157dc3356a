#pragma once

// The node's signer (reference section 1: xroad-signer): tokens, the key and certificate registry
// kept in the node database (migration component "node_signer"), CSRs per the certificate profile
// (reference section 4), certificate import and binding, OCSP status of the node's certificates,
// and the signing service the message path and the management requests use. Faults are the
// signer's (reference section 9): render them with Origin::kSigner.
//
// Writes are one transaction each (nothing half-stored); a key generated on a token is deleted
// again when its metadata cannot be committed. Readers see an immutable snapshot of the registry,
// rebuilt after each change and by reload() (another instance sharing the database).
// Threading: thread-safe: guarded by mu_ (writes serialized by write_mu_).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/cert_profile.h"
#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/db/database.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "core/ocsp/cache.h"
#include "core/ocsp/client.h"
#include "node/signer/token.h"

namespace hansa::signer {

struct SignerAccess;

// What a key (and its certificates) is for.
enum class KeyUsage { kAuthentication, kSigning };
// "AUTHENTICATION", "SIGNING".
[[nodiscard]] std::string_view key_usage_name(KeyUsage usage) noexcept;
[[nodiscard]] Result<KeyUsage> key_usage_from_name(std::string_view name);

// X-Road's certificate states.
enum class CertStatus { kSaved, kRegistrationInProgress, kRegistered, kDeletionInProgress };
// "SAVED", "REGISTRATION_IN_PROGRESS", "REGISTERED", "DELETION_IN_PROGRESS".
[[nodiscard]] std::string_view cert_status_name(CertStatus status) noexcept;
[[nodiscard]] Result<CertStatus> cert_status_from_name(std::string_view name);

struct TokenInfo {
  std::string id;
  TokenKind kind = TokenKind::kSoftware;
  std::string label;
  TokenStatus status;
};

struct KeyInfo {
  std::string id{};  // the token's key id
  std::string token_id{};
  std::string friendly_name{};
  std::optional<KeyUsage> usage{};        // set by the first CSR or certificate
  std::optional<ids::MemberId> member{};  // signing keys: the owning member
  crypto::PublicKey public_key;
  std::int64_t created_at = 0;  // unix seconds
};

struct CsrInfo {
  std::string id{};
  std::string key_id{};
  KeyUsage usage = KeyUsage::kSigning;
  ids::MemberId member;
  std::string subject{};  // RFC 2253
  std::string der{};
  std::string pem{};
  std::int64_t created_at = 0;
};

struct CertInfo {
  std::string id{};  // lower-case hex SHA-1 of the DER (X-Road's certificate hash)
  std::string key_id{};
  KeyUsage usage = KeyUsage::kSigning;
  std::optional<ids::MemberId> member{};
  crypto::Certificate certificate;
  CertStatus status = CertStatus::kSaved;
  bool active = false;
  std::int64_t imported_at = 0;
};

// The OCSP state of one imported certificate.
struct OcspInfo {
  std::optional<std::string> response_der;  // the last good (verified, not stale) response
  std::optional<ocsp::CertStatus> status;
  std::optional<ocsp::TimePoint> this_update;
  std::optional<Error> last_error;  // why there is no (fresh) response
};

// What a signature embeds (reference section 4: SigningCertificate, EncapsulatedOCSPValue).
struct SigningInfo {
  std::string key_id;
  crypto::Certificate certificate;
  std::vector<crypto::Certificate> chain;  // issuers, nearest first (may be empty)
  std::optional<std::string> ocsp_der;
};

// The member directory the signer checks CSRs and certificates against: the member's name when the
// node knows the member (its owner and clients), nullopt otherwise.
using MemberDirectory = std::function<std::optional<std::string>(const ids::MemberId&)>;

struct CsrRequest {
  std::string key_id;
  KeyUsage usage = KeyUsage::kSigning;
  // Signing: the member the certificate is for. Authentication: the node's owner.
  ids::MemberId member;
  // Authentication: the node's server code (CN of the subject).
  std::string server_code;
};

struct SignerOptions {
  // How subjects are written into CSRs and member ids read from signing certificates.
  crypto::CertificateProfile profile = crypto::CertificateProfile::kHansaDefault;
  // Largest certificate accepted by import_certificate.
  crypto::CertificateLimits cert_limits;
  // Most keys, CSRs and certificates in the registry (each).
  std::size_t max_entries = 10'000;
  // OCSP: responder URLs per issuing CA (keyed by the issuer's RFC 2253 subject); otherwise the
  // certificate's authorityInfoAccess URL is used.
  std::map<std::string, std::string> ocsp_responders;
  ocsp::ClientOptions ocsp_client;
  ocsp::CacheOptions ocsp_cache;
};

class Signer final {
 public:
  using ClockFn = std::function<std::chrono::system_clock::time_point()>;

  // Migrates the "node_signer" schema and loads the registry. `fetcher` replaces the HTTP OCSP
  // client (tests); `clock` gives "now" for validity and OCSP freshness. Fails with DatabaseError.
  [[nodiscard]] static Result<std::unique_ptr<Signer>> create(db::Database& db,
                                                              SignerOptions options,
                                                              MemberDirectory members,
                                                              ocsp::OcspCache::Fetcher fetcher = {},
                                                              ClockFn clock = {});
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // ---- tokens ----
  // Adds a token (Conflict when its id is taken). Tokens live as long as the signer.
  [[nodiscard]] Status add_token(std::unique_ptr<Token> token);
  [[nodiscard]] std::vector<TokenInfo> tokens() const;
  // TokenNotFound, then the token's login errors (PinIncorrect, ...).
  [[nodiscard]] Status login(std::string_view token_id, std::string_view pin);
  [[nodiscard]] Status logout(std::string_view token_id);

  // ---- keys, CSRs, certificates (admin operations) ----
  // Generates a key on a token and registers it. TokenNotFound, TokenNotActive, DatabaseError
  // (the key is deleted from the token again).
  [[nodiscard]] Result<KeyInfo> generate_key(std::string_view token_id, KeyAlgorithm alg,
                                             std::string_view friendly_name);
  // Registers a key that is already on a token (made by HSM tools, or imported into the software
  // token). TokenNotFound, KeyNotFound, TokenNotActive, Conflict (already registered).
  [[nodiscard]] Result<KeyInfo> register_key(std::string_view token_id, std::string_view key_id,
                                             std::string_view friendly_name);
  // Makes a CSR for a registered key, its subject per the profile (Hansa default: sign
  // O=<member name>, CN=<member code>, serialNumber=<instance>/<class>/<code>; auth CN=<server
  // code>, serialNumber=<instance>/<class>/<code>/<server code>), signed inside the token. The
  // first CSR fixes the key's usage (and member for signing keys). Fails with KeyNotFound,
  // UnknownMember (member not known to the node), WrongCertUsage (key already has the other usage
  // or belongs to another member), InvalidRequest, TokenNotActive.
  [[nodiscard]] Result<CsrInfo> generate_csr(const CsrRequest& request);
  // Imports a certificate (PEM or DER) issued for one of the registered keys and binds it to that
  // key and (signing) to the member its subject names. Signing certificates start REGISTERED and
  // active; authentication certificates SAVED and inactive. The key's CSRs are removed. Fails with
  // IncorrectCertificate (garbage, CA certificate, subject does not fit the profile), KeyNotFound
  // (no registered key has its public key), WrongCertUsage (keyUsage does not fit the key),
  // UnknownMember, Conflict (already imported), CertValidation (issuer not among the known CAs
  // when some are configured).
  [[nodiscard]] Result<CertInfo> import_certificate(std::string_view pem_or_der);
  // CertNotFound, InvalidRequest.
  [[nodiscard]] Status set_cert_status(std::string_view cert_id, CertStatus status);
  [[nodiscard]] Status set_cert_active(std::string_view cert_id, bool active);
  [[nodiscard]] Status delete_certificate(std::string_view cert_id);
  [[nodiscard]] Status delete_csr(std::string_view csr_id);  // CsrNotFound
  // Deletes a key's metadata (with its CSRs and certificates), then the key on its token.
  // KeyNotFound, TokenNotActive (checked before anything changes).
  [[nodiscard]] Status delete_key(std::string_view key_id);

  [[nodiscard]] std::vector<KeyInfo> keys() const;
  [[nodiscard]] Result<KeyInfo> key(std::string_view key_id) const;
  [[nodiscard]] std::vector<CsrInfo> csrs() const;
  [[nodiscard]] std::vector<CertInfo> certificates() const;
  [[nodiscard]] Result<CertInfo> certificate(std::string_view cert_id) const;

  // Re-reads the registry from the database when another instance changed it (a version counter
  // in the database). Returns whether anything was reloaded.
  [[nodiscard]] Result<bool> reload();

  // ---- OCSP ----
  // The CA certificates (intermediates and roots) that issue the node's certificates, from the
  // global configuration: used to find issuers for chains and OCSP requests.
  void set_ca_certificates(std::vector<crypto::Certificate> cas);
  // Fetches OCSP responses that are missing or due (the daemon calls this on an interval).
  // Returns how many were refreshed.
  std::size_t refresh_ocsp();
  // CertNotFound.
  [[nodiscard]] Result<OcspInfo> ocsp_status(std::string_view cert_id) const;

  // ---- signing service ----
  // Signs with the member's active, registered, currently valid signing certificate's key (the
  // one valid longest when there are several). Fails with CertNotFound (no such certificate),
  // KeyNotAvailable (its token is missing or logged out), UnsupportedSignAlgorithm.
  [[nodiscard]] Result<std::string> sign(const ids::MemberId& member,
                                         crypto::SignatureAlgorithm alg, std::string_view data);
  [[nodiscard]] Result<std::string> sign_digest(const ids::MemberId& member,
                                                crypto::SignatureAlgorithm alg,
                                                std::string_view digest);
  // Signs with a registered key directly (management requests with the auth key). KeyNotFound,
  // KeyNotAvailable.
  [[nodiscard]] Result<std::string> sign_with_key(std::string_view key_id,
                                                  crypto::SignatureAlgorithm alg,
                                                  std::string_view data);
  // The certificate, chain and OCSP response a signature by `member` embeds (same choice as
  // sign()); the OCSP response is fetched when none is cached.
  [[nodiscard]] Result<SigningInfo> signing_info(const ids::MemberId& member);
  // The node's authentication certificate: the active one (registered preferred) whose key is
  // usable. CertNotFound / KeyNotAvailable. The key itself is reachable only through
  // node/signer/internal.h (use_auth_key).
  [[nodiscard]] Result<SigningInfo> auth_info();

 private:
  struct State;
  struct Impl;
  explicit Signer(std::unique_ptr<Impl> impl);
  // node/signer/internal.h's use_auth_key reaches the auth key through this.
  friend struct SignerAccess;

  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::signer
