#include "node/proxy/server_proxy.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "core/crypto/random.h"
#include "core/signature/signature.h"
#include "node/message/metaservices.h"
#include "node/message/signing.h"
#include "node/proxy/replay_cache.h"

namespace hansa::proxy {

namespace {

using Clock = std::chrono::system_clock;

// The request as the checks see it, SOAP or REST.
struct Incoming {
  message::MessageKind kind = message::MessageKind::kSoap;
  std::optional<message::SoapMessage> soap;
  std::optional<message::RestRequest> rest;
  ids::ClientId client;
  ids::ServiceId service;
  std::string id;
  std::optional<ids::SecurityServerId> security_server;
};

// The response being built: message part, attachments and what they point into.
struct Outgoing {
  std::string original_content_type;
  std::string soap_part;
  std::string soap_part_content_type = std::string(message::kTextXmlContentType);
  std::vector<message::Attachment> attachments;
  std::vector<std::string> owned;           // backing store for attachments built here
  std::shared_ptr<const std::string> keep;  // backing store of the provider's response
  std::string rest_head;
  std::optional<std::string> rest_body;
};

Error service_failed(const Error& e) { return e.wrapped(FaultCode::kServiceFailed); }

std::string join_url(std::string_view base, std::string_view path,
                     const std::optional<std::string>& query) {
  std::string url(base);
  // Keep the base URL's own query out of the way of the path.
  std::string base_query;
  if (auto q = url.find('?'); q != std::string::npos) {
    base_query = url.substr(q + 1);
    url.resize(q);
  }
  if (!path.empty()) {
    if (!url.empty() && url.back() == '/' && path.front() == '/') {
      url.pop_back();
    }
    url += path;
  }
  std::string all_query = base_query;
  if (query && !query->empty()) {
    if (!all_query.empty()) {
      all_query += '&';
    }
    all_query += *query;
  }
  if (!all_query.empty()) {
    url += '?';
    url += all_query;
  }
  return url;
}

// The SOAP fault (500) that answers a peer for `error`, with a fresh detail id; the warning logged
// carries the id, the error and `context`.
ServerProxyAnswer fault_answer(const Error& error, std::string_view context) {
  std::string detail_id = crypto::random_uuid();
  spdlog::warn("server proxy: {} (detail {}): {}{}{}", error.render(Origin::kServerProxy),
               detail_id, error.message,
               error.detail.empty() ? std::string() : " (" + error.detail + ")", context);
  auto fault =
      message::encode_fault_response(message::build_fault(error, Origin::kServerProxy, detail_id));
  return ServerProxyAnswer{500, std::move(fault.headers), std::move(fault.body)};
}

}  // namespace

struct ServerProxy::Impl {
  ServerProxyOptions options;
  ServerProxyDeps deps;
  std::unique_ptr<http::Server> server;
  ReplayCache replay;

  Impl(ServerProxyOptions o, ServerProxyDeps d)
      : options(std::move(o)),
        deps(std::move(d)),
        replay(options.replay_window, options.max_replay_entries) {}

