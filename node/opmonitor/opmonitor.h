#pragma once

// Operational monitoring (X-Road's operational monitoring, reference: PR-OPMON, the operational
// monitoring protocol, and UG-OPMONSYSPAR, its system parameters): one record per handled call,
// queued by the proxies through CallObserver::on_call(), stored in batches in the node database
// (migration component "node_opmonitor", table opmonitor_records), kept for a retention period,
// queried by the admin API with time ranges, filters and paging, and served with
// getSecurityServerOperationalData semantics (PR-OPMON section 2): a caller sees only records
// where it is the client or the service provider, unless it is the node's owner or the
// federation's monitoring client; at most max_records_in_payload records per answer, with
// nextRecordsFrom.
//
// Threading: thread-safe. on_call() never blocks on the database: it appends to a bounded queue
// (a full queue drops the record and counts it); one worker thread stores batches and purges old
// records. Queries run on the caller's thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "node/opmonitor/call_record.h"

namespace hansa::metrics {
class Registry;
}

namespace hansa::opmonitor {

// Limits and timings; every default is safe for a production node.
struct OpMonitorOptions {
  // Records waiting to be stored; beyond this on_call() drops records (counted in dropped).
  std::size_t queue_capacity = 20000;
  // Records stored per transaction, and the longest a record waits before its batch is stored.
  std::size_t batch_size = 500;
  std::chrono::milliseconds flush_interval{1000};
  // X-Road's keep-records-for-days (7) and how often the purge runs.
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  std::chrono::seconds purge_interval{std::chrono::hours(1)};
  // X-Road's max-records-in-payload: records per getSecurityServerOperationalData answer.
  std::size_t max_records_in_payload = 10000;
  // X-Road's records-available-timestamp-offset-seconds: records of the last `offset` seconds
  // are not served yet (they may still be in the queue).
  std::chrono::seconds records_available_offset{60};
  // Admin queries: the widest time range, the default and largest page, the deepest offset.
  std::chrono::seconds max_query_range{std::chrono::hours(24 * 31)};
  std::size_t default_page_size = 100;
  std::size_t max_page_size = 1000;
  std::size_t max_offset = 100000;
  // Stored text fields are cut to these sizes (X-Road's schema: 255, fault string 2048).
  std::size_t max_field_bytes = 255;
  std::size_t max_fault_string_bytes = 2048;
  // Reported as xRoadVersion in operational data when not empty.
  std::string software_version;
  // Reported as securityServerInternalIp when not empty.
  std::string internal_ip;
  // The federation's monitoring clients: like the owner, they see every record (X-Road's
  // central monitoring client).
  std::vector<ids::ClientId> monitoring_clients;
  // The clock (tests inject one).
  std::function<std::chrono::system_clock::time_point()> clock;
};

// A stored record: its row id, when it was received by the monitor (X-Road's monitoringDataTs,
// unix seconds) and the call.
struct StoredRecord {
  std::int64_t id = 0;
  std::int64_t monitoring_ts = 0;
  CallRecord call;
};

// An admin query. Times are unix seconds of monitoringDataTs, both inclusive.
struct RecordQuery {
  std::int64_t from = 0;
  std::optional<std::int64_t> to{};         // now when unset
  std::optional<ids::ClientId> client{};    // the record's client
  std::optional<ids::ClientId> provider{};  // the provider of the record's service
  std::optional<std::string> service_code{};
  std::optional<bool> succeeded{};
  std::optional<std::size_t> limit{};  // default_page_size when unset
  std::size_t offset = 0;
};

// One page of records, oldest first.
struct RecordPage {
  std::vector<StoredRecord> records;
  bool more = false;  // further records match beyond this page
  std::size_t limit = 0;
  std::size_t offset = 0;
};

// Who asks for operational data (PR-OPMON section 2).
enum class Visibility {
  kOwnRecords,  // a member or subsystem: records where it is the client or the service provider
  kAllRecords,  // the node's owner or the monitoring client
};

// X-Road's rule: the owner member of the node and the configured monitoring clients see every
// record; anyone else only its own.
[[nodiscard]] Visibility visibility_for(const ids::ClientId& caller, const ids::MemberId& owner,
                                        const std::vector<ids::ClientId>& monitoring_clients);

// getSecurityServerOperationalData's search criteria and output specification.
struct OperationalDataRequest {
  ids::ClientId caller;
  Visibility visibility = Visibility::kOwnRecords;
  std::int64_t records_from = 0;  // unix seconds, inclusive
  std::int64_t records_to = 0;    // unix seconds, inclusive
  // searchCriteria/client: only records whose service provider is this client.
  std::optional<ids::ClientId> client{};
  // outputSpec: field names of the record format; empty means all fields.
  std::vector<std::string> output_fields{};
};

// The answer: recordsCount, the JSON payload {"records":[...]} (the gzip attachment of the SOAP
// answer is the proxy's business), nextRecordsFrom.
struct OperationalDataResponse {
  std::size_t records_count = 0;
  std::string payload_json;
  std::optional<std::int64_t> next_records_from;
};

// The field names of X-Road's operational data record format, in output order.
[[nodiscard]] const std::vector<std::string>& operational_data_fields();

// One stored record in X-Road's JSON record format (only `fields`, all when empty; absent
// values are left out).
[[nodiscard]] std::string record_json(const StoredRecord& record,
                                      const std::vector<std::string>& fields = {},
                                      const OpMonitorOptions& options = {});

// Counters of the monitor.
struct OpMonitorStats {
  std::uint64_t received = 0;  // on_call() invocations
  std::uint64_t stored = 0;
  std::uint64_t dropped = 0;       // queue full
  std::uint64_t store_failed = 0;  // records lost to database errors
  std::uint64_t purged = 0;
  std::size_t queued = 0;
};

// Creates or upgrades the tables (component "node_opmonitor"). The daemon's init and create
// call it; OpMonitor::create calls it too.
[[nodiscard]] Status migrate_opmonitor(db::Database& db);

class OpMonitor final : public CallObserver {
 public:
  // Applies the migrations; registers the monitor's own metrics in `registry` when given.
  // InvalidConfiguration for zero limits; database errors.
  [[nodiscard]] static Result<std::unique_ptr<OpMonitor>> create(
      db::Database& db, OpMonitorOptions options = {}, metrics::Registry* registry = nullptr);
  ~OpMonitor() override;  // stops the worker, storing what is queued
  OpMonitor(const OpMonitor&) = delete;
  OpMonitor& operator=(const OpMonitor&) = delete;

