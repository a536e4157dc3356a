#pragma once

// A small client for the central admin API (any method, bearer token, JSON bodies), used by
// `hansactl central` and the tests. core/http's Client speaks GET and POST only; this one adds
// PUT, PATCH and DELETE. cpp-httplib stays inside admin_client.cc.
// Threading: one owner; use it from one thread at a time.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::central {

// Connection settings and limits of an admin client.
struct AdminClientOptions {
  // HTTPS: PEM file of the CA certificates that may issue the server's certificate (empty: the
  // system's trust store).
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Longest response body accepted; larger answers fail with kLimitExceeded.
  std::size_t max_response_bytes = 16 << 20;
};

struct AdminResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class AdminClient final {
 public:
  // `base_url` is "http://host:port" or "https://host:port" (no path). Fails with
  // kInvalidConfiguration for other URLs.
  [[nodiscard]] static Result<std::unique_ptr<AdminClient>> create(std::string_view base_url,
                                                                   std::string token,
                                                                   AdminClientOptions options = {});
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sends `method` ("GET", "POST", "PUT", "PATCH", "DELETE") to `target` (path and query) with an
  // optional JSON body. Any HTTP status is a success; failures: kNetworkError, kTimeout,
  // kLimitExceeded, kSslAuthenticationFailed.
  [[nodiscard]] Result<AdminResponse> request(std::string_view method, std::string_view target,
                                              std::string_view json_body = {});

 private:
  struct Impl;
  explicit AdminClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::central
