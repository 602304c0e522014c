// Thin RAII wrappers over the SQLite C API: a connection (SqliteDb) and a prepared statement
// (SqliteStmt), with SQLite result codes turned into Status. Only the store uses them.
// Thread-safety: none; a connection and its statements belong to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

// Maps an SQLite result code to our error currency: constraint violations are kConflict,
// busy/locked/full/I/O errors kUnavailable, everything else kInternal. `what` says which step.
Status SqliteError(int rc, sqlite3* db, std::string_view what);

class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  SqliteStmt(SqliteStmt&& o) noexcept : stmt_(o.stmt_), db_(o.db_) { o.stmt_ = nullptr; }
  SqliteStmt& operator=(SqliteStmt&& o) noexcept;
  ~SqliteStmt();

  // Prepares `sql` once, to be reset and reused many times (SQLITE_PREPARE_PERSISTENT).
  static Result<SqliteStmt> Prepare(sqlite3* db, std::string_view sql);

  // Binders take 1-based parameter indices, like SQLite.
  void BindInt(int i, int64_t v);
  void BindText(int i, std::string_view v);  // copied (SQLITE_TRANSIENT)
  void BindNull(int i);
  void BindOptionalInt(int i, const std::optional<int>& v);

  // Runs a statement that returns no row, then resets it and clears its bindings.
  Status Exec(std::string_view what);
  // Steps once: true when a row is ready, false when done; error otherwise.
  Result<bool> Step(std::string_view what);
  void Reset();

  int64_t ColumnInt(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

class SqliteDb {
 public:
  using Stmt = SqliteStmt;
  // The statement that opens a write transaction: IMMEDIATE takes the write lock at once.
  static constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";

  SqliteDb() = default;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  SqliteDb(SqliteDb&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  ~SqliteDb();

  // Opens (creating if needed) the database file at `path`.
  static Result<SqliteDb> Open(const std::string& path);

  // Runs one or more SQL statements that return no rows we need.
  Status Exec(std::string_view sql);
  // Runs `sql` and returns the first column of its first row as text (nullopt: no row).
  Result<std::optional<std::string>> QueryText(std::string_view sql);

  // True when no transaction is open (SQLite rolls back by itself after some errors).
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }
  sqlite3* get() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace gpuaas
