#pragma once

// The message log's tables (migration component "node_messagelog"), shared by the store and its
// tests.
//
// mlog_record           one row per request / response (reference section 8, X-Road's logrecord)
// mlog_signature        one row per distinct signatures.xml (a batch signature is shared by every
//                       record of its batch); records written before schema version 4 keep
//                       theirs in mlog_record.signature
// mlog_record_ts        a record's time-stamp link and its ts hash chain
// mlog_timestamp        one row per RFC 3161 token; hash_chain_result is NULL for a single-record
//                       stamp (SignatureTimeStamp layout)
// mlog_last_archive     the last linking digest and file per archive group
// mlog_archive_pending  an archive announced before its file is written (crash recovery)
//
// Threading: constants only.

#include <span>
#include <string_view>

#include "core/db/migrate.h"

namespace hansa::messagelog {

inline constexpr std::string_view kMigrationComponent = "node_messagelog";

// The migrations of the message log, in order.
[[nodiscard]] std::span<const db::Migration> migrations();

}  // namespace hansa::messagelog
