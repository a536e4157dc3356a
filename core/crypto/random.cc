#include "core/crypto/random.h"

#include <openssl/rand.h>

#include <climits>

#include "core/crypto/encoding.h"
#include "core/errors/errors.h"

namespace hansa::crypto {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  HANSA_CHECK(n <= static_cast<std::size_t>(INT_MAX));
  HANSA_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string random_uuid() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);
  const std::string h = hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace hansa::crypto
