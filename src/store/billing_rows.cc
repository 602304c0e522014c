#include "store/billing_rows.h"

#include "store/pg_db.h"
#include "store/sqlite_db.h"

#include <map>
#include <string>
#include <tuple>

namespace gpuaas {
namespace {

constexpr char kInsertPrice[] =
    "INSERT INTO prices (id, gpu_class, priority_class, rate, effective_from, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kUpsertBudget[] =
    "INSERT INTO budgets (entity, monthly, policy, updated_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT(entity) DO UPDATE SET monthly = excluded.monthly, policy = excluded.policy, "
    "updated_at = excluded.updated_at";
constexpr char kInsertEvent[] =
    "INSERT INTO billing_events (id, entity, month, kind, at, message) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kInsertInvoice[] =
    "INSERT INTO invoices (entity, month, closed_at) VALUES (?1, ?2, ?3)";
constexpr char kInsertLine[] =
    "INSERT INTO invoice_lines (entity, month, seq, job, allocation, \"user\", project, gpu_class, "
    "priority_class, gpus, start, \"end\", billed_seconds, rate, amount, energy_mwh, "
    "idle_gpu_millis, net_rx_bytes, net_tx_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
constexpr char kInsertCredit[] =
    "INSERT INTO credit_notes (id, entity, month, amount, reason, created_by, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kUpsertStorage[] =
    "INSERT INTO storage_quotas (entity, quota_bytes, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(entity) DO UPDATE SET quota_bytes = excluded.quota_bytes, "
    "updated_at = excluded.updated_at";

template <typename Db, typename F>
Status ForEach(Db& db, const char* sql, const char* what, F read) {
  using Stmt = typename Db::Stmt;
  GPUAAS_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db.get(), sql));
  for (;;) {
    GPUAAS_ASSIGN_OR_RETURN(bool row, stmt.Step(what));
    if (!row) return Status::Ok();
    GPUAAS_RETURN_IF_ERROR(read(stmt));
  }
}

}  // namespace

template <typename Db>
Result<std::unique_ptr<BillingRows<Db>>> BillingRows<Db>::Prepare(Db& db) {
  std::unique_ptr<BillingRows> w(new BillingRows());
  GPUAAS_ASSIGN_OR_RETURN(w->price_, Stmt::Prepare(db.get(), kInsertPrice));
  GPUAAS_ASSIGN_OR_RETURN(w->budget_, Stmt::Prepare(db.get(), kUpsertBudget));
  GPUAAS_ASSIGN_OR_RETURN(w->event_, Stmt::Prepare(db.get(), kInsertEvent));
  GPUAAS_ASSIGN_OR_RETURN(w->invoice_, Stmt::Prepare(db.get(), kInsertInvoice));
  GPUAAS_ASSIGN_OR_RETURN(w->line_, Stmt::Prepare(db.get(), kInsertLine));
  GPUAAS_ASSIGN_OR_RETURN(w->credit_, Stmt::Prepare(db.get(), kInsertCredit));
  GPUAAS_ASSIGN_OR_RETURN(w->storage_, Stmt::Prepare(db.get(), kUpsertStorage));
  return w;
}

template <typename Db>
Status BillingRows<Db>::Write(const PriceChange& p) {
  price_.BindInt(1, p.id);
  price_.BindText(2, p.gpu_class);
  price_.BindText(3, p.priority_class);
  price_.BindInt(4, p.rate);
  price_.BindInt(5, p.effective_from);
  price_.BindInt(6, p.created_at);
  return price_.Exec("insert price");
}

template <typename Db>
Status BillingRows<Db>::Write(const Budget& b) {
  budget_.BindInt(1, b.entity);
  budget_.BindInt(2, b.monthly);
  budget_.BindText(3, BudgetPolicyName(b.policy));
  budget_.BindInt(4, b.updated_at);
  return budget_.Exec("upsert budget");
}

