// ApplyMigrations: brings a SQL store's database to the latest schema version with the numbered
// migrations of sqlite_schema.h, each once, in version order, in its own transaction, recorded
// in schema_migrations(version, name, applied_at). The same steps for SQLite and PostgreSQL;
// what differs (how the transaction takes its lock, the clock, the DDL's types) is MigrationSql.
// A database whose recorded version is newer than the code knows is refused (kFailedPrecondition).
// Thread-safety: takes the connection of the calling thread; no shared state.
#pragma once

#include <string>

#include "base/status.h"

namespace gpuaas {

struct MigrationSql {
  const char* create_table;  // CREATE TABLE IF NOT EXISTS schema_migrations (...)
  const char* begin;         // opens a transaction that holds the migration lock
  const char* record;        // INSERT INTO schema_migrations: ?1 version, ?2 name
  std::string (*translate)(const std::string& sqlite_ddl);  // nullptr: as written
};

// `Db` is SqliteDb or PgDb. Returns the version the database is at afterwards.
template <typename Db>
Result<int> ApplyMigrations(Db& db, const MigrationSql& sql);

// The highest version recorded in schema_migrations (0 when none).
template <typename Db>
Result<int> RecordedSchemaVersion(Db& db);

}  // namespace gpuaas
