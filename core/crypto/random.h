#pragma once

// Cryptographically secure randomness from OpenSSL's DRBG. Thread-safe.

#include <cstddef>
#include <string>

namespace hansa::crypto {

// `n` random bytes. Aborts if the DRBG fails (the process cannot operate safely without it).
[[nodiscard]] std::string random_bytes(std::size_t n);

// A random (version 4) UUID in its canonical lower-case form, for message and fault ids.
[[nodiscard]] std::string random_uuid();

}  // namespace hansa::crypto
