#include "node/opmonitor/opmonitor.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/db/migrate.h"
#include "core/metrics/metrics.h"

namespace hansa::opmonitor {

namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::json;

// The record table. Instants: monitoring_ts in unix seconds, stage times in unix milliseconds
// (0 = stage not reached), as X-Road's record format.
constexpr std::string_view kSchemaV1 = R"(
CREATE TABLE opmonitor_records (
  id {ID},
  monitoring_ts BIGINT NOT NULL,
  side TEXT NOT NULL,
  client_id TEXT,
  provider_id TEXT,
  service_id TEXT,
  service_code TEXT,
  query_id TEXT NOT NULL,
  x_request_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  issue TEXT NOT NULL,
  protocol_version TEXT NOT NULL,
  represented_party_class TEXT NOT NULL,
  represented_party_code TEXT NOT NULL,
  client_security_server TEXT NOT NULL,
  service_security_server TEXT NOT NULL,
  service_type TEXT NOT NULL,
  rest_method TEXT NOT NULL,
  rest_path TEXT NOT NULL,
  request_in_ms BIGINT NOT NULL,
  request_out_ms BIGINT NOT NULL,
  response_in_ms BIGINT NOT NULL,
  response_out_ms BIGINT NOT NULL,
  request_size BIGINT NOT NULL,
  request_mime_size BIGINT NOT NULL,
  request_attachment_count BIGINT NOT NULL,
  response_size BIGINT NOT NULL,
  response_mime_size BIGINT NOT NULL,
  response_attachment_count BIGINT NOT NULL,
  succeeded INTEGER NOT NULL,
  fault_code TEXT NOT NULL,
  fault_string TEXT NOT NULL,
  http_status INTEGER NOT NULL
);
CREATE INDEX opmonitor_records_ts ON opmonitor_records (monitoring_ts, id);
CREATE INDEX opmonitor_records_client ON opmonitor_records (client_id, monitoring_ts);
CREATE INDEX opmonitor_records_provider ON opmonitor_records (provider_id, monitoring_ts);
)";

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::vector<db::Migration> migrations() {
  db::Migration m;
  m.version = 1;
  m.name = "operational records";
  m.sqlite_sql = replace_all(std::string(kSchemaV1), "{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT");
  m.postgres_sql = replace_all(std::string(kSchemaV1), "{ID}",
                               "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
  m.sql = m.sqlite_sql;
  return {m};
}

constexpr std::string_view kRecordColumns =
    "id, monitoring_ts, side, client_id, service_id, query_id, x_request_id, user_id, issue, "
    "protocol_version, represented_party_class, represented_party_code, client_security_server, "
    "service_security_server, service_type, rest_method, rest_path, request_in_ms, "
    "request_out_ms, response_in_ms, response_out_ms, request_size, request_mime_size, "
    "request_attachment_count, response_size, response_mime_size, response_attachment_count, "
    "succeeded, fault_code, fault_string, http_status";

// The columns of opmonitor_records that store() fills, in the order of its values.
constexpr std::array<std::string_view, 32> kStoredColumns{
    "monitoring_ts",
    "side",
    "client_id",
    "provider_id",
    "service_id",
    "service_code",
    "query_id",
    "x_request_id",
    "user_id",
    "issue",
    "protocol_version",
    "represented_party_class",
    "represented_party_code",
    "client_security_server",
    "service_security_server",
    "service_type",
    "rest_method",
    "rest_path",
    "request_in_ms",
    "request_out_ms",
    "response_in_ms",
    "response_out_ms",
    "request_size",
    "request_mime_size",
    "request_attachment_count",
    "response_size",
    "response_mime_size",
    "response_attachment_count",
    "succeeded",
    "fault_code",
    "fault_string",
    "http_status",
};

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

std::int64_t to_s(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t clamp_size(std::size_t v) {
  return static_cast<std::int64_t>(std::min<std::size_t>(v, static_cast<std::size_t>(INT64_MAX)));
}

// Cuts `s` to `max` bytes on a UTF-8 boundary.
void cut(std::string& s, std::size_t max) {
  if (s.size() <= max) {
    return;
  }
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) {
    --end;
  }
  s.resize(end);
}

// Length of the valid UTF-8 sequence at s[i], 0 when invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80           ? 1
                  : (b >> 5) == 0x6  ? 2
                  : (b >> 4) == 0xE  ? 3
                  : (b >> 3) == 0x1E ? 4
                                     : 0;
  if (n == 0 || i + n > s.size() || (n == 2 && b < 0xC2)) {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
      return 0;
    }
  }
  // Overlong forms, surrogates and code points above U+10FFFF.
  const auto b1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
  if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0) || (b == 0xF0 && b1 < 0x90) ||
      (b == 0xF4 && b1 >= 0x90) || b > 0xF4) {
    return 0;
  }
  return n;
}

