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

// A time-ordered (version 7, RFC 9562) UUID in canonical lower-case form: the first 48 bits are
// the Unix time in milliseconds, the other 74 free bits random. For ids that a store indexes, such
// as the X-Road-Id a client proxy generates: ids made later sort after earlier ones, so an index
// of them grows at one end instead of touching a random page for every insert.
[[nodiscard]] std::string time_ordered_uuid();

}  // namespace hansa::crypto
