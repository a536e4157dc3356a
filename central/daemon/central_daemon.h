#pragma once

// The `hansa-central` daemon's wiring, kept out of main.cc so tests can run it in-process:
// `init` (instance, schema, first admin token, configuration-signing key, management TLS key),
// `serve` (admin API, management service, configuration publisher) and `anchor`.
//
// Threading: CentralServer is thread-safe: start()/stop() may be called from any thread; the
// servers it owns run on their own worker threads.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "central/daemon/central_conf.h"
#include "core/errors/errors.h"

namespace hansa::central {

// What `init` created.
struct InitOutcome {
  std::string instance_identifier;
  // The first admin token (operator role): shown once, stored only as a hash.
  std::string admin_token;
  bool signing_key_generated = false;
  bool management_tls_generated = false;
  // SHA-224 hash of the anchor file, as distributed with it (PR-GCONF 2.2).
  std::string anchor_hash;
};

// Creates the database schema (every component's migrations), the instance, the management
// service provider (when configured), the configuration-signing key and certificate and the
// management TLS key and certificate (each only when its files are missing), and the first admin
// token. Refuses with kConflict when the database already holds an instance (changes nothing).
[[nodiscard]] Result<InitOutcome> init_central(const CentralConf& conf);

// The configuration anchor XML for nodes (PR-GCONF Annex E). kInvalidConfiguration before init.
[[nodiscard]] Result<std::string> export_anchor(const CentralConf& conf);

// A running central server: database, registry, management service, publisher and the three
// HTTP servers.
class CentralServer final {
 public:
  // Opens the database (applying migrations), checks that `init` ran, loads the TLS material and
  // builds every part. Nothing listens yet.
  [[nodiscard]] static Result<std::unique_ptr<CentralServer>> create(const CentralConf& conf);
  ~CentralServer();
  CentralServer(const CentralServer&) = delete;
  CentralServer& operator=(const CentralServer&) = delete;

  // Binds the three ports and starts the publisher's worker. NetworkError when a port is taken.
  [[nodiscard]] Status start();
  // Stops the servers (finishing running requests) and the publisher. Idempotent.
  void stop();

  // Bound ports (useful with port 0), 0 before start().
  [[nodiscard]] std::uint16_t admin_port() const noexcept;
  [[nodiscard]] std::uint16_t management_port() const noexcept;
  [[nodiscard]] std::uint16_t publisher_port() const noexcept;
  // The port serving /health and /metrics: the admin port unless [monitoring] dedicated_port.
  [[nodiscard]] std::uint16_t monitoring_port() const noexcept;

 private:
  struct Impl;
  explicit CentralServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The command line: `hansa-central {init|serve|anchor} --config FILE` and `hansa-central
// signing-key {list|add|activate|retire} --config FILE [...]` (key rotation). Returns the exit
// code (init on an initialised database: 3; bad configuration: 2). `serve` blocks until SIGTERM
// or SIGINT.
[[nodiscard]] int central_main(int argc, char** argv);

}  // namespace hansa::central
