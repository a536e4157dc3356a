// Micro-benchmarks of the message log (node/messagelog): the group commit, with concurrent
// appenders each waiting until its record is durable, and the time-stamping pass over a backlog.
// SQLite always (a temporary file, synchronous=FULL); PostgreSQL when HANSA_BENCH_PG_URI is set.
//
// A record is shaped like the node's for a 1 KB REST call under load (docs/performance.md, "the
// bytes each record writes"): 1.3 KB of message and body, a 1.7 KB hash chain, and the batch's
// 7 KB signature and 0.6 KB hash-chain result, shared by kBatch consecutive records. The
// signature's certificate, OCSP response and signature value are base64 of random bytes, so
// compression gets no more out of them than out of real ones.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "certs/hansa-trust/trust_server.h"
#include "core/db/database.h"
#include "core/ids/ids.h"
#include "node/messagelog/message_log.h"

namespace hansa::bench {
namespace {

struct LogUnderTest {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<messagelog::MessageLog> log;
  std::string error;
};

LogUnderTest open_log(const std::string& uri, std::size_t writers,
                      messagelog::TsaSource tsas = {}) {
  LogUnderTest t;
  db::DbConfig config;
  config.uri = uri;
  config.pool_size = 4;
  auto db = db::Database::open(config);
  if (!db.ok()) {
    t.error = db.error().to_string();
    return t;
  }
  t.db = std::move(db).value();
  messagelog::MessageLogOptions options;
  options.timestamp_interval = std::chrono::hours(24);  // time-stamping is not measured here
  options.commit_writers = writers;
  if (!tsas) {
    tsas = [] { return std::vector<messagelog::TsaTarget>{}; };
  }
  auto log = messagelog::MessageLog::create(*t.db, options, std::move(tsas));
  if (!log.ok()) {
    t.error = log.error().to_string();
    return t;
  }
  t.log = std::move(log).value();
  return t;
}

// A fresh directory under /tmp, removed when the process exits: the shared SQLite log and the
// time-stamping authority live until then (they are never destroyed). Empty if none was made.
std::string scratch_dir(std::string_view prefix) {
  static std::mutex mu;
  static auto* dirs = new std::vector<std::string>;
  std::string tmpl = "/tmp/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return {};
  }
  std::lock_guard lock(mu);
  if (dirs->empty()) {
    std::atexit([] {
      for (const std::string& dir : *dirs) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    });
  }
  dirs->push_back(tmpl);
  return tmpl;
}

LogUnderTest* sqlite_log() {
  static LogUnderTest* t = [] {
    const std::string dir = scratch_dir("hansa-microbench-log");
    if (dir.empty()) {
      auto* out = new LogUnderTest;
      out->error = "cannot make a directory under /tmp";
      return out;
    }
    return new LogUnderTest(open_log(dir + "/messagelog.db", 1));
  }();
  return t;
}

// One log per writer count, all in the same database (like instances sharing it).
LogUnderTest* pg_log(std::size_t writers) {
  static std::mutex mu;
  static std::map<std::size_t, LogUnderTest*> logs;
  const char* uri = std::getenv("HANSA_BENCH_PG_URI");
  if (uri == nullptr || *uri == '\0') {
    return nullptr;
  }
  std::lock_guard lock(mu);
  auto& t = logs[writers];
  if (t == nullptr) {
    t = new LogUnderTest(open_log(uri, writers));
  }
  return t;
}

// Records per batch signature (the node's average under 64 connections was 3.5).
constexpr std::size_t kBatch = 4;

// `n` characters of random base64 starting at a place picked by `seed`: slices of one pool made
// once, so building a record costs little next to storing it.
std::string random_base64(std::uint64_t seed, std::size_t n) {
  static const std::string pool = [] {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out(1 << 20, '\0');
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (char& c : out) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = kAlphabet[x & 63];
    }
    return out;
  }();
  return pool.substr((seed * 7919) % (pool.size() - n), n);
}

// `n` bytes of XML-like markup around the base64 parts.
std::string markup(std::size_t n) {
  static const std::string kUnit =
      "<ds:Reference URI=\"/message.xml\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/"
      "04/xmlenc#sha512\"/><ds:DigestValue>";
  std::string out;
  while (out.size() < n) {
    out += kUnit;
  }
  out.resize(n);
  return out;
}

