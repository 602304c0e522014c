// Thin RAII wrappers over libpq, the PostgreSQL C client, with the same shape as SqliteDb and
// SqliteStmt (sqlite_db.h), so that the row mapping (store_rows.h) and the group-commit writer
// (sql_store.h) serve both databases. Statements are written with SQLite's `?N` parameters and
// turned into PostgreSQL's `$N` at prepare time; every value travels as text.
// Thread-safety: none; a connection and its statements belong to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas {

// Maps a failed result to our error currency by SQLSTATE: integrity violations (class 23) are
// kConflict, lost connections, resources and operator intervention (08, 53, 57) kUnavailable,
// everything else kInternal. `what` says which step.
Status PgError(const PGresult* res, PGconn* conn, std::string_view what);

class PgStmt {
 public:
  PgStmt() = default;
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;
  PgStmt(PgStmt&& o) noexcept;
  PgStmt& operator=(PgStmt&& o) noexcept;
  ~PgStmt();

  // Prepares `sql` on the server once (a named prepared statement), to be run many times.
  static Result<PgStmt> Prepare(PGconn* conn, std::string_view sql);

  // Binders take 1-based parameter indices, like SQLite.
  void BindInt(int i, int64_t v);
  void BindText(int i, std::string_view v);
  void BindNull(int i);
  void BindOptionalInt(int i, const std::optional<int>& v);

  // Runs a statement that returns no row, then clears its bindings.
  Status Exec(std::string_view what);
  // The first call runs the query; each call moves to the next row: true when a row is ready,
  // false when done; error otherwise.
  Result<bool> Step(std::string_view what);
  void Reset();

  int64_t ColumnInt(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  PGconn* conn_ = nullptr;
  std::string name_;
  int params_ = 0;
  std::vector<std::optional<std::string>> values_;
  PGresult* result_ = nullptr;  // of the last Step's query
  int row_ = -1;
};

class PgDb {
 public:
  using Stmt = PgStmt;
  // The statement that opens a write transaction (SQLite takes its write lock with IMMEDIATE).
  static constexpr const char* kBeginWrite = "BEGIN";

  PgDb() = default;
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;
  PgDb(PgDb&& o) noexcept;
  PgDb& operator=(PgDb&& o) noexcept;
  ~PgDb();

  // Connects with a libpq connection string ("postgresql://user@host/db" or "host=... dbname=...").
  static Result<PgDb> Open(const std::string& conninfo);

  // Runs one or more SQL statements that return no rows we need.
  Status Exec(std::string_view sql);
  // Runs `sql` and returns the first column of its first row as text (nullopt: no row).
  Result<std::optional<std::string>> QueryText(std::string_view sql);

  // True when no transaction is open (not after an error inside one: PostgreSQL keeps the
  // transaction open, aborted, until ROLLBACK).
  bool InAutocommit() const;
  PGconn* get() const { return conn_; }

 private:
  explicit PgDb(PGconn* conn) : conn_(conn) {}
  PGconn* conn_ = nullptr;
};

// What a connection string names, for messages, without its password: "dbname on host:port"
// (libpq's defaults where unset). kInvalidArgument with libpq's words when it does not parse.
Result<std::string> DescribePgConninfo(const std::string& conninfo);

// "?12" -> "$12" outside quoted strings and identifiers.
std::string PgParameters(std::string_view sql);

}  // namespace gpuaas
