#pragma once

// A SQLite VFS that sends the write-ahead log's frames of a commit in one write.
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the page), so a commit of
// 17 pages costs 34 pwrite calls. This VFS wraps the default one and gathers contiguous writes to
// a WAL file in memory, sending them at the file's next sync, read, size query, truncation, file
// control or close, when a write is not contiguous, or when kMaxGatheredBytes wait. Other files
// (the database, its temporary files) are the default VFS's own, untouched.
//
// Correct only when every commit syncs the WAL (PRAGMA synchronous=FULL): SQLite makes a
// commit's frames visible to other connections only after that sync, so no connection can read a
// frame still gathered here. With synchronous=NORMAL a commit does not sync the WAL, and the
// default VFS must be used. Frames gathered and never sent (a crash) belong to a commit that was
// never reported durable, as with any write the kernel had not yet taken.
//
// Threading: registration is thread-safe; each file is used by one connection at a time, as
// SQLite requires of every VFS file.

#include <cstddef>
#include <cstdint>

namespace hansa::db::internal {

// Below 128 KiB: SQLite's unix VFS writes at most 0x1ffff bytes per call (it masks the length),
// and fails a write whose remainder is a multiple of 128 KiB.
inline constexpr std::size_t kMaxGatheredBytes = 120 * 1024;

// Registers the VFS (once per process, not as the default) and returns its name for
// sqlite3_open_v2; nullptr when SQLite has no default VFS to wrap.
const char* gather_vfs_name();

// Writes this VFS has sent to WAL files since the process started (tests).
std::uint64_t gather_vfs_wal_writes();

}  // namespace hansa::db::internal
