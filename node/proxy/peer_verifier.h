#pragma once

// Verification of the peer node on the node-to-node mTLS connection (PR-MESSTRANSP 2.1; reference
// section 3): the peer's leaf certificate is an authentication certificate, chains to an approved
// CA of the global configuration, has a good, fresh OCSP response, and its hash is registered in
// the global configuration for the right security server:
//  - server side (provider's node): for a server that hosts the request's client;
//  - client side (client's node): for the target security server.
//
// The TLS handshake can only check what does not depend on the message (handshake_check(): usage,
// chain, registered for some server). The server proxy completes the check once the request's
// client and the OCSP parts are known (verify_client_node()); the client proxy once it has OCSP
// responses for the provider node's chain (verify_service_node()).
//
// Failures are SslAuthenticationFailed (X-Road's ServerMessageProcessor.verifySslClientCert wraps
// every cause in it); the message says which check failed (chain, revoked, not registered, ...).
//
// The chain and OCSP checks are remembered per (configuration, chain, OCSP responses) for the times
// at which they give the same answer (certificate validity, OCSP freshness and nextUpdate), since a
// peer sends the same chain and responses with every message; registration is checked every time.
//
// Threading: every method is const and thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/http/http.h"
#include "core/ids/ids.h"

namespace hansa::proxy {

using TimePoint = std::chrono::system_clock::time_point;

// The current global configuration snapshot; null when none is loaded.
using GlobalConfSource = std::function<std::shared_ptr<const globalconf::GlobalConfSnapshot>()>;

struct PeerVerifierOptions {
  // Most certificates accepted in a peer's TLS chain.
  std::size_t max_chain_certs = 8;
  // Most OCSP responses looked at for one chain.
  std::size_t max_ocsp_responses = 16;
  // The time certificates and OCSP responses are judged at (tests inject one).
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

// What a successful check established about the peer.
struct PeerIdentity {
  ids::SecurityServerId server;            // the server the auth certificate is registered for
  crypto::Certificate auth_cert;           // the peer's leaf
  std::vector<crypto::Certificate> chain;  // leaf first, approved CA last
};

class PeerVerifier final {
 public:
  explicit PeerVerifier(GlobalConfSource conf, PeerVerifierOptions options = {});

  // The checks possible during the TLS handshake: the chain parses, the leaf is an
  // authentication certificate (keyUsage digitalSignature, clientAuth when EKU is present),
  // chains to an approved CA at clock(), and its hash is registered for some security server.
  // SslAuthenticationFailed otherwise; OutdatedGlobalConf when no usable configuration is loaded.
  [[nodiscard]] Result<PeerIdentity> handshake_check(const http::CertChain& chain) const;

  // handshake_check() as a core/http hook (ServerTlsConfig::verify_peer,
  // ClientTlsConfig::verify_server). The hook shares this verifier's state: keep the verifier
  // alive while servers and clients use the hook.
  [[nodiscard]] http::PeerVerifier handshake_hook() const;

  // Server side, PR-MESSTRANSP 3.3 with X-Road's verifySslClientCert: handshake_check(), then
  // the leaf's hash must be registered for a security server that hosts `client`, and one of
  // `ocsp_der` (the request's application/ocsp-response parts) must be a valid, fresh response
  // for the leaf saying good. SslAuthenticationFailed otherwise.
  [[nodiscard]] Result<PeerIdentity> verify_client_node(
      const http::CertChain& chain, const ids::ClientId& client,
      const std::vector<std::string>& ocsp_der) const;

  // Client side, PR-MESSTRANSP 2.1 steps 5-7: handshake_check(), then the leaf's hash must be
  // registered for `target`, and one of `ocsp_der` (cached or downloaded from the peer) must be
  // a valid, fresh, good response for the leaf. SslAuthenticationFailed otherwise.
  [[nodiscard]] Result<PeerIdentity> verify_service_node(
      const http::CertChain& chain, const ids::SecurityServerId& target,
      const std::vector<std::string>& ocsp_der) const;

  // The OCSP check alone: one of `ocsp_der` is a valid response for `cert` (issued by
  // `issuer`) at `at` under `conf`'s freshness and responders, and says good. CertValidation
  // otherwise (the message names the status for revoked and unknown certificates).
  [[nodiscard]] static Status check_ocsp(const crypto::Certificate& cert,
                                         const crypto::Certificate& issuer,
                                         const std::vector<std::string>& ocsp_der,
                                         const globalconf::GlobalConfSnapshot& conf, TimePoint at,
                                         std::size_t max_responses = 16);

 private:
  Result<PeerIdentity> check_chain(const http::CertChain& chain,
                                   const globalconf::GlobalConfSnapshot& conf, TimePoint at) const;
  Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> usable_conf(TimePoint at) const;
  // The remembered identity for `key` (known = true), else check_chain() (known = false).
  Result<PeerIdentity> peer_identity(const http::CertChain& chain,
                                     const globalconf::GlobalConfSnapshot& conf, TimePoint at,
                                     const std::string& key, bool& known) const;
  // The response that decided an OCSP check that passed: its place among the responses sent,
  // the response, its signer's certificate (DER) and the options it was verified under.
  struct OcspDecision;
  // check_ocsp(), with the deciding response on success.
  static Result<OcspDecision> decide_ocsp(const crypto::Certificate& cert,
                                          const crypto::Certificate& issuer,
                                          const std::vector<std::string>& ocsp_der,
                                          const globalconf::GlobalConfSnapshot& conf, TimePoint at,
                                          std::size_t max_responses);
  // The OCSP part of verify_client_node() / verify_service_node() (SslAuthenticationFailed).
  Result<OcspDecision> check_peer_ocsp(const PeerIdentity& identity,
                                       const std::vector<std::string>& ocsp_der,
                                       const globalconf::GlobalConfSnapshot& conf,
                                       TimePoint at) const;
  // A result remembered by (configuration, chain, OCSP responses) whose chain and OCSP checks
  // hold at `at`; null when none.
  std::shared_ptr<const PeerIdentity> remembered(const std::string& key, TimePoint at) const;
  // Remembers `identity` (chain and OCSP checks passed) when its OCSP decision came from the
  // first response, for the times at which every time-dependent check gives the same answer.
  void remember(const std::string& key, const PeerIdentity& identity,
                const OcspDecision& decision) const;

  struct Memo;

  GlobalConfSource conf_;
  PeerVerifierOptions options_;
  std::shared_ptr<Memo> memo_;
};

}  // namespace hansa::proxy
