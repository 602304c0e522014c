// Store: durable state behind one interface; SQLite (embedded, default) and PostgreSQL (at
// scale) implement it. The state (single writer) loads everything once at start, then
// sends batches of row mutations. Group commit: one writer thread takes every queued batch,
// applies them in one transaction, commits, then reports each batch's Status. A request is
// acknowledged only after its batch's callback says OK ("durable before acknowledged").
// Thread-safety: Commit() may be called from any thread; callbacks run on the writer thread,
// in submission order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "model/allocation.h"
#include "model/billing.h"
#include "model/directory_group.h"
#include "model/entity.h"
#include "model/job.h"
#include "model/node.h"
#include "model/user.h"

namespace gpuaas {

// A key/value row for small platform facts (id counters, bootstrap flags, schema notes).
struct MetaKV {
  std::string key;
  std::string value;

  bool operator==(const MetaKV&) const = default;
};
struct DeleteToken {
  TokenId id = 0;
};

// Upserts by id for Entity/User/ApiToken/Node/Job/Allocation/MetaKV/GroupMapping; UsageRecord is
// appended (unique per allocation: a second append of the same allocation fails the batch). Billing
// (docs/billing.md): PriceChange, BillingEvent and CreditNote are appended by id; Budget and
// StorageQuota are upserted by entity; ClosedInvoice is inserted once per (entity, month) with its
// lines (a second insert fails the batch: the state never closes a month twice).
using Mutation = std::variant<Entity, User, ApiToken, Node, Job, Allocation, UsageRecord, MetaKV,
                              DeleteToken, PriceChange, Budget, BillingEvent, ClosedInvoice,
                              CreditNote, StorageQuota, GroupMapping, DeleteGroupMapping>;

struct StoredState {
  std::vector<Entity> entities;  // each vector in id order
  std::vector<User> users;
  std::vector<ApiToken> tokens;
  std::vector<Node> nodes;
  std::vector<Job> jobs;
  std::vector<Allocation> allocations;
  std::vector<UsageRecord> usage;  // in allocation-id order
  std::map<std::string, std::string> meta;
  // --- billing, each in id order (budgets by entity, invoices by (entity, month))
  std::vector<PriceChange> prices;
  std::vector<Budget> budgets;
  std::vector<BillingEvent> billing_events;
  std::vector<ClosedInvoice> invoices;
  std::vector<CreditNote> credit_notes;
  std::vector<StorageQuota> storage_quotas;
  std::vector<GroupMapping> group_mappings;  // in id order

  bool operator==(const StoredState&) const = default;
};

struct StoreOptions {
  int max_batch_mutations = 10'000;     // a commit takes at most this many mutations
  size_t max_queued_batches = 100'000;  // past this Commit() fails fast with kUnavailable
};

class Store {
 public:
  virtual ~Store() = default;
  // Reads every row. Called once, before the first Commit().
  virtual Result<StoredState> Load() = 0;
  // Queues a batch; `done` runs on the writer thread once the batch is committed (or failed:
  // then nothing of the batch is applied). Never blocks on I/O.
  virtual void Commit(std::vector<Mutation> batch, std::function<void(Status)> done) = 0;
  // Blocks until every batch queued before the call has been committed.
  virtual Status Flush() = 0;
  // Flushes and stops the writer thread. Later Commit() calls fail with kUnavailable.
  virtual void Close() = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode with synchronous=FULL,
// runs pending schema migrations (versioned, in order, each in its own transaction).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, StoreOptions options = {});
// The PostgreSQL store (pg_store.h): a libpq connection string, e.g.
// "postgresql://gpuaas@db.example/gpuaas" or "host=/run/postgresql dbname=gpuaas".
Result<std::unique_ptr<Store>> OpenPgStore(const std::string& conninfo, StoreOptions options = {});

}  // namespace gpuaas