template <typename Db>
Status BillingRows<Db>::Write(const BillingEvent& e) {
  event_.BindInt(1, e.id);
  event_.BindInt(2, e.entity);
  event_.BindText(3, e.month);
  event_.BindText(4, e.kind);
  event_.BindInt(5, e.at);
  event_.BindText(6, e.message);
  return event_.Exec("insert billing event");
}

template <typename Db>
Status BillingRows<Db>::Write(const ClosedInvoice& inv) {
  invoice_.BindInt(1, inv.entity);
  invoice_.BindText(2, inv.month);
  invoice_.BindInt(3, inv.closed_at);
  Status st = invoice_.Exec("insert invoice");
  if (st.code() == Code::kConflict) {
    return Conflict("invoice of entity " + std::to_string(inv.entity) + " for " + inv.month +
                    " is already closed");
  }
  GPUAAS_RETURN_IF_ERROR(st);
  int64_t seq = 0;
  for (const InvoiceLine& l : inv.lines) {
    line_.BindInt(1, inv.entity);
    line_.BindText(2, inv.month);
    line_.BindInt(3, seq++);
    line_.BindInt(4, l.job);
    line_.BindInt(5, l.allocation);
    line_.BindInt(6, l.user);
    line_.BindText(7, l.project);
    line_.BindText(8, l.gpu_class);
    line_.BindText(9, l.priority_class);
    line_.BindInt(10, l.gpus);
    line_.BindInt(11, l.start);
    line_.BindInt(12, l.end);
    line_.BindInt(13, l.billed_seconds);
    line_.BindInt(14, l.rate);
    line_.BindInt(15, l.amount);
    line_.BindInt(16, l.energy_mwh);
    line_.BindInt(17, l.idle_gpu_millis);
    line_.BindInt(18, l.net_rx_bytes);
    line_.BindInt(19, l.net_tx_bytes);
    GPUAAS_RETURN_IF_ERROR(line_.Exec("insert invoice line"));
  }
  return Status::Ok();
}

template <typename Db>
Status BillingRows<Db>::Write(const CreditNote& c) {
  credit_.BindInt(1, c.id);
  credit_.BindInt(2, c.entity);
  credit_.BindText(3, c.month);
  credit_.BindInt(4, c.amount);
  credit_.BindText(5, c.reason);
  credit_.BindInt(6, c.created_by);
  credit_.BindInt(7, c.created_at);
  return credit_.Exec("insert credit note");
}

template <typename Db>
Status BillingRows<Db>::Write(const StorageQuota& q) {
  storage_.BindInt(1, q.entity);
  storage_.BindInt(2, q.quota_bytes);
  storage_.BindInt(3, q.updated_at);
  return storage_.Exec("upsert storage quota");
}

