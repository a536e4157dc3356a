#pragma once

// Cryptographically secure randomness from OpenSSL's DRBG. Thread-safe.

#include <cstddef>
#include <string>

namespace hansa::crypto {

// `n` random bytes. Aborts if the DRBG fails (the process cannot operate safely without it).
[[nodiscard]] std::string random_bytes(std::size_t n);

// `n` (at most kMaxIdentifierBytes) random bytes for values that must be unique but are not
// secrets: message ids, MIME boundaries. Drawn from the same DRBG, a block at a time per thread,
// so most calls make no DRBG call; a child process after fork() starts a fresh block. Never use
// it for keys, salts, nonces or tokens: random_bytes() serves those.
inline constexpr std::size_t kMaxIdentifierBytes = 64;
[[nodiscard]] std::string random_identifier_bytes(std::size_t n);

// A random (version 4) UUID in its canonical lower-case form, for message and fault ids.
[[nodiscard]] std::string random_uuid();

}  // namespace hansa::crypto
