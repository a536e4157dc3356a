#include "core/crypto/openssl_ptr.h"

#include <openssl/err.h>

#include <climits>

namespace hansa::crypto {

std::string drain_openssl_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Error openssl_error(FaultCode code, std::string message) {
  return Error(code, std::move(message), drain_openssl_errors());
}

BioPtr memory_bio(std::string_view data) {
  // Callers bound their inputs far below INT_MAX; a larger view is a programming error.
  HANSA_CHECK(data.size() <= static_cast<std::size_t>(INT_MAX));
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace hansa::crypto