template <typename Db>
Status LoadBillingState(Db& db, StoredState& s) {
  GPUAAS_RETURN_IF_ERROR(
      ForEach(db, "SELECT entity, quota_bytes, updated_at FROM storage_quotas ORDER BY entity",
              "load storage quotas", [&](auto& r) {
                s.storage_quotas.push_back({r.ColumnInt(0), r.ColumnInt(1), r.ColumnInt(2)});
                return Status::Ok();
              }));
  GPUAAS_RETURN_IF_ERROR(
      ForEach(db,
              "SELECT id, gpu_class, priority_class, rate, effective_from, created_at FROM prices "
              "ORDER BY id",
              "load prices", [&](auto& r) {
                s.prices.push_back({r.ColumnInt(0), r.ColumnText(1), r.ColumnText(2),
                                    r.ColumnInt(3), r.ColumnInt(4), r.ColumnInt(5)});
                return Status::Ok();
              }));
  GPUAAS_RETURN_IF_ERROR(ForEach(
      db, "SELECT entity, monthly, policy, updated_at FROM budgets ORDER BY entity", "load budgets",
      [&](auto& r) {
        Budget b{r.ColumnInt(0), r.ColumnInt(1), BudgetPolicy::kRefuse, r.ColumnInt(3)};
        if (!ParseBudgetPolicy(r.ColumnText(2), &b.policy)) {
          return Internal("store: corrupt row in budgets (entity " + std::to_string(b.entity) +
                          "): unknown policy " + r.ColumnText(2));
        }
        s.budgets.push_back(b);
        return Status::Ok();
      }));
  GPUAAS_RETURN_IF_ERROR(
      ForEach(db, "SELECT id, entity, month, kind, at, message FROM billing_events ORDER BY id",
              "load billing events", [&](auto& r) {
                s.billing_events.push_back({r.ColumnInt(0), r.ColumnInt(1), r.ColumnText(2),
                                            r.ColumnText(3), r.ColumnInt(4), r.ColumnText(5)});
                return Status::Ok();
              }));
  std::map<std::pair<EntityId, std::string>, size_t> index;
  GPUAAS_RETURN_IF_ERROR(
      ForEach(db, "SELECT entity, month, closed_at FROM invoices ORDER BY entity, month",
              "load invoices", [&](auto& r) {
                ClosedInvoice inv;
                inv.entity = r.ColumnInt(0);
                inv.month = r.ColumnText(1);
                inv.closed_at = r.ColumnInt(2);
                index[{inv.entity, inv.month}] = s.invoices.size();
                s.invoices.push_back(std::move(inv));
                return Status::Ok();
              }));
  GPUAAS_RETURN_IF_ERROR(ForEach(
      db,
      "SELECT entity, month, job, allocation, \"user\", project, gpu_class, priority_class, gpus, "
      "start, \"end\", billed_seconds, rate, amount, energy_mwh, idle_gpu_millis, net_rx_bytes, "
      "net_tx_bytes FROM invoice_lines ORDER BY entity, month, seq",
      "load invoice lines", [&](auto& r) {
        auto it = index.find({r.ColumnInt(0), r.ColumnText(1)});
        if (it == index.end()) {
          return Internal("store: invoice line without its invoice (entity " +
                          std::to_string(r.ColumnInt(0)) + ", " + r.ColumnText(1) + ")");
        }
        InvoiceLine l;
        l.job = r.ColumnInt(2);
        l.allocation = r.ColumnInt(3);
        l.user = r.ColumnInt(4);
        l.project = r.ColumnText(5);
        l.gpu_class = r.ColumnText(6);
        l.priority_class = r.ColumnText(7);
        l.gpus = static_cast<int>(r.ColumnInt(8));
        l.start = r.ColumnInt(9);
        l.end = r.ColumnInt(10);
        l.billed_seconds = r.ColumnInt(11);
        l.rate = r.ColumnInt(12);
        l.amount = r.ColumnInt(13);
        l.energy_mwh = r.ColumnInt(14);
        l.idle_gpu_millis = r.ColumnInt(15);
        l.net_rx_bytes = r.ColumnInt(16);
        l.net_tx_bytes = r.ColumnInt(17);
        s.invoices[it->second].lines.push_back(std::move(l));
        return Status::Ok();
      }));
  return ForEach(
      db,
      "SELECT id, entity, month, amount, reason, created_by, created_at FROM "
      "credit_notes ORDER BY id",
      "load credit notes", [&](auto& r) {
        s.credit_notes.push_back({r.ColumnInt(0), r.ColumnInt(1), r.ColumnText(2), r.ColumnInt(3),
                                  r.ColumnText(4), r.ColumnInt(5), r.ColumnInt(6)});
        return Status::Ok();
      });
}

template class BillingRows<SqliteDb>;
template class BillingRows<PgDb>;
template Status LoadBillingState(SqliteDb& db, StoredState& s);
template Status LoadBillingState(PgDb& db, StoredState& s);

}  // namespace gpuaas
