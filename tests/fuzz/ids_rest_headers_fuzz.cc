// Fuzz target: REST identifier headers (core/ids parse_rest_client, parse_rest_service,
// parse_rest_security_server; PR-REST 4.3). The same bytes go to all three parsers.
// Invariant: a parsed header value prints back (to_rest_*) to a value that parses equal.

#include <cstddef>
#include <cstdint>

#include "core/ids/rest_form.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  namespace ids = hansa::ids;
  const auto text = hansa::fuzz::as_view(data, size);

  if (auto client = ids::parse_rest_client(text); client.ok()) {
    auto again = ids::parse_rest_client(ids::to_rest_client(*client));
    invariant(again.ok() && *again == *client, "X-Road-Client round-trips");
  }
  if (auto service = ids::parse_rest_service(text); service.ok()) {
    invariant(!service->service_version().has_value(), "REST services carry no version");
    auto again = ids::parse_rest_service(ids::to_rest_service(*service));
    invariant(again.ok() && *again == *service, "X-Road-Service round-trips");
  }
  if (auto server = ids::parse_rest_security_server(text); server.ok()) {
    auto again = ids::parse_rest_security_server(ids::to_rest_security_server(*server));
    invariant(again.ok() && *again == *server, "X-Road-Security-Server round-trips");
  }
  return 0;
}
