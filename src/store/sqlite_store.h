// SqliteStore: the embedded Store (the default): SqlStore (sql_store.h) over one SQLite
// connection in WAL mode with synchronous=FULL, so that a commit is on disk before its callbacks
// say OK. Thread-safety: as SqlStore.
#pragma once

#include <memory>
#include <string>

#include "store/sql_store.h"
#include "store/sqlite_db.h"

namespace gpuaas {

class SqliteStore final : public SqlStore<SqliteDb> {
 public:
  // Opens (creating if needed) the database file at `path` and migrates it to the latest schema.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   StoreOptions options = {});

 private:
  using SqlStore::SqlStore;
};

}  // namespace gpuaas
