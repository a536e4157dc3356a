#pragma once

// MIME header fields of one entity or body part: an ordered multimap with ASCII case-insensitive
// names (RFC 2045, RFC 5322 §2.2). Order and duplicates are kept as received.
// Threading: plain value, one owner; const access may be shared.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/mime/limits.h"

namespace hansa::mime {

struct HeaderField {
  std::string name;   // as received ("Content-Type", "content-type", ...)
  std::string value;  // unfolded, leading and trailing whitespace removed
};

// ASCII case-insensitive comparison of header and parameter names.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

class HeaderList final {
 public:
  HeaderList() = default;
  HeaderList(std::initializer_list<HeaderField> fields) : fields_(fields) {}

  // Appends a field (duplicates allowed; order kept).
  void add(std::string name, std::string value);
  // Replaces every field named `name` by one field at the position of the first (or appends).
  void set(std::string_view name, std::string value);
  // Removes every field named `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  // The value of the first field named `name`, or nullopt.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
  // Every value of fields named `name`, in order.
  [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  [[nodiscard]] bool contains(std::string_view name) const noexcept { return count(name) > 0; }

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] const std::vector<HeaderField>& fields() const noexcept { return fields_; }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }

  // Appends `text` to the value of the last field (a folded continuation line). The list must
  // not be empty.
  void append_to_last(std::string_view text);

 private:
  std::vector<HeaderField> fields_;
};

// Parses a complete header block (lines ending in CRLF or bare LF, folded continuation lines
// allowed, ended by an empty line or by the end of `block`). Fails with kMimeParsingFailed on a
// malformed line and kLimitExceeded when a limit of `limits` is exceeded.
[[nodiscard]] Result<HeaderList> parse_header_block(std::string_view block,
                                                    const MimeLimits& limits = {});

// A MIME entity read from one buffer: its header block and the raw body after the empty line.
// `body` points into the parsed buffer.
struct Entity {
  HeaderList headers;
  std::string_view body;
};

// Splits `message` into its header block and body (for files that carry their own Content-Type,
// such as a stored signed global configuration). Fails with kMimeParsingFailed when there is no
// empty line ending the header block, and kLimitExceeded on header limits.
[[nodiscard]] Result<Entity> parse_entity(std::string_view message, const MimeLimits& limits = {});

}  // namespace hansa::mime

namespace hansa::mime::detail {

// Adds one header line (without its line end; a trailing CR is removed) to `headers`: a field
// "name: value" or a folded continuation of the previous field. Fails with kMimeParsingFailed or
// kLimitExceeded. Shared by parse_header_block and the streaming reader.
[[nodiscard]] Status add_header_line(std::string_view line, HeaderList& headers,
                                     const MimeLimits& limits);

}  // namespace hansa::mime::detail
