#include "core/conf/secret.h"

#include <algorithm>

namespace hansa::conf {

Secret::Secret(Secret&& other) noexcept : value_(other.value_) { other.wipe(); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = other.value_;
    other.wipe();
  }
  return *this;
}

Secret::~Secret() { wipe(); }

void Secret::wipe() noexcept {
  // Writes through a volatile pointer so the compiler cannot drop the stores as dead.
  volatile char* p = value_.data();
  for (std::size_t i = 0; i < value_.size(); ++i) {
    p[i] = 0;
  }
  value_.clear();
}

bool Secret::equals(std::string_view candidate) const noexcept {
  // Every byte position up to the longer length is visited whatever the contents.
  std::size_t n = std::max(value_.size(), candidate.size());
  unsigned char diff = value_.size() == candidate.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    auto a = i < value_.size() ? static_cast<unsigned char>(value_[i]) : 0;
    auto b = i < candidate.size() ? static_cast<unsigned char>(candidate[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

std::string to_string(const Secret& /*secret*/) { return std::string(kRedacted); }

std::ostream& operator<<(std::ostream& os, const Secret& /*secret*/) { return os << kRedacted; }

}  // namespace hansa::conf
