#pragma once

// Helpers shared by the fuzz targets: splitting one input into several fields, and a check that
// aborts (so libFuzzer and the replay driver both report it) when an invariant is broken.
// Threading: pure functions.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace hansa::fuzz {

// The separator between the fields of a multi-field input ("content type", "body", ...).
inline constexpr std::string_view kFieldSeparator = "\n#####\n";

// The input as a string_view.
[[nodiscard]] inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `input` at kFieldSeparator into exactly `count` fields: missing fields are empty and the
// last field keeps any further separators.
[[nodiscard]] inline std::vector<std::string_view> split_fields(std::string_view input,
                                                                std::size_t count) {
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < count) {
    const auto pos = input.find(kFieldSeparator);
    if (pos == std::string_view::npos) {
      break;
    }
    fields.push_back(input.substr(0, pos));
    input.remove_prefix(pos + kFieldSeparator.size());
  }
  fields.push_back(input);
  fields.resize(count);
  return fields;
}

// Takes the first byte of `input` as a selector (0 when empty) and removes it.
[[nodiscard]] inline std::uint8_t take_selector(std::string_view& input) {
  if (input.empty()) {
    return 0;
  }
  const auto selector = static_cast<std::uint8_t>(input.front());
  input.remove_prefix(1);
  return selector;
}

// Aborts with a message when an invariant of a successful parse does not hold.
inline void invariant(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace hansa::fuzz
