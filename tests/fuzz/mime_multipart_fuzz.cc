// Fuzz target: whole-buffer multipart parsing (core/mime parse_multipart, RFC 2046 5.1), nested
// parts included. Input: "<Content-Type value>\n#####\n<body>"; a Content-Type that does not
// parse is used as a bare boundary.
// Invariant: part bodies lie inside the buffer at their reported offsets, the part count stays
// within the limit, and every nested multipart is well-formed the same way.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/mime/content_type.h"
#include "core/mime/headers.h"
#include "core/mime/reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;

void check(const hansa::mime::Multipart& multipart, std::string_view buffer,
           const hansa::mime::MimeLimits& limits, int depth) {
  invariant(depth <= limits.max_nesting_depth, "nesting limit holds");
  invariant(!multipart.parts.empty(), "a multipart has parts");
  invariant(multipart.parts.size() <= limits.max_part_count, "part limit holds");
  for (const auto& part : multipart.parts) {
    invariant(part.body_offset + part.body.size() <= buffer.size(), "body inside the buffer");
    invariant(buffer.substr(part.body_offset, part.body.size()) == part.body, "body at its offset");
    invariant(part.headers.size() <= limits.max_headers_per_part, "header limit holds");
    (void)part.content_type();
    if (part.nested) {
      check(*part.nested, part.body, limits, depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mime = hansa::mime;
  const auto fields = hansa::fuzz::split_fields(hansa::fuzz::as_view(data, size), 2);
  const auto header = fields[0];
  const auto body = fields[1];

  const mime::MimeLimits limits{.max_part_count = 16,
                                .max_header_line_length = 256,
                                .max_transport_padding = 8,
                                .max_headers_per_part = 8,
                                .max_header_block_size = 1024,
                                .max_part_size = 16 * 1024,
                                .max_total_size = 64 * 1024,
                                .max_nesting_depth = 2};

  auto content_type = mime::ContentType::parse(header);
  auto parsed = content_type.ok() ? mime::parse_multipart(body, *content_type, limits)
                                  : mime::parse_multipart(body, header, limits);
  if (parsed.ok()) {
    check(*parsed, body, limits, 0);
  }
  // Default limits, no nesting.
  if (content_type.ok()) {
    if (auto flat = mime::parse_multipart(body, *content_type, {}, false); flat.ok()) {
      for (const auto& part : flat->parts) {
        invariant(part.nested == nullptr, "no nested parsing when not asked");
      }
    }
  }
  // The same bytes as a stored entity (header block + body) and as a header block.
  (void)mime::parse_entity(body, limits);
  (void)mime::parse_header_block(header, limits);
  return 0;
}
