#include "node/proxy/client_proxy.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <map>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/signature/signature.h"
#include "node/message/signing.h"

namespace hansa::proxy {
namespace {

using Clock = std::chrono::system_clock;

// A fault with the origin it is rendered with.
struct Fault {
  Error error;
  Origin origin = Origin::kClientProxy;
};

Fault client_fault(Error e) { return Fault{std::move(e), Origin::kClient}; }
Fault proxy_fault(Error e) { return Fault{std::move(e), Origin::kClientProxy}; }

bool is_rest_path(std::string_view path) { return path.starts_with("/r1/") || path == "/r1"; }

// Renders `error` as the IS expects it: an X-Road REST error (the X-Road-Error header and the JSON
// body) with `rest_status`, or a SOAP fault with 500 (the SOAP 1.1 HTTP binding). Returns the
// fault's detail id, the UUID the log line carries too.
std::string render_fault(const Error& error, Origin origin, bool rest, int rest_status,
                         http::Response& res) {
  std::string detail_id = crypto::random_uuid();
  res = http::Response{};
  if (rest) {
    res.status = rest_status;
    res.set_header(message::kXRoadErrorHeader, message::rest_error_header(error, origin));
    res.set_body(message::rest_error_json(error, origin, detail_id), "application/json");
  } else {
    res.status = 500;
    res.set_body(message::build_fault(error, origin, detail_id), message::kTextXmlContentType);
  }
  return detail_id;
}

// A request the HTTP server refuses before the proxy reads it (a body too large or too slow,
// header limits, a method the endpoint does not take) is answered like the proxy's own faults, so
// that an IS gets a SOAP fault on the SOAP endpoint. A REST error keeps the HTTP status (413,
// 408, ...), which says more than 500 about a request refused whole.
void render_refusal(const http::Request& req, int status, const Error& error, http::Response& res) {
  const bool rest = is_rest_path(req.path());
  std::string detail_id = render_fault(error, Origin::kClientProxy, rest, status, res);
  spdlog::warn("client proxy: {} detail {}: {} (HTTP {}, refused before the proxy read it)",
               error.render(Origin::kClientProxy), detail_id, error.to_string(), status);
}

bool connect_failed(const Error& e) {
  return e.message == http::kConnectFailedMessage || e.code == FaultCode::kSslAuthenticationFailed;
}

// What the peer said, decoded, or a fault it sent that passes through to the IS.
struct PeerAnswer {
  std::optional<message::DecodedTransport> decoded;
  std::optional<message::SoapFault> fault;  // set: pass through
  std::string fault_xml;
  std::string server;  // the node that answered (SERVER id string)
};

}  // namespace

struct ClientProxy::Impl {
  ClientProxyOptions options;
  ClientProxyDeps deps;
  std::unique_ptr<http::Server> http_server;
  std::unique_ptr<http::Server> https_server;

