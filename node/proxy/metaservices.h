#pragma once

// Metaservices answered by the provider's node (PR-META for SOAP, PR-MREST for REST; reference
// section 7): SOAP listMethods, allowedMethods and getWsdl; REST listMethods, allowedMethods and
// getOpenAPI?serviceCode=; and `GET /listClients` (XML, or JSON when the caller accepts
// application/json) on the client proxy port. The server proxy routes a signed request whose
// service code names a metaservice here instead of to a provider IS (its signature is verified
// and both messages are logged as for any service); the client proxy routes /listClients to
// handle_list_clients(). Formats come from node/message; the data from the server configuration
// (services, endpoints, access rights, stored WSDL and OpenAPI documents) and the global
// configuration (clients, global groups).
//
// Faults: UnknownService (a service or document that does not exist), AccessDenied (getWsdl /
// getOpenAPI of a service the client may not call), InvalidSoap / InvalidRequest (malformed
// metaservice request), OutdatedGlobalConf, what the document source returns.
//
// Threading: immutable after construction; every method is const and thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/http/server.h"
#include "core/ids/ids.h"
#include "node/message/metaservices.h"
#include "node/message/rest.h"
#include "node/message/soap.h"
#include "node/proxy/peer_verifier.h"
#include "node/serverconf/snapshot.h"

namespace hansa::proxy {

// The current server configuration snapshot (never null once the node is initialized).
using ServerConfSource = std::function<std::shared_ptr<const serverconf::ServerConfSnapshot>()>;
// The stored document (WSDL or OpenAPI text) of a service description
// (serverconf::ServerConfStore::description_document).
using DescriptionDocumentSource = std::function<Result<std::string>(std::int64_t description_id)>;

// A SOAP metaservice answer: the response SOAP part (before requestHash is inserted) and its
// attachments (getWsdl: the WSDL).
struct SoapMetaAnswer {
  std::string soap_part;
  std::string soap_part_content_type = std::string(message::kTextXmlContentType);
  // The HTTP Content-Type of the whole answer (multipart/related for getWsdl).
  std::string content_type = std::string(message::kTextXmlContentType);
  std::vector<std::string> attachment_data;
  std::vector<std::string> attachment_content_types;
  std::vector<std::string> attachment_content_ids;
};

// A REST metaservice answer.
struct RestMetaAnswer {
  int status = 200;
  std::string reason = "OK";
  std::string content_type;
  std::string body;
};

class Metaservices final {
 public:
  Metaservices(ServerConfSource serverconf, GlobalConfSource globalconf,
               DescriptionDocumentSource documents);

  // Answers SOAP metaservice `which` for `request` (already verified; its service names the
  // provider the question is about).
  [[nodiscard]] Result<SoapMetaAnswer> answer_soap(const message::SoapMessage& request,
                                                   message::Metaservice which) const;

  // Answers REST metaservice `which` for `request`.
  [[nodiscard]] Result<RestMetaAnswer> answer_rest(const message::RestRequest& request,
                                                   message::Metaservice which) const;

  // The services of `provider` that `client` may call (service-wide or on some endpoint).
  [[nodiscard]] bool may_call_some_endpoint(const serverconf::ServerConfSnapshot& snapshot,
                                            const globalconf::GlobalConfSnapshot& conf,
                                            const ids::ClientId& client,
                                            const ids::ServiceId& service) const;

  // GET /listClients[?xRoadInstance=XX] (PR-META 2): every member and subsystem of the instance
  // (the own one by default) from the global configuration; JSON when the Accept header asks for
  // application/json, else XML. 500 with the error JSON when no configuration is usable.
  void handle_list_clients(const http::Request& request, http::Response& response) const;
  // handle_list_clients() as a route handler; the Metaservices must outlive it.
  [[nodiscard]] http::Handler list_clients_handler() const;

 private:
  ServerConfSource serverconf_;
  GlobalConfSource globalconf_;
  DescriptionDocumentSource documents_;
};

}  // namespace hansa::proxy
