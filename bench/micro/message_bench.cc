// Micro-benchmarks of the IS-facing message parsers (node/message): SOAP 4.0 header parse and
// REST 1.0 request parse.

#include <benchmark/benchmark.h>

#include <string>

#include "node/message/rest.h"
#include "node/message/soap.h"

namespace hansa::bench {
namespace {

std::string soap_request(std::size_t body_bytes) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
<SOAP-ENV:Header>
<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>1234</id:memberCode><id:subsystemCode>CLIENT</id:subsystemCode></xrd:client>
<xrd:service id:objectType="SERVICE"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>4321</id:memberCode><id:subsystemCode>PROVIDER</id:subsystemCode><id:serviceCode>echo</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>
<xrd:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xrd:id>
<xrd:userId>EE12345678901</xrd:userId>
<xrd:protocolVersion>4.0</xrd:protocolVersion>
</SOAP-ENV:Header>
<SOAP-ENV:Body><ns1:echo xmlns:ns1="http://hansa.example/test-provider"><ns1:data>)" +
         std::string(body_bytes, 'x') + R"(</ns1:data></ns1:echo></SOAP-ENV:Body>
</SOAP-ENV:Envelope>)";
}

// arg0: body bytes; arg1: 1 = with XSD validation of the header (the default), 0 = without.
void BM_SoapHeaderParse(benchmark::State& state) {
  const std::string body = soap_request(static_cast<std::size_t>(state.range(0)));
  message::SoapParseOptions options;
  options.validate_schema = state.range(1) != 0;
  for (auto _ : state) {
    auto parsed = message::parse_soap("text/xml; charset=UTF-8", body, options);
    if (!parsed.ok()) {
      state.SkipWithError(parsed.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed->header);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_SoapHeaderParse)
    ->Args({1024, 1})
    ->Args({1024, 0})
    ->Args({100 * 1024, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_RestHeaderParse(benchmark::State& state) {
  const message::HeaderFields headers = {
      {"Host", "127.0.0.1:8080"},
      {"User-Agent", "wrk"},
      {"Accept", "application/json"},
      {"Content-Type", "application/json"},
      {"X-Road-Client", "DEV/GOV/1234/CLIENT"},
      {"X-Road-Id", "4894e35d-bf0f-44a6-867a-8e51f1daa7e0"},
      {"X-Road-UserId", "EE12345678901"},
  };
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    auto parsed = message::parse_rest_request(
        "POST", "/r1/DEV/COM/4321/PROVIDER/rest/echo/items?a=1&b=two", headers, body);
    if (!parsed.ok()) {
      state.SkipWithError(parsed.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed->service);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RestHeaderParse)->Arg(1024)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hansa::bench
