#pragma once

// MIME multipart writer (RFC 2046 §5.1) producing the framing X-Road reads: "--b CRLF", the part
// headers "Name: value CRLF", an empty line, the raw body, and "CRLF --b" before the next part;
// "CRLF --b-- CRLF" closes the body. Nested multiparts are written by giving a part a
// multipart/* Content-Type and writing the inner multipart as its body (a nested writer whose
// sink is the outer writer's write()).

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/mime/content_type.h"
#include "core/mime/headers.h"

namespace hansa::mime {

// Receives the bytes the writer produces, in order. An error stops the writer.
using ByteSink = std::function<Status(std::string_view)>;

// A random boundary: "hansa" followed by 32 random alphanumerics (from the OpenSSL DRBG).
[[nodiscard]] std::string random_boundary();

// A random boundary whose delimiter ("--" + boundary) occurs in none of `bodies`.
[[nodiscard]] std::string random_boundary_for(std::span<const std::string_view> bodies);

// Streaming writer. Call begin_part() (or write_header_only_part()), then write() the body in any
// number of pieces, repeat, and finish() once. The body bytes are checked as they pass: a body
// that contains "--boundary" at a line start fails with kInternalError rather than producing an
// ambiguous message. Threading: one owner.
class MultipartWriter final {
 public:
  // Fails with kInvalidContentType when `boundary` is not an RFC 2046 boundary of at most 70
  // characters.
  [[nodiscard]] static Result<std::unique_ptr<MultipartWriter>> create(std::string boundary,
                                                                       ByteSink sink);

  MultipartWriter(const MultipartWriter&) = delete;
  MultipartWriter& operator=(const MultipartWriter&) = delete;

  [[nodiscard]] const std::string& boundary() const noexcept { return boundary_; }

  // Writes the delimiter and the header block of the next part. Header names must be RFC 5322
  // field names and values must hold no CR, LF or NUL (kInvalidRequest otherwise).
  [[nodiscard]] Status begin_part(const HeaderList& headers);
  // Writes a part that is only a header block: no empty line and no body follow it, as in the
  // first entry of X-Road's configuration directory (PR-GCONF 2.4). Readers see an empty body.
  [[nodiscard]] Status write_header_only_part(const HeaderList& headers);
  // Writes body bytes of the current part.
  [[nodiscard]] Status write(std::string_view data);
  // Writes the closing delimiter and a final CRLF. At least one part must have been begun.
  [[nodiscard]] Status finish();

  // A sink for a nested writer: appends to this writer's current part body.
  [[nodiscard]] ByteSink body_sink();

 private:
  MultipartWriter(std::string boundary, ByteSink sink);
  Status write_headers(const HeaderList& headers, bool with_empty_line);
  Status fail(Error error);

  std::string boundary_;
  std::string needle_;  // "\n--" + boundary
  ByteSink sink_;
  bool in_part_ = false;
  bool finished_ = false;
  std::size_t parts_ = 0;
  std::string tail_;  // last needle_.size()-1 body bytes, to catch delimiters across writes
  std::string scratch_;
  std::optional<Error> error_;
};

// A part to write: its headers in order and its raw body.
struct OutgoingPart {
  HeaderList headers;
  std::string body;
  // Write only the header block (see MultipartWriter::write_header_only_part); body must be empty.
  bool header_only = false;
};

// Writes `parts` framed by `boundary` into a string. Fails like MultipartWriter.
[[nodiscard]] Result<std::string> write_multipart(std::string_view boundary,
                                                  std::span<const OutgoingPart> parts);

// A multipart body with its Content-Type.
struct BuiltMultipart {
  ContentType content_type;  // multipart/<subtype>; boundary=...
  std::string body;
};

// Builds multipart/<subtype> (e.g. "mixed", "related") from `parts` with a random boundary that
// does not occur in any part body. Add type/start/charset parameters to content_type as needed.
[[nodiscard]] Result<BuiltMultipart> build_multipart(std::string_view subtype,
                                                     std::span<const OutgoingPart> parts);

}  // namespace hansa::mime
