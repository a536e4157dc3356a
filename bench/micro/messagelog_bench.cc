// Micro-benchmark of the message log's group commit (node/messagelog): concurrent appenders, each
// waiting until its 1 KB record is durable. SQLite always (a temporary file, synchronous=FULL);
// PostgreSQL when HANSA_BENCH_PG_URI is set.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

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

LogUnderTest open_log(const std::string& uri, std::size_t writers) {
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
  auto log = messagelog::MessageLog::create(*t.db, options,
                                            [] { return std::vector<messagelog::TsaTarget>{}; });
  if (!log.ok()) {
    t.error = log.error().to_string();
    return t;
  }
  t.log = std::move(log).value();
  return t;
}

LogUnderTest* sqlite_log() {
  static LogUnderTest* t = [] {
    char tmpl[] = "/tmp/hansa-microbench-log-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    return new LogUnderTest(open_log(std::string(dir ? dir : "/tmp") + "/messagelog.db", 1));
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

messagelog::LogRecord record(std::size_t n) {
  static const auto client = *ids::ClientId::parse("SUBSYSTEM:DEV/GOV/1234/CLIENT");
  static const auto service = *ids::ServiceId::parse("SERVICE:DEV/COM/4321/PROVIDER/echo/v1");
  const std::string id = "bench-" + std::to_string(n);
  return messagelog::LogRecord{.query_id = id,
                               .x_request_id = id,
                               .client = client,
                               .service = service,
                               .response = false,
                               .rest = false,
                               .message = "<Envelope>" + std::string(1000, 'm') + "</Envelope>",
                               .attachments = {},
                               .signature = std::string(4000, 's'),
                               .hash_chain_result = {},
                               .hash_chain = {},
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

}  // namespace
}  // namespace hansa::bench
