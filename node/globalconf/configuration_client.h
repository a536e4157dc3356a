#pragma once

// The node's global configuration client (PR-GCONF 2.2-2.7): it keeps the configuration anchor,
// downloads the signed directory and its files from the anchor's sources, verifies them with
// core/globalconf, publishes an immutable GlobalConfSnapshot that the message path reads without
// waiting for downloads, refreshes it on an interval and keeps the last good copy on disk so that a
// restart works while central is unreachable.
//
// A download that fails in any way (unreachable or hanging central, bad signature, hash mismatch,
// truncated body, expired directory, unsupported version, directory of another instance) leaves
// the current snapshot and the stored copy untouched; the reason is logged (spdlog) and shown in
// status().
//
// Key rotation (PR-GCONF 2.3, X-Road 7.4+): the certificates a directory may be signed with are
// the anchor's plus the internalVerificationCert of every source in the own instance's shared
// parameters of the last verified configuration, so a key announced by central is accepted on the
// next download.
//
// Not yet done: following the federation anchors listed in private parameters (PR-GCONF 2.6
// step 5); SHARED-PARAMETERS of other instances listed in the own directory are loaded.
//
// Files whose directory hash equals that of a file of the configuration in use are not fetched
// again (central re-signs the same files with a later Expire-date every interval).
//
// State directory layout:
//   configuration-anchor.xml   the imported anchor (written atomically)
//   conf/current               name of the generation directory in use (written atomically)
//   conf/gen-<n>/              directory.mime, entry-<i> (files in directory order),
//                              verified-by.pem (the certificate that verified the directory),
//                              source-url
// A new generation is completely written and fsynced before `current` is switched with a rename;
// a crash at any point leaves the previous good copy in use. On open() the stored copy is read
// and verified again (signature, hashes, expiry).
//
// Threading: thread-safe. current() and check_usable() never block on a download (they copy
// the snapshot pointer under a lock held only for that copy); refresh() calls are serialized
// among themselves; status() takes a short lock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/globalconf/model.h"
#include "core/globalconf/snapshot.h"
#include "core/http/client.h"

namespace hansa::confclient {

using globalconf::TimePoint;

// Settings of a configuration client. Plain value; every limit has a safe default.
struct ConfigurationClientOptions {
  // Where the anchor and the last good configuration are kept (created when missing).
  std::filesystem::path state_dir;
  // Time between refreshes of the background worker (X-Road: 60 s).
  std::chrono::milliseconds refresh_interval{60'000};
  // Bound on establishing each connection to a configuration source.
  std::chrono::milliseconds connect_timeout{5'000};
  // Longest wait for each read from a source: a central that stops sending fails after this.
  std::chrono::milliseconds read_timeout{10'000};
  // Bound on one whole HTTP call, however slowly the source sends.
  std::chrono::milliseconds total_timeout{30'000};
  // Largest signed directory accepted, in bytes.
  std::size_t max_directory_bytes = 1024 * 1024;
  // Largest single configuration file (shared or private parameters), in bytes.
  std::size_t max_file_bytes = 32 * 1024 * 1024;
  // Largest sum of all files of one configuration, in bytes.
  std::size_t max_total_bytes = 128 * 1024 * 1024;
  // Files listed in one directory.
  std::size_t max_entries = 64;
  // Largest anchor file accepted by import_anchor, in bytes.
  std::size_t max_anchor_bytes = 1024 * 1024;
  // TLS trust for https:// download URLs (certificate pinning or CA). When empty, https sources
  // are skipped (the directory is signed; X-Road serves it over plain HTTP, PR-GCONF 2.4).
  std::optional<http::ClientTlsConfig> https_tls;
  // The clock used for expiry checks and status times (tests inject one).
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

// What the admin API and health checks show. Plain value.
struct ConfigurationStatus {
  // Instance of the imported anchor; empty before one is imported.
  std::string instance_identifier;
  // The last refresh attempt (download or load from disk) and the last one that succeeded.
  std::optional<TimePoint> last_attempt;
  std::optional<TimePoint> last_success;
  // The error of the last attempt; nullopt when it succeeded.
  std::optional<Error> last_error;
  // The configuration in use: directory Version, Expire-date, the download URL it came from
  // ("file://..." for a copy loaded from disk before any download).
  std::optional<int> version;
  std::optional<TimePoint> expires_at;
  std::string source_url;
  // True when a configuration is in use and has not expired (at the time status() was called).
  bool usable = false;
  // Consecutive failed attempts since the last success.
  std::uint64_t consecutive_failures = 0;
};

class ConfigurationClient final {
 public:
  // Creates the state directory, reads the anchor and the stored configuration when present and
  // verifies the latter again (a stored copy that fails is logged, shown in status() and not
  // used). Fails with InvalidConfiguration (empty state_dir, zero interval or limits) or IoError
  // (state directory cannot be created).
  [[nodiscard]] static Result<std::unique_ptr<ConfigurationClient>> open(
      ConfigurationClientOptions options);
  ~ConfigurationClient();
  ConfigurationClient(const ConfigurationClient&) = delete;
  ConfigurationClient& operator=(const ConfigurationClient&) = delete;

  // --- Anchor (PR-GCONF 2.2) ---

  // Parses and validates an anchor file and stores it as the node's anchor. An anchor of another
  // instance than the configured one is refused with Conflict unless `replace_instance` is true
  // (then the stored configuration of the old instance is dropped). MalformedGlobalConf /
  // InvalidGlobalConf for a bad file, LimitExceeded, IoError. Does not download; call refresh().
  [[nodiscard]] Result<globalconf::ConfigurationAnchor> import_anchor(
      std::string_view anchor_xml, bool replace_instance = false);
  // The imported anchor; nullopt before the first import.
  [[nodiscard]] std::optional<globalconf::ConfigurationAnchor> anchor() const;

  // --- Configuration ---

  // Downloads, verifies and publishes the configuration now (trying the anchor's sources in
  // order, the one that worked last first). On failure the current configuration is kept and the
  // error returned: InvalidConfiguration (no anchor), NetworkError / Timeout / LimitExceeded
  // (transport), MalformedGlobalConf / InvalidGlobalConf (bad signature, hash, version, instance),
  // OutdatedGlobalConf (an expired directory). Serialized with other refresh() calls.
  [[nodiscard]] Status refresh();

  // The configuration in use, null before the first successful load. Never waits for a download;
  // the snapshot stays valid for as long as the caller holds it, whatever refreshes happen.
  [[nodiscard]] std::shared_ptr<const globalconf::GlobalConfSnapshot> current() const noexcept;

  // OK when a configuration is in use and has not expired at `now`; OutdatedGlobalConf otherwise.
  // Proxies call it before every message exchange.
  [[nodiscard]] Status check_usable(TimePoint now) const;
  // The same at the client's clock.
  [[nodiscard]] Status check_usable() const;

  // Download and verification state for the admin API and health checks.
  [[nodiscard]] ConfigurationStatus status() const;

  // --- Background refresh ---

  // Starts a worker that calls refresh() at once and then every refresh_interval. Idempotent.
  void start();
  // Stops the worker promptly (a download in progress ends within its timeouts). Idempotent; the
  // destructor calls it.
  void stop();

 private:
  struct Impl;
  explicit ConfigurationClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::confclient
