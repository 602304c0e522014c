// PgStore: the Store at scale, on PostgreSQL (docs/operations.md "PostgreSQL", docs/adr/0020):
// SqlStore (sql_store.h) over one libpq connection, with the same row mapping as SQLite
// (store_rows.h) and the same migrations, translated to PostgreSQL's types (PgSchemaSql). A
// commit is durable when PostgreSQL says so (synchronous_commit on, its default and what we
// require). Migrations run under an advisory lock, so that two servers cannot both migrate, and
// the store holds a session advisory lock while open: one server per database (ADR 0022).
// Thread-safety: as SqlStore.
#pragma once

#include <memory>
#include <string>

#include "store/pg_db.h"
#include "store/sql_store.h"

namespace gpuaas {

class PgStore final : public SqlStore<PgDb> {
 public:
  // Connects with a libpq connection string, takes the writer lock (LockPgWriter) and migrates
  // the database to the latest schema.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& conninfo,
                                               StoreOptions options = {});

 private:
  using SqlStore::SqlStore;
};

// A migration of the SQLite schema (sqlite_schema.h) as PostgreSQL DDL: 64-bit integers,
// no WITHOUT ROWID, the column "user" quoted.
std::string PgSchemaSql(const std::string& sqlite_sql);

// Takes the database's writer lock for the life of the connection (a session advisory lock; it
// goes with the connection). kFailedPrecondition when another connection holds it: a server runs
// on this database (the message names its backend pid and client address).
Status LockPgWriter(PgDb& db);

// Brings `db` to the latest version (the same numbers as SQLite's). Fails with
// kFailedPrecondition when the database is newer than the code.
Result<int> MigratePg(PgDb& db);

}  // namespace gpuaas