// Text columns hold valid UTF-8 without NUL bytes (PostgreSQL refuses anything else); invalid
// bytes become '?', NULs are dropped, then the text is cut to `max` bytes.
void scrub(std::string& s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max + 4));
  for (std::size_t i = 0; i < s.size() && out.size() <= max;) {
    if (s[i] == '\0') {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  cut(out, max);
  s = std::move(out);
}

Error bad_request(std::string message, std::string detail = {}) {
  return Error(FaultCode::kBadRequest, std::move(message), std::move(detail));
}

Result<StoredRecord> read_row(const db::Row& row) {
  StoredRecord r;
  CallRecord& c = r.call;
  std::size_t i = 0;
  HANSA_ASSIGN_OR_RETURN(r.id, row.int64(i++));
  HANSA_ASSIGN_OR_RETURN(r.monitoring_ts, row.int64(i++));
  HANSA_ASSIGN_OR_RETURN(auto side, row.text(i++));
  c.side = side == "Producer" ? CallRecord::Side::kProducer : CallRecord::Side::kClient;
  HANSA_ASSIGN_OR_RETURN(auto client, row.optional_text(i++));
  if (client) {
    HANSA_ASSIGN_OR_RETURN(c.client, ids::ClientId::parse(*client));
  }
  HANSA_ASSIGN_OR_RETURN(auto service, row.optional_text(i++));
  if (service) {
    HANSA_ASSIGN_OR_RETURN(c.service, ids::ServiceId::parse(*service));
  }
  for (std::string* s :
       {&c.query_id, &c.x_request_id, &c.user_id, &c.issue, &c.protocol_version,
        &c.represented_party_class, &c.represented_party_code, &c.client_security_server,
        &c.service_security_server, &c.service_type, &c.rest_method, &c.rest_path}) {
    HANSA_ASSIGN_OR_RETURN(*s, row.text(i++));
  }
  for (TimePoint* t : {&c.request_in, &c.request_out, &c.response_in, &c.response_out}) {
    HANSA_ASSIGN_OR_RETURN(auto ms, row.int64(i++));
    *t = from_ms(ms);
  }
  for (std::size_t* n : {&c.request_size, &c.request_mime_size, &c.request_attachment_count,
                         &c.response_size, &c.response_mime_size, &c.response_attachment_count}) {
    HANSA_ASSIGN_OR_RETURN(auto v, row.int64(i++));
    *n = static_cast<std::size_t>(std::max<std::int64_t>(v, 0));
  }
  HANSA_ASSIGN_OR_RETURN(auto ok, row.int64(i++));
  c.succeeded = ok != 0;
  HANSA_ASSIGN_OR_RETURN(c.fault_code, row.text(i++));
  HANSA_ASSIGN_OR_RETURN(c.fault_string, row.text(i++));
  HANSA_ASSIGN_OR_RETURN(auto status, row.int64(i++));
  c.http_status = static_cast<int>(status);
  return r;
}

struct Queued {
  std::int64_t monitoring_ts;
  CallRecord call;
};

}  // namespace

