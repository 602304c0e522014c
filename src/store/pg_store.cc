#include "store/pg_store.h"

#include "store/sqlite_schema.h"

namespace gpuaas {
namespace {

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// Any number: the key of the advisory lock that serialises migrations.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7411206)";

Result<int> PgSchemaVersion(PgDb& db) {
  GPUAAS_ASSIGN_OR_RETURN(auto v,
                          db.QueryText("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return v ? std::stoi(*v) : 0;
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
  GPUAAS_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  const int latest = LatestSqliteSchemaVersion();
  int current = 0;
  for (const SqliteMigration& m : SqliteMigrations()) {
    GPUAAS_RETURN_IF_ERROR(db.Exec("BEGIN"));
    Status st = db.Exec(kMigrationLock);
    Result<int> now = st.ok() ? PgSchemaVersion(db) : Result<int>(st);
    if (now.ok() && *now > latest) {
      (void)db.Exec("ROLLBACK");
      return FailedPrecondition("database schema version " + std::to_string(*now) +
                                " is newer than this gpuaas supports (" + std::to_string(latest) +
                                "); run a newer gpuaas or restore a matching backup");
    }
    if (now.ok() && *now >= m.version) {  // applied before, or by another server just now
      GPUAAS_RETURN_IF_ERROR(db.Exec("COMMIT"));
      current = *now;
      continue;
    }
    st = now.ok() ? db.Exec(PgSchemaSql(m.sql)) : now.status();
    if (st.ok()) {
      auto rec = PgStmt::Prepare(
          db.get(),
          "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, "
          "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))");
      if (rec.ok()) {
        rec->BindInt(1, m.version);
        rec->BindText(2, m.name);
        st = rec->Exec("record migration");
      } else {
        st = rec.status();
      }
    }
    if (st.ok()) st = db.Exec("COMMIT");
    if (!st.ok()) {
      if (!db.InAutocommit()) (void)db.Exec("ROLLBACK");
      return Status(st.code(), "migration " + std::to_string(m.version) + " (" + m.name +
                                   ") failed: " + st.message());
    }
    current = m.version;
  }
  return current;
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
