#include "node/messagelog/message_log.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/asic/asic.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/parse_memo.h"
#include "core/db/database.h"
#include "core/db/migrate.h"
#include "core/hashchain/hashchain.h"
#include "core/signature/signature.h"
#include "core/timestamp/batch.h"
#include "core/timestamp/client.h"
#include "node/messagelog/find_query.h"
#include "node/messagelog/schema.h"

namespace hansa::messagelog {
namespace {

using std::chrono::milliseconds;
constexpr auto kSha512 = crypto::DigestAlgorithm::kSha512;

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_ms(std::int64_t ms) { return TimePoint(milliseconds(ms)); }

// Attachments in one column: per part an 8-byte big-endian length, then the bytes.
std::string encode_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    std::uint64_t n = p.size();
    for (int i = 7; i >= 0; --i) {
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    out += p;
  }
  return out;
}

Result<std::vector<std::string>> decode_parts(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty()) {
    if (data.size() < 8) {
      return Error(FaultCode::kDatabaseError, "stored attachments are truncated");
    }
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) {
      n = (n << 8) | static_cast<unsigned char>(data[i]);
    }
    data.remove_prefix(8);
    if (n > data.size()) {
      return Error(FaultCode::kDatabaseError, "stored attachments are truncated");
    }
    out.emplace_back(data.substr(0, n));
    data.remove_prefix(n);
  }
  return out;
}

std::string file_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out[0] == '.') {
    out.insert(out.begin(), '_');
  }
  return out;
}

// yyyyMMddHHmmss in UTC, as X-Road's archive names.
std::string compact_time(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

// A container for a record whose body was not logged: verification fails on it (as X-Road's).
std::string not_logged_message(BodyMode mode) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hansa:bodyNotLogged "
         "xmlns:hansa=\"urn:hansa:messagelog\" reason=\"" +
         std::string(body_mode_name(mode)) + "\"/>\n";
}

Status write_file_durably(const std::filesystem::path& dir, const std::string& name,
                          const std::string& data) {
  std::filesystem::path tmp = dir / ("." + name + ".tmp");
  std::filesystem::path final_path = dir / name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error(FaultCode::kIoError, "cannot create archive file", tmp.string());
  }
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(FaultCode::kIoError, "cannot write archive file", tmp.string());
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error(FaultCode::kIoError, "cannot sync archive file", tmp.string());
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error(FaultCode::kIoError, "cannot rename archive file", final_path.string());
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

Result<std::string> read_whole(const std::filesystem::path& p, std::size_t max) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot read file", p.string());
  }
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max) {
      return Error(FaultCode::kLimitExceeded, "file too large", p.string());
    }
  }
  return data;
}

// The record id at the end of a container name "<q>-<kind>-<id>.asice".
std::optional<std::int64_t> id_of_container_name(std::string_view name) {
  constexpr std::string_view kExt = ".asice";
  if (!name.ends_with(kExt)) {
    return std::nullopt;
  }
  name.remove_suffix(kExt.size());
  std::size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == name.size()) {
    return std::nullopt;
  }
  std::int64_t id = 0;
  for (char c : name.substr(dash + 1)) {
    if (c < '0' || c > '9' || id > (INT64_MAX - 9) / 10) {
      return std::nullopt;
    }
    id = id * 10 + (c - '0');
  }
  return id;
}

// The columns a new record fills, in PreparedRecord::values order. `id` (first) is NULL for SQLite
// to assign and taken from the sequence on PostgreSQL (see insert_records()). `signature` stays
// empty: the signature is stored once in mlog_signature, and signature_id (last) is set at commit.
// `hash_chain_result` stays NULL: a batch's result is stored with its signature (schema version 6).
constexpr std::size_t kRecordColumnCount = 19;
constexpr std::array<std::string_view, kRecordColumnCount> kRecordColumns = {
    "id",
    "time_ms",
    "query_id",
    "x_request_id",
    "client_id",
    "service_id",
    "group_member",
    "group_subsystem",
    "response",
    "rest",
    "body_mode",
    "body_bytes",
    "message",
    "attachments",
    "signature",
    "signature_hash",
    "hash_chain_result",
    "hash_chain",
    "signature_id",
};
constexpr std::size_t kIdColumn = 0;
constexpr std::size_t kTimeColumn = 1;
constexpr std::size_t kSignatureIdColumn = kRecordColumnCount - 1;

// A record's signature: its own (schema version 3 and before) or the shared one.
constexpr std::string_view kSignatureColumn = "COALESCE(g.signature, r.signature)";
constexpr std::string_view kSignatureJoin = " LEFT JOIN mlog_signature g ON g.id = r.signature_id";

// A signature is kept this long after the retention period while no record refers to it (see
// SignatureCache).
constexpr auto kSignatureGrace = std::chrono::hours(1);

// Records linked to their time-stamp per transaction (see timestamp_pass()).
constexpr std::size_t kLinksPerTransaction = 500;

// A record's time-stamp link (mlog_record_ts, see schema.cc): since schema version 6 the
// record's place among its time-stamp's inputs instead of its hash chain, which is written again
// from the time-stamp's inputs when a container is built (TimestampTrees).
constexpr std::array<std::string_view, 3> kTsColumns = {"record_id", "timestamp_id", "input_index"};

// RecordInfo's columns and where they come from. A record is archived once it is time-stamped
// and no longer waits in mlog_unarchived.
constexpr std::string_view kInfoColumns =
    "r.id, r.query_id, r.x_request_id, r.client_id, r.service_id, r.response, r.rest, "
    "r.body_mode, r.body_bytes, r.time_ms, s.timestamp_id, "
    "CASE WHEN s.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mlog_unarchived a "
    "WHERE a.record_id = r.id) THEN 1 ELSE 0 END";
constexpr std::string_view kInfoFrom =
    " FROM mlog_record r LEFT JOIN mlog_record_ts s ON s.record_id = r.id";

Result<RecordInfo> info_from_row(const db::Row& row) {
  RecordInfo r;
  HANSA_ASSIGN_OR_RETURN(r.id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(r.query_id, row.text(1));
  HANSA_ASSIGN_OR_RETURN(r.x_request_id, row.text(2));
  HANSA_ASSIGN_OR_RETURN(r.client, row.text(3));
  HANSA_ASSIGN_OR_RETURN(r.service, row.text(4));
  HANSA_ASSIGN_OR_RETURN(r.response, row.boolean(5));
  HANSA_ASSIGN_OR_RETURN(r.rest, row.boolean(6));
  HANSA_ASSIGN_OR_RETURN(auto mode, row.int64(7));
  r.body_mode = static_cast<BodyMode>(std::clamp<std::int64_t>(mode, 0, 2));
  HANSA_ASSIGN_OR_RETURN(r.body_bytes, row.int64(8));
  HANSA_ASSIGN_OR_RETURN(auto t, row.int64(9));
  r.time = from_ms(t);
  HANSA_ASSIGN_OR_RETURN(r.timestamp_id, row.optional_int64(10));
  HANSA_ASSIGN_OR_RETURN(r.archived, row.boolean(11));
  return r;
}

Error logging_failed(const Error& e) {
  Error out(FaultCode::kLoggingFailed, "the message log could not store the record", e.to_string());
  return out;
}

}  // namespace

std::string_view body_mode_name(BodyMode mode) noexcept {
  switch (mode) {
    case BodyMode::kFull:
      return "full";
    case BodyMode::kMetadataPolicy:
      return "metadata";
    case BodyMode::kMetadataOversize:
      return "oversize";
  }
  return "full";
}

std::string container_name(std::string_view query_id, bool response, std::int64_t id) {
  std::string q = file_safe(query_id.substr(0, 128));
  return q + (response ? "-response-" : "-request-") + std::to_string(id) + ".asice";
}

// A record ready for the INSERT.
struct PreparedRecord {
  std::vector<db::Value> values;  // kRecordColumnCount
  std::string signature;          // stored in mlog_signature unless already there
  std::string signature_hash;     // SHA-512 of `signature`
  std::string hash_chain_result;  // the batch's; stored with the signature (empty: none)
};

