#include "central/management/endpoint.h"

#include <string>

#include "core/crypto/random.h"

namespace hansa::central {

namespace {

// Faults caused by the central server itself carry "Server."; the rest blame the request.
Origin origin_of(FaultCode code) {
  switch (code) {
    case FaultCode::kDatabaseError:
    case FaultCode::kCommitOutcomeUnknown:
    case FaultCode::kInternalError:
    case FaultCode::kTimeout:
    case FaultCode::kIoError:
    case FaultCode::kInvalidConfiguration:
      return Origin::kServer;
    default:
      return Origin::kClient;
  }
}

void answer_fault(http::Response& res, const Error& error) {
  res.status = http::status_for(error.code);
  res.set_body(management::build_fault(error.render(origin_of(error.code)), error.message,
                                       crypto::random_uuid()),
               management::kResponseContentType);
}

}  // namespace

http::Handler management_handler(ManagementService& service) {
  return [&service](const http::Request& req, http::Response& res) {
    auto content_type = req.header("Content-Type");
    if (!content_type) {
      answer_fault(res, Error(FaultCode::kInvalidContentType,
                              "management request without a Content-Type header"));
      return;
    }
    std::string source(req.peer_address());
    auto result = service.submit(*content_type, req.body(), source);
    if (!result.ok()) {
      answer_fault(res, result.error());
      return;
    }
    res.status = 200;
    res.set_body(std::move(result->response_soap), management::kResponseContentType);
  };
}

void add_management_routes(http::Server& server, ManagementService& service) {
  server.route("POST", kManagementServicePath, management_handler(service));
  server.route("POST", "/managementservice", management_handler(service));
  server.route("POST", "/", management_handler(service));
}

}  // namespace hansa::central
