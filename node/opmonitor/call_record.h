#pragma once

// What the message path reports about every handled call (X-Road's operational monitoring data;
// never payloads). This header is the contract between node/proxy (which fills a CallRecord for
// every call it handles, successful or not) and its observers: node/opmonitor (operational
// records) and the node's metrics.
//
// Threading: CallRecord is a plain value. CallObserver::on_call() is called concurrently from
// many proxy threads and must not block for long (no database round trip per call: queue).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "core/ids/ids.h"

namespace hansa::opmonitor {

using TimePoint = std::chrono::system_clock::time_point;

struct CallRecord {
  // Which side of the exchange this node was: the client's node ("Client") or the provider's
  // node ("Producer"), as X-Road's securityServerType.
  enum class Side { kClient, kProducer };
  Side side = Side::kClient;

  // Identity of the call; unset when the request failed before they were known.
  std::optional<ids::ClientId> client;
  std::optional<ids::ServiceId> service;
  std::string query_id;
  std::string x_request_id;
  std::string user_id;
  std::string issue;
  std::string protocol_version;
  std::string represented_party_class;
  std::string represented_party_code;
  std::string client_security_server;   // SERVER id string of the client's node, when known
  std::string service_security_server;  // SERVER id string of the provider's node, when known
  std::string service_type;             // "WSDL", "REST" or "OPENAPI3"
  std::string rest_method;              // REST only
  std::string rest_path;                // REST only, without the query

  // Stage times (X-Road's requestInTs, requestOutTs, responseInTs, responseOutTs); a default
  // (epoch) value means the stage was not reached.
  TimePoint request_in;
  TimePoint request_out;
  TimePoint response_in;
  TimePoint response_out;

  std::size_t request_size = 0;  // bytes of the request message (SOAP part or REST body)
  std::size_t request_mime_size = 0;
  std::size_t request_attachment_count = 0;
  std::size_t response_size = 0;
  std::size_t response_mime_size = 0;
  std::size_t response_attachment_count = 0;

  bool succeeded = false;
  std::string fault_code;    // rendered X-Road code, e.g. "Server.ServerProxy.AccessDenied"
  std::string fault_string;  // the fault's message
  int http_status = 0;       // status returned to the caller (IS or peer node)
};

// Receives every CallRecord. Implementations must be thread-safe and must not block.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual void on_call(const CallRecord& record) noexcept = 0;
};

}  // namespace hansa::opmonitor
