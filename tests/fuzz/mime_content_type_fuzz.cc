// Fuzz target: Content-Type header values (core/mime ContentType::parse, RFC 2045 5.1) and
// boundary validation.
// Invariant: a parsed value prints (to_string) to a value that parses to the same type, subtype
// and parameters.

#include <cstddef>
#include <cstdint>

#include "core/mime/content_type.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace mime = hansa::mime;
  const auto text = hansa::fuzz::as_view(data, size);

  (void)mime::validate_boundary(text);
  auto parsed = mime::ContentType::parse(text);
  if (!parsed.ok()) {
    return 0;
  }
  invariant(!parsed->type().empty() && !parsed->subtype().empty(), "type and subtype set");
  const auto printed = parsed->to_string();
  auto again = mime::ContentType::parse(printed);
  invariant(again.ok(), "printed Content-Type parses");
  invariant(again->type() == parsed->type(), "type round-trips");
  invariant(again->subtype() == parsed->subtype(), "subtype round-trips");
  invariant(again->params() == parsed->params(), "parameters round-trip");
  invariant(again->to_string() == printed, "printing is stable");
  invariant(parsed->is(parsed->mime_type()), "is() matches its own type");
  if (auto boundary = parsed->boundary(); boundary && parsed->is_multipart()) {
    (void)mime::validate_boundary(*boundary);
  }
  return 0;
}
