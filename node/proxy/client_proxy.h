#pragma once

// The client proxy (PR-MESS 4.0, PR-REST 1.0, PR-MESSTRANSP 3.2; DESIGN.md "Data flow of one
// call", steps 1-5 and 7): the servers information systems call on HTTP and HTTPS, SOAP (POST,
// text/xml, SwA, MTOM) and REST (`/r1/...`, any method). For each request, in X-Road's order
// (ClientMessageProcessor / ClientRestMessageProcessor):
//   global configuration usable ........................... OutdatedGlobalConf
//   message log usable ..................................... TimestampingFailed
//   the request parses (node/message) ...................... Client.<InvalidSoap, MissingHeader,
//                                                            MissingHeaderField,
//                                                            InvalidContentType,
//                                                            InvalidClientIdentifier, ...>
//   the client is a registered client of this node ......... UnknownMember
//   the IS connection fits the client's connection type
//   (HTTP / HTTPS / HTTPS with a registered IS certificate)  Client.SslAuthenticationFailed
//   the provider's nodes resolve ........................... UnknownMember, InvalidSecurityServer
//   signed (BatchSigner) ................................... Signer codes
//   the request record is durable in the message log ...... LoggingFailed
//   sent to the fastest provider node, failing over on connect failures
//                                                            NetworkError, SslAuthenticationFailed
//   the response decodes, its signature verifies with the service provider as signer, the request
//   hash matches, the headers are consistent ............... InvalidSignatureValue, ...,
//                                                            InconsistentResponse,
//                                                            ServiceFailed.InconsistentResponse
//   the response record is durable ......................... LoggingFailed
// then the IS gets the response (SOAP: the provider's bytes; REST: status, headers with X-Road-*,
// body). Faults raised here are SOAP faults / REST JSON errors (X-Road-Error header) rendered with
// the Server.ClientProxy prefix (Client. for the caller's own mistakes), with a detail id (UUID)
// that is also written to the node's log. Faults from the peer node pass through unchanged.
// Every call is reported to every CallObserver (side kClient), successful or not.
//
// Threading: thread-safe; each IS request runs on one HTTP server worker from parsing to the
// answer; the only hand-off is the batch signer's (callers sign each other's batches).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
#include "node/proxy/node_selector.h"
#include "node/proxy/peer_pool.h"
#include "node/proxy/peer_verifier.h"
#include "node/serverconf/snapshot.h"

namespace hansa::proxy {

// The current server configuration snapshot (also declared by metaservices.h).
using ServerConfSource = std::function<std::shared_ptr<const serverconf::ServerConfSnapshot>()>;

struct ClientProxyOptions {
  // The IS-facing listeners; at least one. X-Road: HTTP 8080, HTTPS 8443. The HTTPS listener's
  // `tls` holds the node's internal TLS certificate; the client proxy asks ISes for a certificate
  // (request_client_cert) and checks it against the client's IS certificates itself.
  std::optional<http::ServerOptions> http;
  std::optional<http::ServerOptions> https;
  message::SoapLimits soap;
  message::RestLimits rest;
  message::TransportLimits transport;
  // Validate SOAP headers against the schema (off only in benchmarks).
  bool validate_soap_schema = true;
  // Digest of signed parts and request hashes.
  crypto::DigestAlgorithm hash_algorithm = crypto::DigestAlgorithm::kSha512;
  // The path of the peers' server proxy (X-Road: "/").
  std::string peer_path = "/";
  // Clock for checks, log records and call records (tests inject one).
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// OCSP responses (DER) for this node's authentication certificate chain, sent with every request
// (PR-MESSTRANSP 3.2 step 4).
using AuthOcspSource = std::function<std::vector<std::string>()>;

// What the client proxy works with. Every pointer must outlive the ClientProxy.
struct ClientProxyDeps {
  GlobalConfSource globalconf;
  ServerConfSource serverconf;
  BatchSigner* signer = nullptr;
  messagelog::MessageLogWriter* message_log = nullptr;
  PeerPool* peers = nullptr;
  NodeSelector* selector = nullptr;
  AuthOcspSource auth_ocsp;
  std::vector<opmonitor::CallObserver*> observers;
  // GET /listClients (PR-META), answered by this node itself; not routed when unset.
  http::Handler list_clients;
};

class ClientProxy final {
 public:
  // Builds the servers (not started). InvalidConfiguration when a dependency or both listeners
  // are missing; what http::Server::create returns.
  [[nodiscard]] static Result<std::unique_ptr<ClientProxy>> create(ClientProxyOptions options,
                                                                   ClientProxyDeps deps);
  ~ClientProxy();
  ClientProxy(const ClientProxy&) = delete;
  ClientProxy& operator=(const ClientProxy&) = delete;

  // Starts the listeners (NetworkError when a port cannot be bound).
  [[nodiscard]] Status start();
  // Stops the listeners and waits for running requests (idempotent).
  void stop();
  // Bound ports; 0 when the listener is not configured or not started.
  [[nodiscard]] std::uint16_t http_port() const noexcept;
  [[nodiscard]] std::uint16_t https_port() const noexcept;
  // Requests its listeners refused before reading them (answered as faults), by HTTP status.
  [[nodiscard]] std::vector<http::RefusalCount> refusals() const;

  // Handles one IS request (what the listeners call).
  void handle(const http::Request& request, http::Response& response) const;

 private:
  struct Impl;
  explicit ClientProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::proxy