const std::vector<std::string>& operational_data_fields() {
  static const std::vector<std::string> fields = {
      "monitoringDataTs",
      "securityServerInternalIp",
      "securityServerType",
      "requestInTs",
      "requestOutTs",
      "responseInTs",
      "responseOutTs",
      "clientXRoadInstance",
      "clientMemberClass",
      "clientMemberCode",
      "clientSubsystemCode",
      "serviceXRoadInstance",
      "serviceMemberClass",
      "serviceMemberCode",
      "serviceSubsystemCode",
      "serviceCode",
      "restMethod",
      "restPath",
      "serviceVersion",
      "representedPartyClass",
      "representedPartyCode",
      "messageId",
      "messageUserId",
      "messageIssue",
      "messageProtocolVersion",
      "clientSecurityServerAddress",
      "serviceSecurityServerAddress",
      "requestSize",
      "requestMimeSize",
      "requestAttachmentCount",
      "responseSize",
      "responseMimeSize",
      "responseAttachmentCount",
      "succeeded",
      "serviceType",
      "faultCode",
      "faultString",
      "statusCode",
      "xRoadVersion",
      "xRequestId",
  };
  return fields;
}

namespace {

Json record_object(const StoredRecord& r, const OpMonitorOptions& options) {
  const CallRecord& c = r.call;
  Json j = Json::object();
  j["monitoringDataTs"] = r.monitoring_ts;
  if (!options.internal_ip.empty()) {
    j["securityServerInternalIp"] = options.internal_ip;
  }
  j["securityServerType"] = c.side == CallRecord::Side::kProducer ? "Producer" : "Client";
  auto stage = [&](const char* name, TimePoint t) {
    if (t != TimePoint{}) {
      j[name] = to_ms(t);
    }
  };
  stage("requestInTs", c.request_in);
  stage("requestOutTs", c.request_out);
  stage("responseInTs", c.response_in);
  stage("responseOutTs", c.response_out);
  auto text = [&](const char* name, const std::string& v) {
    if (!v.empty()) {
      j[name] = v;
    }
  };
  if (c.client) {
    j["clientXRoadInstance"] = c.client->instance();
    j["clientMemberClass"] = c.client->member_class();
    j["clientMemberCode"] = c.client->member_code();
    if (c.client->subsystem_code()) {
      j["clientSubsystemCode"] = *c.client->subsystem_code();
    }
  }
  if (c.service) {
    j["serviceXRoadInstance"] = c.service->instance();
    j["serviceMemberClass"] = c.service->member_class();
    j["serviceMemberCode"] = c.service->member_code();
    if (c.service->subsystem_code()) {
      j["serviceSubsystemCode"] = *c.service->subsystem_code();
    }
    j["serviceCode"] = c.service->service_code();
    if (c.service->service_version()) {
      j["serviceVersion"] = *c.service->service_version();
    }
  }
  text("restMethod", c.rest_method);
  text("restPath", c.rest_path);
  text("representedPartyClass", c.represented_party_class);
  text("representedPartyCode", c.represented_party_code);
  text("messageId", c.query_id);
  text("messageUserId", c.user_id);
  text("messageIssue", c.issue);
  text("messageProtocolVersion", c.protocol_version);
  text("clientSecurityServerAddress", c.client_security_server);
  text("serviceSecurityServerAddress", c.service_security_server);
  j["requestSize"] = c.request_size;
  j["requestMimeSize"] = c.request_mime_size;
  j["requestAttachmentCount"] = c.request_attachment_count;
  j["responseSize"] = c.response_size;
  j["responseMimeSize"] = c.response_mime_size;
  j["responseAttachmentCount"] = c.response_attachment_count;
  j["succeeded"] = c.succeeded;
  text("serviceType", c.service_type);
  text("faultCode", c.fault_code);
  text("faultString", c.fault_string);
  if (c.http_status != 0) {
    j["statusCode"] = c.http_status;
  }
  text("xRoadVersion", options.software_version);
  text("xRequestId", c.x_request_id);
  return j;
}

Json filtered(Json full, const std::vector<std::string>& fields) {
  if (fields.empty()) {
    return full;
  }
  Json out = Json::object();
  for (const auto& f : fields) {
    auto it = full.find(f);
    if (it != full.end()) {
      out[f] = *it;
    }
  }
  return out;
}

}  // namespace

