// Row mapping of the billing tables of the SQLite store (schema version 3): prices, budgets,
// billing_events, invoices + invoice_lines, credit_notes, storage_quotas. Used by SqliteRowWriter
// and LoadSqliteState (sqlite_rows.h), kept apart so that each file has one job. Thread-safety:
// bound to one connection, used only by the thread that owns it.
#pragma once

#include <memory>

#include "base/status.h"
#include "model/billing.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace gpuaas {

class SqliteBillingRows {
 public:
  static Result<std::unique_ptr<SqliteBillingRows>> Prepare(SqliteDb& db);

  // Inside the caller's open transaction.
  Status Write(const PriceChange& p);
  Status Write(const Budget& b);
  Status Write(const BillingEvent& e);
  Status Write(const ClosedInvoice& inv);  // the invoice row and its lines
  Status Write(const CreditNote& c);
  Status Write(const StorageQuota& q);

 private:
  SqliteBillingRows() = default;
  SqliteStmt price_, budget_, event_, invoice_, line_, credit_, storage_;
};

// Fills the billing fields of `s`.
Status LoadSqliteBillingState(SqliteDb& db, StoredState& s);

}  // namespace gpuaas