messagelog::LogRecord record(std::size_t n, std::size_t body_bytes = 1000) {
  static const auto client = *ids::ClientId::parse("SUBSYSTEM:DEV/GOV/1234/CLIENT");
  static const auto service = *ids::ServiceId::parse("SERVICE:DEV/COM/4321/PROVIDER/echo/v1");
  static const std::string kSignatureMarkup = markup(2400);
  static const std::string kMessage = markup(300);
  static const std::string kResultMarkup = markup(400);
  static const std::string kChainMarkup = markup(1100);
  const std::string id = "bench-" + std::to_string(n);
  const std::uint64_t batch = n / kBatch;
  // Certificate, OCSP response, digests and value about 4.6 KB of base64; the batch's id makes
  // each batch's signature distinct.
  std::string signature = "<ds:Signature Id=\"batch-" + std::to_string(batch) + "\">" +
                          kSignatureMarkup + random_base64(batch, 4600);
  return messagelog::LogRecord{.query_id = id,
                               .x_request_id = id,
                               .client = client,
                               .service = service,
                               .response = false,
                               .rest = true,
                               .message = kMessage,
                               .attachments = {random_base64(n, body_bytes)},
                               .signature = std::move(signature),
                               .hash_chain_result = kResultMarkup + random_base64(batch + 1, 200),
                               .hash_chain = kChainMarkup + random_base64(n + 7, 600),
                               .time = std::chrono::system_clock::now()};
}

std::atomic<std::size_t> next_id{0};

