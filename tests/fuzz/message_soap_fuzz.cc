// Fuzz target: SOAP 4.0 messages as an information system or a peer sends them (node/message
// parse_soap: text/xml, SwA, MTOM; header rules and schema; parse_fault; insert_request_hash).
// Input: "<Content-Type value>\n#####\n<body>".
// Invariants: a parsed message's SOAP part and attachments lie inside its buffer; a non-fault
// message has its X-Road header (and a service when parsed as a request); the IS package rebuilt
// from it parses back to the same SOAP part and attachments; a requestHash inserted into a parsed
// response is found and checks against the request bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "node/message/soap.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace message = hansa::message;

bool inside(std::string_view part, const std::string& buffer) {
  return part.empty() || (part.data() >= buffer.data() &&
                          part.data() + part.size() <= buffer.data() + buffer.size());
}

void check(const message::SoapMessage& msg, message::SoapRole role) {
  invariant(msg.buffer != nullptr, "buffer kept");
  invariant(inside(msg.soap_part, *msg.buffer), "SOAP part inside the buffer");
  for (const auto& a : msg.attachments) {
    invariant(inside(a.data, *msg.buffer), "attachment inside the buffer");
  }
  if (!msg.is_fault()) {
    invariant(msg.header.has_value(), "a message has its header");
    invariant(msg.header->protocol_version == message::kProtocolVersion, "version checked");
    invariant(role == message::SoapRole::kResponse || msg.header->service.has_value(),
              "a request names its service");
  }
  auto package = message::build_soap_package(msg.content_type, msg.soap_part_content_type,
                                             msg.soap_part, msg.attachments);
  if (package.ok()) {
    message::SoapParseOptions options;
    options.role = role;
    auto again = message::parse_soap(package->content_type, package->body, options);
    invariant(again.ok(), "a rebuilt package parses");
    invariant(again->soap_part == msg.soap_part, "same SOAP part");
    invariant(again->attachments.size() == msg.attachments.size(), "same attachment count");
    for (std::size_t i = 0; i < msg.attachments.size(); ++i) {
      invariant(again->attachments[i].data == msg.attachments[i].data, "same attachment bytes");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = hansa::fuzz::split_fields(hansa::fuzz::as_view(data, size), 2);
  const std::string_view content_type = fields[0];
  const std::string body(fields[1]);

  message::SoapParseOptions request;
  request.limits.max_message_bytes = 256 * 1024;
  request.limits.max_attachments = 8;
  request.limits.max_xml_depth = 32;
  auto parsed = message::parse_soap(content_type, body, request);
  if (parsed.ok()) {
    check(*parsed, message::SoapRole::kRequest);
  }

  message::SoapParseOptions response = request;
  response.role = message::SoapRole::kResponse;
  auto resp = message::parse_soap(content_type, body, response);
  if (resp.ok()) {
    check(*resp, message::SoapRole::kResponse);
    if (!resp->is_fault()) {
      auto with_hash = message::insert_request_hash(resp->soap_part, "request bytes");
      if (with_hash.ok()) {
        auto again = message::parse_soap("text/xml", *with_hash, response);
        if (again.ok() && again->header) {
          invariant(message::check_request_hash(*again->header, "request bytes").ok(),
                    "inserted requestHash checks");
        }
      }
      invariant(message::check_response_consistency(*resp->header, *resp->header).ok(),
                "a header is consistent with itself");
    }
  }
  (void)message::parse_fault(body);
  return 0;
}
