#pragma once

// A cache of verified OCSP responses for the certificates a node presents (its signing and
// authentication certificates), keyed by the certificate hash X-Road uses for OCSP lookups
// (lower-case hex SHA-1 of the certificate DER). Responses are refreshed ahead of going stale,
// either on demand (refresh_due(), get_or_fetch()) or by a background thread (start()/stop()),
// and the last valid response is served to peers (PR-MESSTRANSP: nodes attach OCSP responses).
// Threading: thread-safe: guarded by mu_; fetches run outside the lock.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/errors/errors.h"
#include "core/ocsp/client.h"
#include "core/ocsp/response.h"

namespace hansa::ocsp {

struct CacheOptions {
  // Most certificates tracked at once; track() fails with LimitExceeded beyond it.
  std::size_t max_entries = 1000;
  // Refresh a response when less than this remains before it goes stale.
  std::chrono::seconds refresh_margin{600};
  // How often the background thread looks for due entries (X-Road's ocspFetchInterval is 1200 s;
  // the margin decides when a fetch actually happens).
  std::chrono::milliseconds refresh_interval{std::chrono::seconds(60)};
  // After a failed fetch, wait at least this long before trying that certificate again.
  std::chrono::seconds retry_delay{30};
  // How responses are judged (freshness, nextUpdate, configured responders).
  VerifyOptions verify;
};

// A certificate whose OCSP status the cache keeps.
struct TrackedCert {
  std::string cert;           // DER or PEM
  std::string issuer;         // DER or PEM
  std::string responder_url;  // "http://host:port[/path]"
};

class OcspCache final {
 public:
  // Fetches an (unverified) response for a certificate; OcspClient::fetch by default.
  using Fetcher = std::function<Result<OcspResponse>(const TrackedCert&)>;
  using ClockFn = std::function<TimePoint()>;

  // `clock` gives the time responses are judged at (injectable for tests).
  OcspCache(Fetcher fetcher, CacheOptions options, ClockFn clock = &Clock::now);
  // A cache that fetches with an OcspClient.
  OcspCache(OcspClient client, CacheOptions options, ClockFn clock = &Clock::now);
  ~OcspCache();
  OcspCache(const OcspCache&) = delete;
  OcspCache& operator=(const OcspCache&) = delete;

  // Starts keeping `tracked` fresh and returns its hash. Fails with IncorrectCertificate or
  // LimitExceeded (max_entries). Tracking a certificate again updates its issuer and URL.
  [[nodiscard]] Result<std::string> track(TrackedCert tracked);

  // Stops tracking a certificate.
  void untrack(std::string_view cert_hash);

  // The last valid response for `cert_hash` while it is not stale at clock(); nullopt otherwise.
  // The response may say revoked or unknown: peers judge the status themselves.
  [[nodiscard]] std::optional<OcspResponse> get(std::string_view cert_hash) const;

  // get(), fetching first when the entry has no response or is due. Fails with the fetch or
  // verification error (CertValidation, OcspFailed, Timeout, ...) or NotFound (not tracked).
  [[nodiscard]] Result<OcspResponse> get_or_fetch(std::string_view cert_hash);

  // Fetches every entry that has no response or is within refresh_margin of going stale (and is
  // not waiting out retry_delay). Returns how many were refreshed successfully.
  std::size_t refresh_due();

  // Runs refresh_due() every refresh_interval on a background thread until stop().
  void start();
  // Stops the background thread (idempotent; also done by the destructor).
  void stop();

  // Number of tracked certificates.
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    TrackedCert tracked;
    std::optional<OcspResponse> response;
    TimePoint stale_at{};
    TimePoint retry_after{};
    std::optional<Error> last_error;
  };

  // The time `response` stops being acceptable under options_.verify.
  [[nodiscard]] TimePoint stale_time(const OcspResponse& response) const;
  [[nodiscard]] bool due(const Entry& entry, TimePoint now) const;
  // Fetches and verifies one entry outside the lock, then stores the outcome.
  Status refresh_one(const std::string& hash);
  void run();

  Fetcher fetcher_;
  CacheOptions options_;
  ClockFn clock_;

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hansa::ocsp
