#pragma once

// Feeds core/metrics from the proxies' CallRecords: request counts per side, client, service and
// outcome, latency histograms per side, client, service and outcome class, and request/response
// byte counters. Label values come from peers, so each family is bounded by the registry's
// cardinality limit (extra label sets go to the overflow series).
//
// Metric families (all prefixed hansa_node_):
//   calls_total{side,client,service,outcome}          outcome = "ok" or the rendered fault code
//   call_duration_seconds{side,client,service,result} result = "ok" or "fault"; requestIn to
//                                                     responseOut
//   call_request_bytes_total{side,client,service}, call_response_bytes_total{side,client,service}
//
// Threading: thread-safe (the registry's families are); on_call() takes only the family locks.

#include "core/metrics/metrics.h"
#include "node/opmonitor/call_record.h"

namespace hansa::opmonitor {

class CallMetrics final : public CallObserver {
 public:
  // Registers the families in `registry`, which must outlive this object.
  explicit CallMetrics(metrics::Registry& registry);

  void on_call(const CallRecord& record) noexcept override;

 private:
  metrics::CounterFamily& calls_;
  metrics::HistogramFamily& duration_;
  metrics::CounterFamily& request_bytes_;
  metrics::CounterFamily& response_bytes_;
};

}  // namespace hansa::opmonitor
