#include "store/db_copy.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>

#include "store/migrate.h"
#include "store/pg_db.h"
#include "store/pg_store.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "store/store_rows.h"
#include "store/writer_lock.h"

namespace gpuaas {
namespace {

constexpr int64_t kProgressEvery = 10'000;

// libpq's URI prefixes, or its keyword=value form (a lowercase keyword, then '=').
bool LooksLikePg(std::string_view t) {
  if (t.starts_with("postgresql://") || t.starts_with("postgres://")) return true;
  size_t i = 0;
  while (i < t.size() && ((t[i] >= 'a' && t[i] <= 'z') || t[i] == '_')) ++i;
  size_t j = i;
  while (j < t.size() && t[j] == ' ') ++j;
  return i > 0 && j < t.size() && t[j] == '=';
}

template <typename T>
std::string KeyOf(const T& row) {
  if constexpr (requires { row.id; }) {
    return " (id " + std::to_string(row.id) + ")";
  } else if constexpr (requires { row.allocation; }) {
    return " (allocation " + std::to_string(row.allocation) + ")";
  } else if constexpr (requires { row.entity; }) {
    return " (entity " + std::to_string(row.entity) + ")";
  } else {
    return "";
  }
}

template <typename T>
std::string DiffRows(const char* table, const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size()) {
    return std::string(table) + ": " + std::to_string(got.size()) + " rows, " +
           std::to_string(want.size()) + " expected";
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(got[i] == want[i])) {
      return std::string(table) + ": row " + std::to_string(i + 1) + KeyOf(want[i]) + " differs";
    }
  }
  return "";
}

// Meta rows are key/value facts: which one differs says nothing more.
std::string DiffRows(const char*, const std::vector<MetaKV>& got, const std::vector<MetaKV>& want) {
  return got == want ? "" : "meta differs";
}

std::vector<MetaKV> MetaRows(const StoredState& s) {
  std::vector<MetaKV> out;
  for (const auto& [k, v] : s.meta) out.push_back({k, v});
  return out;
}

// Calls f(table name, rows of a, rows of b) for every table, in copy order (the database's
// table names): the one list of tables for the copy, its report and its check.
template <typename F>
void ForEachTable(const StoredState& a, const StoredState& b, F&& f) {
  f("entities", a.entities, b.entities);
  f("users", a.users, b.users);
  f("api_tokens", a.tokens, b.tokens);
  f("nodes", a.nodes, b.nodes);
  f("jobs", a.jobs, b.jobs);
  f("allocations", a.allocations, b.allocations);
  f("usage_records", a.usage, b.usage);
  f("meta", MetaRows(a), MetaRows(b));
  f("prices", a.prices, b.prices);
  f("budgets", a.budgets, b.budgets);
  f("billing_events", a.billing_events, b.billing_events);
  f("invoices", a.invoices, b.invoices);
  f("credit_notes", a.credit_notes, b.credit_notes);
  f("storage_quotas", a.storage_quotas, b.storage_quotas);
  f("group_mappings", a.group_mappings, b.group_mappings);
}

// The same for one state.
template <typename F>
void ForEachTable(const StoredState& s, F&& f) {
  ForEachTable(s, s, [&f](const char* name, const auto& rows, const auto&) { f(name, rows); });
}

std::vector<std::pair<std::string, int64_t>> TableSizes(const StoredState& s) {
  std::vector<std::pair<std::string, int64_t>> out;
  ForEachTable(s, [&](const char* name, const auto& rows) {
    out.emplace_back(name, static_cast<int64_t>(rows.size()));
  });
  int64_t lines = 0;
  for (const ClosedInvoice& i : s.invoices) lines += static_cast<int64_t>(i.lines.size());
  out.emplace_back("invoice_lines", lines);  // written with their invoice
  return out;
}

// "3 entities, 12 jobs, ..." of the tables that have rows.
std::string Summary(const StoredState& s) {
  std::string out;
  for (const auto& [name, n] : TableSizes(s)) {
    if (n == 0) continue;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  }
  return out;
}