std::string record_json(const StoredRecord& record, const std::vector<std::string>& fields,
                        const OpMonitorOptions& options) {
  return filtered(record_object(record, options), fields)
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

Visibility visibility_for(const ids::ClientId& caller, const ids::MemberId& owner,
                          const std::vector<ids::ClientId>& monitoring_clients) {
  if (caller.is_member() && caller.member() == owner) {
    return Visibility::kAllRecords;
  }
  if (std::find(monitoring_clients.begin(), monitoring_clients.end(), caller) !=
      monitoring_clients.end()) {
    return Visibility::kAllRecords;
  }
  return Visibility::kOwnRecords;
}

Status migrate_opmonitor(db::Database& db) {
  const auto list = migrations();
  auto r = db::migrate(db, "node_opmonitor", list);
  if (!r.ok()) {
    return std::move(r).error();
  }
  return ok_status();
}

// ---- the monitor

struct OpMonitor::Impl {
  db::Database& db;
  OpMonitorOptions options;

  mutable std::mutex mu;  // guards queue, stopping, worker
  std::condition_variable cv;
  std::deque<Queued> queue;
  bool stopping = false;
  std::thread worker;
  std::mutex store_mu;  // one batch writer at a time (worker and flush())

  // Counters, shared with the registry's callbacks (which may run after the monitor is gone).
  struct Counters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> stored{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> store_failed{0};
    std::atomic<std::uint64_t> purged{0};
    std::atomic<std::uint64_t> queued{0};
  };
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  std::atomic<std::uint64_t>& received = counters->received;
  std::atomic<std::uint64_t>& stored = counters->stored;
  std::atomic<std::uint64_t>& dropped = counters->dropped;
  std::atomic<std::uint64_t>& store_failed = counters->store_failed;
  std::atomic<std::uint64_t>& purged = counters->purged;

  Impl(db::Database& d, OpMonitorOptions o) : db(d), options(std::move(o)) {}

  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }

  // Takes up to batch_size records from the queue.
  std::vector<Queued> take() {
    std::lock_guard lock(mu);
    std::vector<Queued> batch;
    const std::size_t n = std::min(queue.size(), options.batch_size);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    counters->queued.store(queue.size());
    return batch;
  }

  // Stores a batch in one transaction with one bulk insert; the batch's strings are moved into
  // the row values, not copied.
  Status store(std::vector<Queued> batch) {
    if (batch.empty()) {
      return ok_status();
    }
    std::vector<db::Value> values;
    values.reserve(batch.size() * kStoredColumns.size());
    for (auto& q : batch) {
      CallRecord& c = q.call;
      values.emplace_back(q.monitoring_ts);
      values.emplace_back(c.side == CallRecord::Side::kProducer ? "Producer" : "Client");
      values.push_back(c.client ? db::Value(c.client->to_string()) : db::Value());
      values.push_back(c.service ? db::Value(c.service->provider().to_string()) : db::Value());
      values.push_back(c.service ? db::Value(c.service->to_string()) : db::Value());
      values.push_back(c.service ? db::Value(c.service->service_code()) : db::Value());
      for (std::string* text :
           {&c.query_id, &c.x_request_id, &c.user_id, &c.issue, &c.protocol_version,
            &c.represented_party_class, &c.represented_party_code, &c.client_security_server,
            &c.service_security_server, &c.service_type, &c.rest_method, &c.rest_path}) {
        values.emplace_back(std::move(*text));
      }
      for (auto t : {c.request_in, c.request_out, c.response_in, c.response_out}) {
        values.emplace_back(to_ms(t));
      }
      for (auto size : {c.request_size, c.request_mime_size, c.request_attachment_count,
                        c.response_size, c.response_mime_size, c.response_attachment_count}) {
        values.emplace_back(clamp_size(size));
      }
      values.emplace_back(c.succeeded ? 1 : 0);
      values.emplace_back(std::move(c.fault_code));
      values.emplace_back(std::move(c.fault_string));
      values.emplace_back(c.http_status);
    }
    auto status = [&]() -> Status {
      HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
      HANSA_ASSIGN_OR_RETURN(std::int64_t rows,
                             tx.insert_rows("opmonitor_records", kStoredColumns, values));
      (void)rows;
      return tx.commit();
    }();
    if (status.ok()) {
      stored.fetch_add(batch.size());
    } else {
      store_failed.fetch_add(batch.size());
    }
    return status;
  }

  Status drain() {
    std::lock_guard store_lock(store_mu);
    Status first;
    while (true) {
      auto batch = take();
      if (batch.empty()) {
        return first;
      }
      auto st = store(std::move(batch));
      if (!st.ok() && first.ok()) {
        first = st;
      }
    }
  }

  Result<std::size_t> purge(Clock::time_point before) {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
    HANSA_ASSIGN_OR_RETURN(
        auto rows,
        tx.execute("DELETE FROM opmonitor_records WHERE monitoring_ts < $1", {to_s(before)}));
    HANSA_RETURN_IF_ERROR(tx.commit());
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(rows.affected_rows(), 0));
    purged.fetch_add(n);
    return n;
  }

  void run() {
    auto next_purge = std::chrono::steady_clock::now();
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, options.flush_interval,
                  [&] { return stopping || queue.size() >= options.batch_size; });
      const bool stop = stopping;
      lock.unlock();
      (void)drain();  // failures are counted in store_failed
      if (std::chrono::steady_clock::now() >= next_purge) {
        (void)purge(now() - options.retention);
        next_purge = std::chrono::steady_clock::now() + options.purge_interval;
      }
      lock.lock();
      if (stop) {
        return;
      }
    }
  }
};

