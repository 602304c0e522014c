// SqliteStore: the embedded Store (the default): SqlStore (sql_store.h) over one SQLite
// connection in WAL mode with synchronous=FULL, so that a commit is on disk before its callbacks
// say OK. It holds the database's WriterLock (writer_lock.h) while open: one server per file.
// Thread-safety: as SqlStore.
#pragma once

#include <memory>
#include <string>

#include "store/sql_store.h"
#include "store/sqlite_db.h"
#include "store/writer_lock.h"

namespace gpuaas {

class SqliteStore final : public SqlStore<SqliteDb> {
 public:
  // Opens (creating if needed) the database file at `path` and migrates it to the latest schema.
  // kFailedPrecondition when another process (or store) has it open.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   StoreOptions options = {});
  ~SqliteStore() override { Close(); }  // here, so that Closed() runs while lock_ lives

 private:
  SqliteStore(SqliteDb db, std::unique_ptr<RowWriter<SqliteDb>> rows, StoreOptions options,
              WriterLock lock)
      : SqlStore(std::move(db), std::move(rows), options), lock_(std::move(lock)) {}

  void Closed() override { lock_ = WriterLock(); }

  WriterLock lock_;  // none for ":memory:" or once closed
};

// The settings of a store's connection: a busy timeout, WAL (required but for ":memory:"),
// synchronous=FULL, no foreign keys, temporary data in memory.
Status ConfigureSqliteConnection(SqliteDb& db, const std::string& path);

}  // namespace gpuaas
