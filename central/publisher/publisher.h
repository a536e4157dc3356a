#pragma once

// The central server's global-configuration publisher (PR-GCONF 2.3-2.7, Annex B, C, E).
//
// It turns the registry's export into shared-params.xml and private-params.xml (core/globalconf's
// codec, validated against schemas/globalconf), lists them in a signed directory
// (Expire-date = now + configuration validity, Version 6, content identifiers, SHA-512 hashes,
// signature by the active configuration-signing key) and stores every generated directory and
// file in the database (migration component "central_publisher"). Several central instances
// sharing one PostgreSQL database serve the same stored bytes: serving always reads the newest
// stored directory, whoever generated it.
//
// Regeneration: on every registry change (the registry's change listener wakes the worker) and
// on each regeneration interval. When the exported content and the signing key are unchanged,
// the stored files are reused (same Content-location) and only the directory is signed again
// with a later Expire-date (the expiry refresh).
//
// HTTP (plain HTTP, PR-GCONF 2.4): GET /internalconf serves the newest directory; `?version=N`
// is answered only for the versions in kSupportedVersions (404 otherwise); GET <Content-location>
// (/V6/<stamp>/shared-params.xml, ...) serves a listed file.
//
// Key rotation: configuration-signing keys are recorded in the database (certificate and the path
// of the PEM private key file; keys never enter the database). Every key that is not retired is
// announced in shared-params source/internalVerificationCert and in the exported anchor; exactly
// one key is active and signs. Add the new key, distribute the new anchor, then activate it.
//
// Threading: thread-safe. The worker thread (start()/stop()) and HTTP handlers may run
// concurrently with every public call; state lives in the database, the in-memory part is
// guarded by mu_ inside the implementation.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "central/registry/registry.h"
#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/db/database.h"
#include "core/db/migrate.h"
#include "core/errors/errors.h"
#include "core/globalconf/model.h"

namespace hansa::http {
class Server;
}  // namespace hansa::http