// The mlog_signature ids of signatures this process stored or referred to in the last few
// seconds, by their SHA-512: the other records of a batch (appended around the same time, often
// in another commit) refer to the stored row instead of storing it again.
//
// Only committed rows enter the cache. A cached row is safe to refer to: the cleanup pass deletes
// a signature only when no record refers to it and it is older than the retention period plus
// kSignatureGrace, and the record whose commit put it in the cache is at most kMaxAge old. Two
// writers (or instances) storing the same signature at once each store a row: no lock is taken,
// and the duplicate costs space only.
//
// Threading: internally locked.
class SignatureCache {
 public:
  std::optional<std::int64_t> find(const std::string& hash) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(hash);
    if (it == entries_.end() || std::chrono::steady_clock::now() - it->second.added > kMaxAge) {
      return std::nullopt;
    }
    return it->second.id;
  }
  void add(const std::string& hash, std::int64_t id) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries && !entries_.contains(hash)) {
      std::erase_if(entries_, [&](const auto& e) { return now - e.second.added > kMaxAge; });
      if (entries_.size() >= kMaxEntries) {
        entries_.clear();
      }
    }
    entries_[hash] = Entry{id, now};
  }

 private:
  static constexpr auto kMaxAge = std::chrono::seconds(10);
  static constexpr std::size_t kMaxEntries = 4096;
  struct Entry {
    std::int64_t id = 0;
    std::chrono::steady_clock::time_point added;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// The records of a signing batch carry the same signatures.xml (about 7 KB), and hashing it costs
// about 20 us on a slow core: the log remembers the SHA-512 of the signatures appended last, by
// their exact bytes (crypto::ParseMemo, as for certificates), so a batch's later records take the
// hash from there. A hit needs byte-for-byte equal signatures, whatever a peer sends.
constexpr std::size_t kSignatureDigestsKept = 64;
constexpr std::size_t kMaxRememberedSignatureBytes = 64 * 1024;

// A caller waiting for its record. `done` is set once: with the record's outcome, or with
// nullopt when the caller is handed the commit turn (its record then leaves the queue with it).
struct Pending {
  PreparedRecord record;
  std::promise<std::optional<Status>> done;
};

// The time-stamp of a batch, before it is stored.
struct StampedBatch {
  std::string token;
  std::string result_xml;  // empty: single layout
  std::string inputs;      // the inputs' SHA-512 digests, concatenated; empty: single layout
  std::string tsa_url;
};

namespace {

// The most records one time-stamp covers: a pass takes at most timestamp_batch (10,000), a commit
// in time-stamp-immediately mode at most max_commit_batch.
constexpr std::size_t kMaxCommitBatch = 100'000;

// PostgreSQL: ids drawn from each sequence at a time, ahead of the commits that use them.
constexpr std::size_t kIdReserve = 1'024;

// The hash-chain options of the message log's time-stamp batches; a record's chain is written
// from its time-stamp's inputs with these, as at stamping.
const timestamp::BatchOptions& timestamp_batch_options() {
  static const timestamp::BatchOptions kOptions = [] {
    timestamp::BatchOptions o;
    o.chain.max_inputs = kMaxCommitBatch;
    o.chains = false;
    return o;
  }();
  return kOptions;
}

// Appends the kTsColumns row that links record `id`, input `i` of `stamped`, to its time-stamp:
// its place among the inputs, or NULL when the time-stamp covers that record alone.
void add_link(std::vector<db::Value>& links, std::int64_t id, std::int64_t ts_id,
              const StampedBatch& stamped, std::size_t i) {
  links.emplace_back(id);
  links.emplace_back(ts_id);
  links.push_back(stamped.inputs.empty() ? db::Value() : db::Value(static_cast<std::int64_t>(i)));
}

// Time-stamp hash trees rebuilt from mlog_timestamp.inputs, to write the chains of records
// linked by their place (schema version 6). An archiving pass reads a batch's records one after
// another, so the last few trees are kept; a tree of 10,000 inputs holds about 2 MB.
class TimestampTrees {
 public:
  // Sets `chain` to the hash chain of input `index` of time-stamp `ts_id`.
  Status chain(db::Transaction& tx, std::int64_t ts_id, std::int64_t index,
               std::optional<std::string>& chain) {
    const hashchain::Tree* tree = nullptr;
    for (const auto& [id, t] : trees_) {
      if (id == ts_id) {
        tree = &t;
        break;
      }
    }
    if (tree == nullptr) {
      HANSA_ASSIGN_OR_RETURN(
          auto row, tx.query_one("SELECT inputs FROM mlog_timestamp WHERE id = $1", {ts_id}));
      if (!row) {
        return Error(FaultCode::kDatabaseError, "the record's time-stamp is missing",
                     std::to_string(ts_id));
      }
      HANSA_ASSIGN_OR_RETURN(auto inputs, row->optional_blob(0));
      const std::size_t size = crypto::digest_size(kSha512);
      if (!inputs || inputs->empty() || inputs->size() % size != 0 ||
          inputs->size() / size > timestamp_batch_options().chain.max_inputs) {
        return Error(FaultCode::kDatabaseError, "the time-stamp's inputs are missing or damaged",
                     std::to_string(ts_id));
      }
      std::vector<hashchain::ChainInput> leaves;
      leaves.reserve(inputs->size() / size);
      for (std::size_t at = 0; at < inputs->size(); at += size) {
        leaves.push_back({inputs->substr(at, size), {}});
      }
      HANSA_ASSIGN_OR_RETURN(
          auto built, hashchain::Tree::build(std::move(leaves), timestamp_batch_options().chain));
      if (trees_.size() == kKept) {
        trees_.pop_front();
      }
      trees_.emplace_back(ts_id, std::move(built));
      tree = &trees_.back().second;
    }
    if (index < 0 || static_cast<std::size_t>(index) >= tree->size()) {
      return Error(FaultCode::kDatabaseError,
                   "the record's place in its time-stamp is out of range",
                   std::to_string(ts_id) + ":" + std::to_string(index));
    }
    HANSA_ASSIGN_OR_RETURN(chain, tree->chain_xml(static_cast<std::size_t>(index)));
    return ok_status();
  }

 private:
  static constexpr std::size_t kKept = 4;
  std::deque<std::pair<std::int64_t, hashchain::Tree>> trees_;
};

// Deletes the queue rows (mlog_unstamped, mlog_unarchived) of `ids` in statements of 64, 16, 4 or
// 1 ids (few statement shapes, each prepared once per connection) and returns the ids whose rows
// were there: one round trip per 64 records instead of one per record.
Result<std::unordered_set<std::int64_t>> dequeue(db::Transaction& tx, std::string_view table,
                                                 std::span<const std::int64_t> ids) {
  std::unordered_set<std::int64_t> taken;
  std::size_t i = 0;
  while (i < ids.size()) {
    std::size_t n = std::min<std::size_t>(64, ids.size() - i);
    if (n != 64 && n >= 16) {
      n = 16;
    } else if (n < 16 && n >= 4) {
      n = 4;
    } else if (n < 4) {
      n = 1;
    }
    std::string sql = "DELETE FROM " + std::string(table) + " WHERE record_id IN (";
    std::vector<db::Value> params;
    params.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      sql += (k == 0 ? "$" : ",$") + std::to_string(k + 1);
      params.emplace_back(ids[i + k]);
    }
    sql += ") RETURNING record_id";
    HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(sql, params));
    for (const auto& row : rows) {
      HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
      taken.insert(id);
    }
    i += n;
  }
  return taken;
}

// Queues the records `ids` for the archive (mlog_unarchived).
Status queue_for_archive(db::Transaction& tx, std::span<const std::int64_t> ids) {
  if (ids.empty()) {
    return ok_status();
  }
  static constexpr std::array<std::string_view, 1> kColumns = {"record_id"};
  std::vector<db::Value> rows(ids.begin(), ids.end());
  HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_unarchived", kColumns, rows));
  (void)n;
  return ok_status();
}

}  // namespace

struct MessageLog::Impl {
  db::Database* db = nullptr;
  MessageLogOptions options;
  TsaSource tsas;
  std::function<TimePoint()> clock;

  // Group commit: callers take turns committing (see append()).
  std::mutex queue_mu;
  std::condition_variable space_cv;  // appenders: room
  std::condition_variable retry_cv;  // a turn waiting out retry_delay: stop() ends the wait
  std::condition_variable idle_cv;   // stop(): no turn taken and nothing queued
  std::deque<Pending*> queue;        // callers waiting for a turn's commit
  std::size_t max_turns = 1;         // commits at once (commit_writers)
  std::size_t turns = 0;             // turns taken; queue not empty => turns == max_turns
  std::optional<std::chrono::steady_clock::time_point> retry_after;  // after a failed commit
  bool appends_stopped = false;

  // Time-stamper state.
  mutable std::mutex status_mu;
  std::optional<TimePoint> last_success;
  std::optional<TimePoint> last_failure;
  std::string last_error;
  std::optional<TimePoint> failing_since;

  // Workers.
  std::mutex worker_mu;
  std::condition_variable worker_cv;
  bool workers_running = false;
  bool workers_stopping = false;
  bool timestamp_wakeup = false;
  std::vector<std::thread> workers;

  std::mutex stamp_mu;    // one time-stamping pass at a time
  std::mutex archive_mu;  // one archiving pass at a time

  SignatureCache signatures;
  crypto::ParseMemo<std::string> signature_digests{kSignatureDigestsKept};

  // PostgreSQL: ids drawn from the sequences ahead of the commits that use them (new_ids()).
  std::mutex id_mu;
  std::deque<std::int64_t> spare_signature_ids;
  std::deque<std::int64_t> spare_record_ids;

  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> failed_commits{0};
  std::atomic<std::uint64_t> timestamp_batches{0};
  std::atomic<std::uint64_t> timestamped_records{0};

  TimePoint now() const { return clock ? clock() : Clock::now(); }

  // A time-stamp token is stored, with `linked` records of this process linked to it.
  void note_token_stored(std::size_t linked) {
    timestamp_batches.fetch_add(1);
    timestamped_records.fetch_add(linked);
    if (options.on_timestamp) {
      options.on_timestamp(linked);
    }
  }

  // ---------------- append ----------------

  // SHA-512 of `signature`, from signature_digests when it was appended lately.
  std::string signature_sha512(const std::string& signature) {
    const bool remember = !signature.empty() && signature.size() <= kMaxRememberedSignatureBytes;
    if (remember) {
      if (auto known = signature_digests.find(signature)) {
        return *known;
      }
    }
    // One digester per appending thread: crypto::digest() looks the algorithm up on every call.
    thread_local crypto::Digester digester(kSha512);
    digester.update(signature);
    std::string digest = digester.finish();
    if (remember) {
      signature_digests.insert(signature, std::make_shared<const std::string>(digest));
    }
    return digest;
  }

