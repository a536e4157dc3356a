#pragma once

// Content-Type header values (RFC 2045 §5.1): "type/subtype" followed by ";"-separated
// parameters whose values are tokens or quoted strings. Type, subtype and parameter names are
// case-insensitive and kept in lower case; parameter values keep their case.
// Threading: plain value, one owner; const access may be shared.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::mime {

// Multipart boundaries longer than RFC 2046's 70 characters are accepted when read (some
// producers exceed it) up to this length; the writer keeps to 70.
inline constexpr std::size_t kMaxBoundaryLength = 200;
inline constexpr std::size_t kMaxWrittenBoundaryLength = 70;

// Checks a boundary against RFC 2046 §5.1.1 (bchars, no trailing space, 1..kMaxBoundaryLength).
// Fails with kInvalidContentType.
[[nodiscard]] Status validate_boundary(std::string_view boundary);

class ContentType final {
 public:
  ContentType() = default;
  // `type` and `subtype` are stored in lower case.
  ContentType(std::string_view type, std::string_view subtype);

  // Parses a header value such as `multipart/related; type="application/xop+xml"; boundary=x`.
  // Whitespace around tokens and separators is allowed, as is a trailing ";". Fails with
  // kInvalidContentType on syntax errors, empty values and repeated parameter names.
  [[nodiscard]] static Result<ContentType> parse(std::string_view value);

  // A multipart type with the given boundary, e.g. multipart("related", "b1").
  [[nodiscard]] static ContentType multipart(std::string_view subtype, std::string_view boundary);

  [[nodiscard]] const std::string& type() const noexcept { return type_; }
  [[nodiscard]] const std::string& subtype() const noexcept { return subtype_; }
  // "type/subtype" in lower case.
  [[nodiscard]] std::string mime_type() const { return type_ + "/" + subtype_; }
  // True for `type/subtype` compared case-insensitively, e.g. is("multipart/related").
  [[nodiscard]] bool is(std::string_view mime_type) const noexcept;
  [[nodiscard]] bool is_multipart() const noexcept { return type_ == "multipart"; }

  // Parameter value by case-insensitive name, or nullopt.
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const noexcept;
  [[nodiscard]] std::optional<std::string_view> boundary() const noexcept {
    return param("boundary");
  }
  [[nodiscard]] std::optional<std::string_view> charset() const noexcept {
    return param("charset");
  }
  // multipart/related (RFC 2387): the root part's media type ("type", e.g. application/xop+xml
  // for MTOM) and its Content-ID ("start").
  [[nodiscard]] std::optional<std::string_view> root_type() const noexcept { return param("type"); }
  [[nodiscard]] std::optional<std::string_view> start() const noexcept { return param("start"); }
  // Parameters in order, names in lower case.
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& params() const noexcept {
    return params_;
  }

  // Sets (replaces or appends) a parameter; returns *this for chaining.
  ContentType& set_param(std::string_view name, std::string value);

  // The header value: "type/subtype; name=value; ...", values quoted when they are not tokens.
  [[nodiscard]] std::string to_string() const;

 private:
  std::string type_;
  std::string subtype_;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace hansa::mime
