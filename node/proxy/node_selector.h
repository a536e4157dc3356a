#pragma once

// Which peer node serves a call (reference section 1 "Built-in redundancy"; X-Road's
// FastestConnectionSelectingSSLSocketFactory): the security servers hosting the service's
// provider come from the global configuration snapshot (or only the one the request names in its
// securityServer header / X-Road-Security-Server); when there are several, TCP connections to all
// of them are raced with a short deadline and the fastest wins; the choice is cached per service
// for a TTL and moved away from on failure (the caller then fails over to the next candidate).
// Threading: thread-safe: guarded by mu_.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/ids/ids.h"

namespace hansa::proxy {

// One peer node: its identity and its address from global configuration.
struct NodeCandidate {
  ids::SecurityServerId server;
  std::string address;  // "host" or "host:port"
  friend bool operator==(const NodeCandidate&, const NodeCandidate&) = default;
};

struct NodeSelectorOptions {
  // Port the TCP race connects to when an address names none (the server proxy port).
  std::uint16_t default_port = 5500;
  // How long the race waits for the first connection; when nobody answers in time the candidates
  // are tried in configuration order.
  std::chrono::milliseconds connect_deadline{2'000};
  // How long a winner stays the first choice for a service (X-Road: 3600 s).
  std::chrono::seconds cache_ttl{3'600};
  // Most cached choices; the cache is emptied when full.
  std::size_t max_cached_services = 100'000;
  // Most candidates raced for one call.
  std::size_t max_candidates = 32;
};

class NodeSelector final {
 public:
  using Clock = std::chrono::steady_clock;
  explicit NodeSelector(
      NodeSelectorOptions options = {},
      std::function<Clock::time_point()> clock = [] { return Clock::now(); });

  // The nodes hosting `service`'s provider (only `requested` when set), per `conf`. Fails with
  // InvalidSecurityServer when `requested` has no address or does not host the provider, and
  // UnknownMember when no node hosts the provider.
  [[nodiscard]] static Result<std::vector<NodeCandidate>> resolve(
      const globalconf::GlobalConfSnapshot& conf, const ids::ServiceId& service,
      const std::optional<ids::SecurityServerId>& requested);

  // `candidates` ordered for trying: the cached choice for `service` first when still listed and
  // fresh; otherwise, with several candidates, the winner of a TCP connect race first (and
  // cached), then the rest in their order.
  [[nodiscard]] std::vector<NodeCandidate> order(const ids::ServiceId& service,
                                                 std::vector<NodeCandidate> candidates);

  // The call to `service` through `node` failed to connect: forget it as the cached choice.
  void report_failure(const ids::ServiceId& service, const NodeCandidate& node);
  // The call succeeded through `node` (after a failover): remember it as the choice.
  void report_success(const ids::ServiceId& service, const NodeCandidate& node);

  // Index of the first candidate that accepts a TCP connection within the deadline; nullopt when
  // none does. Public for tests.
  [[nodiscard]] std::optional<std::size_t> race(const std::vector<NodeCandidate>& candidates) const;

 private:
  struct Choice {
    NodeCandidate node;
    Clock::time_point expires;
  };
  static std::string key_of(const ids::ServiceId& service);

  NodeSelectorOptions options_;
  std::function<Clock::time_point()> clock_;
  mutable std::mutex mu_;
  std::map<std::string, Choice> cache_;  // by service id without version
};

}  // namespace hansa::proxy
