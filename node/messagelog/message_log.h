#pragma once

// The node's message log (reference sections 4 and 8; X-Road's messagelog add-on): every request
// and response the proxies handle is stored in the node database (migration component
// "node_messagelog", SQLite and PostgreSQL), time-stamped in batches (RFC 3161, hash chain over
// the records' signatures), packed into ASiC-E containers inside linked zip archives, and deleted
// after retention once archived.
//
// Group commit: append() prepares the record on the caller's thread (signature hash, column
// values). When no commit runs, the caller commits its record itself; otherwise it queues, and
// the commit running hands its turn to the first queued caller, which stores everything queued in
// one transaction (one bulk insert: binary COPY on PostgreSQL, a prepared INSERT per record on
// SQLite) and then releases each of those callers. There is no writer thread and no fixed delay.
// With commit_writers > 1 (PostgreSQL's default: 2) that many commits run at once, one taking
// the next batch while another waits for its flush, so record ids are not committed in id order.
// The queue is bounded (append() waits for room up to enqueue_timeout, then fails with
// LoggingFailed). A record is stored whole or not at all, and a caller is answered ok only after
// its transaction committed.
//
// Time-stamping: each record's id is queued in mlog_unstamped, in the transaction that stores it.
// A worker stamps up to timestamp_batch queued records every timestamp_interval (one record: the
// single layout, a SignatureTimeStamp over the SignatureValue; several: the batch layout, a ts hash
// chain over H(signatures.xml) and META-INF/timestamp.tst), trying each TSA of the TsaSource in
// turn. A batch time-stamp stores the digests it covers once; each record's ts hash chain is
// written from them when its container is built (export or archive). In time-stamp-immediately mode
// each group commit stamps its batch before storing it, and append() fails with TimestampingFailed
// when no TSA answers. When stamping has failed for longer than acceptable_failure_period,
// check_usable() and append() fail with TimestampingFailed until a batch succeeds.
//
// Archiving: time-stamped records (queued in mlog_unarchived as they are linked to their
// time-stamp) go into containers (core/asic) and archives of at most
// archive_max_bytes named `mlog[-group]-<first>-<last>-<16 hex of the last link>.zip`, linked to
// the group's previous archive (last digest kept in table mlog_last_archive). Crash safety: an
// archive is announced in mlog_archive_pending, written to a temporary file, fsynced and renamed;
// one transaction then takes its records out of the queue, stores the new last digest and drops the
// announcement. After a crash in between, create() finds the announced file and completes the
// step from it (or forgets the announcement when no complete file exists), so no link is lost or
// duplicated; an archiving pass does the same for announcements older than ten minutes (several
// instances sharing one database: the one announced first archives the group, the other skips).
//
// Threading: thread-safe; every public function may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors/errors.h"
#include "node/messagelog/record.h"

namespace hansa::db {
class Database;
}

namespace hansa::messagelog {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// What is stored of a message body.
enum class BodyLogging : std::uint8_t {
  kFull,          // message and attachments / REST body (verifiable)
  kMetadataOnly,  // ids, signature, hash chains; no SOAP message, no attachments (not verifiable)
};

// What happens to a record whose message plus attachments exceed max_body_bytes.
enum class OversizePolicy : std::uint8_t {
  kRefuse,        // append() fails with LoggingFailed: the call is refused
  kMetadataOnly,  // stored metadata-only, marked "oversize" (body_mode)
};

// How archives are split into independently linked chains (X-Road's archive-grouping).
enum class ArchiveGrouping : std::uint8_t { kNone, kMember, kSubsystem };

// How a stored record's body was logged.
enum class BodyMode : std::uint8_t {
  kFull = 0,
  kMetadataPolicy = 1,    // metadata only by the client's body-logging policy
  kMetadataOversize = 2,  // metadata only because the body exceeded max_body_bytes
};

// "full" / "metadata" / "oversize".
[[nodiscard]] std::string_view body_mode_name(BodyMode mode) noexcept;

// A TSA to try: its URL and the certificates that may sign its tokens (DER or PEM).
struct TsaTarget {
  std::string url;
  std::vector<std::string> certs;
};
// Returns the TSAs to try, in order (e.g. the approved TSAs of the current global configuration).
// Called from the time-stamping thread; must be thread-safe.
using TsaSource = std::function<std::vector<TsaTarget>()>;

struct MessageLogOptions {
  // --- Body logging ---
  BodyLogging body_logging = BodyLogging::kFull;
  // Per-client overrides, keyed by the client identifier string
  // ("SUBSYSTEM:DEV/COM/1234/Client" or "MEMBER:DEV/COM/1234").
  std::map<std::string, BodyLogging, std::less<>> client_body_logging;
  // Largest message + attachments stored in full; larger bodies follow oversize_policy.
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  OversizePolicy oversize_policy = OversizePolicy::kRefuse;