namespace hansa::central {

// The configuration format versions served at /internalconf?version=N (PR-GCONF 2.7).
inline constexpr int kSupportedConfigurationVersions[] = {6};

// Limits and settings of a publisher. Plain value.
struct PublisherOptions {
  // The public base URL of the configuration-publishing HTTP port ("http://cs.example.org" or
  // "http://127.0.0.1:8080"); the anchor's downloadURL is this + "/internalconf", and its
  // host[:port] is the shared-params source address.
  std::string public_url;
  // managementService in private-params: when set they replace the registry's settings (the
  // daemon knows its management port's address and TLS certificate).
  std::optional<std::string> management_service_address;
  std::optional<crypto::Certificate> management_service_cert;
  // When set, replaces the registry's configuration_validity_seconds.
  std::optional<std::chrono::seconds> configuration_validity;
  // How often the worker signs a fresh directory (and checks the registry for changes made by
  // other instances). Must be well below the validity so the expiry window keeps moving.
  std::chrono::milliseconds regeneration_interval{60'000};
  // Directories kept in the database; files referenced only by older directories are deleted.
  std::size_t keep_directories = 20;
  // Largest configuration file generated (shared or private parameters), in bytes.
  std::size_t max_file_bytes = 32 * 1024 * 1024;
  // Current time (Expire-date, generatedAt, file stamps).
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// A configuration-signing key known to the publisher. Plain value.
struct SigningKeyRecord {
  std::int64_t id = 0;
  crypto::Certificate cert;
  std::filesystem::path key_file;  // PEM private key (unencrypted), readable by the daemon
  // kActive signs; kStandby is announced (anchor, shared-params) but does not sign; kRetired is
  // neither.
  enum class State : std::uint8_t { kStandby, kActive, kRetired } state = State::kStandby;
  std::chrono::system_clock::time_point created_at;
};

// "standby", "active", "retired".
[[nodiscard]] std::string_view signing_key_state_name(SigningKeyRecord::State state) noexcept;

// One published file. Plain value.
struct PublishedFile {
  std::string content_identifier;  // SHARED-PARAMETERS / PRIVATE-PARAMETERS
  std::string content_location;    // "/V6/<stamp>/shared-params.xml"
  std::string content;
};

// One stored signed directory. Plain value.
struct PublishedDirectory {
  std::int64_t id = 0;
  int version = 6;
  std::chrono::system_clock::time_point generated_at;
  std::chrono::system_clock::time_point expires_at;
  std::int64_t registry_change_version = 0;
  std::int64_t signing_key_id = 0;
  std::string content_type;  // multipart/related; charset=UTF-8; boundary=...
  std::string body;
  std::vector<std::string> content_locations;  // the files it lists
};

class Publisher final {
 public:
  // Applies the "central_publisher" migrations and returns a publisher over `db` and `registry`
  // (both must outlive it). kInvalidConfiguration for a bad public_url or interval, kDatabaseError.
  [[nodiscard]] static Result<std::unique_ptr<Publisher>> open(db::Database& db, Registry& registry,
                                                               PublisherOptions options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // The database migrations of component "central_publisher".
  [[nodiscard]] static std::span<const db::Migration> migrations();

  // --- Signing keys (each change is written to the registry's audit log) ---

  // Records a key (PEM file) and its certificate; the key must match the certificate and the
  // certificate must be valid now. The first key ever added becomes active, later ones standby.
  // kInvalidKey / kInvalidCertificate, kConflict for a certificate already recorded.
  [[nodiscard]] Result<std::int64_t> add_signing_key(const AuditContext& ctx,
                                                     const std::filesystem::path& key_file,
                                                     const crypto::Certificate& cert);
  // Makes `id` the signing key (the previous active key becomes standby and stays announced).
  // kNotFound; kInvalidRequest for a retired key.
  [[nodiscard]] Status activate_signing_key(const AuditContext& ctx, std::int64_t id);
  // Retires a standby key (no longer announced). kInvalidRequest for the active key.
  [[nodiscard]] Status retire_signing_key(const AuditContext& ctx, std::int64_t id);
  [[nodiscard]] Result<std::vector<SigningKeyRecord>> signing_keys() const;

  // --- Generation and storage ---

  // Generates and stores a directory now (new files only when the content or the key changed),
  // and prunes old ones. Failures: the registry's export errors, kInvalidConfiguration without an
  // active signing key or instance, the codec's and signer's errors, kDatabaseError.
  [[nodiscard]] Result<PublishedDirectory> publish();
  // The newest stored directory, nullopt before the first publish().
  [[nodiscard]] Result<std::optional<PublishedDirectory>> latest() const;
  // A stored file by its Content-location; nullopt when unknown (or pruned).
  [[nodiscard]] Result<std::optional<PublishedFile>> file(std::string_view content_location) const;

  // --- Anchor (PR-GCONF 2.2, Annex E) ---

  // The anchor nodes install: generatedAt now, this instance, one source with the download URL
  // and the certificates of every announced (active or standby) key.
  [[nodiscard]] Result<globalconf::ConfigurationAnchor> anchor() const;
  // The same as configurationAnchor XML (for `hansa-central anchor` and the admin API).
  [[nodiscard]] Result<std::string> anchor_xml() const;

  // --- Serving ---

  // Registers GET /internalconf and GET /V<n>/* on `server` (before it starts).
  void register_routes(http::Server& server);

  // Subscribes to registry changes and starts the worker (publishes at once, then on each
  // change and interval). Idempotent. Publication errors are logged and retried next interval.
  [[nodiscard]] Status start();
  // Stops the worker and unsubscribes. Idempotent; the destructor calls it.
  void stop();

 private:
  struct Impl;
  explicit Publisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A new configuration-signing key and a self-signed certificate for it (CN = `common_name`,
// valid `validity` from now, keyUsage digitalSignature), written to `key_file` (mode 0600) and
// `cert_file` (PEM). Directories are created. kIoError, kCryptoError.
struct GeneratedSigningKey {
  crypto::PrivateKey key;
  crypto::Certificate cert;
};
enum class SigningKeyType : std::uint8_t { kRsa3072, kRsa2048, kEcP256 };
[[nodiscard]] Result<GeneratedSigningKey> generate_signing_key(
    const std::filesystem::path& key_file, const std::filesystem::path& cert_file,
    std::string_view common_name, SigningKeyType type = SigningKeyType::kRsa3072,
    std::chrono::seconds validity = std::chrono::hours(24 * 365 * 20));

// A new EC P-256 TLS key and a self-signed server certificate for `host` (the management
// service's HTTPS port, pinned by nodes through private-params), written like
// generate_signing_key.
[[nodiscard]] Result<GeneratedSigningKey> generate_tls_key(const std::filesystem::path& key_file,
                                                           const std::filesystem::path& cert_file,
                                                           std::string_view host,
                                                           std::chrono::seconds validity);

// A self-signed certificate for `key` (also used for the management service's TLS certificate:
// `dns_name` goes into subjectAltName when not empty, and extendedKeyUsage serverAuth is added).
[[nodiscard]] Result<crypto::Certificate> make_self_signed_certificate(
    const crypto::PrivateKey& key, std::string_view common_name, std::chrono::seconds validity,
    std::string_view dns_name = {});

}  // namespace hansa::central
