// Schema of the SQLite store and its versioned migrations. Each migration is applied once, in
// version order, in its own transaction, and recorded in schema_migrations(version, applied_at).
// A database whose recorded version is newer than the code knows is refused: an old binary must
// never write to a database a newer one has reshaped.
// Thread-safety: functions take the connection of the calling thread; no shared state.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite_db.h"

namespace gpuaas {

struct SqliteMigration {
  int version;       // 1, 2, 3, ... without gaps
  const char* name;  // short description, for logs and errors
  const char* sql;   // one or more statements
};

// The ordered migrations this code knows.
const std::vector<SqliteMigration>& SqliteMigrations();
int LatestSqliteSchemaVersion();

// Brings `db` to the latest version. Fails with kFailedPrecondition when the database is newer
// than the code. Returns the version the database is at afterwards.
Result<int> MigrateSqlite(SqliteDb& db);

// The highest version recorded in schema_migrations (0 when none).
Result<int> SqliteSchemaVersion(SqliteDb& db);

}  // namespace gpuaas
