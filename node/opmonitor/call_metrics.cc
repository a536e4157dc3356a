#include "node/opmonitor/call_metrics.h"

#include <chrono>

namespace hansa::opmonitor {

namespace {

std::string side_name(CallRecord::Side s) {
  return s == CallRecord::Side::kProducer ? "producer" : "client";
}

}  // namespace

CallMetrics::CallMetrics(metrics::Registry& registry)
    : calls_(registry.counter("hansa_node_calls_total",
                              "Calls handled by the proxies, by side, client, service and outcome",
                              {"side", "client", "service", "outcome"})),
      duration_(registry.histogram(
          "hansa_node_call_duration_seconds",
          "Time from receiving a request to sending its response, by side, client, service and "
          "result",
          {"side", "client", "service", "result"})),
      request_bytes_(registry.counter("hansa_node_call_request_bytes_total",
                                      "Bytes of requests handled, by side, client and service",
                                      {"side", "client", "service"})),
      response_bytes_(registry.counter("hansa_node_call_response_bytes_total",
                                       "Bytes of responses handled, by side, client and service",
                                       {"side", "client", "service"})) {}

void CallMetrics::on_call(const CallRecord& record) noexcept {
  try {
    const std::string side = side_name(record.side);
    const std::string client = record.client ? record.client->to_short_string() : "unknown";
    const std::string service = record.service ? record.service->to_short_string() : "unknown";
    const std::string outcome = record.succeeded            ? "ok"
                                : record.fault_code.empty() ? "fault"
                                                            : record.fault_code;
    calls_.with({side, client, service, outcome}).inc();
    if (record.request_in != TimePoint{} && record.response_out >= record.request_in) {
      const double seconds =
          std::chrono::duration<double>(record.response_out - record.request_in).count();
      duration_.with({side, client, service, record.succeeded ? "ok" : "fault"}).observe(seconds);
    }
    request_bytes_.with({side, client, service}).inc(static_cast<double>(record.request_size));
    response_bytes_.with({side, client, service}).inc(static_cast<double>(record.response_size));
  } catch (...) {
    // Out of memory while resolving a label set: the sample is lost, the call is not.
  }
}

}  // namespace hansa::opmonitor
