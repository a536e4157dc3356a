#pragma once

// REST endpoint patterns (X-Road security server user guide 6.7, PR-MREST): an HTTP method or "*"
// and a path pattern whose segments are literals, "{name}" or "*" (exactly one segment), or a final
// "**" (any number of segments, also none). The path "**" alone matches every path.
//
// Threading: plain functions and values, share freely.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "node/serverconf/model.h"

namespace hansa::serverconf {

// Longest accepted endpoint path pattern, in bytes.
inline constexpr std::size_t kMaxEndpointPathLength = 2048;

// True for GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, TRACE and "*".
[[nodiscard]] bool is_valid_method(std::string_view method) noexcept;

// Checks method and path of an endpoint. Fails with InvalidRequest naming the problem (unknown
// method, path not starting with "/", "**" not last, unbalanced braces, control characters,
// too long).
[[nodiscard]] Status validate_endpoint(const EndpointKey& endpoint);

// How specific a pattern is, for choosing among several matching endpoints: more literal segments
// win, then more single-segment wildcards, then no "**", then an exact method over "*".
struct Specificity {
  std::size_t literals = 0;
  std::size_t single_wildcards = 0;
  bool no_suffix_wildcard = true;
  bool exact_method = false;
  friend auto operator<=>(const Specificity&, const Specificity&) = default;
};

// A validated endpoint pattern, pre-split for matching.
class PathPattern final {
 public:
  // An empty pattern that matches nothing.
  PathPattern() = default;

  // Builds from a validated endpoint (fails like validate_endpoint()).
  [[nodiscard]] static Result<PathPattern> create(const EndpointKey& endpoint);

  // True when `method` (exact, case-sensitive as HTTP methods are) and `path` ("/pets/1"; an empty
  // path is "/"; no query string) match this pattern.
  [[nodiscard]] bool matches(std::string_view method, std::string_view path) const;

  [[nodiscard]] const EndpointKey& key() const noexcept { return key_; }
  [[nodiscard]] const Specificity& specificity() const noexcept { return specificity_; }

 private:
  enum class SegmentKind : std::uint8_t { kLiteral, kOne, kRest };
  struct Segment {
    SegmentKind kind;
    std::string literal;
  };
  EndpointKey key_;
  std::vector<Segment> segments_;
  Specificity specificity_;
};

}  // namespace hansa::serverconf
