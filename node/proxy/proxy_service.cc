#include "node/proxy/proxy_service.h"

#include <openssl/ssl.h>

#include "node/proxy/batch_signer.h"
#include "node/proxy/node_selector.h"
#include "node/proxy/peer_pool.h"
#include "node/proxy/provider_client.h"
#include "node/proxy/server_proxy.h"
#include "node/signer/internal.h"
#include "node/signer/signer.h"

namespace hansa::proxy {

struct ProxyService::Impl {
  ProxyServiceOptions options;
  ProxyServiceDeps deps;
  std::unique_ptr<SigningKeys> keys;
  std::unique_ptr<BatchSigner> batch_signer;
  std::unique_ptr<PeerVerifier> verifier;
  std::unique_ptr<PeerPool> peers;
  std::unique_ptr<NodeSelector> selector;
  std::unique_ptr<ProviderClient> provider;
  std::unique_ptr<Metaservices> metaservices;
  std::unique_ptr<ClientProxy> client_proxy;
  std::unique_ptr<ServerProxy> server_proxy;
};

namespace {

http::ServerOptions listener(const ProxyServiceOptions& o, const std::string& host,
                             std::uint16_t port, std::size_t workers) {
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  so.worker_threads = workers;
  so.max_queued_connections = o.max_queued_connections;
  so.max_body_bytes = o.max_body_bytes;
  so.read_timeout = o.read_timeout;
  so.write_timeout = o.read_timeout;
  so.header_timeout = o.header_timeout;
  so.body_timeout = o.body_timeout;
  so.min_body_rate = o.min_body_rate;
  so.keep_alive_timeout = o.keep_alive_timeout;
  so.keep_alive_max_requests = 10'000;
  return so;
}

}  // namespace

Result<std::unique_ptr<ProxyService>> ProxyService::create(ProxyServiceOptions options,
                                                           ProxyServiceDeps deps) {
  if (deps.signer == nullptr || !deps.globalconf || !deps.serverconf) {
    return Error(FaultCode::kInvalidConfiguration, "proxy service dependency missing");
  }
  if (deps.message_log == nullptr) {
    // Every exchanged message must be durable in the log before the call proceeds.
    return Error(FaultCode::kInvalidConfiguration, "the proxies need a message log");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->deps = deps;
  signer::Signer* node_signer = deps.signer;
  // The auth key goes into each TLS context from the token (never as PEM).
  http::TlsContextHook auth_key = [node_signer](void* ctx) -> Status {
    return signer::use_auth_key(*node_signer, static_cast<SSL_CTX*>(ctx));
  };

  impl->keys = signer_keys(*node_signer);
  BatchSignerOptions bo;
  bo.max_queued = options.max_signing_queue;
  bo.max_batch = options.max_batch;
  bo.linger = options.sign_batch_linger;
  HANSA_ASSIGN_OR_RETURN(impl->batch_signer, BatchSigner::create(*impl->keys, bo));
  impl->verifier = std::make_unique<PeerVerifier>(deps.globalconf);

  PeerPoolOptions po;
  po.default_port = options.peer_port;
  po.max_connections_per_peer = options.peer_pool_size;
  po.connect_timeout = options.peer_connect_timeout;
  po.read_timeout = options.peer_total_timeout;
  po.total_timeout = options.peer_total_timeout;
  po.max_response_bytes = options.max_body_bytes;
  po.tls.configure_context = auth_key;
  PeerVerifier* verifier = impl->verifier.get();
  GlobalConfSource globalconf = deps.globalconf;
  ServerCertCheck check = [verifier, globalconf](const http::CertChain& chain,
                                                 const ids::SecurityServerId& target) -> Status {
    // PR-MESSTRANSP 2.1: an auth certificate of an approved CA, registered for the target node.
    HANSA_ASSIGN_OR_RETURN(PeerIdentity identity, verifier->handshake_check(chain));
    auto conf = globalconf();
    if (!(identity.server == target) &&
        !(conf && conf->is_auth_cert_of_server(identity.auth_cert, target))) {
      return Error(FaultCode::kSslAuthenticationFailed,
                   "peer's authentication certificate is not registered for the target node",
                   target.to_string());
    }
    return ok_status();
  };
  HANSA_ASSIGN_OR_RETURN(impl->peers, PeerPool::create(po, check));
  NodeSelectorOptions no;
  no.default_port = options.peer_port;
  no.connect_deadline = options.node_race_deadline;
  no.cache_ttl = options.node_cache_ttl;
  impl->selector = std::make_unique<NodeSelector>(no);

  ProviderClientOptions pco;
  pco.connect_timeout = options.provider_connect_timeout;
  pco.total_timeout = options.provider_timeout;
  pco.max_response_bytes = options.max_body_bytes;
  HANSA_ASSIGN_OR_RETURN(impl->provider, ProviderClient::create(pco));
  impl->metaservices =
      std::make_unique<Metaservices>(deps.serverconf, deps.globalconf, deps.documents);

  ClientProxyOptions co;
  if (!options.client_http_host.empty()) {
    co.http = listener(options, options.client_http_host, options.client_http_port,
                       options.client_worker_threads);
  }
  if (!options.client_https_host.empty()) {
    co.https = listener(options, options.client_https_host, options.client_https_port,
                        options.client_worker_threads);
    co.https->tls = http::ServerTlsConfig{};
    co.https->tls->configure_context = auth_key;
  }
  co.soap.max_message_bytes = options.max_body_bytes;
  co.rest.max_body_bytes = options.max_body_bytes;
  co.transport.max_body_bytes = options.max_body_bytes + 1024 * 1024;
  ClientProxyDeps cd;
  cd.globalconf = deps.globalconf;
  cd.serverconf = deps.serverconf;
  cd.signer = impl->batch_signer.get();
  cd.message_log = deps.message_log;
  cd.peers = impl->peers.get();
  cd.selector = impl->selector.get();
  cd.auth_ocsp = [node_signer] {
    // PR-MESSTRANSP 3.2: OCSP responses for this node's auth certificate.
    std::vector<std::string> out;
    auto info = node_signer->auth_info();
    if (info.ok() && info->ocsp_der) {
      out.push_back(*info->ocsp_der);
    }
    return out;
  };
  cd.observers = deps.observers;
  cd.list_clients = impl->metaservices->list_clients_handler();
  HANSA_ASSIGN_OR_RETURN(impl->client_proxy, ClientProxy::create(std::move(co), std::move(cd)));

  ServerProxyOptions so;
  so.server =
      listener(options, options.server_host, options.server_port, options.server_worker_threads);
  so.server.tls = http::ServerTlsConfig{};
  so.server.tls->configure_context = auth_key;
  so.transport.max_body_bytes = options.max_body_bytes + 1024 * 1024;
  so.replay_window = options.replay_window;
  so.max_clock_skew = options.max_clock_skew;
  so.max_replay_entries = options.max_replay_entries;
  ServerProxyDeps sd;
  sd.globalconf = deps.globalconf;
  sd.serverconf = deps.serverconf;
  sd.peer_verifier = impl->verifier.get();
  sd.signer = impl->batch_signer.get();
  sd.message_log = deps.message_log;
  sd.provider = impl->provider.get();
  sd.metaservices = impl->metaservices.get();
  sd.observers = deps.observers;
  HANSA_ASSIGN_OR_RETURN(impl->server_proxy, ServerProxy::create(std::move(so), std::move(sd)));
  return std::unique_ptr<ProxyService>(new ProxyService(std::move(impl)));
}

ProxyService::ProxyService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProxyService::~ProxyService() { stop(); }

Status ProxyService::start() {
  HANSA_RETURN_IF_ERROR(impl_->server_proxy->start());
  if (auto started = impl_->client_proxy->start(); !started.ok()) {
    impl_->server_proxy->stop();
    return started;
  }
  return ok_status();
}

void ProxyService::stop() {
  // IS requests first (they may wait on peers), then the peer side.
  impl_->client_proxy->stop();
  impl_->server_proxy->stop();
}

std::uint16_t ProxyService::client_http_port() const noexcept {
  return impl_->client_proxy->http_port();
}
std::uint16_t ProxyService::client_https_port() const noexcept {
  return impl_->client_proxy->https_port();
}
std::uint16_t ProxyService::server_port() const noexcept { return impl_->server_proxy->port(); }

ProxyServiceStats ProxyService::stats() const {
  const BatchSignerStats signing = impl_->batch_signer->stats();
  const PeerPoolStats peers = impl_->peers->stats();
  return ProxyServiceStats{.signed_messages = signing.messages,
                           .signing_batches = signing.key_operations,
                           .largest_batch = signing.largest_batch,
                           .peer_connections = peers.connections_created,
                           .peer_calls = peers.calls,
                           .peer_tls_handshakes = peers.tls_handshakes,
                           .peer_tls_resumed = peers.tls_resumed,
                           .client_refusals = impl_->client_proxy->refusals(),
                           .server_refusals = impl_->server_proxy->refusals()};
}

}  // namespace hansa::proxy