  ServerProxyAnswer handle(const http::Headers& headers, std::string body,
                           const http::CertChain& peer_chain);
  Result<ServerProxyAnswer> process(const http::Headers& headers, std::string body,
                                    const http::CertChain& peer_chain, opmonitor::CallRecord& rec);
  Result<Incoming> parse(const message::DecodedTransport& t, opmonitor::CallRecord& rec) const;
  Status check_replay(const Incoming& in, const signature::VerifiedSignature& verified,
                      std::string_view signature_xml, std::string_view hash_chain,
                      Clock::time_point now);
  Result<Outgoing> call_soap(const message::DecodedTransport& t, const Incoming& in,
                             const serverconf::ServiceEntry& entry, opmonitor::CallRecord& rec,
                             std::optional<ServerProxyAnswer>& passthrough);
  Result<Outgoing> call_rest(const message::DecodedTransport& t, const Incoming& in,
                             const serverconf::ServiceEntry& entry);
  Result<Outgoing> answer_meta(const message::DecodedTransport& t, const Incoming& in,
                               message::Metaservice which);
  Status log(const message::DecodedTransport& t, const Incoming& in, bool response,
             const message::SignedParts& parts, std::string_view signature,
             std::string_view hash_chain_result, std::string_view hash_chain);
};

Result<Incoming> ServerProxy::Impl::parse(const message::DecodedTransport& t,
                                          opmonitor::CallRecord& rec) const {
  if (t.meta.kind == message::MessageKind::kSoap) {
    message::SoapParseOptions po;
    po.role = message::SoapRole::kRequest;
    po.limits = options.soap;
    po.validate_schema = options.validate_soap_schema;
    HANSA_ASSIGN_OR_RETURN(message::SoapMessage soap, message::soap_message(t, po));
    if (soap.is_fault() || !soap.header || !soap.header->service) {
      return Error(FaultCode::kInvalidSoap, "The request is not an X-Road SOAP request");
    }
    const message::SoapHeader& h = *soap.header;
    rec.user_id = h.user_id.value_or("");
    rec.issue = h.issue.value_or("");
    rec.protocol_version = h.protocol_version;
    if (h.represented_party) {
      rec.represented_party_class = h.represented_party->party_class.value_or("");
      rec.represented_party_code = h.represented_party->party_code;
    }
    rec.request_size = soap.soap_part.size();
    rec.request_attachment_count = soap.attachments.size();
    rec.service_type = "WSDL";
    rec.client = h.client;
    rec.service = *h.service;
    rec.query_id = h.id;
    Incoming in{message::MessageKind::kSoap,
                std::nullopt,
                std::nullopt,
                h.client,
                *h.service,
                h.id,
                h.security_server};
    in.soap = std::move(soap);
    return in;
  }
  HANSA_ASSIGN_OR_RETURN(message::RestRequestHead head,
                         message::parse_rest_request_head(t.rest_head, options.rest));
  message::RestParseOptions ro;
  ro.limits = options.rest;
  ro.generate_missing_id = false;
  HANSA_ASSIGN_OR_RETURN(
      message::RestRequest rest,
      message::parse_rest_request(head.method, head.target, head.headers,
                                  std::string(t.rest_body.value_or(std::string_view())), ro));
  rec.user_id = rest.user_id.value_or("");
  rec.issue = rest.issue.value_or("");
  if (rest.represented_party) {
    rec.represented_party_class = rest.represented_party->party_class.value_or("");
    rec.represented_party_code = rest.represented_party->party_code;
  }
  rec.rest_method = rest.method;
  rec.rest_path = rest.service_path.empty() ? "/" : rest.service_path;
  rec.request_size = rest.body.size();
  rec.service_type = "REST";
  rec.client = rest.client;
  rec.service = rest.service;
  rec.query_id = rest.id;
  Incoming in{
      message::MessageKind::kRest, std::nullopt, std::nullopt, rest.client, rest.service, rest.id,
      rest.security_server};
  in.rest = std::move(rest);
  return in;
}

Status ServerProxy::Impl::check_replay(const Incoming& in,
                                       const signature::VerifiedSignature& verified,
                                       std::string_view signature_xml, std::string_view hash_chain,
                                       Clock::time_point now) {
  if (verified.parsed->signing_time) {
    auto signed_at = *verified.parsed->signing_time;
    if (signed_at + options.replay_window < now || signed_at > now + options.max_clock_skew) {
      return Error(FaultCode::kInvalidRequest,
                   "The message's signing time is outside the accepted window",
                   "query id " + in.id);
    }
  }
  // A batch signature is shared by the messages of its batch; each has its own hash chain.
  if (!replay.insert(ReplayCache::key(in.client.to_string(), in.id, signature_xml, hash_chain),
                     now)) {
    return Error(FaultCode::kInvalidRequest, "Replayed message refused",
                 "query id " + in.id + " from " + in.client.to_string() + " was already received");
  }
  return ok_status();
}

Status ServerProxy::Impl::log(const message::DecodedTransport& t, const Incoming& in, bool response,
                              const message::SignedParts& parts, std::string_view signature,
                              std::string_view hash_chain_result, std::string_view hash_chain) {
  message::LogContent content = message::log_content(parts);
  messagelog::LogRecord record{
      .query_id = in.id,
      .x_request_id = t.meta.request_id,
      .client = in.client,
      .service = in.service,
      .response = response,
      .rest = in.kind == message::MessageKind::kRest,
      .message = std::move(content.message),
      .attachments = std::move(content.attachments),
      .signature = std::string(signature),
      .hash_chain_result = std::string(hash_chain_result),
      .hash_chain = std::string(hash_chain),
      .time = options.clock(),
  };
  auto st = deps.message_log->append(std::move(record));
  if (!st.ok()) {
    const Error& e = st.error();
    if (e.code == FaultCode::kTimestampingFailed || e.code == FaultCode::kLoggingFailed) {
      return e;
    }
    return Error(FaultCode::kLoggingFailed, "Writing the message log failed", e.to_string());
  }
  return ok_status();
}

Result<Outgoing> ServerProxy::Impl::call_soap(const message::DecodedTransport& t,
                                              const Incoming& in,
                                              const serverconf::ServiceEntry& entry,
                                              opmonitor::CallRecord& rec,
                                              std::optional<ServerProxyAnswer>& passthrough) {
  if (entry.url.empty()) {
    return Error(FaultCode::kServiceMissingUrl, "The service has no address",
                 in.service.to_string());
  }
  auto package = message::build_soap_package(t.meta.original_content_type, t.soap_part_content_type,
                                             t.soap_part, t.attachments);
  if (!package.ok()) {
    return package.error();
  }
  ProviderRequest request;
  request.method = "POST";
  request.url = entry.url;
  request.headers.emplace_back("Content-Type", package->content_type);
  request.headers.emplace_back("SOAPAction", t.meta.original_soap_action.value_or("\"\""));
  request.body = std::move(package->body);
  request.timeout = entry.timeout;
  request.ssl_verify = entry.ssl_verify;
  rec.request_out = options.clock();
  auto response = deps.provider->call(request);
  rec.response_in = options.clock();
  if (!response.ok()) {
    return service_failed(response.error());
  }
  std::string content_type(response->header("Content-Type").value_or(""));
  message::SoapParseOptions po;
  po.role = message::SoapRole::kResponse;
  po.limits = options.soap;
  po.validate_schema = options.validate_soap_schema;
  auto soap = message::parse_soap(content_type, std::move(response->body), po);
  if (!soap.ok()) {
    return service_failed(soap.error());
  }
  if (soap->is_fault()) {
    // X-Road passes the service's own fault back to the client unchanged (not signed).
    auto fault = message::encode_fault_response(std::string(soap->soap_part));
    rec.fault_code = soap->fault->code;
    rec.fault_string = soap->fault->string;
    rec.response_size = soap->soap_part.size();
    passthrough = ServerProxyAnswer{500, std::move(fault.headers), std::move(fault.body)};
    return Outgoing{};
  }
  if (!soap->header) {
    return service_failed(
        Error(FaultCode::kMissingHeader, "The service's response has no X-Road header"));
  }
  auto consistent = message::check_response_consistency(*in.soap->header, *soap->header);
  if (!consistent.ok()) {
    return service_failed(consistent.error());
  }
  auto with_hash = message::insert_request_hash(soap->soap_part, t.soap_part,
                                                options.hash_algorithm, options.soap);
  if (!with_hash.ok()) {
    return service_failed(with_hash.error());
  }
  Outgoing out;
  out.original_content_type = content_type;
  out.soap_part = std::move(with_hash).value();
  out.soap_part_content_type = soap->soap_part_content_type;
  out.attachments = soap->attachments;
  out.keep = soap->buffer;
  rec.response_attachment_count = out.attachments.size();
  return out;
}

Result<Outgoing> ServerProxy::Impl::call_rest(const message::DecodedTransport& t,
                                              const Incoming& in,
                                              const serverconf::ServiceEntry& entry) {
  const message::RestRequest& rest = *in.rest;
  if (entry.url.empty()) {
    return Error(FaultCode::kServiceMissingUrl, "The service has no address",
                 in.service.to_string());
  }
  ProviderRequest request;
  request.method = rest.method;
  request.url = join_url(entry.url, rest.service_path, rest.query);
  request.headers = rest.headers;
  if (!http::find_header(request.headers, message::kXRoadServiceHeader)) {
    request.headers.emplace_back(std::string(message::kXRoadServiceHeader),
                                 in.service.to_short_string());
  }
  if (!http::find_header(request.headers, message::kXRoadRequestIdHeader)) {
    request.headers.emplace_back(std::string(message::kXRoadRequestIdHeader), t.meta.request_id);
  }
  request.body = rest.body;
  request.timeout = entry.timeout;
  request.ssl_verify = entry.ssl_verify;
  auto response = deps.provider->call(request);
  if (!response.ok()) {
    return service_failed(response.error());
  }
  std::optional<std::string_view> request_body;
  if (t.rest_body && !t.rest_body->empty()) {
    request_body = *t.rest_body;
  }
  std::string request_hash =
      message::compute_rest_request_hash(t.rest_head, request_body, options.hash_algorithm);
  message::RestResponseHead head = message::make_response_head(
      response->status, response->reason, response->headers, rest, t.meta.request_id, request_hash);
  Outgoing out;
  out.original_content_type = std::string(response->header("Content-Type").value_or(""));
  out.rest_head = message::serialize_rest_response_head(head);
  if (!response->body.empty()) {
    out.rest_body = std::move(response->body);
  }
  return out;
}

Result<Outgoing> ServerProxy::Impl::answer_meta(const message::DecodedTransport& t,
                                                const Incoming& in, message::Metaservice which) {
  if (deps.metaservices == nullptr) {
    return Error(FaultCode::kUnknownService, "Metaservices are not served by this node",
                 in.service.to_string());
  }
  Outgoing out;
  if (in.kind == message::MessageKind::kSoap) {
    HANSA_ASSIGN_OR_RETURN(SoapMetaAnswer answer, deps.metaservices->answer_soap(*in.soap, which));
    HANSA_ASSIGN_OR_RETURN(out.soap_part,
                           message::insert_request_hash(answer.soap_part, t.soap_part,
                                                        options.hash_algorithm, options.soap));
    out.soap_part_content_type = answer.soap_part_content_type;
    out.original_content_type = answer.content_type;
    out.owned = std::move(answer.attachment_data);
    for (std::size_t i = 0; i < out.owned.size(); ++i) {
      message::Attachment a;
      a.content_type = answer.attachment_content_types[i];
      a.content_id = answer.attachment_content_ids[i];
      a.headers.add("Content-Type", a.content_type);
      a.headers.add("Content-ID", "<" + a.content_id + ">");
      a.data = out.owned[i];
      out.attachments.push_back(std::move(a));
    }
    return out;
  }
  HANSA_ASSIGN_OR_RETURN(RestMetaAnswer answer, deps.metaservices->answer_rest(*in.rest, which));
  std::optional<std::string_view> request_body;
  if (t.rest_body && !t.rest_body->empty()) {
    request_body = *t.rest_body;
  }
  std::string request_hash =
      message::compute_rest_request_hash(t.rest_head, request_body, options.hash_algorithm);
  message::HeaderFields provider_headers{{"Content-Type", answer.content_type}};
  message::RestResponseHead head = message::make_response_head(
      answer.status, answer.reason, provider_headers, *in.rest, t.meta.request_id, request_hash);
  out.original_content_type = answer.content_type;
  out.rest_head = message::serialize_rest_response_head(head);
  if (!answer.body.empty()) {
    out.rest_body = std::move(answer.body);
  }
  return out;
}

Result<ServerProxyAnswer> ServerProxy::Impl::process(const http::Headers& headers, std::string body,
                                                     const http::CertChain& peer_chain,
                                                     opmonitor::CallRecord& rec) {
  const Clock::time_point now = options.clock();
  HANSA_ASSIGN_OR_RETURN(message::DecodedTransport t,
                         message::decode_request(headers, std::move(body), options.transport));
  rec.x_request_id = t.meta.request_id;

  auto conf = deps.globalconf();
  if (conf == nullptr) {
    return Error(FaultCode::kOutdatedGlobalConf, "No global configuration is loaded");
  }
  HANSA_RETURN_IF_ERROR(conf->check_valid(now));
  auto serverconf = deps.serverconf();
  if (serverconf == nullptr || !serverconf->server()) {
    return Error(FaultCode::kInternalError, "The node is not initialized");
  }
  const ids::SecurityServerId& self = *serverconf->server();
  rec.service_security_server = self.to_string();

  HANSA_ASSIGN_OR_RETURN(Incoming in, parse(t, rec));

  // PR-MESSTRANSP 3.3 and X-Road's ServerMessageProcessor: the checks in order.
  if (in.security_server && !(*in.security_server == self)) {
    return Error(FaultCode::kInvalidSecurityServer, "Invalid security server identifier",
                 in.security_server->to_string() + " expected " + self.to_string());
  }
  if (!serverconf->is_registered_client(in.service.provider())) {
    return Error(FaultCode::kUnknownMember, "Client not found", in.service.provider().to_string());
  }
  if (!conf->client_exists(in.client)) {
    return Error(FaultCode::kUnknownMember, "Client not found", in.client.to_string());
  }
  std::vector<std::string> ocsp(t.ocsp_responses.begin(), t.ocsp_responses.end());
  HANSA_ASSIGN_OR_RETURN(PeerIdentity peer,
                         deps.peer_verifier->verify_client_node(peer_chain, in.client, ocsp));
  rec.client_security_server = peer.server.to_string();

  const std::string& code = in.service.service_code();
  std::optional<message::Metaservice> meta = in.kind == message::MessageKind::kSoap
                                                 ? message::soap_metaservice(code)
                                                 : message::rest_metaservice(code);
  const serverconf::ServiceEntry* entry = nullptr;
  if (meta && serverconf->find_service(in.service) != nullptr) {
    meta.reset();  // a real service of that name wins
  }
  if (!meta) {
    entry = serverconf->find_service(in.service);
    if (entry == nullptr) {
      return Error(FaultCode::kUnknownService, "Unknown service", in.service.to_string());
    }
    if (in.kind == message::MessageKind::kSoap && entry->type != serverconf::ServiceType::kSoap) {
      return Error(FaultCode::kServiceType,
                   "Service is a REST service and cannot be called using SOAP interface",
                   in.service.to_string());
    }
    if (in.kind == message::MessageKind::kRest && entry->type != serverconf::ServiceType::kRest) {
      return Error(FaultCode::kServiceType,
                   "Service is a SOAP service and cannot be called using REST interface",
                   in.service.to_string());
    }
    rec.service_type = entry->description_type == serverconf::DescriptionType::kOpenApi
                           ? "OPENAPI3"
                           : (entry->type == serverconf::ServiceType::kRest ? "REST" : "WSDL");
    auto groups = conf->global_groups_of(in.client);
    bool allowed = false;
    if (in.kind == message::MessageKind::kSoap) {
      allowed = serverconf->is_allowed(in.client, in.service, std::nullopt, std::nullopt, groups);
    } else {
      std::string_view path = in.rest->service_path.empty()
                                  ? std::string_view("/")
                                  : std::string_view(in.rest->service_path);
      allowed = serverconf->is_allowed(in.client, in.service, in.rest->method, path, groups);
    }
    if (!allowed) {
      return Error(FaultCode::kAccessDenied, "Request is not allowed", in.service.to_string());
    }
    if (!entry->enabled) {
      return Error(FaultCode::kServiceDisabled, "Service is disabled",
                   in.service.to_string() + ": " + entry->disabled_notice);
    }
  }

  signature::VerifyOptions vo;
  vo.at = now;
  vo.expected_signer = in.client;
  HANSA_ASSIGN_OR_RETURN(signature::VerifiedSignature verified,
                         signature::verify(t.signature, message::signed_data(t), *conf, vo));
  HANSA_RETURN_IF_ERROR(check_replay(in, verified, t.signature, t.hash_chain, now));
  HANSA_RETURN_IF_ERROR(deps.message_log->check_usable());

  // The request is durable in the log before the provider sees it.
  message::SignedParts request_parts = message::signed_parts(t);
  HANSA_RETURN_IF_ERROR(
      log(t, in, false, request_parts, t.signature, t.hash_chain_result, t.hash_chain));

  std::optional<ServerProxyAnswer> passthrough;
  Result<Outgoing> produced = Error(FaultCode::kInternalError, "not produced");
  if (meta) {
    rec.request_out = options.clock();
    produced = answer_meta(t, in, *meta);
    rec.response_in = options.clock();
  } else if (in.kind == message::MessageKind::kSoap) {
    produced = call_soap(t, in, *entry, rec, passthrough);
  } else {
    rec.request_out = options.clock();
    produced = call_rest(t, in, *entry);
    rec.response_in = options.clock();
  }
  if (!produced.ok()) {
    return std::move(produced).error();
  }
  if (passthrough) {
    return std::move(*passthrough);
  }
  Outgoing& out = *produced;

  message::SignedParts response_parts;
  if (in.kind == message::MessageKind::kSoap) {
    response_parts.message = out.soap_part;
    for (const auto& a : out.attachments) {
      response_parts.attachments.push_back(a.data);
    }
    rec.response_size = out.soap_part.size();
  } else {
    std::optional<std::string_view> body;
    if (out.rest_body) {
      body = *out.rest_body;
    }
    response_parts = message::signed_parts(out.rest_head, body);
    rec.response_size = out.rest_body ? out.rest_body->size() : 0;
  }
  HANSA_ASSIGN_OR_RETURN(
      signature::BatchSignature sig,
      deps.signer->sign(in.service.provider().member(),
                        message::batch_item(response_parts, options.hash_algorithm)));
  HANSA_RETURN_IF_ERROR(
      log(t, in, true, response_parts, sig.signature_xml, sig.hash_chain_result, sig.hash_chain));

  message::OutgoingTransport reply;
  reply.meta.kind = in.kind;
  reply.meta.request_id = t.meta.request_id;
  reply.meta.hash_algorithm = options.hash_algorithm;
  reply.meta.original_content_type = out.original_content_type;
  if (in.kind == message::MessageKind::kSoap) {
    reply.soap_part = out.soap_part;
    reply.soap_part_content_type = out.soap_part_content_type;
    reply.attachments = out.attachments;
  } else {
    reply.rest_head = out.rest_head;
    if (out.rest_body) {
      reply.rest_body = *out.rest_body;
    }
  }
  reply.hash_chain_result = sig.hash_chain_result;
  reply.hash_chain = sig.hash_chain;
  reply.signature = sig.signature_xml;
  HANSA_ASSIGN_OR_RETURN(message::EncodedTransport encoded, message::encode_response(reply));
  rec.response_mime_size = encoded.body.size();
  return ServerProxyAnswer{200, std::move(encoded.headers), std::move(encoded.body)};
}

ServerProxyAnswer ServerProxy::Impl::handle(const http::Headers& headers, std::string body,
                                            const http::CertChain& peer_chain) {
  opmonitor::CallRecord rec;
  rec.side = opmonitor::CallRecord::Side::kProducer;
  rec.request_in = options.clock();
  rec.request_mime_size = body.size();
  auto result = process(headers, std::move(body), peer_chain, rec);
  ServerProxyAnswer answer;
  if (result.ok()) {
    answer = std::move(result).value();
    rec.succeeded = rec.fault_code.empty();
  } else {
    const Error& error = result.error();
    answer = fault_answer(error, "");
    rec.succeeded = false;
    rec.fault_code = error.render(Origin::kServerProxy);
    rec.fault_string = error.message;
  }
  rec.response_out = options.clock();
  rec.http_status = answer.status;
  for (auto* observer : deps.observers) {
    observer->on_call(rec);
  }
  return answer;
}

Result<std::unique_ptr<ServerProxy>> ServerProxy::create(ServerProxyOptions options,
                                                         ServerProxyDeps deps) {
  if (!deps.globalconf || !deps.serverconf || deps.peer_verifier == nullptr ||
      deps.signer == nullptr || deps.message_log == nullptr || deps.provider == nullptr) {
    return Error(FaultCode::kInvalidConfiguration, "server proxy dependency missing");
  }
  for (auto* observer : deps.observers) {
    if (observer == nullptr) {
      return Error(FaultCode::kInvalidConfiguration, "null call observer");
    }
  }
  if (!options.server.tls) {
    return Error(FaultCode::kInvalidConfiguration,
                 "the server proxy needs TLS settings (the node's authentication certificate)");
  }
  if (!options.clock) {
    options.clock = [] { return Clock::now(); };
  }
  if (options.max_replay_entries == 0) {
    return Error(FaultCode::kInvalidConfiguration, "max_replay_entries must be positive");
  }
  options.server.tls->require_client_cert = true;
  options.server.tls->verify_peer = deps.peer_verifier->handshake_hook();
  // A request the HTTP server refuses before the proxy reads it (a body too large or too slow,
  // another path) gets a SOAP fault like the proxy's own, which the client's node passes on to
  // its IS.
  options.server.render_reject = [](const http::Request&, int status, const Error& error,
                                    http::Response& answer) {
    ServerProxyAnswer fault = fault_answer(
        error, " (HTTP " + std::to_string(status) + ", refused before the proxy read it)");
    answer.status = fault.status;
    answer.headers = std::move(fault.headers);
    answer.body = std::move(fault.body);
  };
  auto impl = std::make_unique<Impl>(std::move(options), std::move(deps));
  HANSA_ASSIGN_OR_RETURN(impl->server, http::Server::create(impl->options.server));
  Impl* raw = impl.get();
  impl->server->route(
      "POST", impl->options.path, [raw](const http::Request& request, http::Response& response) {
        ServerProxyAnswer answer =
            raw->handle(request.headers(), std::string(request.body()), request.peer_cert_chain());
        response.status = answer.status;
        response.headers = std::move(answer.headers);
        response.body = std::move(answer.body);
      });
  return std::unique_ptr<ServerProxy>(new ServerProxy(std::move(impl)));
}

ServerProxy::ServerProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerProxy::~ServerProxy() { stop(); }

Status ServerProxy::start() { return impl_->server->start(); }
std::uint16_t ServerProxy::port() const noexcept { return impl_->server->port(); }
std::vector<http::RefusalCount> ServerProxy::refusals() const { return impl_->server->refusals(); }
void ServerProxy::stop() {
  if (impl_ && impl_->server) {
    impl_->server->stop();
  }
}

ServerProxyAnswer ServerProxy::handle(const http::Headers& headers, std::string body,
                                      const http::CertChain& peer_chain) {
  return impl_->handle(headers, std::move(body), peer_chain);
}

}  // namespace hansa::proxy