Result<std::unique_ptr<OpMonitor>> OpMonitor::create(db::Database& db, OpMonitorOptions options,
                                                     metrics::Registry* registry) {
  if (options.queue_capacity == 0 || options.batch_size == 0 ||
      options.flush_interval.count() <= 0 || options.max_records_in_payload == 0 ||
      options.max_page_size == 0 || options.default_page_size == 0 ||
      options.default_page_size > options.max_page_size || options.max_query_range.count() <= 0 ||
      options.retention.count() <= 0 || options.purge_interval.count() <= 0 ||
      options.max_field_bytes == 0 || options.max_fault_string_bytes == 0) {
    return Error(FaultCode::kInvalidConfiguration,
                 "operational monitoring limits must be positive (and default page size <= max)");
  }
  HANSA_RETURN_IF_ERROR(migrate_opmonitor(db));
  auto monitor =
      std::unique_ptr<OpMonitor>(new OpMonitor(std::make_unique<Impl>(db, std::move(options))));
  if (registry != nullptr) {
    auto counters = monitor->impl_->counters;
    using Counters = Impl::Counters;
    auto gauge = [&](const char* name, const char* help,
                     std::atomic<std::uint64_t> Counters::*member) {
      registry->callback_gauge(name, help, {}, [counters, member] {
        return std::vector<metrics::Sample>{
            {{}, static_cast<double>(((*counters).*member).load())}};
      });
    };
    gauge("hansa_node_opmonitor_queue_records", "Operational records waiting to be stored",
          &Counters::queued);
    gauge("hansa_node_opmonitor_stored_records", "Operational records stored since start",
          &Counters::stored);
    gauge("hansa_node_opmonitor_dropped_records",
          "Operational records dropped because the queue was full, since start",
          &Counters::dropped);
    gauge("hansa_node_opmonitor_failed_records",
          "Operational records lost to database errors, since start", &Counters::store_failed);
  }
  return monitor;
}

OpMonitor::OpMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpMonitor::~OpMonitor() {
  stop();
  (void)impl_->drain();
}

