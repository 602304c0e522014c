// Row mapping of the billing tables of the SQL stores (schema version 3): prices, budgets,
// billing_events, invoices + invoice_lines, credit_notes, storage_quotas. Used by RowWriter and
// LoadState (store_rows.h), kept apart so that each file has one job. `Db` is SqliteDb or PgDb.
// Thread-safety: bound to one connection, used only by the thread that owns it.
#pragma once

#include <memory>

#include "base/status.h"
#include "model/billing.h"
#include "store/store.h"

namespace gpuaas {

template <typename Db>
class BillingRows {
 public:
  using Stmt = typename Db::Stmt;
  static Result<std::unique_ptr<BillingRows>> Prepare(Db& db);

  // Inside the caller's open transaction.
  Status Write(const PriceChange& p);
  Status Write(const Budget& b);
  Status Write(const BillingEvent& e);
  Status Write(const ClosedInvoice& inv);  // the invoice row and its lines
  Status Write(const CreditNote& c);
  Status Write(const StorageQuota& q);

 private:
  BillingRows() = default;
  Stmt price_, budget_, event_, invoice_, line_, credit_, storage_;
};

// Fills the billing fields of `s`.
template <typename Db>
Status LoadBillingState(Db& db, StoredState& s);

}  // namespace gpuaas
