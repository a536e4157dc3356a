#pragma once

// Helpers shared by the node/message sources (not part of the public API).
// Threading: pure functions.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "core/mime/headers.h"
#include "core/mime/limits.h"
#include "node/message/soap.h"

namespace hansa::message::internal {

// ASCII lower case copy.
inline std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
  });
  return out;
}

// Whitespace-trimmed view.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// First value of `name` (case-insensitive) in HTTP header fields.
inline std::optional<std::string_view> find_field(const HeaderFields& fields,
                                                  std::string_view name) {
  for (const auto& [n, v] : fields) {
    if (mime::iequals(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

// Last value of `name` (case-insensitive).
inline std::optional<std::string_view> find_last_field(const HeaderFields& fields,
                                                       std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [n, v] : fields) {
    if (mime::iequals(n, name)) {
      found = std::string_view(v);
    }
  }
  return found;
}

// Content-ID without surrounding spaces and angle brackets.
inline std::string strip_content_id(std::string_view id) {
  id = trim(id);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') {
    id = id.substr(1, id.size() - 2);
  }
  return std::string(id);
}

// Turns an Attachment list entry from a parsed MIME part.
Attachment make_attachment(const mime::HeaderList& headers, std::string_view data);

}  // namespace hansa::message::internal
