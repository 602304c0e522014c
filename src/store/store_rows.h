// Row mapping of the SQL stores: RowWriter applies one Mutation with statements prepared once
// per connection; LoadState reads every table back into StoredState. One code for both
// databases: `Db` is SqliteDb (sqlite_db.h) or PgDb (pg_db.h), which offer the same calls, and
// the SQL is written in the dialect both accept (quoted column names, ON CONFLICT upserts).
// Thread-safety: bound to one connection, used only by the thread that owns it.
#pragma once

#include <memory>

#include "base/status.h"
#include "store/billing_rows.h"
#include "store/store.h"

namespace gpuaas {

template <typename Db>
class RowWriter {
 public:
  using Stmt = typename Db::Stmt;
  // Prepares every statement on `db`, which must outlive the writer and be at the latest schema.
  static Result<std::unique_ptr<RowWriter>> Prepare(Db& db);

  // Upserts or appends one row inside the caller's open transaction. On error nothing of this
  // mutation is applied (a statement is atomic), but the transaction stays open.
  Status Apply(const Mutation& m);

 private:
  RowWriter() = default;
  Status Write(const Entity& e);
  Status Write(const User& u);
  Status Write(const ApiToken& t);
  Status Write(const Node& n);
  Status Write(const Job& j);
  Status Write(const Allocation& a);
  Status Write(const UsageRecord& u);
  Status Write(const MetaKV& kv);
  Status Write(const DeleteToken& d);
  Status Write(const GroupMapping& g);
  Status Write(const DeleteGroupMapping& d);
  // Billing rows (billing_rows.cc).
  Status Write(const PriceChange& p) { return billing_->Write(p); }
  Status Write(const Budget& b) { return billing_->Write(b); }
  Status Write(const BillingEvent& e) { return billing_->Write(e); }
  Status Write(const ClosedInvoice& i) { return billing_->Write(i); }
  Status Write(const CreditNote& c) { return billing_->Write(c); }
  Status Write(const StorageQuota& q) { return billing_->Write(q); }

  Stmt entity_, user_, token_, node_, job_, allocation_, usage_, meta_, delete_token_, group_,
      delete_group_;
  std::unique_ptr<BillingRows<Db>> billing_;
};

// Reads everything, each vector in id order (usage in allocation order).
template <typename Db>
Result<StoredState> LoadState(Db& db);

}  // namespace gpuaas
