#include "store/pg_store.h"

#include "store/migrate.h"

namespace gpuaas {
namespace {

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

std::string PgSchemaSql(const std::string& sqlite_sql) {
  std::string s = sqlite_sql;
  ReplaceAll(s, "INTEGER", "BIGINT");
  ReplaceAll(s, ") WITHOUT ROWID;", ");");
  ReplaceAll(s, "\n  user ", "\n  \"user\" ");
  return s;
}

Result<int> MigratePg(PgDb& db) {
  // The advisory lock (any number will do) serialises servers migrating the same database.
  static constexpr MigrationSql kSql = {
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
      "BEGIN; SELECT pg_advisory_xact_lock(7411206)",
      "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, "
      "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))",
      PgSchemaSql};
  return ApplyMigrations(db, kSql);
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& conninfo, StoreOptions options) {
  if (options.max_batch_mutations < 1 || options.max_queued_batches < 1) {
    return InvalidArgument("store: max_batch_mutations and max_queued_batches must be >= 1");
  }
  GPUAAS_ASSIGN_OR_RETURN(PgDb db, PgDb::Open(conninfo));
  // "Durable before acknowledged" (ADR 0002) needs a commit that waits for the WAL flush.
  GPUAAS_ASSIGN_OR_RETURN(auto sync, db.QueryText("SHOW synchronous_commit"));
  if (sync.value_or("") == "off") {
    GPUAAS_RETURN_IF_ERROR(db.Exec("SET synchronous_commit = on"));
  }
  GPUAAS_ASSIGN_OR_RETURN(int version, MigratePg(db));
  (void)version;
  GPUAAS_ASSIGN_OR_RETURN(auto rows, RowWriter<PgDb>::Prepare(db));
  return std::unique_ptr<PgStore>(new PgStore(std::move(db), std::move(rows), options));
}

Result<std::unique_ptr<Store>> OpenPgStore(const std::string& conninfo, StoreOptions options) {
  GPUAAS_ASSIGN_OR_RETURN(auto store, PgStore::Open(conninfo, options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace gpuaas
