#include "store/sqlite_db.h"

#include <utility>

namespace gpuaas {

Status SqliteError(int rc, sqlite3* db, std::string_view what) {
  std::string msg = "sqlite: " + std::string(what) + ": ";
  msg += (db != nullptr && sqlite3_errcode(db) == rc) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Conflict(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Unavailable(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

// --- SqliteStmt ---

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(o.stmt_, nullptr);
    db_ = o.db_;
  }
  return *this;
}

SqliteStmt::~SqliteStmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Result<SqliteStmt> SqliteStmt::Prepare(sqlite3* db, std::string_view sql) {
  SqliteStmt s;
  s.db_ = db;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s.stmt_, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, db, "prepare " + std::string(sql));
  return s;
}

void SqliteStmt::BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }

void SqliteStmt::BindText(int i, std::string_view v) {
  // A non-null pointer even for "" so that an empty string is stored as '' and not NULL.
  sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}

void SqliteStmt::BindNull(int i) { sqlite3_bind_null(stmt_, i); }

void SqliteStmt::BindOptionalInt(int i, const std::optional<int>& v) {
  if (v.has_value()) {
    BindInt(i, *v);
  } else {
    BindNull(i);
  }
}

Status SqliteStmt::Exec(std::string_view what) {
  int rc = sqlite3_step(stmt_);
  Status st;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) st = SqliteError(rc, db_, what);
  Reset();
  return st;
}

Result<bool> SqliteStmt::Step(std::string_view what) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = SqliteError(rc, db_, what);
  Reset();
  return st;
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStmt::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string SqliteStmt::ColumnText(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
}

bool SqliteStmt::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// --- SqliteDb ---

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  // close_v2: statements still alive are finalized later without leaking the connection.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<SqliteDb> SqliteDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);  // owns the handle even when the open failed
  if (rc != SQLITE_OK) return SqliteError(rc, raw, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Status SqliteDb::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  Status st = SqliteError(rc, nullptr, s);
  return Status(st.code(), "sqlite: " + msg + " (in: " + s.substr(0, 60) + ")");
}

Result<std::optional<std::string>> SqliteDb::QueryText(std::string_view sql) {
  GPUAAS_ASSIGN_OR_RETURN(SqliteStmt stmt, SqliteStmt::Prepare(db_, sql));
  GPUAAS_ASSIGN_OR_RETURN(bool row, stmt.Step(sql));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

}  // namespace gpuaas
