#pragma once

// What the message path hands to the message log (reference section 8): one record per request
// and per response, on both nodes, appended before the call proceeds. This header is the contract
// between node/proxy (the writer's caller) and node/messagelog (its implementation).
//
// Threading: LogRecord is a plain value. MessageLogWriter implementations are thread-safe:
// append() is called concurrently from many proxy threads.

#include <chrono>
#include <string>
#include <vector>

#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::messagelog {

// One logged message with its signature, as the proxy signed or verified it.
struct LogRecord {
  std::string query_id;      // the X-Road message id (SOAP `id`, REST `X-Road-Id`)
  std::string x_request_id;  // x-road-request-id: the same for a request and its response
  ids::ClientId client;
  ids::ServiceId service;
  bool response = false;  // false: the request, true: the response
  bool rest = false;      // REST message (message = the REST head part)
  // The signed message: the SOAP message (message.xml) or the REST head
  // (application/x-road-rest-request / -response).
  std::string message;
  // SOAP attachments, or the REST body as the only element; signed as /attachment1, ...
  std::vector<std::string> attachments;
  std::string signature;          // META-INF/signatures.xml
  std::string hash_chain_result;  // sig-hashchainresult.xml; empty for a direct signature
  std::string hash_chain;         // sig-hashchain.xml; empty for a direct signature
  std::chrono::system_clock::time_point time;  // when the proxy handled the message
};

// The message log as the proxy sees it.
class MessageLogWriter {
 public:
  virtual ~MessageLogWriter() = default;
  // Appends `record` and returns once it is durable (group commit). LoggingFailed when it could
  // not be stored; TimestampingFailed when time-stamping has failed for longer than the
  // acceptable failure period (nothing is stored then).
  [[nodiscard]] virtual Status append(LogRecord record) = 0;
  // Whether message exchange may proceed: TimestampingFailed past the acceptable failure period,
  // otherwise ok. Cheap (no database access).
  [[nodiscard]] virtual Status check_usable() const = 0;
};

}  // namespace hansa::messagelog
