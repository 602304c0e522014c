#include "store/sqlite_schema.h"

#include "store/migrate.h"

#include <string>

namespace gpuaas {
namespace {

// Version 1: one table per model type, a real column per field. Lists and maps that the server
// only ever reads whole (gpus, labels, quota, command, ...) are JSON text. Primary keys are the
// model ids (INTEGER PRIMARY KEY = the rowid, so Load's ORDER BY id is a plain scan).
// Names are not UNIQUE here: the state enforces them, and upserts must never silently drop a row.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE entities (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  quota_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  entity INTEGER NOT NULL,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user INTEGER NOT NULL,
  hash_hex TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  simulated INTEGER NOT NULL,
  gpus_json TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity INTEGER NOT NULL,
  user INTEGER NOT NULL,
  gpus INTEGER NOT NULL,
  gpu_types_json TEXT NOT NULL,
  walltime_s INTEGER NOT NULL,
  command_json TEXT NOT NULL,
  environment TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  exit_code INTEGER,
  reason TEXT NOT NULL,
  cancel_requested INTEGER NOT NULL,
  gpu_type TEXT NOT NULL,
  node INTEGER NOT NULL,
  gpu_ids_json TEXT NOT NULL,
  allocation INTEGER NOT NULL
);
CREATE TABLE allocations (
  id INTEGER PRIMARY KEY,
  job INTEGER NOT NULL,
  entity INTEGER NOT NULL,
  user INTEGER NOT NULL,
  node INTEGER NOT NULL,
  gpu_class TEXT NOT NULL,
  devices_json TEXT NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL
);
CREATE TABLE usage_records (
  allocation INTEGER PRIMARY KEY,
  job INTEGER NOT NULL,
  entity INTEGER NOT NULL,
  user INTEGER NOT NULL,
  gpu_class TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2: entity guarantees and fair-share weights; job billing labels and scheduling
// options; energy and idle time on usage records.
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE entities ADD COLUMN guarantee_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE entities ADD COLUMN shares INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN priority_class TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN requeue_on_preempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN allow_fallback INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN node_selector_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE jobs ADD COLUMN resubmitted_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN energy_mwh INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN idle_gpu_millis INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 3: billing. The price book's history, budgets, billing events (alerts), closed
// invoices frozen with their lines, credit notes, workspace quotas. Closing a month is one
// insert into invoices (primary key (entity, month): a month is closed once) plus its lines,
// in one transaction.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE prices (
  id INTEGER PRIMARY KEY,
  gpu_class TEXT NOT NULL,
  priority_class TEXT NOT NULL,
  rate INTEGER NOT NULL,
  effective_from INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE budgets (
  entity INTEGER PRIMARY KEY,
  monthly INTEGER NOT NULL,
  policy TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE billing_events (
  id INTEGER PRIMARY KEY,
  entity INTEGER NOT NULL,
  month TEXT NOT NULL,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE TABLE invoices (
  entity INTEGER NOT NULL,
  month TEXT NOT NULL,
  closed_at INTEGER NOT NULL,
  PRIMARY KEY (entity, month)
) WITHOUT ROWID;
CREATE TABLE invoice_lines (
  entity INTEGER NOT NULL,
  month TEXT NOT NULL,
  seq INTEGER NOT NULL,
  job INTEGER NOT NULL,
  allocation INTEGER NOT NULL,
  user INTEGER NOT NULL,
  project TEXT NOT NULL,
  gpu_class TEXT NOT NULL,
  priority_class TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  billed_seconds INTEGER NOT NULL,
  rate INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  energy_mwh INTEGER NOT NULL,
  idle_gpu_millis INTEGER NOT NULL,
  PRIMARY KEY (entity, month, seq)
) WITHOUT ROWID;
CREATE TABLE credit_notes (
  id INTEGER PRIMARY KEY,
  entity INTEGER NOT NULL,
  month TEXT NOT NULL,
  amount INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE storage_quotas (
  entity INTEGER PRIMARY KEY,
  quota_bytes INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql";

// applied_at is bookkeeping for operators, not logic: SQLite's own clock in ms since the epoch.
constexpr char kRecordVersion[] =
    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, "
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";

}  // namespace

// Version 4: a job's host resources (cgroup limits on the node). 0 in older rows = no limit.
constexpr char kSchemaV4[] = R"sql(
ALTER TABLE jobs ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN memory_gb INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: the job's workspace mode and the names of the secrets it asked for.
constexpr char kSchemaV5[] = R"sql(
ALTER TABLE jobs ADD COLUMN workspace_mode TEXT NOT NULL DEFAULT 'rw';
ALTER TABLE jobs ADD COLUMN secrets_json TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 6: tokens that expire. 0 in older rows = never.
constexpr char kSchemaV6[] = R"sql(
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 7: tokens that are a portal session made by a single sign-on (revoked at sign-out).
constexpr char kSchemaV7[] = R"sql(
ALTER TABLE api_tokens ADD COLUMN session INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 8: directory group mappings and the accounts they made (single sign-on, ADR 0024);
// disabled users (0 = active).
constexpr char kSchemaV8[] = R"sql(
ALTER TABLE users ADD COLUMN from_directory INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE group_mappings (
  id INTEGER PRIMARY KEY,
  group_name TEXT NOT NULL,
  entity INTEGER NOT NULL,
  role TEXT NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

// Version 9: a container job's network traffic (its own network namespace's counters).
constexpr char kSchemaV9[] = R"sql(
ALTER TABLE usage_records ADD COLUMN net_rx_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN net_tx_bytes INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 10: the network traffic on invoice lines (each line's share of its allocation's).
constexpr char kSchemaV10[] = R"sql(
ALTER TABLE invoice_lines ADD COLUMN net_rx_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN net_tx_bytes INTEGER NOT NULL DEFAULT 0;
)sql";

const std::vector<SqliteMigration>& SqliteMigrations() {
  static const std::vector<SqliteMigration> kMigrations = {
      {1, "initial schema", kSchemaV1},
      {2, "guarantees, shares, job options, energy", kSchemaV2},
      {3, "billing: prices, budgets, events, invoices, credit notes", kSchemaV3},
      {4, "job cpus and memory", kSchemaV4},
      {5, "job workspace mode and secret names", kSchemaV5},
      {6, "token expiry", kSchemaV6},
      {7, "single sign-on sessions", kSchemaV7},
      {8, "directory group mappings, disabled users", kSchemaV8},
      {9, "network traffic of container jobs", kSchemaV9},
      {10, "network traffic on invoice lines", kSchemaV10},
  };
  return kMigrations;
}

int LatestSqliteSchemaVersion() { return SqliteMigrations().back().version; }

Result<int> SqliteSchemaVersion(SqliteDb& db) { return RecordedSchemaVersion(db); }

Result<int> MigrateSqlite(SqliteDb& db) {
  // IMMEDIATE: take the write lock first, so that two processes cannot both migrate.
  static constexpr MigrationSql kSql = {
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      "BEGIN IMMEDIATE", kRecordVersion, nullptr};
  return ApplyMigrations(db, kSql);
}

}  // namespace gpuaas
