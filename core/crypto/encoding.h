#pragma once

// Base64 (RFC 4648, standard alphabet, padded) and hex. Decoders return InvalidRequest on bad
// input. Thread-safe.

#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::crypto {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// Accepts and ignores ASCII whitespace (PEM bodies and XML text wrap base64).
[[nodiscard]] Result<std::string> base64_decode(std::string_view text);

// Lower-case hex.
[[nodiscard]] std::string hex_encode(std::string_view bytes);
// Accepts upper and lower case; rejects odd lengths and non-hex characters.
[[nodiscard]] Result<std::string> hex_decode(std::string_view text);

}  // namespace hansa::crypto
