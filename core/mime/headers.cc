#include "core/mime/headers.h"

#include <algorithm>
#include <cstring>

namespace hansa::mime {
namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 5322 §2.2 field-name characters: printable US-ASCII except ':'.
bool is_field_name_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

void HeaderList::add(std::string name, std::string value) {
  fields_.push_back(HeaderField{std::move(name), std::move(value)});
}

void HeaderList::set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const HeaderField& f) { return iequals(f.name, name); });
  if (first == fields_.end()) {
    fields_.push_back(HeaderField{std::string(name), std::move(value)});
    return;
  }
  first->value = std::move(value);
  auto rest = std::remove_if(first + 1, fields_.end(),
                             [&](const HeaderField& f) { return iequals(f.name, name); });
  fields_.erase(rest, fields_.end());
}

std::size_t HeaderList::remove(std::string_view name) {
  auto rest = std::remove_if(fields_.begin(), fields_.end(),
                             [&](const HeaderField& f) { return iequals(f.name, name); });
  auto n = static_cast<std::size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return n;
}

std::optional<std::string_view> HeaderList::get(std::string_view name) const noexcept {
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) {
      return std::string_view(f.value);
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> HeaderList::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) {
      out.emplace_back(f.value);
    }
  }
  return out;
}

std::size_t HeaderList::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const HeaderField& f) { return iequals(f.name, name); }));
}

void HeaderList::append_to_last(std::string_view text) {
  HANSA_CHECK(!fields_.empty());
  auto& value = fields_.back().value;
  text = trim(text);
  if (text.empty()) {
    return;
  }
  if (!value.empty()) {
    value.push_back(' ');
  }
  value.append(text);
}

namespace detail {

Status add_header_line(std::string_view line, HeaderList& headers, const MimeLimits& limits) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.size() > limits.max_header_line_length) {
    return Error(FaultCode::kLimitExceeded, "MIME header line too long",
                 std::to_string(line.size()) + " bytes");
  }
  if (std::memchr(line.data(), '\0', line.size()) != nullptr ||
      std::memchr(line.data(), '\r', line.size()) != nullptr) {
    return Error(FaultCode::kMimeParsingFailed, "MIME header line holds a NUL or bare CR");
  }
  if (!line.empty() && is_wsp(line.front())) {
    // RFC 5322 §2.2.3 folding: a continuation of the previous field.
    if (headers.empty()) {
      return Error(FaultCode::kMimeParsingFailed, "MIME header block starts with a folded line");
    }
    if (headers.fields().back().value.size() + line.size() > limits.max_header_line_length) {
      return Error(FaultCode::kLimitExceeded, "folded MIME header line too long");
    }
    headers.append_to_last(line);
    return ok_status();
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return Error(FaultCode::kMimeParsingFailed, "MIME header line without a colon");
  }
  // Whitespace before the colon is tolerated (obsolete syntax, RFC 5322 §4.5).
  std::string_view name = trim(line.substr(0, colon));
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_field_name_char)) {
    return Error(FaultCode::kMimeParsingFailed, "invalid MIME header name");
  }
  if (headers.size() >= limits.max_headers_per_part) {
    return Error(FaultCode::kLimitExceeded, "too many MIME header fields",
                 std::to_string(limits.max_headers_per_part) + " allowed");
  }
  headers.add(std::string(name), std::string(trim(line.substr(colon + 1))));
  return ok_status();
}

}  // namespace detail

Result<HeaderList> parse_header_block(std::string_view block, const MimeLimits& limits) {
  HeaderList headers;
  if (block.size() > limits.max_header_block_size) {
    return Error(FaultCode::kLimitExceeded, "MIME header block too large");
  }
  std::size_t pos = 0;
  while (pos < block.size()) {
    auto nl = block.find('\n', pos);
    std::string_view line =
        block.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? block.size() : nl + 1;
    if (line.empty() || line == "\r") {
      break;
    }
    HANSA_RETURN_IF_ERROR(detail::add_header_line(line, headers, limits));
  }
  return headers;
}

Result<Entity> parse_entity(std::string_view message, const MimeLimits& limits) {
  // The header block ends at the first empty line (CRLF CRLF, LF LF or a mix).
  std::size_t pos = 0;
  std::size_t limit = std::min<std::size_t>(message.size(), limits.max_header_block_size);
  while (true) {
    auto nl = message.find('\n', pos);
    if (nl == std::string_view::npos || nl >= limit) {
      if (message.size() > limits.max_header_block_size) {
        return Error(FaultCode::kLimitExceeded, "MIME header block too large");
      }
      return Error(FaultCode::kMimeParsingFailed,
                   "MIME entity without an empty line after headers");
    }
    std::string_view line = message.substr(pos, nl - pos);
    if (line.empty() || line == "\r") {
      HANSA_ASSIGN_OR_RETURN(HeaderList headers,
                             parse_header_block(message.substr(0, pos), limits));
      return Entity{std::move(headers), message.substr(nl + 1)};
    }
    pos = nl + 1;
  }
}

}  // namespace hansa::mime
