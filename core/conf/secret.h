#pragma once

// A secret configuration value (token PIN, database password, admin API token). It never prints:
// operator<<, to_string() and fmt/spdlog formatting all give "***", so a Secret that reaches a
// log line, an error message or a test failure does not leak. The value is available only
// through an explicit reveal(). Comparison runs in time independent of where the values differ.
// The destructor overwrites the value (best effort: copies made by the caller are theirs).
//
// Threading: a plain value; const methods are safe to call concurrently.

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace hansa::conf {

class Secret final {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // The secret itself. Callers keep what they get out of logs and error messages.
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  // Compares with `candidate` in time that depends only on the lengths, not on the contents.
  [[nodiscard]] bool equals(std::string_view candidate) const noexcept;

  // Constant-time equality, as equals().
  friend bool operator==(const Secret& a, const Secret& b) noexcept { return a.equals(b.value_); }

 private:
  void wipe() noexcept;

  std::string value_;
};

// The printable form of any Secret: "***".
inline constexpr std::string_view kRedacted = "***";

// "***".
[[nodiscard]] std::string to_string(const Secret& secret);
// Writes "***".
std::ostream& operator<<(std::ostream& os, const Secret& secret);

}  // namespace hansa::conf

// fmt::format("{}", secret) and spdlog::info("{}", secret) give "***".
template <>
struct fmt::formatter<hansa::conf::Secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const hansa::conf::Secret& /*secret*/, FormatContext& ctx) const
      -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(hansa::conf::kRedacted, ctx);
  }
};
