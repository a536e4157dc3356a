#pragma once

// The server proxy (PR-MESSTRANSP 3.3; DESIGN.md "Data flow of one call", steps 6-7): the mTLS
// server on the node's server-proxy port that receives signed transport messages from client
// nodes, checks them, calls the provider information system and returns the signed response.
//
// Checks, in X-Road's order (ServerMessageProcessor / ServerRestMessageProcessor), each failure
// answered with a SOAP fault Server.ServerProxy.<code> whose faultDetail is a fresh detail id
// that is also written to the node's log; nothing is forwarded and nothing is logged then:
//   transport message decodes ................ InvalidContentType, MimeParsingFailed, MissingSoap,
//                                              MissingRest, MissingSignature, LimitExceeded, ...
//   global configuration usable .............. OutdatedGlobalConf
//   securityServer header names this node .... InvalidSecurityServer
//   the service's provider is a registered client of this node, the client exists in global
//   configuration .............................. UnknownMember
//   TLS peer: auth certificate registered for a node hosting the client, chain, in-message OCSP
//                                              SslAuthenticationFailed
//   service exists ............................ UnknownService
//   service type (SOAP / REST) ................ ServiceType
//   access rights allow (per REST endpoint) ... AccessDenied
//   service enabled ........................... ServiceDisabled
//   signature and hash chain verify with the client as signer
//                                              InvalidSignatureValue, MalformedSignature.*,
//                                              CertValidation, IncorrectCertificate
//   not a replay (same client, query id and signature within replay_window; signing time within
//   the window) ................................ InvalidRequest
//   message log usable ........................ TimestampingFailed
// (X-Road checks access rights before the disabled state, so a caller without access learns
// nothing about a disabled service.) Metaservices (listMethods, allowedMethods, getWsdl,
// getOpenAPI) skip the service and access checks and are answered by Metaservices.
//
// Then: the request is appended to the message log (durable before the provider is called;
// LoggingFailed otherwise), the provider is called (ProviderClient; failures are
// ServiceFailed.<Timeout|NetworkError|LimitExceeded|InvalidSoap|...>), the response gets the
// request hash (SOAP requestHash header, REST X-Road-Request-Hash), is signed by the provider's
// member (BatchSigner), logged, and returned. A SOAP fault from the provider is passed back as
// it came (unsigned, like X-Road). Every call is reported to every CallObserver (side kProducer).
//
// Threading: thread-safe; requests run concurrently on the HTTP server's workers, each on its
// own thread from decoding to the answer (no hand-offs). The replay cache is guarded by a mutex.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/http/server.h"
#include "node/message/rest.h"
#include "node/message/soap.h"
#include "node/message/transport.h"
#include "node/messagelog/record.h"
#include "node/opmonitor/call_record.h"
#include "node/proxy/batch_signer.h"
#include "node/proxy/metaservices.h"
#include "node/proxy/peer_verifier.h"
#include "node/proxy/provider_client.h"

namespace hansa::proxy {

struct ServerProxyOptions {
  // Listening address, limits and TLS. `server.tls` must hold the node's authentication
  // certificate chain and key (or the key hook); require_client_cert and verify_peer are set by
  // the server proxy (PeerVerifier::handshake_hook).
  http::ServerOptions server;
  // The path client nodes POST to (X-Road: "/").
  std::string path = "/";
  message::TransportLimits transport;
  message::SoapLimits soap;
  message::RestLimits rest;
  // Validate SOAP headers against the schema (off only in benchmarks).
  bool validate_soap_schema = true;
  // Replay protection: a message (client, query id, signature) seen within this window is refused,
  // and so is a message whose signing time is outside [now - window, now + max_clock_skew].
  std::chrono::seconds replay_window{600};
  std::chrono::seconds max_clock_skew{300};
  // Most remembered messages; when full the oldest are forgotten first.
  std::size_t max_replay_entries = 500'000;
  // Digest of request hashes (requestHash, X-Road-Request-Hash) and signed parts.
  crypto::DigestAlgorithm hash_algorithm = crypto::DigestAlgorithm::kSha512;
  // Clock for checks, log records and call records (tests inject one).
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// What the server proxy works with. Every reference must outlive the ServerProxy.
struct ServerProxyDeps {
  GlobalConfSource globalconf;
  ServerConfSource serverconf;
  PeerVerifier* peer_verifier = nullptr;
  BatchSigner* signer = nullptr;
  messagelog::MessageLogWriter* message_log = nullptr;
  ProviderClient* provider = nullptr;
  Metaservices* metaservices = nullptr;  // optional: metaservices answer UnknownService without
  std::vector<opmonitor::CallObserver*> observers;
};

// The answer to one transport request.
struct ServerProxyAnswer {
  int status = 200;
  http::Headers headers;  // Content-Type first
  std::string body;
};

class ServerProxy final {
 public:
  // Builds the HTTPS server (not started). InvalidConfiguration when a dependency is missing or
  // the TLS settings are absent; what http::Server::create returns.
  [[nodiscard]] static Result<std::unique_ptr<ServerProxy>> create(ServerProxyOptions options,
                                                                   ServerProxyDeps deps);
  ~ServerProxy();
  ServerProxy(const ServerProxy&) = delete;
  ServerProxy& operator=(const ServerProxy&) = delete;

  // Starts serving (NetworkError when the port cannot be bound).
  [[nodiscard]] Status start();
  // The bound port; 0 before start().
  [[nodiscard]] std::uint16_t port() const noexcept;
  // Requests from peers refused before reading them (answered as faults), by HTTP status.
  [[nodiscard]] std::vector<http::RefusalCount> refusals() const;
  // Stops serving and waits for running requests (idempotent).
  void stop();

  // Handles one transport request as received from a client node with TLS peer chain
  // `peer_chain` (DER, leaf first): the whole pipeline described at the top. Never fails: errors
  // become fault answers. Thread-safe.
  [[nodiscard]] ServerProxyAnswer handle(const http::Headers& headers, std::string body,
                                         const http::CertChain& peer_chain);

 private:
  struct Impl;
  explicit ServerProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::proxy
