#include "core/db/sqlite_gather_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <new>
#include <string>

namespace hansa::db::internal {
namespace {

// A WAL file: this header, then the wrapped VFS's file in the same allocation.
struct GatherFile {
  sqlite3_file base;  // first: SQLite sees a GatherFile as a sqlite3_file
  sqlite3_file* real;
  std::string* pending;  // gathered bytes, starting at pending_offset
  sqlite3_int64 pending_offset;
};

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs{};
sqlite3_io_methods g_methods{};
std::atomic<std::uint64_t> g_wal_writes{0};

GatherFile* as_gather(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }

int flush(GatherFile* g) {
  if (g->pending->empty()) {
    return SQLITE_OK;
  }
  g_wal_writes.fetch_add(1, std::memory_order_relaxed);
  int rc = g->real->pMethods->xWrite(g->real, g->pending->data(),
                                     static_cast<int>(g->pending->size()), g->pending_offset);
  g->pending->clear();
  return rc;
}

int x_close(sqlite3_file* f) {
  GatherFile* g = as_gather(f);
  int rc = flush(g);
  int closed = g->real->pMethods->xClose(g->real);
  delete g->pending;
  g->pending = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  GatherFile* g = as_gather(f);
  std::string& pending = *g->pending;
  const auto n = static_cast<std::size_t>(amount);
  const bool contiguous =
      !pending.empty() && offset == g->pending_offset + static_cast<sqlite3_int64>(pending.size());
  if (!contiguous || pending.size() + n > kMaxGatheredBytes) {
    if (int rc = flush(g); rc != SQLITE_OK) {
      return rc;
    }
    if (n > kMaxGatheredBytes) {
      g_wal_writes.fetch_add(1, std::memory_order_relaxed);
      return g->real->pMethods->xWrite(g->real, buf, amount, offset);
    }
    g->pending_offset = offset;
  }
  pending.append(static_cast<const char*>(buf), n);
  return SQLITE_OK;
}

// Forwards a call to the wrapped file's method `Method`; with `kFlush`, sends the gathered bytes
// first (every call that reads, syncs, sizes or controls the file must see them).
template <bool kFlush, auto Method, class... Args>
int forward(sqlite3_file* f, Args... args) {
  GatherFile* g = as_gather(f);
  if constexpr (kFlush) {
    if (int rc = flush(g); rc != SQLITE_OK) {
      return rc;
    }
  }
  return (g->real->pMethods->*Method)(g->real, args...);
}

// Version 1 methods: SQLite never maps or shares memory through a WAL file.
sqlite3_io_methods make_methods() {
  sqlite3_io_methods m{};
  m.iVersion = 1;
  m.xClose = x_close;
  m.xRead = forward<true, &sqlite3_io_methods::xRead, void*, int, sqlite3_int64>;
  m.xWrite = x_write;
  m.xTruncate = forward<true, &sqlite3_io_methods::xTruncate, sqlite3_int64>;
  m.xSync = forward<true, &sqlite3_io_methods::xSync, int>;
  m.xFileSize = forward<true, &sqlite3_io_methods::xFileSize, sqlite3_int64*>;
  m.xLock = forward<false, &sqlite3_io_methods::xLock, int>;
  m.xUnlock = forward<false, &sqlite3_io_methods::xUnlock, int>;
  m.xCheckReservedLock = forward<false, &sqlite3_io_methods::xCheckReservedLock, int*>;
  m.xFileControl = forward<true, &sqlite3_io_methods::xFileControl, int, void*>;
  m.xSectorSize = forward<false, &sqlite3_io_methods::xSectorSize>;
  m.xDeviceCharacteristics = forward<false, &sqlite3_io_methods::xDeviceCharacteristics>;
  return m;
}

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not a WAL file: the wrapped VFS's file fills the allocation, with its own methods.
    return g_real->xOpen(g_real, name, f, flags, out_flags);
  }
  GatherFile* g = as_gather(f);
  g->base.pMethods = nullptr;  // until opened: SQLite then does not call xClose
  g->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(GatherFile));
  int rc = g_real->xOpen(g_real, name, g->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    return rc;
  }
  g->pending = new (std::nothrow) std::string();
  if (g->pending == nullptr) {
    g->real->pMethods->xClose(g->real);
    return SQLITE_NOMEM;
  }
  g->pending_offset = 0;
  g->base.pMethods = &g_methods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))() {
  return g_real->xDlSym(g_real, handle, symbol);
}
void x_dl_close(sqlite3_vfs*, void* handle) { g_real->xDlClose(g_real, handle); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int x_sleep(sqlite3_vfs*, int micros) { return g_real->xSleep(g_real, micros); }
int x_current_time(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError != nullptr ? g_real->xGetLastError(g_real, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

}  // namespace

const char* gather_vfs_name() {
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr || g_real->iVersion < 2) {
      return;
    }
    g_methods = make_methods();
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = "hansa-gather";
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    g_vfs.xAccess = x_access;
    g_vfs.xFullPathname = x_full_pathname;
    g_vfs.xDlOpen = x_dl_open;
    g_vfs.xDlError = x_dl_error;
    g_vfs.xDlSym = x_dl_sym;
    g_vfs.xDlClose = x_dl_close;
    g_vfs.xRandomness = x_randomness;
    g_vfs.xSleep = x_sleep;
    g_vfs.xCurrentTime = x_current_time;
    g_vfs.xGetLastError = x_get_last_error;
    g_vfs.xCurrentTimeInt64 = x_current_time_int64;
    registered = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
  });
  return registered ? g_vfs.zName : nullptr;
}

std::uint64_t gather_vfs_wal_writes() { return g_wal_writes.load(std::memory_order_relaxed); }

}  // namespace hansa::db::internal