void OpMonitor::on_call(const CallRecord& record) noexcept {
  Impl& m = *impl_;
  m.received.fetch_add(1, std::memory_order_relaxed);
  try {
    {
      std::lock_guard lock(m.mu);
      if (m.queue.size() >= m.options.queue_capacity) {
        m.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    // Copy and cut outside the lock.
    Queued q{to_s(m.now()), record};
    CallRecord& c = q.call;
    const std::size_t max = m.options.max_field_bytes;
    for (std::string* s :
         {&c.query_id, &c.x_request_id, &c.user_id, &c.issue, &c.protocol_version,
          &c.represented_party_class, &c.represented_party_code, &c.client_security_server,
          &c.service_security_server, &c.service_type, &c.rest_method, &c.fault_code}) {
      scrub(*s, max);
    }
    scrub(c.rest_path, std::max<std::size_t>(max, 1024));
    scrub(c.fault_string, m.options.max_fault_string_bytes);
    bool wake = false;
    {
      std::lock_guard lock(m.mu);
      if (m.queue.size() >= m.options.queue_capacity) {
        m.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      m.queue.push_back(std::move(q));
      m.counters->queued.store(m.queue.size());
      wake = m.queue.size() >= m.options.batch_size;
    }
    if (wake) {
      m.cv.notify_one();
    }
  } catch (...) {
    m.dropped.fetch_add(1, std::memory_order_relaxed);  // out of memory: drop, never throw
  }
}

void OpMonitor::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->worker.joinable()) {
    return;
  }
  impl_->stopping = false;
  impl_->worker = std::thread([this] { impl_->run(); });
}

void OpMonitor::stop() {
  std::thread worker;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    worker = std::move(impl_->worker);
  }
  impl_->cv.notify_all();
  if (worker.joinable()) {
    worker.join();
  }
}

Status OpMonitor::flush() { return impl_->drain(); }

Result<std::size_t> OpMonitor::purge(std::chrono::system_clock::time_point before) {
  return impl_->purge(before);
}

OpMonitorStats OpMonitor::stats() const {
  OpMonitorStats s;
  s.received = impl_->received.load();
  s.stored = impl_->stored.load();
  s.dropped = impl_->dropped.load();
  s.store_failed = impl_->store_failed.load();
  s.purged = impl_->purged.load();
  std::lock_guard lock(impl_->mu);
  s.queued = impl_->queue.size();
  return s;
}

const OpMonitorOptions& OpMonitor::options() const noexcept { return impl_->options; }

Result<RecordPage> OpMonitor::query(const RecordQuery& q) const {
  const auto& o = impl_->options;
  const std::int64_t to = q.to.value_or(to_s(impl_->now()));
  if (q.from < 0 || to < 0) {
    return bad_request("time range bounds must be non-negative unix seconds");
  }
  if (q.from > to) {
    return bad_request("the time range ends before it starts",
                       std::to_string(q.from) + " > " + std::to_string(to));
  }
  if (to - q.from > o.max_query_range.count()) {
    return bad_request("the time range is wider than the limit",
                       "limit " + std::to_string(o.max_query_range.count()) + " seconds");
  }
  const std::size_t limit = q.limit.value_or(o.default_page_size);
  if (limit == 0 || limit > o.max_page_size) {
    return bad_request("limit must be between 1 and " + std::to_string(o.max_page_size),
                       std::to_string(limit));
  }
  if (q.offset > o.max_offset) {
    return bad_request("offset is above the limit; narrow the time range instead",
                       "limit " + std::to_string(o.max_offset));
  }
  std::string sql = "SELECT " + std::string(kRecordColumns) +
                    " FROM opmonitor_records WHERE monitoring_ts >= $1 AND monitoring_ts <= $2";
  std::vector<db::Value> params = {q.from, to};
  auto add = [&](std::string_view cond, db::Value v) {
    params.push_back(std::move(v));
    sql += " AND ";
    sql += cond;
    sql += " $" + std::to_string(params.size());
  };
  if (q.client) {
    add("client_id =", q.client->to_string());
  }
  if (q.provider) {
    add("provider_id =", q.provider->to_string());
  }
  if (q.service_code) {
    add("service_code =", *q.service_code);
  }
  if (q.succeeded) {
    add("succeeded =", *q.succeeded ? 1 : 0);
  }
  params.push_back(clamp_size(limit + 1));
  sql += " ORDER BY monitoring_ts, id LIMIT $" + std::to_string(params.size());
  params.push_back(clamp_size(q.offset));
  sql += " OFFSET $" + std::to_string(params.size());

  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(sql, params));
  RecordPage page;
  page.limit = limit;
  page.offset = q.offset;
  for (const auto& row : rows) {
    if (page.records.size() == limit) {
      page.more = true;
      break;
    }
    HANSA_ASSIGN_OR_RETURN(auto r, read_row(row));
    page.records.push_back(std::move(r));
  }
  return page;
}