  Result<PreparedRecord> prepare(LogRecord& r) {
    PreparedRecord p;
    std::size_t body = r.message.size();
    for (const auto& a : r.attachments) {
      body += a.size();
    }
    std::string client = r.client.to_string();
    BodyLogging policy = options.body_logging;
    if (auto it = options.client_body_logging.find(client);
        it != options.client_body_logging.end()) {
      policy = it->second;
    }
    BodyMode mode = policy == BodyLogging::kFull ? BodyMode::kFull : BodyMode::kMetadataPolicy;
    if (mode == BodyMode::kFull && body > options.max_body_bytes) {
      if (options.oversize_policy == OversizePolicy::kRefuse) {
        return Error(FaultCode::kLoggingFailed,
                     "the message is larger than the message log's maximum body size",
                     std::to_string(body) + " > " + std::to_string(options.max_body_bytes));
      }
      mode = BodyMode::kMetadataOversize;
    }
    std::optional<std::string> message;
    std::optional<std::string> attachments;
    if (mode == BodyMode::kFull) {
      message = std::move(r.message);
      attachments = encode_parts(r.attachments);
    } else if (r.rest) {
      // The REST head holds no payload; the body (the attachment) is left out.
      message = std::move(r.message);
    }
    bool local = !options.is_local_client || options.is_local_client(r.client);
    const ids::ClientId& owner = local ? r.client : r.service.provider();
    p.signature_hash = signature_sha512(r.signature);
    p.signature = std::move(r.signature);
    TimePoint t = r.time.time_since_epoch().count() == 0 ? now() : r.time;
    // Built by moving (an initializer list would copy every body and signature once more).
    auto blob_or_null = [](std::string&& bytes) {
      return bytes.empty() ? db::Value() : db::Value::blob(std::move(bytes));
    };
    p.values.reserve(kRecordColumnCount);
    p.values.emplace_back();  // id, see insert_records()
    p.values.emplace_back(to_ms(t));
    p.values.emplace_back(std::move(r.query_id));
    p.values.emplace_back(std::move(r.x_request_id));
    p.values.emplace_back(std::move(client));
    p.values.emplace_back(r.service.to_string());
    p.values.emplace_back(owner.member().to_string());
    p.values.emplace_back(owner.to_string());
    p.values.emplace_back(r.response ? 1 : 0);
    p.values.emplace_back(r.rest ? 1 : 0);
    p.values.emplace_back(static_cast<int>(mode));
    p.values.emplace_back(static_cast<std::int64_t>(body));
    p.values.push_back(message ? db::Value::blob(std::move(*message)) : db::Value());
    p.values.push_back(attachments ? db::Value::blob(std::move(*attachments)) : db::Value());
    p.values.push_back(db::Value::blob(std::string()));
    p.values.push_back(db::Value::blob(p.signature_hash));
    p.hash_chain_result = std::move(r.hash_chain_result);
    p.values.emplace_back();  // hash_chain_result, stored with the signature
    p.values.push_back(blob_or_null(std::move(r.hash_chain)));
    p.values.emplace_back();  // signature_id, set by store_signatures()
    HANSA_CHECK(p.values.size() == kRecordColumnCount);
    return p;
  }

  // Group commit by turns, without a writer thread: a caller that finds fewer than max_turns
  // commits running takes a turn and commits its own record with those queued (up to
  // max_commit_batch); others queue. A turn releases its batch's callers and hands itself to the
  // first caller still queued, or ends when none is. At low load a caller commits its own record
  // without waking another thread, and under load each commit wakes only the callers it serves.
  Status append(LogRecord record) {
    if (!options.timestamp_immediately) {
      HANSA_RETURN_IF_ERROR(check_usable());
    }
    HANSA_ASSIGN_OR_RETURN(PreparedRecord prepared, prepare(record));
    Pending pending{std::move(prepared), {}};
    {
      std::unique_lock lock(queue_mu);
      if (!space_cv.wait_for(lock, options.enqueue_timeout,
                             [&] { return appends_stopped || queue.size() < options.max_queue; })) {
        return Error(FaultCode::kLoggingFailed, "the message log queue is full",
                     std::to_string(options.max_queue) + " records waiting");
      }
      if (appends_stopped) {
        return Error(FaultCode::kLoggingFailed, "the message log is stopped");
      }
      if (turns < max_turns) {
        ++turns;
      } else {
        std::future<std::optional<Status>> done = pending.done.get_future();
        queue.push_back(&pending);
        lock.unlock();
        if (std::optional<Status> outcome = done.get()) {
          return *outcome;
        }
        // Handed the turn by the previous commit.
      }
    }
    return commit_turn(pending);
  }

