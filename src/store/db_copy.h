// CopyDatabase: moves a platform's whole state from one database to another, e.g. from the
// embedded SQLite file to the bank's PostgreSQL (`gpuaas db copy`, docs/operations.md
// "Moving to PostgreSQL", ADR 0022). Every row the server keeps (StoredState) is read from the
// source in one read transaction and written to the destination in one write transaction, with
// the same row mapping the server uses (store_rows.h); before that transaction commits, the
// destination is read back and compared with the source, field by field: on any difference,
// or any error, nothing is left in the destination.
// Both databases are locked as a server would lock them (WriterLock, LockPgWriter), so a copy
// is refused while a server runs on either. The source must be at this gpuaas's schema version
// (it is only read); the destination is created or migrated, and must hold no platform.
// Thread-safety: a call owns its connections; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace gpuaas {

struct DbLocation {
  bool postgres = false;
  std::string where;  // the SQLite file's path, or a libpq connection string
};

// "postgresql://...", "postgres://..." or a "key=value ..." string is PostgreSQL; anything else
// is the path of a SQLite file. kInvalidArgument for an empty string or a connection string
// libpq cannot parse.
Result<DbLocation> ParseDbLocation(std::string_view text);
// "SQLite /var/lib/gpuaas/gpuaas.db", "PostgreSQL gpuaas on db.example:5432" (no password).
std::string DescribeDbLocation(const DbLocation& at);

struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> tables;  // rows per table, in copy order
  int64_t rows = 0;
  int schema_version = 0;
};

// Called after each table and every 10,000 rows: the table being copied, rows done, rows in all.
using CopyProgress = std::function<void(const std::string& table, int64_t done, int64_t total)>;

Result<CopyReport> CopyDatabase(const DbLocation& from, const DbLocation& to,
                                const CopyProgress& progress = {});

// The first difference between two states ("jobs: row 3 (id 17) differs", "users: 4 rows, 5
// expected"), or "" when equal. Used to check the read-back.
std::string StateDifference(const StoredState& got, const StoredState& want);

}  // namespace gpuaas
