#include "store/migrate.h"

#include "store/pg_db.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace gpuaas {

template <typename Db>
Result<int> RecordedSchemaVersion(Db& db) {
  GPUAAS_ASSIGN_OR_RETURN(auto v,
                          db.QueryText("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return v ? std::stoi(*v) : 0;
}

template <typename Db>
Result<int> ApplyMigrations(Db& db, const MigrationSql& sql) {
  GPUAAS_RETURN_IF_ERROR(db.Exec(sql.create_table));
  GPUAAS_ASSIGN_OR_RETURN(int current, RecordedSchemaVersion(db));
  const int latest = LatestSqliteSchemaVersion();
  if (current > latest) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this gpuaas supports (" + std::to_string(latest) +
                              "); run a newer gpuaas or restore a matching backup");
  }
  for (const SqliteMigration& m : SqliteMigrations()) {
    if (m.version <= current) continue;
    GPUAAS_RETURN_IF_ERROR(db.Exec(sql.begin));
    Result<int> now = RecordedSchemaVersion(db);  // another process may have just migrated
    if (now.ok() && *now >= m.version) {
      GPUAAS_RETURN_IF_ERROR(db.Exec("COMMIT"));
      current = *now;
      continue;
    }
    Status st = now.ok() ? db.Exec(sql.translate ? sql.translate(m.sql) : std::string(m.sql))
                         : now.status();
    if (st.ok()) {
      auto rec = Db::Stmt::Prepare(db.get(), sql.record);
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

template Result<int> ApplyMigrations(SqliteDb& db, const MigrationSql& sql);
template Result<int> ApplyMigrations(PgDb& db, const MigrationSql& sql);
template Result<int> RecordedSchemaVersion(SqliteDb& db);
template Result<int> RecordedSchemaVersion(PgDb& db);

}  // namespace gpuaas
