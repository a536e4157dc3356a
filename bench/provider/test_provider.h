#pragma once

// hansa-test-provider: a small, fast service provider for tests and benchmarks. It serves on
// loopback, over core/http:
//  - a SOAP 4.0 service (PR-MESS 2.x, document/literal wrapped): POST <soap_path> answers every
//    request by echoing the X-Road header elements in the request's order (PR-MESS 2.4: "the
//    service echoes every header") and a body `<serviceCode>Response` wrapper holding copies of
//    the request wrapper's children; GET /wsdl serves a WSDL 1.1 describing `soap_services`;
//  - a REST service: any method under <rest_base> answers a JSON echo (method, path, body size,
//    the X-Road-* headers it received); GET /openapi.json serves an OpenAPI 3 document for it.
// Misbehaviour modes for tests: hang (never answer), garbage (bytes that are not HTTP) and
// close-early (a truncated response, then the connection closes).
// Threading: TestProvider is thread-safe: start()/stop() from any thread; requests are served
// concurrently on the server's worker threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::bench {

// How the provider answers.
enum class ProviderMode {
  kNormal,      // answer every request properly
  kHang,        // read the request, then never answer (until stop() or hang_limit)
  kGarbage,     // read the request, answer bytes that are not HTTP, close
  kCloseEarly,  // read the request, send a status line, headers and part of the body, close
};

// Parses "normal", "hang", "garbage", "close-early"; nullopt for anything else.
[[nodiscard]] std::optional<ProviderMode> mode_from_name(std::string_view name) noexcept;

// Every setting of the provider. Defaults suit a unit test; the benchmark raises the threads.
struct ProviderOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port
  // Worker threads; each serves one kept-alive connection at a time, so a load test needs about
  // as many as it has concurrent connections.
  std::size_t worker_threads = 16;
  // Accepted connections waiting for a worker.
  std::size_t max_queued_connections = 1024;
  // Largest request body accepted (413 above).
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Requests per kept-alive connection before the server closes it.
  std::size_t keep_alive_max_requests = 1'000'000;
  std::chrono::seconds keep_alive_timeout{30};
  // When non-zero, every response body is padded to at least this many bytes (SOAP: a <data>
  // element in the response wrapper; REST: a "data" string in the JSON).
  std::size_t response_bytes = 0;
  // Artificial delay before every answer.
  std::chrono::milliseconds delay{0};
  ProviderMode mode = ProviderMode::kNormal;
  // Longest time a request hangs in kHang mode (stop() ends it earlier).
  std::chrono::milliseconds hang_limit{600'000};
  // Paths.
  std::string soap_path = "/soap";
  std::string rest_base = "/rest";
  // SOAP operations listed in the WSDL (the endpoint itself answers any serviceCode).
  std::vector<std::string> soap_services = {"echo"};
  // xrd:version of every WSDL operation.
  std::string soap_service_version = "v1";
};

// Answers the SOAP request `request_xml` as the provider's SOAP service does: the X-Road header
// elements in the same order, and the body wrapper `<serviceCode>Response` (in the request
// wrapper's namespace) holding copies of the request wrapper's children, padded with a <data>
// element to `response_bytes` when non-zero. Fails with InvalidSoap / InvalidXml for a request
// that is not a SOAP 1.1 envelope with a Body holding one element.
[[nodiscard]] Result<std::string> soap_echo(std::string_view request_xml,
                                            std::size_t response_bytes = 0);

// A SOAP 1.1 fault envelope with faultcode `code` and faultstring `message`.
[[nodiscard]] std::string soap_fault(std::string_view code, std::string_view message);

// The WSDL 1.1 document of the SOAP service, whose soap:address is `endpoint_url`.
[[nodiscard]] std::string wsdl_document(const ProviderOptions& options,
                                        std::string_view endpoint_url);

// The OpenAPI 3.0 document of the REST service, whose servers[0].url is `base_url`.
[[nodiscard]] std::string openapi_document(const ProviderOptions& options,
                                           std::string_view base_url);

// The provider. Threading: thread-safe (see above).
class TestProvider final {
 public:
  // Validates the options; fails with InvalidConfiguration.
  [[nodiscard]] static Result<std::unique_ptr<TestProvider>> create(ProviderOptions options);
  ~TestProvider();
  TestProvider(const TestProvider&) = delete;
  TestProvider& operator=(const TestProvider&) = delete;

  // Binds and starts serving. NetworkError when the address cannot be bound.
  [[nodiscard]] Status start();
  // The bound port; 0 before start().
  [[nodiscard]] std::uint16_t port() const noexcept;
  // Requests answered (or, in a misbehaviour mode, connections handled) so far.
  [[nodiscard]] std::uint64_t requests() const noexcept;
  // Ends hanging requests, stops serving and joins every thread. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit TestProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::bench
