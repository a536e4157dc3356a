#pragma once

// A bounded memo of parsed objects keyed by their exact encoded bytes (DER). With OpenSSL 3,
// parsing a certificate or an OCSP response costs tens to hundreds of microseconds (the public key
// goes through the provider decoders), and the same certificates and OCSP responses arrive with
// every message a node exchanges. Values are immutable and shared.
//
// Bounded: when the memo is full the whole table is dropped (no per-entry bookkeeping on the read
// path); a flood of distinct inputs costs what parsing without the memo costs, never more memory.
// Only successful parses are remembered, so a rejected input is judged again every time.
//
// Threading: thread-safe; lookups share a reader lock.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hansa::crypto {

template <typename T>
class ParseMemo final {
 public:
  explicit ParseMemo(std::size_t capacity) : capacity_(capacity) {}

  // The value remembered for exactly these bytes, or null.
  [[nodiscard]] std::shared_ptr<const T> find(std::string_view bytes) const {
    std::shared_lock lock(mu_);
    auto it = entries_.find(bytes);
    return it == entries_.end() ? nullptr : it->second;
  }

  // Remembers `value` for `bytes` (an existing entry is kept).
  void insert(std::string_view bytes, std::shared_ptr<const T> value) {
    if (capacity_ == 0) {
      return;
    }
    std::unique_lock lock(mu_);
    if (entries_.size() >= capacity_) {
      entries_.clear();
    }
    entries_.try_emplace(std::string(bytes), std::move(value));
  }

  [[nodiscard]] std::size_t size() const {
    std::shared_lock lock(mu_);
    return entries_.size();
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  std::size_t capacity_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const T>, Hash, std::equal_to<>> entries_;
};

// Memo keys made of several parts: each part is length-prefixed, so no two different lists of
// parts give the same key.
inline void append_key_number(std::string& key, std::uint64_t n) {
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
}
inline void append_key_part(std::string& key, std::string_view part) {
  append_key_number(key, part.size());
  key.append(part);
}

}  // namespace hansa::crypto
