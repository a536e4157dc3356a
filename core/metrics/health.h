#pragma once

// Health model shared by both daemons: named checks, each returning ok / degraded / failed with a
// message and details, an aggregate status a load balancer can use, and maintenance mode
// (draining) that makes the endpoint answer 503 while running requests finish.
//
// Threading: thread-safe (checks list guarded by a mutex; draining flag atomic). Checks are
// evaluated on the caller's thread, one after another, outside the lock.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hansa::metrics {

enum class HealthState { kOk = 0, kDegraded = 1, kFailed = 2 };

// "ok", "degraded", "failed".
[[nodiscard]] std::string_view health_state_name(HealthState s) noexcept;

// What one check found.
struct CheckResult {
  HealthState state = HealthState::kOk;
  std::string message;
  std::map<std::string, std::string> details;

  static CheckResult ok(std::string message = {});
  static CheckResult degraded(std::string message);
  static CheckResult failed(std::string message);
  // Adds one detail and returns *this for chaining.
  CheckResult& with(std::string key, std::string value);
};

// A named check's result as reported.
struct NamedCheck {
  std::string name;
  CheckResult result;
  std::chrono::milliseconds took{0};
};

// The aggregate: the worst state of all checks, or "draining" in maintenance mode.
struct HealthReport {
  HealthState status = HealthState::kOk;
  bool draining = false;
  std::string component;  // "node" / "central"
  std::chrono::system_clock::time_point time;
  std::vector<NamedCheck> checks;

  // 200 for ok and degraded; 503 for failed or when draining.
  [[nodiscard]] int http_status() const noexcept;
  // "ok", "degraded", "failed" or "draining".
  [[nodiscard]] std::string status_name() const;
  // {"status":"degraded","component":"node","time":"2026-...Z","draining":false,
  //  "checks":[{"name":"database","status":"ok","message":"...","details":{...},"tookMs":1}]}
  [[nodiscard]] std::string to_json() const;
};

// The set of checks of one daemon.
class Health final {
 public:
  using Check = std::function<CheckResult()>;

  explicit Health(std::string component);
  ~Health();
  Health(const Health&) = delete;
  Health& operator=(const Health&) = delete;

  // Adds (or replaces) the check `name`. The check must not throw; an exception it throws anyway
  // is reported as failed.
  void add_check(std::string name, Check check);

  // Maintenance mode: while draining, the report's status is "draining" and http_status() 503.
  void set_draining(bool draining) noexcept;
  [[nodiscard]] bool draining() const noexcept;

  // Runs every check in the order added.
  [[nodiscard]] HealthReport evaluate() const;

 private:
  std::string component_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Check>> checks_;
  std::atomic<bool> draining_{false};
};

}  // namespace hansa::metrics