  // Queues one record (copies and truncates its text fields). Never blocks on the database;
  // drops the record when the queue is full.
  void on_call(const CallRecord& record) noexcept override;

  // Starts the worker (batch storing and purge). Idempotent.
  void start();
  // Stops the worker after storing what is queued. Idempotent.
  void stop();
  // Stores every queued record now (on the caller's thread); the first database error.
  [[nodiscard]] Status flush();
  // Deletes records whose monitoring time is before `before`; returns how many.
  [[nodiscard]] Result<std::size_t> purge(std::chrono::system_clock::time_point before);

  // Admin query. BadRequest for a reversed range, a range wider than max_query_range, a limit of
  // 0 or above max_page_size, an offset above max_offset.
  [[nodiscard]] Result<RecordPage> query(const RecordQuery& q) const;

  // getSecurityServerOperationalData (PR-OPMON section 2). recordsFrom must be before now -
  // records_available_offset and not after recordsTo (BadRequest otherwise); recordsTo is
  // shifted to now - offset - 1 when later (nextRecordsFrom is then set). Unknown output fields
  // are refused (BadRequest).
  [[nodiscard]] Result<OperationalDataResponse> operational_data(
      const OperationalDataRequest& request) const;

  [[nodiscard]] OpMonitorStats stats() const;
  [[nodiscard]] const OpMonitorOptions& options() const noexcept;

 private:
  struct Impl;
  explicit OpMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Passes every record to several observers (the daemon hands one observer to the proxies).
// Threading: immutable after construction; share freely.
class ObserverFanout final : public CallObserver {
 public:
  explicit ObserverFanout(std::vector<CallObserver*> observers)
      : observers_(std::move(observers)) {}
  void on_call(const CallRecord& record) noexcept override {
    for (auto* o : observers_) {
      o->on_call(record);
    }
  }

 private:
  std::vector<CallObserver*> observers_;
};

}  // namespace hansa::opmonitor
