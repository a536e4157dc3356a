// Fuzz target: management requests and responses (core/management parse_request, parse_response;
// PR-MSERV 2.1-2.6). Input: "<Content-Type value>\n#####\n<body>" for requests; the whole input
// is also parsed as a response.
// Invariant: a parsed request's SOAP part is a part of the body and its header client is the
// server owner; build_soap of the parsed request gives SOAP that parses as the same request type.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/management/request.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace mgmt = hansa::management;
  const auto input = hansa::fuzz::as_view(data, size);
  const auto fields = hansa::fuzz::split_fields(input, 2);

  const mgmt::RequestLimits limits{.max_body_bytes = 128 * 1024,
                                   .max_parts = 8,
                                   .max_soap_bytes = 32 * 1024,
                                   .max_xml_depth = 16,
                                   .max_cert_bytes = 16 * 1024,
                                   .max_ocsp_bytes = 16 * 1024,
                                   .max_signature_bytes = 4 * 1024,
                                   .max_text_bytes = 256};
  auto parsed = mgmt::parse_request(fields[0], fields[1], limits);
  if (parsed.ok()) {
    invariant(fields[1].find(parsed->soap) != std::string_view::npos,
              "the SOAP part comes from the body");
    const auto& request = parsed->request;
    invariant(mgmt::request_type_from_name(mgmt::request_type_name(request.body.type)) ==
                  request.body.type,
              "request type names round-trip");
    invariant(parsed->auth_signature.has_value() ==
                  (request.body.type == mgmt::RequestType::kAuthCertReg),
              "only authCertReg carries the auth signature");
    // The response the central server would send parses back to the same request.
    const auto response = mgmt::build_response(request, 42);
    auto reparsed = mgmt::parse_response(response);
    invariant(reparsed.ok(), "a response to a parsed request parses");
    invariant(reparsed->request_id == 42, "requestId round-trips");
    invariant(reparsed->request.body.type == request.body.type, "response keeps the type");
    invariant(reparsed->request.body.server == request.body.server, "response keeps the server");
  }
  (void)mgmt::parse_response(input, limits);
  return 0;
}