// The source must be a platform at this gpuaas's schema: it is read with today's row mapping,
// and it is not ours to migrate.
template <typename Db>
Status CheckSourceSchema(Db& db, const std::string& what, const char* has_migrations_sql) {
  GPUAAS_ASSIGN_OR_RETURN(auto has, db.QueryText(has_migrations_sql));
  if (!has.has_value() || has->empty()) {
    return FailedPrecondition(what + " holds no GPUaaS platform (no schema_migrations table)");
  }
  GPUAAS_ASSIGN_OR_RETURN(int version, RecordedSchemaVersion(db));
  const int latest = LatestSqliteSchemaVersion();
  if (version < latest) {
    return FailedPrecondition(
        what + " is at schema version " + std::to_string(version) + " and this gpuaas writes " +
        std::to_string(latest) +
        ": start this version's server on it once (it upgrades the schema), stop it, then copy");
  }
  if (version > latest) {
    return FailedPrecondition(what + " was written by a newer gpuaas (schema version " +
                              std::to_string(version) + ", this one knows " +
                              std::to_string(latest) + "): copy with that version");
  }
  return Status::Ok();
}

template <typename Db>
Result<StoredState> ReadAll(Db& db, const std::string& what, const char* begin_read) {
  GPUAAS_RETURN_IF_ERROR(db.Exec(begin_read));  // one snapshot for every table
  Result<StoredState> state = LoadState(db);
  (void)db.Exec("ROLLBACK");  // read only: nothing to keep
  if (!state.ok()) return Status(state.status().code(), what + ": " + state.status().message());
  return state;
}

template <typename Db>
Status WriteAll(RowWriter<Db>& rows, const StoredState& s, const CopyProgress& progress) {
  int64_t total = 0;
  for (const auto& [name, n] : TableSizes(s)) {
    if (name != "invoice_lines") total += n;
  }
  int64_t done = 0;
  Status st;
  ForEachTable(s, [&](const char* name, const auto& table) {
    for (const auto& row : table) {
      if (!st.ok()) return;
      st = rows.Apply(Mutation(row));
      if (!st.ok()) {
        st = Status(st.code(), std::string(name) + ": " + st.message());
        return;
      }
      if (++done % kProgressEvery == 0 && progress) progress(name, done, total);
    }
    if (st.ok() && progress) progress(name, done, total);
  });
  return st;
}

template <typename Db>
Status WriteDestination(Db& db, const std::string& what, const StoredState& state,
                        const CopyProgress& progress) {
  GPUAAS_ASSIGN_OR_RETURN(StoredState there, LoadState(db));
  if (!(there == StoredState{})) {
    return FailedPrecondition(what + " already holds a platform (" + Summary(there) +
                              "): copy into an empty database");
  }
  GPUAAS_RETURN_IF_ERROR(db.Exec(Db::kBeginWrite));
  Status st = [&]() -> Status {
    GPUAAS_ASSIGN_OR_RETURN(auto rows, RowWriter<Db>::Prepare(db));
    GPUAAS_RETURN_IF_ERROR(WriteAll(*rows, state, progress));
    // Read back inside the transaction: a difference rolls everything back.
    GPUAAS_ASSIGN_OR_RETURN(StoredState back, LoadState(db));
    std::string diff = StateDifference(back, state);
    if (!diff.empty()) return Internal("the copy reads back differently: " + diff);
    return Status::Ok();
  }();
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return Status(st.code(), what + ": " + st.message() + " (nothing was copied)");
  }
  return Status::Ok();
}

}  // namespace

Result<DbLocation> ParseDbLocation(std::string_view text) {
  if (text.empty()) return InvalidArgument("a database is a SQLite file or a PostgreSQL URL");
  DbLocation at{LooksLikePg(text), std::string(text)};
  if (at.postgres) {
    GPUAAS_ASSIGN_OR_RETURN(auto described, DescribePgConninfo(at.where));
    (void)described;
  }
  return at;
}