  // One turn: commits `self` with the records queued before it, answers their callers and hands
  // the turn on.
  Status commit_turn(Pending& self) {
    std::vector<Pending*> batch{&self};
    {
      std::unique_lock lock(queue_mu);
      if (retry_after) {
        // The last commit failed: give the database retry_delay before the next attempt.
        retry_cv.wait_until(lock, *retry_after, [&] { return appends_stopped; });
      }
      const std::size_t n = std::min(queue.size(), options.max_commit_batch - 1);
      batch.insert(batch.end(), queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (batch.size() > 1) {
      space_cv.notify_all();
    }
    const auto started = std::chrono::steady_clock::now();
    Status s = commit_batch(batch);
    if (options.on_commit) {
      options.on_commit(std::chrono::steady_clock::now() - started, batch.size(), s.ok());
    }
    if (s.ok()) {
      transactions.fetch_add(1);
      records.fetch_add(batch.size());
    } else {
      failed_commits.fetch_add(1);
    }
    Pending* next = nullptr;
    {
      std::lock_guard lock(queue_mu);
      if (s.ok()) {
        retry_after.reset();
      } else {
        retry_after = std::chrono::steady_clock::now() + options.retry_delay;
      }
      if (queue.empty()) {
        --turns;
        if (turns == 0) {
          idle_cv.notify_all();
        }
      } else {
        next = queue.front();  // keeps the turn
        queue.pop_front();
      }
    }
    // The next turn starts first, so that the next commit does not wait for this thread to wake
    // every caller of this one. The callers may return (and free their Pending) as soon as the
    // value is set: each promise is moved out first.
    if (next != nullptr) {
      std::promise<std::optional<Status>> done = std::move(next->done);
      done.set_value(std::nullopt);
    }
    for (std::size_t i = 1; i < batch.size(); ++i) {
      std::promise<std::optional<Status>> done = std::move(batch[i]->done);
      done.set_value(s);
    }
    if (next != nullptr) {
      space_cv.notify_all();
    }
    return s;
  }

  // New ids for `signatures` mlog_signature rows and `records` mlog_record rows. PostgreSQL: from
  // the tables' sequences (the rows then go in by binary COPY, which returns nothing; a parameter
  // would travel hex-encoded), drawn at least kIdReserve at a time into this log's reserve, both
  // in one round trip, so that most commits take theirs from the reserve without a round trip.
  // Ids of a commit that fails are not reused; a reserve left at exit leaves a gap, as sequences
  // do. Logs sharing the database draw disjoint ids: unique, but in each log's order of drawing,
  // not in the order of commits across logs (the time-stamp and archive passes take their queues
  // in id order, which decides only which records go first; searches page by time). Each
  // sequence is looked up once per statement, in a subquery (an InitPlan); called in the select
  // list, the catalog lookup ran for every row. SQLite: none, it assigns them as it inserts.
  struct NewIds {
    std::vector<std::int64_t> signatures;
    std::vector<std::int64_t> records;
  };
  Result<NewIds> new_ids(db::Transaction& tx, std::size_t signatures, std::size_t records) {
    NewIds ids;
    if (tx.backend() != db::Backend::kPostgres || signatures + records == 0) {
      return ids;
    }
    std::lock_guard lock(id_mu);
    // Ids to draw into `spare` so that it holds `need`: none, or at least kIdReserve.
    auto to_draw = [](const std::deque<std::int64_t>& spare, std::size_t need) -> std::size_t {
      return need > spare.size() ? std::max(need - spare.size(), kIdReserve) : 0;
    };
    const std::size_t draw_signatures = to_draw(spare_signature_ids, signatures);
    const std::size_t draw_records = to_draw(spare_record_ids, records);
    if (draw_signatures + draw_records > 0) {
      const std::size_t had_signatures = spare_signature_ids.size();
      const std::size_t had_records = spare_record_ids.size();
      HANSA_ASSIGN_OR_RETURN(
          auto rows,
          tx.execute("SELECT 0, nextval((SELECT pg_get_serial_sequence('mlog_signature', 'id')"
                     "::regclass)) FROM generate_series(1, $1) UNION ALL "
                     "SELECT 1, nextval((SELECT pg_get_serial_sequence('mlog_record', 'id')"
                     "::regclass)) FROM generate_series(1, $2)",
                     {static_cast<std::int64_t>(draw_signatures),
                      static_cast<std::int64_t>(draw_records)}));
      for (const auto& row : rows) {
        HANSA_ASSIGN_OR_RETURN(auto table, row.int64(0));
        HANSA_ASSIGN_OR_RETURN(auto id, row.int64(1));
        (table == 0 ? spare_signature_ids : spare_record_ids).push_back(id);
      }
      if (spare_signature_ids.size() - had_signatures != draw_signatures ||
          spare_record_ids.size() - had_records != draw_records) {
        return Error(FaultCode::kDatabaseError, "the id sequences gave too few ids");
      }
    }
    auto take = [](std::deque<std::int64_t>& spare, std::size_t n, std::vector<std::int64_t>& out) {
      out.assign(spare.begin(), spare.begin() + static_cast<std::ptrdiff_t>(n));
      spare.erase(spare.begin(), spare.begin() + static_cast<std::ptrdiff_t>(n));
    };
    take(spare_signature_ids, signatures, ids.signatures);
    take(spare_record_ids, records, ids.records);
    return ids;
  }

  static db::Value result_or_null(PreparedRecord& r) {
    return r.hash_chain_result.empty() ? db::Value()
                                       : db::Value::blob(std::move(r.hash_chain_result));
  }

  // A batch's signatures: a signature stored in the last seconds (the cache) is referred to,
  // others are stored once per batch.
  struct SignaturePlan {
    std::unordered_map<std::string_view, std::int64_t> ids;  // by hash; 0: to store
    std::vector<PreparedRecord*> fresh;  // the first record of each signature to store
  };
  SignaturePlan plan_signatures(const std::vector<PreparedRecord*>& recs) {
    SignaturePlan plan;
    for (PreparedRecord* r : recs) {
      if (plan.ids.contains(r->signature_hash)) {
        continue;
      }
      std::optional<std::int64_t> id = signatures.find(r->signature_hash);
      plan.ids.emplace(r->signature_hash, id.value_or(0));
      if (!id) {
        plan.fresh.push_back(r);
      }
    }
    return plan;
  }

  // Stores the plan's fresh signatures (PostgreSQL: under `ids`, from new_ids(); SQLite: `ids`
  // empty, the rows get theirs as they are inserted) and sets each record's signature_id. Returns
  // the rows referred to, for the cache once the transaction commits.
  static Result<std::vector<std::pair<std::string, std::int64_t>>> store_signatures(
      db::Transaction& tx, std::vector<PreparedRecord*>& recs, SignaturePlan& plan,
      const std::vector<std::int64_t>& ids) {
    std::unordered_map<std::string_view, std::int64_t>& batch = plan.ids;
    const std::vector<PreparedRecord*>& fresh = plan.fresh;
    if (!fresh.empty()) {
      std::vector<db::Value> rows;
      for (std::size_t i = 0; i < fresh.size(); ++i) {
        PreparedRecord* r = fresh[i];
        if (ids.empty()) {
          HANSA_ASSIGN_OR_RETURN(
              auto row,
              tx.query_one("INSERT INTO mlog_signature (time_ms, signature, hash_chain_result) "
                           "VALUES ($1, $2, $3) RETURNING id",
                           {r->values[kTimeColumn], db::Value::blob(std::move(r->signature)),
                            result_or_null(*r)}));
          if (!row) {
            return Error(FaultCode::kDatabaseError, "INSERT RETURNING gave no row");
          }
          HANSA_ASSIGN_OR_RETURN(batch[r->signature_hash], row->int64(0));
        } else {
          batch[r->signature_hash] = ids[i];
          rows.emplace_back(ids[i]);
          rows.push_back(r->values[kTimeColumn]);
          rows.push_back(db::Value::blob(std::move(r->signature)));
          rows.push_back(result_or_null(*r));
        }
      }
      if (!rows.empty()) {
        static constexpr std::array<std::string_view, 4> kColumns = {"id", "time_ms", "signature",
                                                                     "hash_chain_result"};
        HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_signature", kColumns, rows));
        (void)n;
      }
    }
    std::vector<std::pair<std::string, std::int64_t>> used;
    used.reserve(batch.size());
    for (const auto& [hash, id] : batch) {
      used.emplace_back(std::string(hash), id);
    }
    for (PreparedRecord* r : recs) {
      r->values[kSignatureIdColumn] = db::Value(batch.at(r->signature_hash));
    }
    return used;
  }

  // Stores the records with one bulk insert (PostgreSQL: binary COPY under `ids`, from new_ids();
  // SQLite: a prepared single-row INSERT per record, `ids` empty) and returns their ids in order.
  static Result<std::vector<std::int64_t>> insert_records(db::Transaction& tx,
                                                          std::vector<PreparedRecord*>& recs,
                                                          std::vector<std::int64_t> ids) {
    std::vector<db::Value> values;
    values.reserve(recs.size() * kRecordColumnCount);
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (!ids.empty()) {
        recs[i]->values[kIdColumn] = db::Value(ids[i]);
      }
      // Moved: a batch is stored once (a failed batch fails all its callers).
      for (auto& v : recs[i]->values) {
        values.push_back(std::move(v));
      }
    }
    HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_record", kRecordColumns, values));
    if (static_cast<std::size_t>(n) != recs.size()) {
      return Error(FaultCode::kDatabaseError, "the bulk insert stored too few records");
    }
    if (ids.empty() && !recs.empty()) {
      // SQLite: this transaction holds the only write lock and the table is AUTOINCREMENT, so
      // the rows it just inserted have consecutive ids ending at the last one.
      HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT last_insert_rowid()"));
      if (!row) {
        return Error(FaultCode::kDatabaseError, "last_insert_rowid() gave no row");
      }
      HANSA_ASSIGN_OR_RETURN(const std::int64_t last, row->int64(0));
      for (std::size_t i = 0; i < recs.size(); ++i) {
        ids.push_back(last - static_cast<std::int64_t>(recs.size() - 1 - i));
      }
    }
    return ids;
  }

  // Queues the records `ids` for their time-stamp and commits. A record waits in mlog_unstamped
  // with its signature's hash, which is all a batch pass reads: the pass neither reads the
  // record's row (on SQLite, reaching a column behind the message walks the message's overflow
  // pages) nor rewrites it to mark it stamped. PostgreSQL: one INSERT of two array parameters (a
  // queue row is small, so its hex-encoded hash costs little), sent with the COMMIT in one round
  // trip (Transaction::commit_after); unnest() of two arrays of the same length inserts one row
  // per record, or fails and commits nothing. SQLite: a bulk insert, then the commit.
  static Status queue_for_timestamp_and_commit(db::Transaction& tx,
                                               const std::vector<std::int64_t>& ids,
                                               const std::vector<PreparedRecord*>& recs) {
    if (tx.backend() == db::Backend::kPostgres) {
      // Appended piece by piece: operator+ chains that insert in front of a temporary trip GCC
      // 12's -Wrestrict in release builds.
      std::string id_array = "{";
      std::string hash_array = "{";
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i != 0) {
          id_array += ',';
          hash_array += ',';
        }
        id_array += std::to_string(ids[i]);
        // An element "\\x..." is bytea's hex input \x...
        hash_array += "\"\\\\x";
        hash_array += crypto::hex_encode(recs[i]->signature_hash);
        hash_array += '"';
      }
      id_array += '}';
      hash_array += '}';
      return tx.commit_after(
          "INSERT INTO mlog_unstamped (record_id, signature_hash) "
          "SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[])",
          {db::Value(std::move(id_array)), db::Value(std::move(hash_array))});
    }
    static constexpr std::array<std::string_view, 2> kColumns = {"record_id", "signature_hash"};
    std::vector<db::Value> rows;
    rows.reserve(ids.size() * kColumns.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      rows.emplace_back(ids[i]);
      rows.push_back(db::Value::blob(recs[i]->signature_hash));
    }
    HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_unstamped", kColumns, rows));
    (void)n;
    return tx.commit();
  }

  // Time-stamp-immediately mode: the records' time-stamp and their links, in the caller's
  // transaction; the records wait for the archive.
  Status link_stamped_records(db::Transaction& tx, const std::vector<std::int64_t>& ids,
                              const StampedBatch& stamped) {
    HANSA_ASSIGN_OR_RETURN(auto ts_id, store_timestamp(tx, stamped, ids.size()));
    std::vector<db::Value> links;
    links.reserve(ids.size() * kTsColumns.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      add_link(links, ids[i], ts_id, stamped, i);
    }
    HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_record_ts", kTsColumns, links));
    (void)n;
    return queue_for_archive(tx, ids);
  }

  Status commit_batch(std::vector<Pending*>& batch) {
    std::vector<PreparedRecord*> recs;
    recs.reserve(batch.size());
    for (Pending* p : batch) {
      recs.push_back(&p->record);
    }
    std::optional<StampedBatch> stamped;
    if (options.timestamp_immediately) {
      std::vector<const PreparedRecord*> inputs(recs.begin(), recs.end());
      auto s = stamp(inputs);
      if (!s.ok()) {
        return Error(FaultCode::kTimestampingFailed,
                     "time-stamping failed (time-stamp-immediately mode)", s.error().to_string());
      }
      stamped = std::move(s).value();
    }
    auto tx = db->begin();
    if (!tx.ok()) {
      return logging_failed(tx.error());
    }
    SignaturePlan plan = plan_signatures(recs);
    auto new_rows = new_ids(*tx, plan.fresh.size(), recs.size());
    if (!new_rows.ok()) {
      return logging_failed(new_rows.error());
    }
    auto used = store_signatures(*tx, recs, plan, new_rows->signatures);
    if (!used.ok()) {
      return logging_failed(used.error());
    }
    auto ids = insert_records(*tx, recs, std::move(new_rows->records));
    if (!ids.ok()) {
      return logging_failed(ids.error());
    }
    Status c = ok_status();
    if (stamped) {
      c = link_stamped_records(*tx, *ids, *stamped);
      if (c.ok()) {
        c = tx->commit();
      }
    } else {
      c = queue_for_timestamp_and_commit(*tx, *ids, recs);
    }
    if (!c.ok()) {
      return logging_failed(c.error());
    }
    for (const auto& [hash, id] : *used) {
      signatures.add(hash, id);
    }
    if (stamped) {
      note_token_stored(recs.size());
      note_success();
    }
    return ok_status();
  }

  // ---------------- time-stamping ----------------

  Status check_usable() const {
    std::lock_guard lock(status_mu);
    if (blocking_locked()) {
      return Error(FaultCode::kTimestampingFailed,
                   "time-stamping has failed for longer than the acceptable failure period",
                   last_error);
    }
    return ok_status();
  }

  bool blocking_locked() const {
    if (!failing_since || options.acceptable_failure_period.count() <= 0 ||
        options.timestamp_immediately) {
      return false;
    }
    return now() - *failing_since > options.acceptable_failure_period;
  }

  void note_success() {
    std::lock_guard lock(status_mu);
    last_success = now();
    failing_since.reset();
  }

  void note_failure(const Error& e) {
    std::lock_guard lock(status_mu);
    last_failure = now();
    last_error = e.to_string();
    if (!failing_since) {
      failing_since = last_failure;
    }
  }

  // Stamps the records' signatures once, trying each TSA in turn: one record gets a token over
  // its SignatureValue (XAdES SignatureTimeStamp); several get a ts hash chain over
  // H(signatures.xml) with one token over ts-hashchainresult.xml (reference section 4).
  Result<StampedBatch> stamp(const std::vector<const PreparedRecord*>& recs) {
    std::vector<TsaTarget> targets = tsas ? tsas() : std::vector<TsaTarget>{};
    if (targets.empty()) {
      return Error(FaultCode::kTimestampingFailed, "no time-stamping authority is configured");
    }
    timestamp::ClientOptions client_options;
    client_options.connect_timeout = options.tsa_connect_timeout;
    client_options.read_timeout = options.tsa_read_timeout;
    timestamp::TimestampClient client(client_options);
    std::string imprint;
    std::vector<std::string> digests;
    if (recs.size() == 1) {
      HANSA_ASSIGN_OR_RETURN(std::string value,
                             signature::signature_value_bytes(recs[0]->signature));
      imprint = crypto::digest(kSha512, value);
    } else {
      for (const auto* r : recs) {
        digests.push_back(r->signature_hash);
      }
    }
    std::string errors;
    for (const auto& tsa : targets) {
      timestamp::VerifyOptions verify_options;
      verify_options.tsa_certs = tsa.certs;
      if (recs.size() == 1) {
        auto token = client.stamp_imprint(tsa.url, imprint, verify_options);
        if (token.ok()) {
          return StampedBatch{token->der(), {}, {}, tsa.url};
        }
        errors += (errors.empty() ? "" : "; ") + tsa.url + ": " + token.error().to_string();
      } else {
        // The chains are not written now: a record's chain is written from `inputs` when its
        // container is built.
        auto batch = timestamp::stamp_batch(digests, client, tsa.url, verify_options,
                                            timestamp_batch_options());
        if (batch.ok()) {
          std::string inputs;
          inputs.reserve(digests.size() * crypto::digest_size(kSha512));
          for (const std::string& d : digests) {
            inputs += d;
          }
          return StampedBatch{batch->token.der(), std::move(batch->result_xml), std::move(inputs),
                              tsa.url};
        }
        errors += (errors.empty() ? "" : "; ") + tsa.url + ": " + batch.error().to_string();
      }
    }
    return Error(FaultCode::kTimestampingFailed,
                 "failed to get a time-stamp from any time-stamping authority", errors);
  }

  Result<std::int64_t> store_timestamp(db::Transaction& tx, const StampedBatch& s,
                                       std::size_t count) {
    HANSA_ASSIGN_OR_RETURN(
        auto row,
        tx.query_one("INSERT INTO mlog_timestamp (time_ms, token, hash_chain_result, tsa_url, "
                     "record_count, inputs) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                     {to_ms(now()), db::Value::blob(s.token),
                      s.result_xml.empty() ? db::Value() : db::Value::blob(s.result_xml), s.tsa_url,
                      static_cast<std::int64_t>(count),
                      s.inputs.empty() ? db::Value() : db::Value::blob(s.inputs)}));
    if (!row) {
      return Error(FaultCode::kDatabaseError, "INSERT RETURNING gave no row");
    }
    return row->int64(0);
  }

  Result<std::size_t> timestamp_pass() {
    std::lock_guard pass_lock(stamp_mu);
    std::vector<std::int64_t> ids;
    std::vector<PreparedRecord> recs;
    Status loaded = [&]() -> Status {
      HANSA_ASSIGN_OR_RETURN(auto tx, db->begin(db::Access::kReadOnly));
      // A batch is stamped over the signatures' hashes; only a lone record needs its signature
      // (the token covers its SignatureValue). Not loading thousands of signatures keeps a
      // pass's memory small.
      HANSA_ASSIGN_OR_RETURN(
          auto rows,
          tx.execute(
              "SELECT record_id, signature_hash FROM mlog_unstamped ORDER BY record_id LIMIT $1",
              {static_cast<std::int64_t>(options.timestamp_batch)}));
      for (const auto& row : rows) {
        HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
        PreparedRecord p;
        HANSA_ASSIGN_OR_RETURN(p.signature_hash, row.blob(1));
        ids.push_back(id);
        recs.push_back(std::move(p));
      }
      if (ids.size() == 1) {
        HANSA_ASSIGN_OR_RETURN(
            auto row,
            tx.query_one("SELECT " + std::string(kSignatureColumn) + " FROM mlog_record r" +
                             std::string(kSignatureJoin) + " WHERE r.id = $1",
                         {ids[0]}));
        if (!row) {
          return Error(FaultCode::kDatabaseError, "record vanished during the pass",
                       std::to_string(ids[0]));
        }
        HANSA_ASSIGN_OR_RETURN(auto signature, row->optional_blob(0));
        recs[0].signature = std::move(signature).value_or("");
        if (recs[0].signature.empty()) {
          return Error(FaultCode::kDatabaseError, "the record's signature is missing",
                       std::to_string(ids[0]));
        }
      }
      return ok_status();
    }();
    if (!loaded.ok()) {
      note_failure(loaded.error());
      return loaded.error();
    }
    if (ids.empty()) {
      return std::size_t{0};
    }
    std::vector<const PreparedRecord*> inputs;
    for (const auto& r : recs) {
      inputs.push_back(&r);
    }
    auto stamped = stamp(inputs);
    if (!stamped.ok()) {
      note_failure(stamped.error());
      return stamped.error();
    }
    // The links are stored in short transactions: on SQLite each one holds the database's only
    // writer, and appends wait behind it. A pass cut short (crash, database error) leaves its
    // remaining records unstamped for the next pass; the token then covers more than it links.
    std::int64_t ts_id = 0;
    std::size_t linked_total = 0;
    for (std::size_t first = 0; first < ids.size(); first += kLinksPerTransaction) {
      const std::size_t last = std::min(ids.size(), first + kLinksPerTransaction);
      std::size_t linked_now = 0;
      Status stored = [&]() -> Status {
        HANSA_ASSIGN_OR_RETURN(auto tx, db->begin());
        if (first == 0) {
          HANSA_ASSIGN_OR_RETURN(ts_id, store_timestamp(tx, *stamped, ids.size()));
        }
        // A record another instance stamped meanwhile (its queue row is gone) keeps its first
        // time-stamp.
        std::vector<db::Value> links;
        std::vector<std::int64_t> linked;
        links.reserve((last - first) * kTsColumns.size());
        HANSA_ASSIGN_OR_RETURN(
            auto taken, dequeue(tx, "mlog_unstamped",
                                std::span<const std::int64_t>(ids).subspan(first, last - first)));
        for (std::size_t i = first; i < last; ++i) {
          if (!taken.contains(ids[i])) {
            continue;
          }
          add_link(links, ids[i], ts_id, *stamped, i);
          linked.push_back(ids[i]);
        }
        if (!links.empty()) {
          HANSA_ASSIGN_OR_RETURN(auto n, tx.insert_rows("mlog_record_ts", kTsColumns, links));
          (void)n;
        }
        HANSA_RETURN_IF_ERROR(queue_for_archive(tx, linked));
        linked_now = linked.size();
        return tx.commit();
      }();
      if (!stored.ok()) {
        if (first > 0) {  // the token and the links before this transaction are stored
          note_token_stored(linked_total);
        }
        note_failure(stored.error());
        return stored.error();
      }
      linked_total += linked_now;
    }
    note_token_stored(linked_total);
    note_success();
    return ids.size();
  }

  // ---------------- archiving ----------------

  std::string group_key_column() const {
    switch (options.archive_grouping) {
      case ArchiveGrouping::kNone:
        return "''";
      case ArchiveGrouping::kMember:
        return "r.group_member";
      case ArchiveGrouping::kSubsystem:
        return "r.group_subsystem";
    }
    return "''";
  }

  static std::string group_file_part(std::string_view key) {
    if (key.empty()) {
      return {};
    }
    std::size_t colon = key.find(':');
    return "-" + file_safe(colon == std::string_view::npos ? key : key.substr(colon + 1));
  }

  // Builds the container of one record from its columns.
  struct ContainerRow {
    std::int64_t id = 0;
    std::int64_t time_ms = 0;
    std::string query_id;
    bool response = false;
    bool rest = false;
    BodyMode mode = BodyMode::kFull;
    std::optional<std::string> message;
    std::optional<std::string> attachments;
    std::string signature;
    std::optional<std::string> sig_result;
    std::optional<std::string> sig_chain;
    std::optional<std::string> ts_chain;
    std::optional<std::string> token;
    std::optional<std::string> ts_result;
    std::optional<std::int64_t> ts_id;
    std::optional<std::int64_t> ts_index;  // the record's place among its time-stamp's inputs
    std::string group;
  };

  static constexpr std::string_view kContainerSelect =
      "SELECT r.id, r.time_ms, r.query_id, r.response, r.rest, r.body_mode, r.message, "
      "r.attachments, COALESCE(g.signature, r.signature), "
      "COALESCE(r.hash_chain_result, g.hash_chain_result), r.hash_chain, "
      "s.ts_hash_chain, t.token, t.hash_chain_result, s.timestamp_id, s.input_index";

  static Result<ContainerRow> container_row(const db::Row& row) {
    ContainerRow c;
    HANSA_ASSIGN_OR_RETURN(c.id, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(c.time_ms, row.int64(1));
    HANSA_ASSIGN_OR_RETURN(c.query_id, row.text(2));
    HANSA_ASSIGN_OR_RETURN(c.response, row.boolean(3));
    HANSA_ASSIGN_OR_RETURN(c.rest, row.boolean(4));
    HANSA_ASSIGN_OR_RETURN(auto mode, row.int64(5));
    c.mode = static_cast<BodyMode>(std::clamp<std::int64_t>(mode, 0, 2));
    HANSA_ASSIGN_OR_RETURN(c.message, row.optional_blob(6));
    HANSA_ASSIGN_OR_RETURN(c.attachments, row.optional_blob(7));
    HANSA_ASSIGN_OR_RETURN(auto signature, row.optional_blob(8));
    if (!signature || signature->empty()) {
      return Error(FaultCode::kDatabaseError, "the record's signature is missing",
                   std::to_string(c.id));
    }
    c.signature = std::move(*signature);
    HANSA_ASSIGN_OR_RETURN(c.sig_result, row.optional_blob(9));
    HANSA_ASSIGN_OR_RETURN(c.sig_chain, row.optional_blob(10));
    HANSA_ASSIGN_OR_RETURN(c.ts_chain, row.optional_blob(11));
    HANSA_ASSIGN_OR_RETURN(c.token, row.optional_blob(12));
    HANSA_ASSIGN_OR_RETURN(c.ts_result, row.optional_blob(13));
    HANSA_ASSIGN_OR_RETURN(c.ts_id, row.optional_int64(14));
    HANSA_ASSIGN_OR_RETURN(c.ts_index, row.optional_int64(15));
    if (row.size() > 16) {
      HANSA_ASSIGN_OR_RETURN(c.group, row.text(16));
    }
    return c;
  }

  // A record linked by its place in a batch time-stamp (schema version 6) gets its chain
  // written from the time-stamp's inputs.
  static Status complete_ts_chain(db::Transaction& tx, TimestampTrees& trees, ContainerRow& c) {
    if (!c.ts_result || c.ts_chain) {
      return ok_status();
    }
    if (!c.ts_id || !c.ts_index) {
      return Error(FaultCode::kDatabaseError, "the record's time-stamp hash chain is missing",
                   std::to_string(c.id));
    }
    return trees.chain(tx, *c.ts_id, *c.ts_index, c.ts_chain);
  }

  static Result<std::string> build_container(const ContainerRow& c) {
    if (!c.token) {
      return Error(FaultCode::kAsicContainerNotFound,
                   "the message signature has not been time-stamped yet", std::to_string(c.id));
    }
    asic::ContainerContents contents;
    if (c.mode == BodyMode::kFull || (c.rest && c.message && !c.message->empty())) {
      contents.message = c.message.value_or("");
    }
    if (contents.message.empty()) {
      contents.message = not_logged_message(c.mode);
    }
    if (c.mode == BodyMode::kFull && c.attachments) {
      HANSA_ASSIGN_OR_RETURN(contents.attachments, decode_parts(*c.attachments));
    }
    if (c.rest) {
      contents.message_media_type =
          c.response ? "application/x-road-rest-response" : "application/x-road-rest-request";
    }
    contents.sig_hash_chain_result = c.sig_result.value_or("");
    contents.sig_hash_chain = c.sig_chain.value_or("");
    if (c.ts_result && c.ts_chain) {
      contents.signature = c.signature;
      contents.ts_hash_chain_result = *c.ts_result;
      contents.ts_hash_chain = *c.ts_chain;
      contents.timestamp = *c.token;
    } else {
      HANSA_ASSIGN_OR_RETURN(contents.signature,
                             signature::add_signature_timestamp(c.signature, *c.token));
    }
    return asic::write_container(contents);
  }

  struct OpenArchive {
    std::vector<asic::ArchiveEntry> entries;
    std::vector<std::int64_t> ids;
    std::size_t bytes = 0;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
  };

  Status mark_archived(db::Transaction& tx, const std::vector<std::int64_t>& ids) {
    HANSA_ASSIGN_OR_RETURN(auto taken, dequeue(tx, "mlog_unarchived", ids));
    (void)taken;
    return ok_status();
  }

  // The last link of `group`: (digest, file) or ("", "").
  Result<std::pair<std::string, std::string>> last_link(db::Transaction& tx,
                                                        const std::string& group) {
    HANSA_ASSIGN_OR_RETURN(
        auto row,
        tx.query_one("SELECT digest, file_name FROM mlog_last_archive WHERE group_key = $1",
                     {group}));
    if (!row) {
      return std::pair<std::string, std::string>{};
    }
    HANSA_ASSIGN_OR_RETURN(auto d, row->text(0));
    HANSA_ASSIGN_OR_RETURN(auto f, row->text(1));
    return std::pair{d, f};
  }

  Status commit_link(db::Transaction& tx, const std::string& group, const std::string& digest,
                     const std::string& file, const std::vector<std::int64_t>& ids) {
    HANSA_RETURN_IF_ERROR(
        tx.execute("INSERT INTO mlog_last_archive (group_key, digest, file_name, time_ms) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (group_key) DO UPDATE SET digest = $2, "
                   "file_name = $3, time_ms = $4",
                   {group, digest, file, to_ms(now())}));
    HANSA_RETURN_IF_ERROR(mark_archived(tx, ids));
    HANSA_RETURN_IF_ERROR(
        tx.execute("DELETE FROM mlog_archive_pending WHERE group_key = $1", {group}));
    return tx.commit();
  }

  Result<std::filesystem::path> flush(const std::string& group, OpenArchive& a) {
    std::pair<std::string, std::string> prev;
    std::string name;
    std::string zip;
    std::string last_digest;
    {
      HANSA_ASSIGN_OR_RETURN(auto tx, db->begin());
      HANSA_ASSIGN_OR_RETURN(prev, last_link(tx, group));
      HANSA_ASSIGN_OR_RETURN(auto written, asic::write_archive(a.entries, prev.first, prev.second));
      last_digest = written.last_digest;
      zip = std::move(written.zip);
      name = "mlog" + group_file_part(group) + "-" + compact_time(a.first_ms) + "-" +
             compact_time(a.last_ms) + "-" + last_digest.substr(0, 16) + ".zip";
      // Announce the file before it exists: recover() completes or forgets it after a crash.
      auto announced = tx.execute(
          "INSERT INTO mlog_archive_pending (group_key, file_name, previous_digest, time_ms) "
          "VALUES ($1, $2, $3, $4)",
          {group, name, prev.first, to_ms(now())});
      if (!announced.ok()) {
        if (announced.error().code == FaultCode::kConflict) {
          return Error(FaultCode::kConflict, "another archiving step of this group is under way",
                       group);
        }
        return announced.error();
      }
      HANSA_RETURN_IF_ERROR(tx.commit());
    }
    HANSA_RETURN_IF_ERROR(write_file_durably(options.archive_dir, name, zip));
    std::filesystem::path path = options.archive_dir / name;
    if (options.archive_written_hook && !options.archive_written_hook(path)) {
      return Error(FaultCode::kIoError, "archiving step abandoned (test hook)", name);
    }
    HANSA_ASSIGN_OR_RETURN(auto tx, db->begin());
    HANSA_RETURN_IF_ERROR(commit_link(tx, group, last_digest, name, a.ids));
    return path;
  }

  // Completes or forgets the archiving steps a crash interrupted, those announced at least
  // `min_age` ago (another instance sharing the database may be in the middle of a younger one).
  Status recover(milliseconds min_age = milliseconds(0)) {
    if (options.archive_dir.empty()) {
      return ok_status();
    }
    std::vector<std::tuple<std::string, std::string, std::string>> pending;
    {
      HANSA_ASSIGN_OR_RETURN(auto tx, db->begin(db::Access::kReadOnly));
      HANSA_ASSIGN_OR_RETURN(
          auto rows,
          tx.execute("SELECT group_key, file_name, previous_digest FROM mlog_archive_pending "
                     "WHERE time_ms <= $1",
                     {to_ms(now() - min_age)}));
      for (const auto& row : rows) {
        HANSA_ASSIGN_OR_RETURN(auto g, row.text(0));
        HANSA_ASSIGN_OR_RETURN(auto f, row.text(1));
        HANSA_ASSIGN_OR_RETURN(auto p, row.text(2));
        pending.emplace_back(g, f, p);
      }
    }
    for (const auto& [group, file, previous] : pending) {
      std::filesystem::path path = options.archive_dir / file;
      std::error_code ec;
      std::filesystem::remove(options.archive_dir / ("." + file + ".tmp"), ec);
      HANSA_ASSIGN_OR_RETURN(auto tx, db->begin());
      HANSA_ASSIGN_OR_RETURN(auto link, last_link(tx, group));
      bool complete = false;
      std::string last;
      std::vector<std::int64_t> ids;
      if (link.first == previous && std::filesystem::exists(path, ec)) {
        auto data = read_whole(path, 1u << 31);
        if (data.ok()) {
          asic::ArchiveLimits limits;
          limits.zip.max_zip_bytes = std::max(limits.zip.max_zip_bytes, data->size());
          auto archive = asic::read_archive(*data, limits);
          if (archive.ok()) {
            auto verified = asic::verify_linking(*archive, previous);
            if (verified.ok()) {
              last = *verified;
              complete = true;
              for (const auto& e : archive->linking.entries) {
                auto id = id_of_container_name(e.name);
                if (!id) {
                  complete = false;
                  break;
                }
                ids.push_back(*id);
              }
            }
          }
        }
      }
      if (complete) {
        HANSA_RETURN_IF_ERROR(commit_link(tx, group, last, file, ids));
      } else {
        // No complete file: nothing was linked; the records are archived again.
        if (link.first == previous) {
          std::filesystem::remove(path, ec);
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("DELETE FROM mlog_archive_pending WHERE group_key = $1", {group}));
        HANSA_RETURN_IF_ERROR(tx.commit());
      }
    }
    return ok_status();
  }

  Result<ArchiveOutcome> archive_pass() {
    if (options.archive_dir.empty()) {
      return Error(FaultCode::kInvalidConfiguration, "no archive directory is configured");
    }
    std::lock_guard pass_lock(archive_mu);
    std::error_code ec;
    std::filesystem::create_directories(options.archive_dir, ec);
    HANSA_RETURN_IF_ERROR(recover(std::chrono::minutes(10)));
    ArchiveOutcome outcome;
    std::map<std::string, OpenArchive> open;
    TimestampTrees trees;
    std::int64_t after = 0;
    const std::string sql = std::string(kContainerSelect) + ", " + group_key_column() +
                            " FROM mlog_unarchived a JOIN mlog_record r ON r.id = a.record_id "
                            "JOIN mlog_record_ts s ON s.record_id = r.id "
                            "JOIN mlog_timestamp t ON t.id = s.timestamp_id" +
                            std::string(kSignatureJoin) +
                            " WHERE a.record_id > $1 ORDER BY a.record_id LIMIT $2";
    for (;;) {
      std::vector<ContainerRow> rows;
      {
        HANSA_ASSIGN_OR_RETURN(auto tx, db->begin(db::Access::kReadOnly));
        HANSA_ASSIGN_OR_RETURN(
            auto result,
            tx.execute(sql, {after, static_cast<std::int64_t>(options.archive_read_batch)}));
        for (const auto& row : result) {
          HANSA_ASSIGN_OR_RETURN(auto c, container_row(row));
          HANSA_RETURN_IF_ERROR(complete_ts_chain(tx, trees, c));
          rows.push_back(std::move(c));
        }
      }
      if (rows.empty()) {
        break;
      }
      after = rows.back().id;
      for (const auto& c : rows) {
        HANSA_ASSIGN_OR_RETURN(std::string container, build_container(c));
        OpenArchive& a = open[c.group];
        if (!a.entries.empty() && a.bytes + container.size() > options.archive_max_bytes) {
          HANSA_ASSIGN_OR_RETURN(auto path, flush(c.group, a));
          outcome.files.push_back(path);
          outcome.records += a.ids.size();
          a = OpenArchive{};
        }
        if (a.entries.empty()) {
          a.first_ms = c.time_ms;
        }
        a.last_ms = c.time_ms;
        a.bytes += container.size();
        a.ids.push_back(c.id);
        a.entries.push_back({container_name(c.query_id, c.response, c.id), std::move(container)});
      }
    }
    for (auto& [group, a] : open) {
      if (!a.entries.empty()) {
        HANSA_ASSIGN_OR_RETURN(auto path, flush(group, a));
        outcome.files.push_back(path);
        outcome.records += a.ids.size();
      }
    }
    if (!outcome.files.empty() && !options.archive_transfer_command.empty()) {
      run_transfer_command(outcome.files);
    }
    return outcome;
  }

  void run_transfer_command(const std::vector<std::filesystem::path>& files) {
    std::string list;
    for (const auto& f : files) {
      if (!list.empty()) {
        list += ' ';
      }
      list += f.filename().string();
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("HANSA_ARCHIVE_DIR", options.archive_dir.c_str(), 1);
      ::setenv("HANSA_ARCHIVE_FILES", list.c_str(), 1);
      ::execl("/bin/sh", "sh", "-c", options.archive_transfer_command.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  Result<std::int64_t> cleanup_pass() {
    std::int64_t cutoff =
        to_ms(now() - std::chrono::duration_cast<milliseconds>(options.retention));
    HANSA_ASSIGN_OR_RETURN(auto tx, db->begin());
    // Archived records are time-stamped ones no longer in mlog_unarchived. Their links go
    // first; then an old record with neither a link nor a place in mlog_unstamped was archived.
    HANSA_RETURN_IF_ERROR(
        tx.execute("DELETE FROM mlog_record_ts WHERE record_id IN "
                   "(SELECT r.id FROM mlog_record r WHERE r.time_ms < $1 AND NOT EXISTS "
                   "(SELECT 1 FROM mlog_unarchived a WHERE a.record_id = r.id))",
                   {cutoff}));
    HANSA_ASSIGN_OR_RETURN(
        auto deleted,
        tx.execute("DELETE FROM mlog_record WHERE time_ms < $1 AND NOT EXISTS "
                   "(SELECT 1 FROM mlog_record_ts s WHERE s.record_id = mlog_record.id) AND "
                   "NOT EXISTS (SELECT 1 FROM mlog_unstamped u WHERE u.record_id = mlog_record.id)",
                   {cutoff}));
    HANSA_RETURN_IF_ERROR(
        tx.execute("DELETE FROM mlog_timestamp WHERE time_ms < $1 AND NOT EXISTS "
                   "(SELECT 1 FROM mlog_record_ts s WHERE s.timestamp_id = mlog_timestamp.id)",
                   {cutoff}));
    // Signatures no record refers to any more, past a grace period (see SignatureCache).
    HANSA_RETURN_IF_ERROR(
        tx.execute("DELETE FROM mlog_signature WHERE time_ms < $1 AND NOT EXISTS "
                   "(SELECT 1 FROM mlog_record r WHERE r.signature_id = mlog_signature.id)",
                   {cutoff - std::chrono::duration_cast<milliseconds>(kSignatureGrace).count()}));
    HANSA_RETURN_IF_ERROR(tx.commit());
    return deleted.affected_rows();
  }

  // ---------------- workers ----------------

  void timestamp_worker() {
    std::unique_lock lock(worker_mu);
    while (!workers_stopping) {
      worker_cv.wait_for(lock, options.timestamp_interval,
                         [&] { return workers_stopping || timestamp_wakeup; });
      if (workers_stopping) {
        return;
      }
      timestamp_wakeup = false;
      lock.unlock();
      // A full batch means more are waiting: go on at once.
      for (;;) {
        auto n = timestamp_pass();
        if (!n.ok() || *n < options.timestamp_batch) {
          break;
        }
        std::lock_guard check(worker_mu);
        if (workers_stopping) {
          break;
        }
      }
      lock.lock();
    }
  }

  void periodic_worker(milliseconds interval, const std::function<void()>& work) {
    std::unique_lock lock(worker_mu);
    while (!workers_stopping) {
      worker_cv.wait_for(lock, interval, [&] { return workers_stopping; });
      if (workers_stopping) {
        return;
      }
      lock.unlock();
      work();
      lock.lock();
    }
  }
};

MessageLog::MessageLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<MessageLog>> MessageLog::create(db::Database& db, MessageLogOptions options,
                                                       TsaSource tsas,
                                                       std::function<TimePoint()> clock) {
  std::vector<std::string> problems;
  if (options.max_queue == 0) {
    problems.push_back("max_queue must be positive");
  }
  if (options.max_commit_batch == 0 || options.max_commit_batch > kMaxCommitBatch) {
    problems.push_back("max_commit_batch must be 1.." + std::to_string(kMaxCommitBatch));
  }
  if (options.timestamp_batch == 0 || options.timestamp_batch > 10'000) {
    problems.push_back("timestamp_batch must be 1..10000");
  }
  if (options.timestamp_interval.count() <= 0) {
    problems.push_back("timestamp_interval must be positive");
  }
  if (options.archive_max_bytes < 1024) {
    problems.push_back("archive_max_bytes must be at least 1024");
  }
  if (options.max_page_size == 0 || options.archive_read_batch == 0) {
    problems.push_back("max_page_size and archive_read_batch must be positive");
  }
  // Each running commit holds a pooled connection; one stays free for the time-stamper, the
  // archiver and queries.
  const std::size_t pool = db.stats().max;
  if (options.commit_writers != 0 && options.commit_writers >= pool) {
    problems.push_back("commit_writers (" + std::to_string(options.commit_writers) +
                       ") must be below the database pool size (" + std::to_string(pool) + ")");
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) {
      all += (all.empty() ? "" : "; ") + p;
    }
    return Error(FaultCode::kInvalidConfiguration, "invalid message log options", all);
  }
  HANSA_RETURN_IF_ERROR(db::migrate(db, kMigrationComponent, migrations()));
  auto impl = std::make_unique<Impl>();
  impl->db = &db;
  impl->options = std::move(options);
  impl->tsas = std::move(tsas);
  impl->clock = std::move(clock);
  if (!impl->options.archive_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(impl->options.archive_dir, ec);
    if (ec) {
      return Error(FaultCode::kIoError, "cannot create the archive directory",
                   impl->options.archive_dir.string());
    }
    HANSA_RETURN_IF_ERROR(impl->recover());
  }
  impl->max_turns = impl->options.commit_writers;
  if (impl->max_turns == 0) {
    // PostgreSQL commits transactions side by side (and flushes their WAL together), so a second
    // commit fills and copies its batch while the first waits for its flush. SQLite has one
    // writer at a time, and a second commit would only queue for the lock. A pool of one or two
    // connections keeps one commit at a time (see the check above).
    impl->max_turns = db.backend() == db::Backend::kPostgres && pool > 2 ? 2 : 1;
  }
  return std::unique_ptr<MessageLog>(new MessageLog(std::move(impl)));
}

MessageLog::~MessageLog() { stop(); }

Status MessageLog::append(LogRecord record) { return impl_->append(std::move(record)); }

Status MessageLog::check_usable() const { return impl_->check_usable(); }

void MessageLog::start() {
  std::lock_guard lock(impl_->worker_mu);
  if (impl_->workers_running || impl_->workers_stopping) {
    return;
  }
  impl_->workers_running = true;
  Impl* raw = impl_.get();
  if (!impl_->options.timestamp_immediately) {
    impl_->workers.emplace_back([raw] { raw->timestamp_worker(); });
  }
  if (!impl_->options.archive_dir.empty()) {
    impl_->workers.emplace_back([raw] {
      raw->periodic_worker(raw->options.archive_interval, [raw] { (void)raw->archive_pass(); });
    });
  }
  impl_->workers.emplace_back([raw] {
    raw->periodic_worker(raw->options.cleanup_interval, [raw] { (void)raw->cleanup_pass(); });
  });
}

void MessageLog::stop() {
  {
    std::lock_guard lock(impl_->worker_mu);
    impl_->workers_stopping = true;
  }
  impl_->worker_cv.notify_all();
  for (auto& t : impl_->workers) {
    t.join();
  }
  impl_->workers.clear();
  std::unique_lock lock(impl_->queue_mu);
  impl_->appends_stopped = true;
  impl_->space_cv.notify_all();
  impl_->retry_cv.notify_all();
  // Turns already taken commit what is queued; later appends fail.
  impl_->idle_cv.wait(lock, [&] { return impl_->turns == 0 && impl_->queue.empty(); });
}

Result<std::size_t> MessageLog::timestamp_now() { return impl_->timestamp_pass(); }

void MessageLog::trigger_timestamping() {
  {
    std::lock_guard lock(impl_->worker_mu);
    impl_->timestamp_wakeup = true;
  }
  impl_->worker_cv.notify_all();
}

Result<ArchiveOutcome> MessageLog::archive_now() { return impl_->archive_pass(); }

Result<std::int64_t> MessageLog::cleanup_now() { return impl_->cleanup_pass(); }

FindStatement find_statement(const RecordQuery& q, const std::optional<FindAfter>& after) {
  FindStatement st;
  st.sql = "SELECT " + std::string(kInfoColumns) + std::string(kInfoFrom) + " WHERE 1 = 1";
  auto add = [&](std::string_view cond, db::Value v) {
    st.params.push_back(std::move(v));
    st.sql += " AND " + std::string(cond) + " $" + std::to_string(st.params.size());
  };
  if (q.query_id) {
    add("r.query_id =", *q.query_id);
  }
  if (q.client) {
    add("r.client_id =", *q.client);
  }
  if (q.service) {
    add("r.service_id =", *q.service);
  }
  if (q.response) {
    add("r.response =", *q.response ? 1 : 0);
  }
  if (q.from) {
    add("r.time_ms >=", to_ms(*q.from));
  }
  if (q.to) {
    add("r.time_ms <", to_ms(*q.to));
  }
  if (after) {
    // The plain bound lets an index on (..., time_ms) start at the previous page's end; the row
    // comparison then skips that millisecond's records up to and including the last one shown.
    add("r.time_ms >=", after->time_ms);
    st.params.emplace_back(after->time_ms);
    st.params.emplace_back(after->id);
    st.sql += " AND (r.time_ms, r.id) > ($" + std::to_string(st.params.size() - 1) + ", $" +
              std::to_string(st.params.size()) + ")";
  }
  st.params.emplace_back(static_cast<std::int64_t>(q.limit));
  st.sql += " ORDER BY r.time_ms, r.id LIMIT $" + std::to_string(st.params.size());
  return st;
}

Result<std::vector<RecordInfo>> MessageLog::find(const RecordQuery& q) const {
  const auto& o = impl_->options;
  if (q.limit == 0 || q.limit > o.max_page_size) {
    return Error(FaultCode::kInvalidRequest, "limit must be 1.." + std::to_string(o.max_page_size));
  }
  RecordQuery bounded = q;
  std::optional<TimePoint>& from = bounded.from;
  std::optional<TimePoint>& to = bounded.to;
  if (from && to && *to < *from) {
    return Error(FaultCode::kInvalidRequest, "the time range ends before it starts");
  }
  if (from && to && *to - *from > o.max_query_range) {
    return Error(FaultCode::kInvalidRequest, "the time range is longer than allowed",
                 std::to_string(o.max_query_range.count()) + " hours");
  }
  if (!q.query_id) {
    // Without a query id a search covers at most max_query_range.
    if (!from && !to) {
      to = impl_->now() + std::chrono::hours(1);
    }
    if (!from) {
      from = *to - o.max_query_range;
    }
    if (!to) {
      to = *from + o.max_query_range;
    }
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db->begin(db::Access::kReadOnly));
  std::optional<FindAfter> after;
  if (q.after_id > 0) {
    // Pages follow the time order, so a page continues from the time of the last record shown.
    HANSA_ASSIGN_OR_RETURN(
        auto row, tx.query_one("SELECT time_ms FROM mlog_record WHERE id = $1", {q.after_id}));
    if (!row) {
      return Error(FaultCode::kInvalidRequest,
                   "the record to page after is no longer in the log (removed by the clean-up); "
                   "search again from a later time",
                   std::to_string(q.after_id));
    }
    HANSA_ASSIGN_OR_RETURN(const std::int64_t after_ms, row->int64(0));
    after = FindAfter{after_ms, q.after_id};
  }
  const FindStatement st = find_statement(bounded, after);
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(st.sql, st.params));
  std::vector<RecordInfo> out;
  for (const auto& row : rows) {
    HANSA_ASSIGN_OR_RETURN(auto info, info_from_row(row));
    out.push_back(std::move(info));
  }
  return out;
}

Result<RecordInfo> MessageLog::record(std::int64_t id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db->begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT " + std::string(kInfoColumns) +
                                                    std::string(kInfoFrom) + " WHERE r.id = $1",
                                                {id}));
  if (!row) {
    return Error(FaultCode::kNotFound, "no such message log record", std::to_string(id));
  }
  return info_from_row(*row);
}

