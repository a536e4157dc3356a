// Fuzz target: REST 1.0 requests and head parts (node/message parse_rest_request,
// parse_rest_request_head, parse_rest_response_head).
// Input: "<method>\n#####\n<request target>\n#####\n<header lines 'Name: value'>\n#####\n<body>".
// The body field is also read as a head part of both kinds.
// Invariants: a parsed request's transport head serializes to bytes that parse back to the same
// method, target and headers, and that the provider's node decodes to the same client, service
// and id; a parsed head part serializes back to bytes that parse to the same head.

#include <cstddef>
#include <cstdint>
#include <string>

#include "node/message/rest.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
using hansa::fuzz::invariant;
namespace message = hansa::message;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = hansa::fuzz::split_fields(hansa::fuzz::as_view(data, size), 4);
  message::HeaderFields headers;
  std::string_view lines = fields[2];
  while (!lines.empty() && headers.size() < 64) {
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

  auto request = message::parse_rest_request(fields[0], fields[1], headers, std::string(fields[3]));
  if (request.ok()) {
    const auto head = message::make_request_head(*request, "request-id");
    const std::string bytes = message::serialize_rest_request_head(head);
    auto parsed = message::parse_rest_request_head(bytes);
    invariant(parsed.ok(), "a request head parses back");
    invariant(parsed->method == head.method && parsed->target == head.target, "same request line");
    invariant(parsed->headers == head.headers, "same headers");
    message::RestParseOptions provider;
    provider.generate_missing_id = false;
    auto decoded = message::parse_rest_request(parsed->method, parsed->target, parsed->headers,
                                               request->body, provider);
    invariant(decoded.ok(), "the provider decodes the head");
    invariant(decoded->client == request->client, "same client");
    invariant(decoded->service == request->service, "same service");
    invariant(decoded->id == request->id, "same id");
    const std::string hash = message::compute_rest_request_hash(bytes, request->body);
    const auto response = message::make_response_head(200, "OK", {}, *decoded, "request-id", hash);
    invariant(message::check_rest_response(*request, "request-id", response, hash).ok(),
              "a response made for the request checks");
  }

  if (auto head = message::parse_rest_request_head(fields[3]); head.ok()) {
    auto again = message::parse_rest_request_head(message::serialize_rest_request_head(*head));
    invariant(again.ok() && again->headers == head->headers && again->target == head->target,
              "request head round trip");
  }
  if (auto head = message::parse_rest_response_head(fields[3]); head.ok()) {
    auto again = message::parse_rest_response_head(message::serialize_rest_response_head(*head));
    invariant(again.ok() && again->status == head->status && again->reason == head->reason &&
                  again->headers == head->headers,
              "response head round trip");
  }
  return 0;
}