  void handle(const http::Request& req, http::Response& res) const;
  std::optional<Fault> handle_soap(
      const http::Request& req, http::Response& res, opmonitor::CallRecord& rec,
      std::shared_ptr<const globalconf::GlobalConfSnapshot> conf) const;
  std::optional<Fault> handle_rest(
      const http::Request& req, http::Response& res, opmonitor::CallRecord& rec,
      std::shared_ptr<const globalconf::GlobalConfSnapshot> conf) const;
  std::optional<Fault> check_client(const http::Request& req, const ids::ClientId& client) const;
  Result<PeerAnswer> exchange(const globalconf::GlobalConfSnapshot& conf,
                              const ids::ServiceId& service,
                              const std::optional<ids::SecurityServerId>& requested,
                              const message::EncodedTransport& encoded, message::MessageKind kind,
                              opmonitor::CallRecord& rec) const;
  Status verify_response(const message::DecodedTransport& decoded,
                         const globalconf::GlobalConfSnapshot& conf,
                         const ids::ServiceId& service) const;
  void answer_fault(const Fault& fault, bool rest, http::Response& res,
                    opmonitor::CallRecord& rec) const;
  void report(const opmonitor::CallRecord& rec) const {
    for (auto* observer : deps.observers) {
      observer->on_call(rec);
    }
  }
};

Result<std::unique_ptr<ClientProxy>> ClientProxy::create(ClientProxyOptions options,
                                                         ClientProxyDeps deps) {
  if (!deps.globalconf || !deps.serverconf || deps.signer == nullptr ||
      deps.message_log == nullptr || deps.peers == nullptr || deps.selector == nullptr) {
    return Error(FaultCode::kInvalidConfiguration, "client proxy dependency missing");
  }
  if (!options.http && !options.https) {
    return Error(FaultCode::kInvalidConfiguration, "client proxy needs an HTTP or HTTPS listener");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->deps = std::move(deps);
  Impl* self = impl.get();
  auto add_routes = [self](http::Server& server) {
    http::Handler handler = [self](const http::Request& req, http::Response& res) {
      self->handle(req, res);
    };
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
      server.route(method, "/r1/*", handler);
    }
    server.route("POST", "/*", handler);  // SOAP on any other path
    if (self->deps.list_clients) {
      server.route("GET", "/listClients", self->deps.list_clients);
    }
  };
  if (impl->options.http) {
    http::ServerOptions so = *impl->options.http;
    so.tls.reset();
    so.render_reject = render_refusal;
    HANSA_ASSIGN_OR_RETURN(impl->http_server, http::Server::create(std::move(so)));
    add_routes(*impl->http_server);
  }
  if (impl->options.https) {
    http::ServerOptions so = *impl->options.https;
    if (!so.tls) {
      return Error(FaultCode::kInvalidConfiguration, "client proxy HTTPS listener without TLS");
    }
    so.tls->request_client_cert = true;  // IS certificates are checked per client below
    so.render_reject = render_refusal;
    HANSA_ASSIGN_OR_RETURN(impl->https_server, http::Server::create(std::move(so)));
    add_routes(*impl->https_server);
  }
  return std::unique_ptr<ClientProxy>(new ClientProxy(std::move(impl)));
}

ClientProxy::ClientProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientProxy::~ClientProxy() { stop(); }

Status ClientProxy::start() {
  if (impl_->http_server) {
    HANSA_RETURN_IF_ERROR(impl_->http_server->start());
  }
  if (impl_->https_server) {
    auto started = impl_->https_server->start();
    if (!started.ok()) {
      stop();
      return started;
    }
  }
  return ok_status();
}

void ClientProxy::stop() {
  if (impl_->http_server) {
    impl_->http_server->stop();
  }
  if (impl_->https_server) {
    impl_->https_server->stop();
  }
}

std::uint16_t ClientProxy::http_port() const noexcept {
  return impl_->http_server ? impl_->http_server->port() : 0;
}
std::uint16_t ClientProxy::https_port() const noexcept {
  return impl_->https_server ? impl_->https_server->port() : 0;
}

std::vector<http::RefusalCount> ClientProxy::refusals() const {
  std::map<int, std::uint64_t> by_status;  // both listeners together, in order of status
  for (const http::Server* server : {impl_->http_server.get(), impl_->https_server.get()}) {
    if (server != nullptr) {
      for (const http::RefusalCount& r : server->refusals()) {
        by_status[r.status] += r.count;
      }
    }
  }
  std::vector<http::RefusalCount> out;
  for (const auto& [status, count] : by_status) {
    out.push_back({status, count});
  }
  return out;
}

void ClientProxy::handle(const http::Request& request, http::Response& response) const {
  impl_->handle(request, response);
}

void ClientProxy::Impl::handle(const http::Request& req, http::Response& res) const {
  opmonitor::CallRecord rec;
  rec.side = opmonitor::CallRecord::Side::kClient;
  rec.request_in = options.clock();
  const bool rest = is_rest_path(req.path());
  rec.service_type = rest ? "REST" : "WSDL";
  std::optional<Fault> fault;
  auto conf = deps.globalconf();
  if (!conf) {
    fault = proxy_fault(Error(FaultCode::kOutdatedGlobalConf, "no global configuration loaded"));
  } else if (auto valid = conf->check_valid(options.clock()); !valid.ok()) {
    fault = proxy_fault(valid.error());
  } else if (auto usable = deps.message_log->check_usable(); !usable.ok()) {
    fault = proxy_fault(usable.error());
  } else {
    fault = rest ? handle_rest(req, res, rec, conf) : handle_soap(req, res, rec, conf);
  }
  if (fault) {
    answer_fault(*fault, rest, res, rec);
  } else if (rec.fault_code.empty()) {
    rec.succeeded = true;
  }
  rec.http_status = res.status;
  rec.response_out = options.clock();
  report(rec);
}

void ClientProxy::Impl::answer_fault(const Fault& fault, bool rest, http::Response& res,
                                     opmonitor::CallRecord& rec) const {
  std::string code = fault.error.render(fault.origin);
  std::string detail_id =
      render_fault(fault.error, fault.origin, rest, message::rest_error_status(fault.origin), res);
  spdlog::warn("client proxy: {} detail {}: {} (query {})", code, detail_id,
               fault.error.to_string(), rec.query_id);
  rec.succeeded = false;
  rec.fault_code = code;
  rec.fault_string = fault.error.message;
}

std::optional<Fault> ClientProxy::Impl::check_client(const http::Request& req,
                                                     const ids::ClientId& client) const {
  auto sconf = deps.serverconf();
  const serverconf::ClientEntry* entry = sconf ? sconf->find_client(client) : nullptr;
  if (entry == nullptr) {
    return proxy_fault(
        Error(FaultCode::kUnknownMember, "client not found on this node", client.to_string()));
  }
  if (!sconf->is_registered_client(client)) {
    return proxy_fault(
        Error(FaultCode::kUnknownMember, "client is not registered", client.to_string()));
  }
  // X-Road's IsAuthentication: what the client's connection type requires of the IS connection.
  switch (entry->is_connection) {
    case serverconf::IsConnectionType::kHttp:
      return std::nullopt;
    case serverconf::IsConnectionType::kHttps:
      if (!req.is_tls()) {
        return client_fault(Error(FaultCode::kSslAuthenticationFailed,
                                  "client requires HTTPS but the connection is plain HTTP",
                                  client.to_string()));
      }
      return std::nullopt;
    case serverconf::IsConnectionType::kHttpsAuth: {
      if (!req.is_tls() || req.peer_cert_chain().empty()) {
        return client_fault(Error(FaultCode::kSslAuthenticationFailed,
                                  "client requires HTTPS with a TLS certificate; none supplied",
                                  client.to_string()));
      }
      std::string fingerprint = crypto::hex_encode(
          crypto::digest(crypto::DigestAlgorithm::kSha256, req.peer_cert_chain().front()));
      if (!sconf->is_cert_registered(client, fingerprint)) {
        return client_fault(Error(FaultCode::kSslAuthenticationFailed,
                                  "TLS certificate does not match any IS certificate of the client",
                                  client.to_string()));
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Result<PeerAnswer> ClientProxy::Impl::exchange(
    const globalconf::GlobalConfSnapshot& conf, const ids::ServiceId& service,
    const std::optional<ids::SecurityServerId>& requested, const message::EncodedTransport& encoded,
    message::MessageKind kind, opmonitor::CallRecord& rec) const {
  HANSA_ASSIGN_OR_RETURN(auto candidates, NodeSelector::resolve(conf, service, requested));
  candidates = deps.selector->order(service, std::move(candidates));
  http::Headers headers;
  for (const auto& [name, value] : encoded.headers) {
    if (!http::iequals(name, "Content-Type")) {
      headers.emplace_back(name, value);
    }
  }
  std::optional<Error> last;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const NodeCandidate& node = candidates[i];
    rec.service_security_server = node.server.to_string();
    rec.request_out = options.clock();
    auto response = deps.peers->post(node.server, node.address, options.peer_path, encoded.body,
                                     encoded.content_type, headers);
    if (!response.ok()) {
      if (connect_failed(response.error())) {
        spdlog::info("client proxy: node {} at {} unavailable, trying the next: {}",
                     node.server.to_string(), node.address, response.error().to_string());
        deps.selector->report_failure(service, node);
        last = response.error();
        continue;
      }
      Error e = response.error();
      if (e.code == FaultCode::kTimeout) {
        e = Error(FaultCode::kNetworkError, "peer node did not answer in time", e.detail);
      }
      return e;
    }
    rec.response_in = options.clock();
    if (i > 0) {
      deps.selector->report_success(service, node);
    }
    rec.response_mime_size = response->body.size();
    message::HeaderFields fields(response->headers.begin(), response->headers.end());
    HANSA_ASSIGN_OR_RETURN(auto decoded, message::decode_response(fields, std::move(response->body),
                                                                  kind, options.transport));
    PeerAnswer answer;
    answer.server = node.server.to_string();
    if (decoded.fault) {
      answer.fault_xml = std::string(*decoded.fault);
      auto parsed = message::parse_fault(answer.fault_xml, options.soap);
      if (!parsed.ok()) {
        return Error(FaultCode::kInvalidSoap, "peer node sent an unreadable fault",
                     parsed.error().to_string());
      }
      answer.fault = std::move(parsed).value();
      return answer;
    }
    answer.decoded = std::move(decoded);
    return answer;
  }
  Error e = last.value_or(Error(FaultCode::kNetworkError, "no provider node reachable"));
  return Error(FaultCode::kNetworkError, "could not connect to any provider node", e.to_string());
}

Status ClientProxy::Impl::verify_response(const message::DecodedTransport& decoded,
                                          const globalconf::GlobalConfSnapshot& conf,
                                          const ids::ServiceId& service) const {
  signature::VerifyOptions vo;
  vo.expected_signer = service.provider();
  auto verified = signature::verify(decoded.signature, message::signed_data(decoded), conf, vo);
  if (!verified.ok()) {
    return verified.error();
  }
  return ok_status();
}

namespace {

// Fills the log record fields common to requests and responses.
messagelog::LogRecord log_record(const std::string& query_id, const std::string& request_id,
                                 const ids::ClientId& client, const ids::ServiceId& service,
                                 bool response, bool rest, const message::SignedParts& parts,
                                 std::string signature, std::string hash_chain_result,
                                 std::string hash_chain, Clock::time_point time) {
  auto content = message::log_content(parts);
  return messagelog::LogRecord{query_id,
                               request_id,
                               client,
                               service,
                               response,
                               rest,
                               std::move(content.message),
                               std::move(content.attachments),
                               std::move(signature),
                               std::move(hash_chain_result),
                               std::move(hash_chain),
                               time};
}

// The pass-through answer for a fault the peer node sent (X-Road returns it unchanged).
void answer_peer_fault(const PeerAnswer& answer, bool rest, http::Response& res,
                       opmonitor::CallRecord& rec) {
  const message::SoapFault& fault = *answer.fault;
  rec.succeeded = false;
  rec.fault_code = fault.code;
  rec.fault_string = fault.string;
  if (rest) {
    bool client_side = fault.code.starts_with("Client.");
    res.status = client_side ? 400 : 500;
    res.set_header(message::kXRoadErrorHeader, fault.code);
    nlohmann::json json = {
        {"type", fault.code}, {"message", fault.string}, {"detail", fault.detail.value_or("")}};
    res.set_body(json.dump(), "application/json");
  } else {
    res.status = 500;
    res.set_body(answer.fault_xml, message::kTextXmlContentType);
  }
}

}  // namespace

std::optional<Fault> ClientProxy::Impl::handle_soap(
    const http::Request& req, http::Response& res, opmonitor::CallRecord& rec,
    std::shared_ptr<const globalconf::GlobalConfSnapshot> conf) const {
  std::string content_type(req.header("Content-Type").value_or(""));
  rec.request_mime_size = req.body().size();
  message::SoapParseOptions po;
  po.role = message::SoapRole::kRequest;
  po.limits = options.soap;
  po.validate_schema = options.validate_soap_schema;
  auto parsed = message::parse_soap(content_type, std::string(req.body()), po);
  if (!parsed.ok()) {
    return client_fault(parsed.error());
  }
  const message::SoapMessage& soap = *parsed;
  if (!soap.header || !soap.header->service) {
    return client_fault(Error(FaultCode::kMissingHeader, "request has no X-Road header"));
  }
  const message::SoapHeader& header = *soap.header;
  const ids::ServiceId& service = *header.service;
  rec.client = header.client;
  rec.service = service;
  rec.query_id = header.id;
  rec.user_id = header.user_id.value_or("");
  rec.issue = header.issue.value_or("");
  rec.protocol_version = header.protocol_version;
  if (header.represented_party) {
    rec.represented_party_class = header.represented_party->party_class.value_or("");
    rec.represented_party_code = header.represented_party->party_code;
  }
  rec.request_size = soap.soap_part.size();
  rec.request_attachment_count = soap.attachments.size();
  if (auto sconf = deps.serverconf(); sconf && sconf->server()) {
    rec.client_security_server = sconf->server()->to_string();
  }
  if (auto bad = check_client(req, header.client)) {
    return bad;
  }
  if (soap.is_fault()) {
    return client_fault(Error(FaultCode::kInvalidSoap, "a fault is not a request"));
  }
  // Sign (DESIGN.md step 3) and log (step 4) before anything leaves the node.
  std::string request_id = crypto::random_uuid();
  rec.x_request_id = request_id;
  message::SignedParts parts = message::signed_parts(soap);
  auto sig =
      deps.signer->sign(header.client.member(), message::batch_item(parts, options.hash_algorithm));
  if (!sig.ok()) {
    return proxy_fault(sig.error());
  }
  auto logged = deps.message_log->append(
      log_record(header.id, request_id, header.client, service, false, false, parts,
                 sig->signature_xml, sig->hash_chain_result, sig->hash_chain, rec.request_in));
  if (!logged.ok()) {
    return proxy_fault(logged.error());
  }
  // PR-MESSTRANSP 3.2 step 4: the transport message.
  std::vector<std::string> ocsp = deps.auth_ocsp ? deps.auth_ocsp() : std::vector<std::string>{};
  message::OutgoingTransport out;
  out.meta.kind = message::MessageKind::kSoap;
  out.meta.request_id = request_id;
  out.meta.hash_algorithm = options.hash_algorithm;
  out.meta.original_content_type = soap.content_type;
  if (auto action = req.header("SOAPAction")) {
    out.meta.original_soap_action = std::string(*action);
  }
  for (const auto& der : ocsp) {
    out.ocsp_responses.push_back(der);
  }
  out.soap_part = soap.soap_part;
  out.soap_part_content_type = soap.soap_part_content_type;
  out.attachments = soap.attachments;
  out.hash_chain_result = sig->hash_chain_result;
  out.hash_chain = sig->hash_chain;
  out.signature = sig->signature_xml;
  auto encoded = message::encode_request(out);
  if (!encoded.ok()) {
    return proxy_fault(encoded.error());
  }
  auto answer =
      exchange(*conf, service, header.security_server, *encoded, message::MessageKind::kSoap, rec);
  if (!answer.ok()) {
    return proxy_fault(answer.error());
  }
  if (answer->fault) {
    answer_peer_fault(*answer, false, res, rec);
    return std::nullopt;
  }
  const message::DecodedTransport& decoded = *answer->decoded;
  // PR-MESSTRANSP 3.2 steps 5-6: verify before anything reaches the IS.
  if (auto verified = verify_response(decoded, *conf, service); !verified.ok()) {
    return proxy_fault(verified.error());
  }
  message::SoapParseOptions ro = po;
  ro.role = message::SoapRole::kResponse;
  auto response = message::soap_message(decoded, ro);
  if (!response.ok()) {
    return proxy_fault(response.error().wrapped(FaultCode::kServiceFailed));
  }
  if (!response->header) {
    return proxy_fault(Error(FaultCode::kMissingHeader, "response has no X-Road header")
                           .wrapped(FaultCode::kServiceFailed));
  }
  if (auto hash = message::check_request_hash(*response->header, soap.soap_part); !hash.ok()) {
    return proxy_fault(hash.error());
  }
  if (auto same = message::check_response_consistency(header, *response->header); !same.ok()) {
    return proxy_fault(same.error().wrapped(FaultCode::kServiceFailed));
  }
  message::SignedParts rparts = message::signed_parts(decoded);
  auto rlogged = deps.message_log->append(
      log_record(header.id, request_id, header.client, service, true, false, rparts,
                 std::string(decoded.signature), std::string(decoded.hash_chain_result),
                 std::string(decoded.hash_chain), options.clock()));
  if (!rlogged.ok()) {
    return proxy_fault(rlogged.error());
  }
  rec.response_size = response->soap_part.size();
  rec.response_attachment_count = response->attachments.size();
  // The IS gets the provider's bytes: the SOAP part alone, or the package rebuilt around it.
  if (response->attachments.empty()) {
    res.status = 200;
    std::string type = decoded.soap_part_content_type.empty()
                           ? std::string(message::kTextXmlContentType)
                           : decoded.soap_part_content_type;
    res.set_body(std::string(response->soap_part), type);
  } else {
    auto package = message::build_soap_package(decoded.meta.original_content_type,
                                               decoded.soap_part_content_type, response->soap_part,
                                               response->attachments);
    if (!package.ok()) {
      return proxy_fault(package.error());
    }
    res.status = 200;
    res.set_body(std::move(package->body), package->content_type);
  }
  return std::nullopt;
}

std::optional<Fault> ClientProxy::Impl::handle_rest(
    const http::Request& req, http::Response& res, opmonitor::CallRecord& rec,
    std::shared_ptr<const globalconf::GlobalConfSnapshot> conf) const {
  message::RestParseOptions po;
  po.limits = options.rest;
  po.generate_missing_id = true;
  message::HeaderFields fields = req.headers();
  rec.request_mime_size = req.body().size();
  auto parsed =
      message::parse_rest_request(req.method(), req.target(), fields, std::string(req.body()), po);
  if (!parsed.ok()) {
    return client_fault(parsed.error());
  }
  const message::RestRequest& rest = *parsed;
  rec.client = rest.client;
  rec.service = rest.service;
  rec.query_id = rest.id;
  rec.user_id = rest.user_id.value_or("");
  rec.issue = rest.issue.value_or("");
  rec.rest_method = rest.method;
  rec.rest_path = rest.service_path;
  rec.request_size = rest.body.size();
  if (rest.represented_party) {
    rec.represented_party_class = rest.represented_party->party_class.value_or("");
    rec.represented_party_code = rest.represented_party->party_code;
  }
  if (auto sconf = deps.serverconf(); sconf && sconf->server()) {
    rec.client_security_server = sconf->server()->to_string();
  }
  if (auto bad = check_client(req, rest.client)) {
    return bad;
  }
  std::string request_id = crypto::random_uuid();
  rec.x_request_id = request_id;
  std::string head =
      message::serialize_rest_request_head(message::make_request_head(rest, request_id));
  std::optional<std::string_view> body;
  if (!rest.body.empty()) {
    body = rest.body;
  }
  message::SignedParts parts = message::signed_parts(head, body);
  auto sig =
      deps.signer->sign(rest.client.member(), message::batch_item(parts, options.hash_algorithm));
  if (!sig.ok()) {
    return proxy_fault(sig.error());
  }
  auto logged = deps.message_log->append(
      log_record(rest.id, request_id, rest.client, rest.service, false, true, parts,
                 sig->signature_xml, sig->hash_chain_result, sig->hash_chain, rec.request_in));
  if (!logged.ok()) {
    return proxy_fault(logged.error());
  }
  std::vector<std::string> ocsp = deps.auth_ocsp ? deps.auth_ocsp() : std::vector<std::string>{};
  message::OutgoingTransport out;
  out.meta.kind = message::MessageKind::kRest;
  out.meta.request_id = request_id;
  out.meta.hash_algorithm = options.hash_algorithm;
  out.meta.original_content_type = std::string(req.header("Content-Type").value_or(""));
  for (const auto& der : ocsp) {
    out.ocsp_responses.push_back(der);
  }
  out.rest_head = head;
  out.rest_body = body;
  out.hash_chain_result = sig->hash_chain_result;
  out.hash_chain = sig->hash_chain;
  out.signature = sig->signature_xml;
  auto encoded = message::encode_request(out);
  if (!encoded.ok()) {
    return proxy_fault(encoded.error());
  }
  auto answer = exchange(*conf, rest.service, rest.security_server, *encoded,
                         message::MessageKind::kRest, rec);
  if (!answer.ok()) {
    return proxy_fault(answer.error());
  }
  if (answer->fault) {
    answer_peer_fault(*answer, true, res, rec);
    return std::nullopt;
  }
  const message::DecodedTransport& decoded = *answer->decoded;
  if (auto verified = verify_response(decoded, *conf, rest.service); !verified.ok()) {
    return proxy_fault(verified.error());
  }
  auto rhead = message::parse_rest_response_head(decoded.rest_head, options.rest);
  if (!rhead.ok()) {
    return proxy_fault(rhead.error().wrapped(FaultCode::kServiceFailed));
  }
  std::string expected = message::compute_rest_request_hash(head, body, options.hash_algorithm);
  if (auto same = message::check_rest_response(rest, request_id, *rhead, expected); !same.ok()) {
    return proxy_fault(same.error());
  }
  message::SignedParts rparts = message::signed_parts(decoded);
  auto rlogged = deps.message_log->append(
      log_record(rest.id, request_id, rest.client, rest.service, true, true, rparts,
                 std::string(decoded.signature), std::string(decoded.hash_chain_result),
                 std::string(decoded.hash_chain), options.clock()));
  if (!rlogged.ok()) {
    return proxy_fault(rlogged.error());
  }
  res.status = rhead->status;
  for (auto& [name, value] : message::response_headers_for_client(*rhead)) {
    res.headers.emplace_back(name, value);
  }
  if (decoded.rest_body) {
    rec.response_size = decoded.rest_body->size();
    res.body = std::string(*decoded.rest_body);
  }
  return std::nullopt;
}

}  // namespace hansa::proxy
