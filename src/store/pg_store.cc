#include "store/pg_store.h"

#include "store/migrate.h"

namespace gpuaas {
namespace {

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The writer's advisory lock key (per session); migrations use 7411206 (per transaction).
constexpr const char* kWriterLock = "7411207";

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

Status LockPgWriter(PgDb& db) {
  GPUAAS_ASSIGN_OR_RETURN(
      auto got, db.QueryText(std::string("SELECT pg_try_advisory_lock(") + kWriterLock + ")"));
  if (got.value_or("") == "t") return Status::Ok();
  // Who holds it, for the operator (advisory locks are per database: the same key elsewhere on
  // the PostgreSQL server is another platform's).
  auto holder = db.QueryText(
      std::string("SELECT a.pid || ' from ' || COALESCE(host(a.client_addr), 'a local socket') "
                  "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                  "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ") +
      kWriterLock +
      " AND l.database = (SELECT oid FROM pg_database WHERE datname = "
      "current_database()) LIMIT 1");
  std::string who =
      holder.ok() && holder->has_value() ? " (PostgreSQL backend pid " + **holder + ")" : "";
  return FailedPrecondition("the PostgreSQL database is in use by another GPUaaS process" + who +
                            ": one server per database; stop it first");
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& conninfo, StoreOptions options) {
  if (options.max_batch_mutations < 1 || options.max_queued_batches < 1) {
    return InvalidArgument("store: max_batch_mutations and max_queued_batches must be >= 1");
  }
  GPUAAS_ASSIGN_OR_RETURN(PgDb db, PgDb::Open(conninfo));
  GPUAAS_RETURN_IF_ERROR(LockPgWriter(db));
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
