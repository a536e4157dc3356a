#pragma once

// Internal to core/db: what a backend implements, and the connection pool. Not for other
// components (include core/db/database.h).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/db/database.h"
#include "core/errors/errors.h"

namespace hansa::db::internal {

// One physical connection. Threading: one owner (the pool hands it to one transaction at a time).
class Connection {
 public:
  virtual ~Connection() = default;

  // Starts a transaction. On failure the connection is not inside a transaction; when it is then
  // broken(), nothing took effect and the caller may retry on another connection.
  virtual Status begin(Access access) = 0;
  virtual Result<Rows> execute(std::string_view sql, std::span<const Value> params) = 0;
  virtual Status execute_script(std::string_view sql) = 0;
  // Transaction::insert_rows with validated arguments (identifiers checked, values.size() a
  // multiple of columns.size(), no NUL in text).
  virtual Result<std::int64_t> insert_rows(std::string_view table,
                                           std::span<const std::string_view> columns,
                                           std::span<const Value> values) = 0;
  virtual Status commit() = 0;
  // Transaction::commit_after: runs one statement with parameters and commits.
  virtual Status commit_after(std::string_view sql, std::span<const Value> params) = 0;
  virtual void rollback() noexcept = 0;
  // True once the connection is known to be unusable; the pool then discards it.
  [[nodiscard]] virtual bool broken() const noexcept = 0;
};

// Opens connections of one database. Threading: thread-safe.
class Connector {
 public:
  virtual ~Connector() = default;
  virtual Result<std::unique_ptr<Connection>> connect() = 0;
};

class Pool;

// A connection on loan from the pool; returns it on destruction. Threading: one owner.
class Lease final {
 public:
  Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn) noexcept
      : pool_(std::move(pool)), conn_(std::move(conn)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  [[nodiscard]] Connection& connection() noexcept { return *conn_; }

 private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> conn_;
};

// A bounded set of connections, opened lazily. Threading: thread-safe: guarded by mu_.
class Pool final : public std::enable_shared_from_this<Pool> {
 public:
  Pool(std::unique_ptr<Connector> connector, std::size_t max_size,
       std::chrono::milliseconds acquire_timeout);

  // Waits up to acquire_timeout for an idle connection or room to open one (kTimeout).
  [[nodiscard]] Result<std::unique_ptr<Lease>> acquire();
  // Takes a connection back; a broken one is closed and frees its slot.
  void release(std::unique_ptr<Connection> conn) noexcept;
  [[nodiscard]] PoolStats stats() const;
  [[nodiscard]] std::size_t max_size() const noexcept { return max_size_; }

 private:
  std::unique_ptr<Connector> connector_;
  const std::size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::size_t open_ = 0;                           // guarded by mu_ (idle + leased + connecting)
};

// Least-recently-used cache of prepared statements keyed by SQL text. Threading: one owner.
template <typename Handle>
class StatementCache final {
 public:
  using Dispose = std::function<void(Handle&)>;

  StatementCache(std::size_t capacity, Dispose dispose)
      : capacity_(capacity == 0 ? 1 : capacity), dispose_(std::move(dispose)) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache() { clear(); }

  // The cached handle for `sql`, moved to the front; nullptr when absent.
  Handle* find(const std::string& sql) {
    auto it = index_.find(sql);
    if (it == index_.end()) {
      return nullptr;
    }
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->second;
  }

  // Adds a handle, disposing of the least recently used one when full.
  Handle& insert(std::string sql, Handle handle) {
    if (entries_.size() >= capacity_) {
      auto& last = entries_.back();
      dispose_(last.second);
      index_.erase(last.first);
      entries_.pop_back();
    }
    entries_.emplace_front(std::move(sql), std::move(handle));
    index_[entries_.front().first] = entries_.begin();
    return entries_.front().second;
  }

  // Drops one entry (after a failure that may have invalidated it).
  void erase(const std::string& sql) {
    auto it = index_.find(sql);
    if (it != index_.end()) {
      dispose_(it->second->second);
      entries_.erase(it->second);
      index_.erase(it);
    }
  }

  void clear() {
    for (auto& e : entries_) {
      dispose_(e.second);
    }
    entries_.clear();
    index_.clear();
  }

 private:
  using Entry = std::pair<std::string, Handle>;
  std::size_t capacity_;
  Dispose dispose_;
  std::list<Entry> entries_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

// Backends.
[[nodiscard]] Result<std::unique_ptr<Connector>> make_sqlite_connector(std::string path,
                                                                       const DbConfig& config);
[[nodiscard]] Result<std::unique_ptr<Connector>> make_postgres_connector(std::string conninfo,
                                                                         const DbConfig& config);

// Error helpers shared by the backends.
[[nodiscard]] Error db_error(std::string message, std::string detail = {});

}  // namespace hansa::db::internal
