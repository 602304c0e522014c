#include "store/sqlite_store.h"

#include <utility>

#include "store/sqlite_schema.h"

namespace gpuaas {
namespace {

// How long a statement waits for another connection's lock (e.g. an operator's sqlite3 shell)
// before failing with kUnavailable.
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

Status ConfigureSqliteConnection(SqliteDb& db, const std::string& path) {
  GPUAAS_RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs)));
  GPUAAS_ASSIGN_OR_RETURN(auto mode, db.QueryText("PRAGMA journal_mode = WAL"));
  const bool in_memory = path == ":memory:";  // for tests of other modules: not durable
  if (!in_memory && mode.value_or("") != "wal") {
    return Unavailable("sqlite: cannot enable WAL mode on " + path +
                       " (got journal_mode=" + mode.value_or("?") + ")");
  }
  // FULL: a commit is on disk (WAL fsynced) before its callbacks say OK.
  GPUAAS_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  GPUAAS_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = OFF"));
  // Savepoint journals of the rare replay path stay in memory.
  GPUAAS_RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
  return Status::Ok();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       StoreOptions options) {
  if (options.max_batch_mutations < 1 || options.max_queued_batches < 1) {
    return InvalidArgument("store: max_batch_mutations and max_queued_batches must be >= 1");
  }
  WriterLock lock;
  if (path != ":memory:") {
    GPUAAS_ASSIGN_OR_RETURN(lock, WriterLock::ForDatabase(path));
  }
  GPUAAS_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(path));
  GPUAAS_RETURN_IF_ERROR(ConfigureSqliteConnection(db, path));
  GPUAAS_ASSIGN_OR_RETURN(int version, MigrateSqlite(db));
  (void)version;
  GPUAAS_ASSIGN_OR_RETURN(auto rows, RowWriter<SqliteDb>::Prepare(db));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(db), std::move(rows), options, std::move(lock)));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, StoreOptions options) {
  GPUAAS_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(path, options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace gpuaas