Result<OperationalDataResponse> OpMonitor::operational_data(
    const OperationalDataRequest& request) const {
  const auto& o = impl_->options;
  for (const auto& f : request.output_fields) {
    const auto& known = operational_data_fields();
    if (std::find(known.begin(), known.end(), f) == known.end()) {
      return bad_request("unknown output field", f);
    }
  }
  const std::int64_t available_to =
      to_s(impl_->now()) - static_cast<std::int64_t>(o.records_available_offset.count());
  if (request.records_from < 0 || request.records_to < 0) {
    return bad_request("recordsFrom and recordsTo must be non-negative unix seconds");
  }
  if (request.records_from > request.records_to) {
    return bad_request("recordsTo is before recordsFrom");
  }
  if (request.records_from >= available_to) {
    return bad_request("recordsFrom must be before the current time minus " +
                           std::to_string(o.records_available_offset.count()) + " seconds",
                       std::to_string(request.records_from));
  }
  std::int64_t to = request.records_to;
  std::optional<std::int64_t> next;
  if (to >= available_to) {
    to = available_to - 1;
    next = available_to;
  }

  std::string sql = "SELECT " + std::string(kRecordColumns) +
                    " FROM opmonitor_records WHERE monitoring_ts >= $1 AND monitoring_ts <= $2";
  std::vector<db::Value> params = {request.records_from, to};
  if (request.visibility == Visibility::kOwnRecords) {
    params.push_back(request.caller.to_string());
    sql += " AND (client_id = $3 OR provider_id = $3)";
  }
  if (request.client) {
    params.push_back(request.client->to_string());
    sql += " AND provider_id = $" + std::to_string(params.size());
  }
  params.push_back(clamp_size(o.max_records_in_payload + 1));
  sql += " ORDER BY monitoring_ts, id LIMIT $" + std::to_string(params.size());

  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(sql, params));
  std::vector<StoredRecord> records;
  records.reserve(std::min(rows.size(), o.max_records_in_payload + 1));
  for (const auto& row : rows) {
    HANSA_ASSIGN_OR_RETURN(auto r, read_row(row));
    records.push_back(std::move(r));
  }
  if (records.size() > o.max_records_in_payload) {
    // More than fit: end the answer before the second of the first record left out, so the next
    // query (recordsFrom = that second) misses nothing. When a single second holds more records
    // than fit, the rest of that second is skipped (as X-Road does).
    const std::int64_t cut_ts = records[o.max_records_in_payload].monitoring_ts;
    records.resize(o.max_records_in_payload);
    while (!records.empty() && records.back().monitoring_ts == cut_ts) {
      records.pop_back();
    }
    if (records.empty()) {
      for (const auto& row : rows) {
        if (records.size() == o.max_records_in_payload) {
          break;
        }
        HANSA_ASSIGN_OR_RETURN(auto r, read_row(row));
        records.push_back(std::move(r));
      }
      next = cut_ts + 1;
    } else {
      next = cut_ts;
    }
  }
  Json list = Json::array();
  for (const auto& r : records) {
    list.push_back(filtered(record_object(r, o), request.output_fields));
  }
  OperationalDataResponse out;
  out.records_count = records.size();
  out.payload_json =
      Json{{"records", std::move(list)}}.dump(-1, ' ', false, Json::error_handler_t::replace);
  out.next_records_from = next;
  return out;
}

}  // namespace hansa::opmonitor
