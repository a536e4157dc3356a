// Fuzz target: the node-to-node transport message (node/message decode_request, decode_response,
// PR-MESSTRANSP 3.1).
// Input: one selector byte (bit 0: response, bit 1: REST expected), then
// "<HTTP header lines 'Name: value'>\n#####\n<body>".
// Invariants: every decoded view lies inside the buffer; a decoded message re-encodes and decodes
// to the same parts.

#include <cstddef>
#include <cstdint>
#include <string>

#include "node/message/transport.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace message = hansa::message;

bool inside(std::string_view part, const std::string& buffer) {
  return part.empty() || (part.data() >= buffer.data() &&
                          part.data() + part.size() <= buffer.data() + buffer.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = hansa::fuzz::as_view(data, size);
  const std::uint8_t selector = hansa::fuzz::take_selector(input);
  const bool response = (selector & 1) != 0;
  const auto kind = (selector & 2) != 0 ? message::MessageKind::kRest : message::MessageKind::kSoap;
  const auto fields = hansa::fuzz::split_fields(input, 2);

  message::HeaderFields headers;
  std::string_view lines = fields[0];
  while (!lines.empty() && headers.size() < 32) {
    const auto end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }

  message::TransportLimits limits;
  limits.max_body_bytes = 256 * 1024;
  limits.max_attachments = 16;
  auto decoded = response ? message::decode_response(headers, std::string(fields[1]), kind, limits)
                          : message::decode_request(headers, std::string(fields[1]), limits);
  if (!decoded.ok()) {
    return 0;
  }
  const auto& d = *decoded;
  const std::string& buf = *d.buffer;
  invariant(inside(d.soap_part, buf) && inside(d.rest_head, buf) && inside(d.signature, buf) &&
                inside(d.hash_chain, buf) && inside(d.hash_chain_result, buf),
            "views inside the buffer");
  for (auto o : d.ocsp_responses) invariant(inside(o, buf), "OCSP inside the buffer");
  for (const auto& a : d.attachments) invariant(inside(a.data, buf), "attachment inside");
  if (d.early_fault) {
    return 0;
  }
  invariant(!d.signature.empty() || d.fault.has_value(), "signed or a fault");
  invariant(d.hash_chain.empty() == d.hash_chain_result.empty(), "hash chain parts go together");

  // Re-encode what was decoded (only when it is encodable: non-empty message part).
  if ((d.meta.kind == message::MessageKind::kSoap && d.soap_part.empty()) ||
      (d.meta.kind == message::MessageKind::kRest && d.rest_head.empty())) {
    return 0;
  }
  message::OutgoingTransport out;
  out.meta = d.meta;
  if (out.meta.request_id.empty()) {
    out.meta.request_id = "r";
  }
  out.ocsp_responses = d.ocsp_responses;
  out.soap_part = d.soap_part;
  if (!d.soap_part_content_type.empty()) {
    out.soap_part_content_type = d.soap_part_content_type;
  }
  out.attachments = d.attachments;
  out.rest_head = d.rest_head;
  out.rest_body = d.rest_body;
  out.hash_chain_result = d.hash_chain_result;
  out.hash_chain = d.hash_chain;
  out.signature = d.signature;
  if (response && d.fault) {
    out.trailing_fault = *d.fault;
  }
  auto encoded = response ? message::encode_response(out) : message::encode_request(out);
  if (!encoded.ok()) {
    return 0;  // e.g. a body holding a random boundary's delimiter
  }
  auto again = response ? message::decode_response(encoded->headers, encoded->body, kind)
                        : message::decode_request(encoded->headers, encoded->body);
  invariant(again.ok(), "a re-encoded message decodes");
  invariant(again->soap_part == d.soap_part && again->rest_head == d.rest_head &&
                again->signature == d.signature && again->hash_chain == d.hash_chain &&
                again->ocsp_responses.size() == d.ocsp_responses.size() &&
                again->attachments.size() == d.attachments.size() &&
                again->rest_body.has_value() == (d.rest_body && !d.rest_body->empty()),
            "same parts after a round trip");
  return 0;
}
