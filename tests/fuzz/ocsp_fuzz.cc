// Fuzz target: OCSP responses (core/ocsp OcspResponse::parse, RFC 6960 4.2.1).
// Invariant: a parsed response keeps exactly the input DER and parses again to the same fields.

#include <cstddef>
#include <cstdint>

#include "core/ocsp/response.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace ocsp = hansa::ocsp;
  const auto der = hansa::fuzz::as_view(data, size);

  (void)ocsp::OcspResponse::parse(der, 256);  // the size cap
  auto response = ocsp::OcspResponse::parse(der);
  if (!response.ok()) {
    return 0;
  }
  invariant(response->der() == der, "the DER is kept");
  (void)ocsp::cert_status_name(response->status());
  if (response->status() == ocsp::CertStatus::kRevoked) {
    invariant(response->revocation_time().has_value(), "revoked has a revocation time");
  }
  auto again = ocsp::OcspResponse::parse(response->der());
  invariant(again.ok(), "the kept DER parses again");
  invariant(again->status() == response->status() &&
                again->this_update() == response->this_update() &&
                again->next_update() == response->next_update() &&
                again->produced_at() == response->produced_at() &&
                again->responder() == response->responder() &&
                again->serial_hex() == response->serial_hex(),
            "parsing is deterministic");
  return 0;
}
