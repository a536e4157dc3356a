#include "core/mime/content_type.h"

#include <algorithm>
#include <cstring>

#include "core/mime/headers.h"

namespace hansa::mime {
namespace {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = char(c - 'A' + 'a');
    }
  }
  return out;
}

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 2045 §5.1 token: CHAR except SPACE, CTLs and tspecials.
bool is_token_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) {
    return false;
  }
  return std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// X-Road's signature part type "signature/bdoc-1.0/ts" (PR-MESSTRANSP 3.1) has a '/' in its
// subtype; accept it there.
bool is_subtype_char(char c) noexcept { return c == '/' || is_token_char(c); }

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Characters accepted in an unquoted parameter value. Wider than RFC 2045 tokens because real
// producers send unquoted values holding '=', '/', '?' or ':' (e.g. "boundary=----=_Part_1").
bool is_lenient_value_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u > 32 && u != 127 && c != ';' && c != '"';
}

Error bad(std::string message, std::string_view value) {
  return Error(FaultCode::kInvalidContentType, std::move(message),
               std::string(value.substr(0, 200)));
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  void skip_ws() {
    while (pos_ < s_.size() && is_wsp(s_[pos_])) {
      ++pos_;
    }
  }
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void advance() { ++pos_; }
  std::string_view take_while(bool (*pred)(char) noexcept) {
    auto start = pos_;
    while (pos_ < s_.size() && pred(s_[pos_])) {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Status validate_boundary(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength) {
    return bad("multipart boundary length out of range", boundary);
  }
  // RFC 2046 §5.1.1 bchars.
  static constexpr std::string_view kSpecials = "'()+_,-./:=? ";
  for (char c : boundary) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && kSpecials.find(c) == std::string_view::npos) {
      return bad("multipart boundary holds a character outside RFC 2046 bchars", boundary);
    }
  }
  if (boundary.back() == ' ') {
    return bad("multipart boundary ends with a space", boundary);
  }
  return ok_status();
}

ContentType::ContentType(std::string_view type, std::string_view subtype)
    : type_(to_lower(type)), subtype_(to_lower(subtype)) {}

Result<ContentType> ContentType::parse(std::string_view value) {
  Cursor c(value);
  c.skip_ws();
  auto type = c.take_while(is_token_char);
  if (type.empty() || c.done() || c.peek() != '/') {
    return bad("Content-Type without type/subtype", value);
  }
  c.advance();
  auto subtype = c.take_while(is_subtype_char);
  if (subtype.empty()) {
    return bad("Content-Type without subtype", value);
  }
  ContentType ct(type, subtype);
  c.skip_ws();
  while (!c.done()) {
    if (c.peek() != ';') {
      return bad("Content-Type: expected ';' between parameters", value);
    }
    c.advance();
    c.skip_ws();
    if (c.done()) {
      break;  // a trailing ';' is tolerated
    }
    if (c.peek() == ';') {
      continue;
    }
    auto name = c.take_while(is_token_char);
    if (name.empty()) {
      return bad("Content-Type: invalid parameter name", value);
    }
    c.skip_ws();
    if (c.done() || c.peek() != '=') {
      return bad("Content-Type: parameter without '='", value);
    }
    c.advance();
    c.skip_ws();
    std::string param_value;
    if (!c.done() && c.peek() == '"') {
      // RFC 822 quoted-string with backslash escapes.
      c.advance();
      bool closed = false;
      while (!c.done()) {
        char ch = c.peek();
        c.advance();
        if (ch == '"') {
          closed = true;
          break;
        }
        if (ch == '\\') {
          if (c.done()) {
            break;
          }
          ch = c.peek();
          c.advance();
        } else if (ch == '\r' || ch == '\n' || ch == '\0') {
          return bad("Content-Type: control character in quoted string", value);
        }
        param_value.push_back(ch);
      }
      if (!closed) {
        return bad("Content-Type: unterminated quoted string", value);
      }
    } else {
      param_value = std::string(c.take_while(is_lenient_value_char));
    }
    if (param_value.empty()) {
      return bad("Content-Type: empty parameter value", value);
    }
    std::string lname = to_lower(name);
    if (ct.param(lname).has_value()) {
      // A repeated boundary or charset is ambiguous between parsers: refuse it.
      return bad("Content-Type: repeated parameter " + lname, value);
    }
    ct.params_.emplace_back(std::move(lname), std::move(param_value));
    c.skip_ws();
  }
  return ct;
}

ContentType ContentType::multipart(std::string_view subtype, std::string_view boundary) {
  ContentType ct("multipart", subtype);
  ct.set_param("boundary", std::string(boundary));
  return ct;
}

bool ContentType::is(std::string_view mime_type) const noexcept {
  auto slash = mime_type.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  return iequals(type_, mime_type.substr(0, slash)) &&
         iequals(subtype_, mime_type.substr(slash + 1));
}

std::optional<std::string_view> ContentType::param(std::string_view name) const noexcept {
  for (const auto& [n, v] : params_) {
    if (iequals(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

ContentType& ContentType::set_param(std::string_view name, std::string value) {
  std::string lname = to_lower(name);
  for (auto& [n, v] : params_) {
    if (n == lname) {
      v = std::move(value);
      return *this;
    }
  }
  params_.emplace_back(std::move(lname), std::move(value));
  return *this;
}

std::string ContentType::to_string() const {
  std::string out = type_ + "/" + subtype_;
  for (const auto& [n, v] : params_) {
    out += "; ";
    out += n;
    out += '=';
    if (is_token(v)) {
      out += v;
    } else {
      out += '"';
      for (char ch : v) {
        if (ch == '"' || ch == '\\') {
          out += '\\';
        }
        out += ch;
      }
      out += '"';
    }
  }
  return out;
}

}  // namespace hansa::mime
