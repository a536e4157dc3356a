#pragma once

// Limits applied by the MIME multipart reader to untrusted input. Every field has a safe default
// sized for X-Road traffic (node-to-node messages, global configuration, management requests).
// Threading: plain value, share freely.

#include <cstddef>
#include <cstdint>

namespace hansa::mime {

struct MimeLimits {
  // Parts in one multipart level (nested levels count separately). X-Road messages carry a
  // handful of parts; attachments add one each.
  std::size_t max_part_count = 1000;
  // One header line of a part, folded continuation lines included, without the line end.
  std::size_t max_header_line_length = 8 * 1024;
  // Spaces and tabs allowed after a boundary line (RFC 2046 transport-padding).
  std::size_t max_transport_padding = 64;
  // Header fields in one part.
  std::size_t max_headers_per_part = 100;
  // The whole header block of one part, line ends included.
  std::size_t max_header_block_size = 64 * 1024;
  // The raw body of one part (bytes between its header block and the next delimiter).
  std::uint64_t max_part_size = 1ULL << 30;  // 1 GiB
  // Every byte fed to one reader: preamble, delimiters, headers, bodies and epilogue.
  std::uint64_t max_total_size = 4ULL << 30;  // 4 GiB
  // Multipart levels below the outermost one that convenience parsing descends into; a
  // multipart nested deeper than this fails with kLimitExceeded. X-Road needs 1 (SOAP
  // attachments inside the transport message, the directory inside the signed configuration).
  int max_nesting_depth = 4;
};

}  // namespace hansa::mime
