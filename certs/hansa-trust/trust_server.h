#pragma once

// hansa-trust: a DEVELOPMENT-ONLY OCSP responder and TSA served over HTTP on loopback. Tests start
// it in-process:
//
//   auto config = trust::dev_pki_config(pki_dir, state_file);   // ports 0 = pick free ones
//   auto server = trust::TrustServer::create(config).value();
//   HANSA_CHECK(server->start().ok());
//   // OCSP: http://127.0.0.1:<server->ocsp_port()>/ocsp   TSA: http://127.0.0.1:<tsa_port()>/tsa
//
// Threading: thread-safe; start()/stop() from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "certs/hansa-trust/ocsp_responder.h"
#include "certs/hansa-trust/time_stamp_authority.h"
#include "core/errors/errors.h"
#include "core/http/server.h"

namespace hansa::trust {

struct TrustConfig {
  std::string host = "127.0.0.1";
  // 0 picks a free port. The dev PKI's certificates name http://127.0.0.1:8899/ocsp.
  std::uint16_t ocsp_port = 8899;
  std::uint16_t tsa_port = 8898;
  OcspResponderConfig ocsp;
  TsaConfig tsa;
  // Largest OCSP request or time-stamp query body accepted (413 beyond).
  std::size_t max_request_bytes = 64 * 1024;
  // Limits shared by both listeners (host, port, max_body_bytes and tls are set from above).
  http::ServerOptions http;
};

// A configuration for a PKI made by certs/make-dev-pki.sh in `pki_dir`: the intermediate CA, its
// index.txt, ocsp/ocsp.{pem,key}, tsa/tsa.{pem,key}, tsa/chain.pem. Ports are 0.
[[nodiscard]] TrustConfig dev_pki_config(const std::filesystem::path& pki_dir,
                                         const std::filesystem::path& state_file);

// Reads a TOML configuration file (see certs/hansa-trust/README.md); relative paths resolve
// against the file's directory. Every problem is listed (InvalidConfiguration).
[[nodiscard]] Result<TrustConfig> load_trust_config(const std::filesystem::path& file);

class TrustServer final {
 public:
  // Loads certificates and keys; fails like OcspResponder::create / TimeStampAuthority::create.
  [[nodiscard]] static Result<std::unique_ptr<TrustServer>> create(const TrustConfig& config);
  ~TrustServer();

  // Binds both ports and serves. NetworkError when a port cannot be bound.
  [[nodiscard]] Status start();
  // Bound ports (after start()).
  [[nodiscard]] std::uint16_t ocsp_port() const noexcept;
  [[nodiscard]] std::uint16_t tsa_port() const noexcept;
  // Stops both listeners and joins their threads; idempotent.
  void stop();

 private:
  TrustServer() = default;
  std::shared_ptr<const OcspResponder> ocsp_;
  std::shared_ptr<const TimeStampAuthority> tsa_;
  std::unique_ptr<http::Server> ocsp_server_;
  std::unique_ptr<http::Server> tsa_server_;
};

}  // namespace hansa::trust
