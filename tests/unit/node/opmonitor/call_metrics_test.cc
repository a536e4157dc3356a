#include "node/opmonitor/call_metrics.h"

#include <gtest/gtest.h>

namespace hansa::opmonitor {
namespace {

using namespace std::chrono_literals;

CallRecord call(bool ok) {
  CallRecord r;
  r.client = ids::ClientId::parse("SUBSYSTEM:EE/GOV/A/app").value();
  r.service = ids::ServiceId::parse("SERVICE:EE/GOV/B/app/getData/v1").value();
  r.request_in = std::chrono::system_clock::time_point(1'700'000'000s);
  r.response_out = r.request_in + 30ms;
  r.request_size = 100;
  r.response_size = 250;
  r.succeeded = ok;
  if (!ok) {
    r.fault_code = "Server.ServerProxy.AccessDenied";
  }
  return r;
}

TEST(CallMetricsTest, CountsLatencyAndBytes) {
  metrics::Registry registry;
  CallMetrics m(registry);
  m.on_call(call(true));
  m.on_call(call(true));
  m.on_call(call(false));
  const std::string text = registry.render();
  const std::string labels =
      "side=\"client\",client=\"EE/GOV/A/app\",service=\"EE/GOV/B/app/getData/v1\"";
  EXPECT_NE(text.find("hansa_node_calls_total{" + labels + ",outcome=\"ok\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hansa_node_calls_total{" + labels +
                      ",outcome=\"Server.ServerProxy.AccessDenied\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("hansa_node_call_duration_seconds_bucket{" + labels +
                      ",result=\"ok\",le=\"0.05\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("hansa_node_call_duration_seconds_bucket{" + labels +
                      ",result=\"ok\",le=\"0.025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("hansa_node_call_duration_seconds_count{" + labels + ",result=\"fault\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("hansa_node_call_request_bytes_total{" + labels + "} 300\n"),
            std::string::npos);
  EXPECT_NE(text.find("hansa_node_call_response_bytes_total{" + labels + "} 750\n"),
            std::string::npos);
}

TEST(CallMetricsTest, UnknownIdentityAndUnreachedStages) {
  metrics::Registry registry;
  CallMetrics m(registry);
  CallRecord r;  // failed before anything was known
  m.on_call(r);
  const std::string text = registry.render();
  EXPECT_NE(
      text.find("hansa_node_calls_total{side=\"client\",client=\"unknown\",service=\"unknown\","
                "outcome=\"fault\"} 1\n"),
      std::string::npos)
      << text;
  // No latency for a call without stage times.
  EXPECT_EQ(text.find("hansa_node_call_duration_seconds_count"), std::string::npos);
}

TEST(CallMetricsTest, ManyClientsStayBounded) {
  metrics::RegistryLimits limits;
  limits.max_series_per_family = 10;
  metrics::Registry registry(limits);
  CallMetrics m(registry);
  for (int i = 0; i < 500; ++i) {
    CallRecord r = call(true);
    r.client = ids::ClientId::parse("SUBSYSTEM:EE/GOV/M" + std::to_string(i) + "/app").value();
    m.on_call(r);
  }
  const std::string text = registry.render();
  EXPECT_NE(text.find("outcome=\"__overflow__\"} 490\n"), std::string::npos)
      << text.substr(0, 3000);
  EXPECT_LT(text.size(), 64u * 1024);
}

}  // namespace
}  // namespace hansa::opmonitor