Result<std::string> MessageLog::container(std::int64_t id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db->begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one(std::string(Impl::kContainerSelect) +
                                          " FROM mlog_record r LEFT JOIN mlog_record_ts s ON "
                                          "s.record_id = r.id LEFT JOIN mlog_timestamp t ON "
                                          "t.id = s.timestamp_id" +
                                          std::string(kSignatureJoin) + " WHERE r.id = $1",
                                      {id}));
  if (!row) {
    return Error(FaultCode::kNotFound, "no such message log record", std::to_string(id));
  }
  HANSA_ASSIGN_OR_RETURN(auto c, Impl::container_row(*row));
  TimestampTrees trees;
  HANSA_RETURN_IF_ERROR(Impl::complete_ts_chain(tx, trees, c));
  return Impl::build_container(c);
}

Result<std::vector<MessageLog::AsicRecord>> MessageLog::asic_records(std::string_view query_id,
                                                                     std::string_view client,
                                                                     std::optional<bool> response,
                                                                     bool force) {
  RecordQuery q;
  q.query_id = std::string(query_id);
  q.client = std::string(client);
  q.response = response;
  q.limit = std::min(impl_->options.max_asic_records + 1, impl_->options.max_page_size);
  HANSA_ASSIGN_OR_RETURN(auto infos, find(q));
  if (infos.size() > impl_->options.max_asic_records) {
    return Error(FaultCode::kLimitExceeded, "too many records match",
                 std::to_string(impl_->options.max_asic_records) + " at most");
  }
  bool missing = std::any_of(infos.begin(), infos.end(),
                             [](const RecordInfo& i) { return !i.timestamp_id.has_value(); });
  if (missing && force) {
    // Stamp until these records have their time-stamps (bounded by the backlog).
    for (int round = 0; round < 100 && missing; ++round) {
      HANSA_ASSIGN_OR_RETURN(auto n, impl_->timestamp_pass());
      HANSA_ASSIGN_OR_RETURN(infos, find(q));
      missing = std::any_of(infos.begin(), infos.end(),
                            [](const RecordInfo& i) { return !i.timestamp_id.has_value(); });
      if (n == 0) {
        break;
      }
    }
  }
  std::vector<AsicRecord> out;
  for (auto& info : infos) {
    HANSA_ASSIGN_OR_RETURN(auto c, container(info.id));
    out.push_back({std::move(info), std::move(c)});
  }
  return out;
}

Result<TimestamperStatus> MessageLog::timestamper_status() const {
  TimestamperStatus s;
  {
    std::lock_guard lock(impl_->status_mu);
    s.last_success = impl_->last_success;
    s.last_failure = impl_->last_failure;
    s.last_error = impl_->last_error;
    s.failing_since = impl_->failing_since;
    s.blocking = impl_->blocking_locked();
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db->begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT COUNT(*) FROM mlog_unstamped"));
  if (row) {
    HANSA_ASSIGN_OR_RETURN(s.backlog, row->int64(0));
  }
  HANSA_ASSIGN_OR_RETURN(auto row2, tx.query_one("SELECT COUNT(*) FROM mlog_unarchived"));
  if (row2) {
    HANSA_ASSIGN_OR_RETURN(s.unarchived, row2->int64(0));
  }
  return s;
}

MessageLogStats MessageLog::stats() const {
  return {impl_->records.load(), impl_->transactions.load(), impl_->failed_commits.load(),
          impl_->timestamp_batches.load(), impl_->timestamped_records.load()};
}

const MessageLogOptions& MessageLog::options() const noexcept { return impl_->options; }

}  // namespace hansa::messagelog