  // --- Group commit ---
  // Records waiting for a commit; append() blocks while the queue is full.
  std::size_t max_queue = 20'000;
  // Most records stored by one transaction.
  std::size_t max_commit_batch = 2'000;
  // Commits running at once, each on its own pooled connection (0 = 2 on PostgreSQL, 1 on
  // SQLite, where a second commit would only queue for the database's one write lock, and 1
  // with a pool of fewer than 3 connections). Must be below the pool size (InvalidConfiguration).
  std::size_t commit_writers = 0;
  // How long append() waits for room in a full queue (then LoggingFailed).
  std::chrono::milliseconds enqueue_timeout{10'000};
  // After a failed commit, the next one waits this long (a restarting database).
  std::chrono::milliseconds retry_delay{200};
  // Called after each group commit, on the thread that committed (keep it cheap; metrics):
  // how long the batch took (transaction begin to commit; in time-stamp-immediately mode with
  // its time-stamp), how many records it held, and whether it committed.
  std::function<void(std::chrono::nanoseconds, std::size_t, bool)> on_commit;

  // --- Time-stamping ---
  // Called after each time-stamp token is stored with its records (a pass's batch, or a group
  // commit in time-stamp-immediately mode), on that thread (keep it cheap; metrics): how many
  // records this process linked to the token.
  std::function<void(std::size_t)> on_timestamp;
  std::chrono::milliseconds timestamp_interval{60'000};
  std::size_t timestamp_batch = 10'000;  // X-Road: at most 10000 records a batch
  bool timestamp_immediately = false;
  // How long stamping may fail before message exchange stops (X-Road: 14400 s); 0 = never stop.
  std::chrono::milliseconds acceptable_failure_period{14'400'000};
  // TSA connect / read bounds.
  std::chrono::milliseconds tsa_connect_timeout{5'000};
  std::chrono::milliseconds tsa_read_timeout{20'000};

  // --- Archiving ---
  // Where archives go; empty disables archiving.
  std::filesystem::path archive_dir;
  std::chrono::milliseconds archive_interval{6 * 3'600'000};
  std::size_t archive_max_bytes = 32 * 1024 * 1024;  // rotate at (X-Road: 33554432)
  ArchiveGrouping archive_grouping = ArchiveGrouping::kNone;
  // Whose archive chain a record joins: the record's client when this is unset or returns true
  // for it (the client side), otherwise the service provider (the serving side), as X-Road groups
  // by the node's own member. Called from append().
  std::function<bool(const ids::ClientId&)> is_local_client;
  // Run through /bin/sh -c after each archiving pass that wrote files (empty: none). The archive
  // directory is passed in HANSA_ARCHIVE_DIR, the new files (space-separated) in
  // HANSA_ARCHIVE_FILES.
  std::string archive_transfer_command;
  // Records read per archiving round trip.
  std::size_t archive_read_batch = 2'000;

  // --- Retention ---
  // Archived records older than this are deleted (X-Road: 30 days).
  std::chrono::hours retention{24 * 30};
  std::chrono::milliseconds cleanup_interval{12 * 3'600'000};

  // --- Queries (auditor API) ---
  std::size_t max_page_size = 1'000;
  // Largest time range one search may span.
  std::chrono::hours max_query_range{24 * 366};
  // Most containers one /asic answer holds.
  std::size_t max_asic_records = 100;

  // Testing: called after an archive file is in place and before its records are marked; false
  // abandons the step as a crash there would (the next create() recovers it).
  std::function<bool(const std::filesystem::path&)> archive_written_hook;
};

// A stored record as listed to auditors (no bodies).
struct RecordInfo {
  std::int64_t id = 0;
  std::string query_id;
  std::string x_request_id;
  std::string client;   // identifier string
  std::string service;  // identifier string
  bool response = false;
  bool rest = false;
  BodyMode body_mode = BodyMode::kFull;
  std::int64_t body_bytes = 0;  // message + attachments as received
  TimePoint time;
  std::optional<std::int64_t> timestamp_id;
  bool archived = false;
};

// A search. Every filter is optional; from/to bound `time` (from inclusive, to exclusive).
struct RecordQuery {
  std::optional<std::string> query_id;
  std::optional<std::string> client;   // exact identifier string
  std::optional<std::string> service;  // exact identifier string
  std::optional<bool> response;
  std::optional<TimePoint> from;
  std::optional<TimePoint> to;
  std::size_t limit = 100;
  std::int64_t after_id = 0;  // paging: the last record of the previous page (0: none)
};

// Time-stamper state for the admin API and metrics.
struct TimestamperStatus {
  std::optional<TimePoint> last_success;
  std::optional<TimePoint> last_failure;
  std::string last_error;
  std::optional<TimePoint> failing_since;  // start of the current failure streak
  bool blocking = false;                   // check_usable() fails now
  std::int64_t backlog = 0;                // records without a time-stamp
  std::int64_t unarchived = 0;             // time-stamped records not archived yet
};

// One archiving pass.
struct ArchiveOutcome {
  std::vector<std::filesystem::path> files;
  std::size_t records = 0;
};

// Counters for tests and metrics.
struct MessageLogStats {
  std::uint64_t records = 0;       // stored by this process
  std::uint64_t transactions = 0;  // group commits that succeeded
  std::uint64_t failed_commits = 0;
  std::uint64_t timestamp_batches = 0;    // time-stamp tokens stored with their records
  std::uint64_t timestamped_records = 0;  // records this process linked to those tokens
};

class MessageLog final : public MessageLogWriter {
 public:
  // Applies the migrations and recovers an interrupted archiving step.
  // `db` must outlive the log. The background workers start with start(). Fails with
  // InvalidConfiguration (bad options), DatabaseError, IoError.
  [[nodiscard]] static Result<std::unique_ptr<MessageLog>> create(
      db::Database& db, MessageLogOptions options, TsaSource tsas,
      std::function<TimePoint()> clock = {});

  ~MessageLog() override;
  MessageLog(const MessageLog&) = delete;
  MessageLog& operator=(const MessageLog&) = delete;

  // MessageLogWriter: stores `record` (group commit) and returns once it is durable. LoggingFailed
  // (database error, queue full for enqueue_timeout, body too large under kRefuse, the log
  // stopped), TimestampingFailed (past the failure period; or, time-stamp-immediately, no TSA).
  [[nodiscard]] Status append(LogRecord record) override;
  [[nodiscard]] Status check_usable() const override;

  // Starts the time-stamping, archiving and cleanup workers (idempotent).
  void start();
  // Stops the workers, then the group commit: records already queued are still committed (stop()
  // returns once they are); appends waiting for queue space or made after stop() fail with
  // LoggingFailed. Idempotent.
  void stop();

  // One time-stamping pass now (up to timestamp_batch records); returns how many were stamped.
  // TimestampingFailed when no TSA answered.
  [[nodiscard]] Result<std::size_t> timestamp_now();
  // Wakes the time-stamping worker.
  void trigger_timestamping();
  // Archives every time-stamped record not yet archived. InvalidConfiguration without archive_dir.
  [[nodiscard]] Result<ArchiveOutcome> archive_now();
  // Deletes archived records older than the retention period; returns how many.
  [[nodiscard]] Result<std::int64_t> cleanup_now();

  // Searches records, oldest first by time and then id; with after_id, the page after that
  // record. InvalidRequest for a limit above max_page_size, a range longer than
  // max_query_range, an inverted range or an after_id no longer in the log.
  [[nodiscard]] Result<std::vector<RecordInfo>> find(const RecordQuery& query) const;
  // Record `id` (NotFound).
  [[nodiscard]] Result<RecordInfo> record(std::int64_t id) const;
  // The ASiC-E container of record `id`. NotFound; AsicContainerNotFound when it is not
  // time-stamped yet.
  [[nodiscard]] Result<std::string> container(std::int64_t id) const;
  // X-Road's /asic: records with `query_id` of `client` (requests and/or responses); with
  // `force`, stamps the missing time-stamps first. Returns (record, container) pairs.
  struct AsicRecord {
    RecordInfo info;
    std::string container;
  };
  [[nodiscard]] Result<std::vector<AsicRecord>> asic_records(std::string_view query_id,
                                                             std::string_view client,
                                                             std::optional<bool> response,
                                                             bool force);
  [[nodiscard]] Result<TimestamperStatus> timestamper_status() const;
  [[nodiscard]] MessageLogStats stats() const;
  [[nodiscard]] const MessageLogOptions& options() const noexcept;

  struct Impl;

 private:
  explicit MessageLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The container file name of a record in an archive: "<queryId>-<request|response>-<id>.asice"
// (query id with characters outside [A-Za-z0-9._-] replaced by '_').
[[nodiscard]] std::string container_name(std::string_view query_id, bool response, std::int64_t id);

}  // namespace hansa::messagelog
