#pragma once

// Message digests (SHA-1 for X-Road certificate hashes only, SHA-2 for everything else) and their
// identifiers: XML-DSig URIs (hash chains, XAdES, global configuration) and X-Road's algorithm ids.
// Byte buffers are std::string throughout Hansa. Threading: Digester has one owner; the free
// functions are thread-safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::crypto {

enum class DigestAlgorithm { kSha1, kSha224, kSha256, kSha384, kSha512 };

// "http://www.w3.org/2001/04/xmlenc#sha512" and friends.
[[nodiscard]] std::string_view digest_uri(DigestAlgorithm alg) noexcept;
[[nodiscard]] std::optional<DigestAlgorithm> digest_from_uri(std::string_view uri) noexcept;

// X-Road's Java-style ids: "SHA-512", "SHA-256", "SHA-1" (global configuration Hash-algorithm-id).
[[nodiscard]] std::string_view digest_id(DigestAlgorithm alg) noexcept;
[[nodiscard]] std::optional<DigestAlgorithm> digest_from_id(std::string_view id) noexcept;

// Digest length in bytes.
[[nodiscard]] std::size_t digest_size(DigestAlgorithm alg) noexcept;

// One-shot digest of `data`.
[[nodiscard]] std::string digest(DigestAlgorithm alg, std::string_view data);

// Incremental digest, for data that streams by (MIME parts, files).
class Digester final {
 public:
  explicit Digester(DigestAlgorithm alg);
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  void update(std::string_view data);
  // Returns the digest and resets the digester for reuse.
  [[nodiscard]] std::string finish();
  [[nodiscard]] DigestAlgorithm algorithm() const noexcept { return alg_; }

 private:
  struct Impl;
  DigestAlgorithm alg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::crypto
