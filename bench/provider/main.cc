// hansa-test-provider: SOAP and REST echo services on loopback for tests and benchmarks.
// See bench/provider/test_provider.h and bench/README.md.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/provider/test_provider.h"

namespace {

int fail(const hansa::Error& error) {
  std::cerr << "hansa-test-provider: " << error.to_string() << "\n";
  return 1;
}

// Writes the port atomically (temp file, rename) so a waiting script never reads half a number.
bool write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "hansa-test-provider: a SOAP 4.0 echo service (POST /soap, WSDL at GET /wsdl) and a REST "
      "echo service (any method under /rest, OpenAPI at GET /openapi.json) on loopback, for "
      "tests and benchmarks.",
      "hansa-test-provider");
  hansa::bench::ProviderOptions options;
  int port = 0;
  std::string port_file;
  std::string mode = "normal";
  long long delay_ms = 0;
  long long hang_limit_ms = options.hang_limit.count();
  app.add_option("--host", options.host, "Address to bind (default 127.0.0.1)");
  app.add_option("--port", port, "Port (0 = a free port; printed as port=N)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--port-file", port_file, "Also write the bound port to this file");
  app.add_option("--threads", options.worker_threads,
                 "Worker threads (one per concurrent kept-alive connection; default 16)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--response-bytes", options.response_bytes,
                 "Pad every response body to at least this many bytes (0 = no padding)");
  app.add_option("--delay-ms", delay_ms, "Delay before every answer, in milliseconds")
      ->check(CLI::Range(0LL, 3'600'000LL));
  app.add_option("--mode", mode, "normal | hang | garbage | close-early")
      ->check(CLI::IsMember({"normal", "hang", "garbage", "close-early"}));
  app.add_option("--hang-limit-ms", hang_limit_ms, "Longest hang in --mode hang")
      ->check(CLI::Range(1LL, 3'600'000LL));
  app.add_option("--soap-path", options.soap_path, "Path of the SOAP endpoint (default /soap)");
  app.add_option("--rest-base", options.rest_base, "Base path of the REST service (default /rest)");
  std::vector<std::string> services;
  app.add_option("--soap-service", services,
                 "SOAP operation listed in the WSDL (repeatable; default echo)");
  app.add_option("--service-version", options.soap_service_version,
                 "xrd:version of the WSDL operations (default v1)");
  app.add_option("--max-body-bytes", options.max_body_bytes, "Largest request body accepted");
  CLI11_PARSE(app, argc, argv);

  options.port = static_cast<std::uint16_t>(port);
  options.delay = std::chrono::milliseconds(delay_ms);
  options.hang_limit = std::chrono::milliseconds(hang_limit_ms);
  options.mode = *hansa::bench::mode_from_name(mode);
  if (!services.empty()) {
    options.soap_services = services;
  }

  // Signals are taken synchronously below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto provider = hansa::bench::TestProvider::create(std::move(options));
  if (!provider.ok()) {
    return fail(provider.error());
  }
  if (auto started = (*provider)->start(); !started.ok()) {
    return fail(started.error());
  }
  const std::uint16_t bound = (*provider)->port();
  std::printf("port=%u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);
  if (!port_file.empty() && !write_port_file(port_file, bound)) {
    std::cerr << "hansa-test-provider: cannot write " << port_file << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  (*provider)->stop();
  return 0;
}
