#include "store/pg_db.h"

#include <atomic>
#include <charconv>
#include <cstring>
#include <utility>

namespace gpuaas {
namespace {

std::atomic<int64_t> next_statement{1};

std::string Trimmed(const char* s) {
  std::string m = s == nullptr ? "" : s;
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

Status PgError(const PGresult* res, PGconn* conn, std::string_view what) {
  std::string msg = "postgresql: " + std::string(what) + ": ";
  const char* detail = res != nullptr ? PQresultErrorMessage(res) : nullptr;
  msg += Trimmed(detail != nullptr && *detail != '\0' ? detail : PQerrorMessage(conn));
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view cls = state != nullptr ? std::string_view(state).substr(0, 2) : "";
  if (cls == "23") return Conflict(std::move(msg));
  if (cls == "08" || cls == "53" || cls == "57" || PQstatus(conn) != CONNECTION_OK) {
    return Unavailable(std::move(msg));
  }
  return Internal(std::move(msg));
}

std::string PgParameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      c = '$';
    }
    out += c;
  }
  return out;
}

// --- PgStmt ---

PgStmt::PgStmt(PgStmt&& o) noexcept { *this = std::move(o); }

PgStmt& PgStmt::operator=(PgStmt&& o) noexcept {
  if (this != &o) {
    if (result_ != nullptr) PQclear(result_);
    conn_ = o.conn_;
    name_ = std::move(o.name_);
    params_ = o.params_;
    values_ = std::move(o.values_);
    result_ = std::exchange(o.result_, nullptr);
    row_ = o.row_;
  }
  return *this;
}

PgStmt::~PgStmt() {
  if (result_ != nullptr) PQclear(result_);
}

Result<PgStmt> PgStmt::Prepare(PGconn* conn, std::string_view sql) {
  PgStmt s;
  s.conn_ = conn;
  s.name_ = "gpuaas_" + std::to_string(next_statement.fetch_add(1));
  const std::string text = PgParameters(sql);
  PGresult* res = PQprepare(conn, s.name_.c_str(), text.c_str(), 0, nullptr);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    Status st = PgError(res, conn, "prepare " + std::string(sql));
    PQclear(res);
    return st;
  }
  PQclear(res);
  PGresult* desc = PQdescribePrepared(conn, s.name_.c_str());
  if (PQresultStatus(desc) != PGRES_COMMAND_OK) {
    Status st = PgError(desc, conn, "describe " + std::string(sql));
    PQclear(desc);
    return st;
  }
  s.params_ = PQnparams(desc);
  PQclear(desc);
  s.values_.assign(static_cast<size_t>(s.params_), std::nullopt);
  return s;
}

void PgStmt::BindInt(int i, int64_t v) {
  if (i >= 1 && i <= params_) values_[static_cast<size_t>(i - 1)] = std::to_string(v);
}

void PgStmt::BindText(int i, std::string_view v) {
  if (i >= 1 && i <= params_) values_[static_cast<size_t>(i - 1)] = std::string(v);
}

void PgStmt::BindNull(int i) {
  if (i >= 1 && i <= params_) values_[static_cast<size_t>(i - 1)] = std::nullopt;
}

void PgStmt::BindOptionalInt(int i, const std::optional<int>& v) {
  if (v.has_value()) {
    BindInt(i, *v);
  } else {
    BindNull(i);
  }
}

Status PgStmt::Exec(std::string_view what) {
  std::vector<const char*> values;
  values.reserve(values_.size());
  for (const auto& v : values_) values.push_back(v ? v->c_str() : nullptr);
  PGresult* res = PQexecPrepared(conn_, name_.c_str(), params_, values.data(), nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(res);
  Status out =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : PgError(res, conn_, what);
  PQclear(res);
  Reset();
  return out;
}

Result<bool> PgStmt::Step(std::string_view what) {
  if (result_ == nullptr) {
    std::vector<const char*> values;
    for (const auto& v : values_) values.push_back(v ? v->c_str() : nullptr);
    result_ = PQexecPrepared(conn_, name_.c_str(), params_, values.data(), nullptr, nullptr, 0);
    if (PQresultStatus(result_) != PGRES_TUPLES_OK) {
      Status st = PgError(result_, conn_, what);
      Reset();
      return st;
    }
    row_ = -1;
  }
  if (++row_ < PQntuples(result_)) return true;
  Reset();
  return false;
}

void PgStmt::Reset() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  values_.assign(static_cast<size_t>(params_), std::nullopt);
}

int64_t PgStmt::ColumnInt(int col) const {
  const char* v = PQgetvalue(result_, row_, col);
  int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

std::string PgStmt::ColumnText(int col) const {
  return std::string(PQgetvalue(result_, row_, col),
                     static_cast<size_t>(PQgetlength(result_, row_, col)));
}

bool PgStmt::ColumnIsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }

// --- PgDb ---

PgDb::PgDb(PgDb&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)) {}

PgDb& PgDb::operator=(PgDb&& o) noexcept {
  if (this != &o) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(o.conn_, nullptr);
  }
  return *this;
}

PgDb::~PgDb() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<std::string> DescribePgConninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string msg = err != nullptr ? Trimmed(err) : "out of memory";
    if (err != nullptr) PQfreemem(err);
    return InvalidArgument("not a PostgreSQL connection string: " + msg);
  }
  std::string host, port, dbname;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    const std::string key = o->keyword;
    const std::string value = o->val != nullptr ? o->val : "";
    if (key == "host" || (key == "hostaddr" && host.empty())) host = value;
    if (key == "port") port = value;
    if (key == "dbname") dbname = value;
  }
  PQconninfoFree(opts);
  if (host.empty()) host = "the local socket";
  return (dbname.empty() ? std::string("the default database") : dbname) + " on " + host +
         (port.empty() ? "" : ":" + port);
}

Result<PgDb> PgDb::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Unavailable("postgresql: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = "postgresql: cannot connect: " + Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Unavailable(std::move(msg));
  }
  PgDb db(conn);
  // Our notices (e.g. "relation already exists, skipping") are not the operator's concern.
  GPUAAS_RETURN_IF_ERROR(db.Exec("SET client_min_messages = warning"));
  return db;
}

Status PgDb::Exec(std::string_view sql) {
  PGresult* res = PQexec(conn_, std::string(sql).c_str());
  const ExecStatusType st = PQresultStatus(res);
  Status out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                   ? Status::Ok()
                   : PgError(res, conn_, sql.substr(0, 60));
  PQclear(res);
  return out;
}

Result<std::optional<std::string>> PgDb::QueryText(std::string_view sql) {
  PGresult* res = PQexec(conn_, std::string(sql).c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    Status st = PgError(res, conn_, sql.substr(0, 60));
    PQclear(res);
    return st;
  }
  std::optional<std::string> out;
  if (PQntuples(res) > 0 && PQgetisnull(res, 0, 0) == 0) out = std::string(PQgetvalue(res, 0, 0));
  PQclear(res);
  return out;
}

bool PgDb::InAutocommit() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

}  // namespace gpuaas
