#include "core/metrics/health.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace hansa::metrics {

std::string_view health_state_name(HealthState s) noexcept {
  switch (s) {
    case HealthState::kOk:
      return "ok";
    case HealthState::kDegraded:
      return "degraded";
    case HealthState::kFailed:
      return "failed";
  }
  return "failed";
}

CheckResult CheckResult::ok(std::string message) {
  return CheckResult{HealthState::kOk, std::move(message), {}};
}

CheckResult CheckResult::degraded(std::string message) {
  return CheckResult{HealthState::kDegraded, std::move(message), {}};
}

CheckResult CheckResult::failed(std::string message) {
  return CheckResult{HealthState::kFailed, std::move(message), {}};
}

CheckResult& CheckResult::with(std::string key, std::string value) {
  details[std::move(key)] = std::move(value);
  return *this;
}

int HealthReport::http_status() const noexcept {
  return (draining || status == HealthState::kFailed) ? 503 : 200;
}

std::string HealthReport::status_name() const {
  return draining ? "draining" : std::string(health_state_name(status));
}

namespace {

std::string iso_utc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string HealthReport::to_json() const {
  nlohmann::json j;
  j["status"] = status_name();
  j["component"] = component;
  j["time"] = iso_utc(time);
  j["draining"] = draining;
  auto checks_json = nlohmann::json::array();
  for (const auto& c : checks) {
    nlohmann::json cj;
    cj["name"] = c.name;
    cj["status"] = std::string(health_state_name(c.result.state));
    cj["message"] = c.result.message;
    cj["details"] = nlohmann::json::object();
    for (const auto& [k, v] : c.result.details) {
      cj["details"][k] = v;
    }
    cj["tookMs"] = c.took.count();
    checks_json.push_back(std::move(cj));
  }
  j["checks"] = std::move(checks_json);
  // Check messages may carry bytes from peers; never let invalid UTF-8 break the endpoint.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Health::Health(std::string component) : component_(std::move(component)) {}

Health::~Health() = default;

void Health::add_check(std::string name, Check check) {
  std::lock_guard lock(mu_);
  for (auto& [n, c] : checks_) {
    if (n == name) {
      c = std::move(check);
      return;
    }
  }
  checks_.emplace_back(std::move(name), std::move(check));
}

void Health::set_draining(bool draining) noexcept { draining_.store(draining); }

bool Health::draining() const noexcept { return draining_.load(); }

HealthReport Health::evaluate() const {
  std::vector<std::pair<std::string, Check>> checks;
  {
    std::lock_guard lock(mu_);
    checks = checks_;
  }
  HealthReport report;
  report.component = component_;
  report.time = std::chrono::system_clock::now();
  report.draining = draining();
  for (auto& [name, check] : checks) {
    auto start = std::chrono::steady_clock::now();
    CheckResult r;
    try {
      r = check ? check() : CheckResult::failed("no check");
    } catch (const std::exception& e) {
      r = CheckResult::failed(std::string("check threw: ") + e.what());
    } catch (...) {
      r = CheckResult::failed("check threw");
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (static_cast<int>(r.state) > static_cast<int>(report.status)) {
      report.status = r.state;
    }
    report.checks.push_back(NamedCheck{name, std::move(r), took});
  }
  return report;
}

}  // namespace hansa::metrics