void run_appends(benchmark::State& state, LogUnderTest* t) {
  if (t == nullptr) {
    state.SkipWithError("HANSA_BENCH_PG_URI not set");
    return;
  }
  if (!t->log) {
    state.SkipWithError(t->error.c_str());
    return;
  }
  const messagelog::MessageLogStats before = t->log->stats();
  for (auto _ : state) {
    auto st = t->log->append(record(next_id.fetch_add(1)));
    if (!st.ok()) {
      state.SkipWithError(st.error().to_string().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // Records per transaction over this run (thread 0's view; the others run alongside).
    const messagelog::MessageLogStats after = t->log->stats();
    const auto commits = after.transactions - before.transactions;
    state.counters["per_commit"] =
        commits == 0
            ? 0.0
            : static_cast<double>(after.records - before.records) / static_cast<double>(commits);
  }
}

void BM_MessageLogGroupCommitSqlite(benchmark::State& state) { run_appends(state, sqlite_log()); }
BENCHMARK(BM_MessageLogGroupCommitSqlite)
    ->Threads(1)
    ->Threads(16)
    ->Threads(64)
    ->Threads(256)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Argument: commit writers (the node's default on PostgreSQL is 2).
void BM_MessageLogGroupCommitPostgres(benchmark::State& state) {
  run_appends(state, pg_log(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_MessageLogGroupCommitPostgres)
    ->ArgName("writers")
    ->Arg(1)
    ->Arg(2)
    ->Threads(1)
    ->Threads(16)
    ->Threads(64)
    ->Threads(256)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ---- the time-stamping pass ----

// The development PKI's TSA (hansa-trust in this process), started once.
struct Tsa {
  std::unique_ptr<trust::TrustServer> server;
  messagelog::TsaSource source;
  std::string error;
};

Tsa* tsa() {
  static Tsa* t = [] {
    auto* out = new Tsa;
    const char* dir_env = std::getenv("HANSA_BENCH_PKI_DIR");
    const std::filesystem::path dir = dir_env ? dir_env : HANSA_DEFAULT_PKI_DIR;
    const std::string state = scratch_dir("hansa-microbench-tsa");
    if (state.empty()) {
      out->error = "cannot make a directory under /tmp";
      return out;
    }
    auto server = trust::TrustServer::create(trust::dev_pki_config(dir, state + "/trust"));
    if (!server.ok()) {
      out->error = server.error().to_string();
      return out;
    }
    out->server = std::move(server).value();
    if (Status st = out->server->start(); !st.ok()) {
      out->error = st.error().to_string();
      return out;
    }
    std::ifstream in(dir / "tsa/tsa.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    messagelog::TsaTarget target{
        "http://127.0.0.1:" + std::to_string(out->server->tsa_port()) + "/tsa", {pem.str()}};
    out->source = [target] { return std::vector<messagelog::TsaTarget>{target}; };
    return out;
  }();
  return t;
}

// Bytes this process has written to storage (SQLite's database and WAL).
std::int64_t storage_write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::int64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") {
      return value;
    }
  }
  return 0;
}

// PostgreSQL: the server's write-ahead log position in bytes (its writes for the whole cluster).
std::int64_t wal_position(db::Database& db) {
  auto tx = db.begin(db::Access::kReadOnly);
  if (!tx.ok()) {
    return 0;
  }
  auto row = tx->query_one("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT");
  if (!row.ok() || !row->has_value()) {
    return 0;
  }
  return (**row).int64(0).value_or(0);
}

constexpr std::size_t kPassRecords = 2'000;

// One pass over a backlog of kPassRecords records with bodies of range(0) bytes: the pass that
// stamps them in one batch (one token) and links each record to it, in transactions of 500. The
// backlog is appended (by 32 threads, not timed) before each pass. Counters: storage written by
// this process per record during the pass (SQLite: the database and its WAL); on PostgreSQL, whose
// server writes its own, the write-ahead log the pass generated per record.
void run_pass(benchmark::State& state, const std::string& uri) {
  Tsa* t = tsa();
  if (!t->server) {
    state.SkipWithError(("TSA: " + t->error).c_str());
    return;
  }
  LogUnderTest log = open_log(uri, 1, t->source);
  if (!log.log) {
    state.SkipWithError(log.error.c_str());
    return;
  }
  const auto body = static_cast<std::size_t>(state.range(0));
  const bool postgres = log.db->backend() == db::Backend::kPostgres;
  std::int64_t written = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // A backlog left by the group-commit benchmarks (same PostgreSQL database) is stamped first.
    for (;;) {
      auto drained = log.log->timestamp_now();
      if (!drained.ok() || *drained == 0) {
        break;
      }
    }
    std::atomic<std::size_t> taken{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> appenders;
    for (int i = 0; i < 32; ++i) {
      appenders.emplace_back([&] {
        while (taken.fetch_add(1) < kPassRecords) {
          if (!log.log->append(record(next_id.fetch_add(1), body)).ok()) {
            failed = true;
          }
        }
      });
    }
    for (auto& a : appenders) {
      a.join();
    }
    if (failed) {
      state.SkipWithError("append failed");
      break;
    }
    const std::int64_t before = postgres ? wal_position(*log.db) : storage_write_bytes();
    state.ResumeTiming();
    auto stamped = log.log->timestamp_now();
    state.PauseTiming();
    written += (postgres ? wal_position(*log.db) : storage_write_bytes()) - before;
    if (!stamped.ok() || *stamped != kPassRecords) {
      state.SkipWithError(stamped.ok() ? "the pass stamped another number of records"
                                       : stamped.error().to_string().c_str());
      break;
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kPassRecords));
  state.counters[postgres ? "wal_kb_per_record" : "write_kb_per_record"] =
      static_cast<double>(written) / 1024.0 /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations() * kPassRecords));
}

void BM_MessageLogTimestampPassSqlite(benchmark::State& state) {
  char tmpl[] = "/tmp/hansa-microbench-pass-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  run_pass(state, std::string(dir) + "/messagelog.db");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_MessageLogTimestampPassSqlite)
    ->ArgName("body")
    ->Arg(1000)
    ->Arg(100 * 1024)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

void BM_MessageLogTimestampPassPostgres(benchmark::State& state) {
  const char* uri = std::getenv("HANSA_BENCH_PG_URI");
  if (uri == nullptr || *uri == '\0') {
    state.SkipWithError("HANSA_BENCH_PG_URI not set");
    return;
  }
  run_pass(state, uri);
}
BENCHMARK(BM_MessageLogTimestampPassPostgres)
    ->ArgName("body")
    ->Arg(1000)
    ->Arg(100 * 1024)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hansa::bench
