#pragma once

// The HTTP(S) endpoint of the management-request service (PR-MSERV 2.3: a direct HTTPS POST of
// the multipart/related request; the answer is the response SOAP with requestId, or a SOAP fault
// whose faultcode is X-Road's, e.g. "Client.InvalidSignatureValue"). The daemon creates the
// core/http server (HTTPS on its own port: the registration service address published in
// private-params) and mounts the routes here.
// Threading: the handler is thread-safe (it calls the thread-safe ManagementService).

#include <string_view>

#include "central/management/management_service.h"
#include "core/http/server.h"

namespace hansa::central {

// The path nodes post to ("/managementservice/"; "/managementservice" and "/" are accepted too).
inline constexpr std::string_view kManagementServicePath = "/managementservice/";

// A handler for POST requests: calls service.submit() with the Content-Type, body and peer
// address; answers 200 text/xml with the response, or a SOAP fault with the HTTP status of the
// fault code (core/http status_for).
[[nodiscard]] http::Handler management_handler(ManagementService& service);

// Registers management_handler() on POST kManagementServicePath, "/managementservice" and "/".
void add_management_routes(http::Server& server, ManagementService& service);

}  // namespace hansa::central