std::string DescribeDbLocation(const DbLocation& at) {
  if (!at.postgres) return "SQLite " + at.where;
  auto d = DescribePgConninfo(at.where);
  return "PostgreSQL " + (d.ok() ? *d : std::string("(unparsable connection string)"));
}

std::string StateDifference(const StoredState& got, const StoredState& want) {
  std::string d;
  ForEachTable(got, want, [&d](const char* name, const auto& g, const auto& w) {
    if (d.empty()) d = DiffRows(name, g, w);
  });
  return d;
}

Result<CopyReport> CopyDatabase(const DbLocation& from, const DbLocation& to,
                                const CopyProgress& progress) {
  const std::string src = DescribeDbLocation(from), dst = DescribeDbLocation(to);
  std::error_code ec;
  if (from.postgres == to.postgres &&
      (from.where == to.where ||
       (!from.postgres && std::filesystem::equivalent(from.where, to.where, ec)))) {
    return InvalidArgument("the source and the destination are the same database (" + src + ")");
  }

  // The source: locked as a server would lock it (so none runs on it), read in one snapshot.
  // Its connection and lock are kept until the copy is over.
  WriterLock src_lock;
  std::optional<SqliteDb> src_sqlite;
  std::optional<PgDb> src_pg;
  StoredState state;
  if (!from.postgres) {
    if (!std::filesystem::is_regular_file(from.where, ec)) {
      return InvalidArgument("no database file at " + from.where +
                             " (a server's is DATA_DIR/gpuaas.db)");
    }
    GPUAAS_ASSIGN_OR_RETURN(src_lock, WriterLock::ForDatabase(from.where));
    GPUAAS_ASSIGN_OR_RETURN(src_sqlite, SqliteDb::Open(from.where));
    GPUAAS_RETURN_IF_ERROR(src_sqlite->Exec("PRAGMA busy_timeout = 5000"));
    GPUAAS_RETURN_IF_ERROR(CheckSourceSchema(
        *src_sqlite, src,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
    GPUAAS_ASSIGN_OR_RETURN(state, ReadAll(*src_sqlite, src, "BEGIN"));
  } else {
    GPUAAS_ASSIGN_OR_RETURN(src_pg, PgDb::Open(from.where));
    GPUAAS_RETURN_IF_ERROR(LockPgWriter(*src_pg));
    GPUAAS_RETURN_IF_ERROR(
        CheckSourceSchema(*src_pg, src, "SELECT to_regclass('schema_migrations')::text"));
    GPUAAS_ASSIGN_OR_RETURN(
        state, ReadAll(*src_pg, src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  }

  // The destination: locked, brought to the schema, written in one checked transaction.
  Status written;
  if (!to.postgres) {
    const std::filesystem::path parent = std::filesystem::absolute(to.where, ec).parent_path();
    if (!std::filesystem::is_directory(parent, ec)) {
      return InvalidArgument("no directory " + parent.string() + " for " + to.where);
    }
    written = [&]() -> Status {
      GPUAAS_ASSIGN_OR_RETURN(WriterLock lock, WriterLock::ForDatabase(to.where));
      GPUAAS_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(to.where));
      GPUAAS_RETURN_IF_ERROR(ConfigureSqliteConnection(db, to.where));
      GPUAAS_ASSIGN_OR_RETURN(int version, MigrateSqlite(db));
      (void)version;
      return WriteDestination(db, dst, state, progress);
    }();
  } else {
    written = [&]() -> Status {
      GPUAAS_ASSIGN_OR_RETURN(PgDb db, PgDb::Open(to.where));
      GPUAAS_RETURN_IF_ERROR(LockPgWriter(db));
      GPUAAS_ASSIGN_OR_RETURN(int version, MigratePg(db));
      (void)version;
      return WriteDestination(db, dst, state, progress);
    }();
  }
  if (!written.ok()) return written;

  CopyReport report;
  report.tables = TableSizes(state);
  for (const auto& [name, n] : report.tables) {
    if (name != "invoice_lines") report.rows += n;
  }
  report.schema_version = LatestSqliteSchemaVersion();
  return report;
}

}  // namespace gpuaas
