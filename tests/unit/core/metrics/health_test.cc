#include "core/metrics/health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hansa::metrics {
namespace {

TEST(HealthTest, EmptyIsOk) {
  Health h("node");
  auto r = h.evaluate();
  EXPECT_EQ(r.status, HealthState::kOk);
  EXPECT_EQ(r.http_status(), 200);
  EXPECT_EQ(r.status_name(), "ok");
}

TEST(HealthTest, AggregateIsWorstState) {
  Health h("node");
  h.add_check("database", [] { return CheckResult::ok("reachable"); });
  h.add_check("globalconf", [] { return CheckResult::degraded("old"); });
  auto r = h.evaluate();
  EXPECT_EQ(r.status, HealthState::kDegraded);
  EXPECT_EQ(r.http_status(), 200);  // degraded still takes traffic
  h.add_check("token", [] { return CheckResult::failed("logged out").with("token", "0"); });
  r = h.evaluate();
  EXPECT_EQ(r.status, HealthState::kFailed);
  EXPECT_EQ(r.http_status(), 503);
  ASSERT_EQ(r.checks.size(), 3u);
  EXPECT_EQ(r.checks[2].name, "token");
  EXPECT_EQ(r.checks[2].result.details.at("token"), "0");
}

TEST(HealthTest, ReplacingACheck) {
  Health h("node");
  h.add_check("a", [] { return CheckResult::failed("x"); });
  h.add_check("a", [] { return CheckResult::ok(); });
  auto r = h.evaluate();
  EXPECT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.status, HealthState::kOk);
}

TEST(HealthTest, DrainingIs503EvenWhenOk) {
  Health h("node");
  h.add_check("a", [] { return CheckResult::ok(); });
  h.set_draining(true);
  auto r = h.evaluate();
  EXPECT_TRUE(r.draining);
  EXPECT_EQ(r.status_name(), "draining");
  EXPECT_EQ(r.http_status(), 503);
  h.set_draining(false);
  EXPECT_EQ(h.evaluate().http_status(), 200);
}

TEST(HealthTest, ThrowingCheckIsFailed) {
  Health h("central");
  h.add_check("boom", []() -> CheckResult { throw std::runtime_error("kaboom"); });
  auto r = h.evaluate();
  EXPECT_EQ(r.status, HealthState::kFailed);
  EXPECT_NE(r.checks[0].result.message.find("kaboom"), std::string::npos);
}

TEST(HealthTest, JsonShape) {
  Health h("central");
  h.add_check("database", [] { return CheckResult::ok("fine").with("backend", "sqlite"); });
  h.add_check("publish", [] { return CheckResult::degraded("late \"quoted\"\n\xff"); });
  auto j = nlohmann::json::parse(h.evaluate().to_json());
  EXPECT_EQ(j["status"], "degraded");
  EXPECT_EQ(j["component"], "central");
  EXPECT_EQ(j["draining"], false);
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_EQ(j["checks"][0]["name"], "database");
  EXPECT_EQ(j["checks"][0]["status"], "ok");
  EXPECT_EQ(j["checks"][0]["details"]["backend"], "sqlite");
  EXPECT_EQ(j["checks"][1]["status"], "degraded");
  EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
}

}  // namespace
}  // namespace hansa::metrics
