// Billing of the Platform: the price book, invoices (live and closed), credit notes, budgets and
// their alerts, storage quotas (see platform.h for the threading contract, docs/billing.md for
// the rules). The arithmetic is in billing/ (pure); this file wires it to the state and store.
#include <algorithm>
#include <optional>

#include "billing/budget.h"
#include "billing/workspace_usage.h"
#include "state/platform.h"

namespace gpuaas {
namespace {

constexpr size_t kMaxEventsListed = 1000;
constexpr size_t kMaxReason = 500;
constexpr MicroEur kMaxRate = 1'000'000 * kMicrosPerEur;

std::string MonthOf(Millis t) { return FormatRfc3339(t).substr(0, 7); }

bool KnownPriorityClass(const std::string& c) {
  return c.empty() || c == "production" || c == "standard" || c == "best-effort";
}

std::string Eur(MicroEur m) {
  // Prometheus sample values: exact decimal euros.
  return FormatEurExact(m);
}

}  // namespace

void Platform::LoadBilling(const StoredState& st) {
  prices_.set_granularity(config_.billing.granularity);
  for (const PriceChange& p : st.prices) {
    prices_.Add(p);
    next_price_ = std::max(next_price_, p.id + 1);
  }
  for (const Budget& b : st.budgets) budgets_[b.entity] = b;
  for (const BillingEvent& e : st.billing_events) {
    billing_events_.push_back(e);
    alerted_.insert({e.entity, e.month, e.kind});
    next_billing_event_ = std::max(next_billing_event_, e.id + 1);
  }
  for (const ClosedInvoice& inv : st.invoices) closed_invoices_[{inv.entity, inv.month}] = inv;
  for (const CreditNote& c : st.credit_notes) {
    credit_notes_.push_back(c);
    next_credit_note_ = std::max(next_credit_note_, c.id + 1);
  }
  for (const StorageQuota& q : st.storage_quotas) storage_quota_[q.entity] = q.quota_bytes;
  std::weak_ptr<int> alive = billing_alive_;
  executor_.RunAfter(std::max<int64_t>(1, config_.billing.budget_check_interval_ms), [this, alive] {
    if (alive.lock()) BillingTick();
  });
}

void Platform::BillingTick() {
  if (stopping_) return;
  CheckBudgets();
  const Millis now = clock_.Now();
  if (!config_.billing.workspace_root.empty() &&
      now - last_storage_check_ >= config_.billing.storage_check_interval_ms) {
    last_storage_check_ = now;
    MeasureAllStorage();
  }
  std::weak_ptr<int> alive = billing_alive_;
  executor_.RunAfter(std::max<int64_t>(1, config_.billing.budget_check_interval_ms), [this, alive] {
    if (alive.lock()) BillingTick();
  });
}

JobBillingFacts Platform::FactsOf(JobId job) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return {};
  return {it->second.project, it->second.priority_class};
}

Measured Platform::MeasuredOf(const JobTelemetry& t) {
  Measured m;
  m.energy_mwh = t.energy_mwh();
  m.idle_gpu_millis = t.idle_ms;
  if (t.net) {
    m.net_rx_bytes = t.net->last.rx_bytes;
    m.net_tx_bytes = t.net->last.tx_bytes;
  }
  return m;
}

MeasuredSoFar Platform::OpenMeasured(const std::vector<Allocation>& open) const {
  MeasuredSoFar out;
  for (const Allocation& a : open) {
    if (a.end != 0) continue;
    if (std::optional<JobTelemetry> t = telemetry_.Job(a.id)) out[a.id] = MeasuredOf(*t);
  }
  return out;
}

Invoice Platform::LiveInvoice(EntityId entity, const std::string& month, Millis from,
                              Millis to) const {
  std::vector<Allocation> open;
  for (const auto& [id, a] : allocations_) {
    if (a.end == 0 && a.entity == entity) open.push_back(a);
  }
  // The entity's closed months hold shares of the measurements of allocations that ran into
  // them; this month's lines share the rest (a month closed while a job ran held what it had
  // measured by then).
  ClosedParts closed;
  for (auto it = closed_invoices_.lower_bound({entity, ""});
       it != closed_invoices_.end() && it->first.first == entity; ++it) {
    if (it->first.second != month)
      AddClosedLines(it->second.lines, from, prices_.unit_ms(), closed);
  }
  return ComputeInvoice(
      entity, month, from, to, ledger_, open, clock_.Now(), prices_,
      [this](JobId j) { return FactsOf(j); }, config_.billing.energy, OpenMeasured(open), closed);
}

void Platform::AddBillingEvent(EntityId entity, const std::string& month, const std::string& kind,
                               const std::string& message, std::vector<Mutation>& batch) {
  BillingEvent e{next_billing_event_++, entity, month, kind, clock_.Now(), message};
  billing_events_.push_back(e);
  alerted_.insert({entity, month, kind});
  batch.push_back(e);
}

void Platform::AddPrice(const Principal& p, PriceChange change, Done<PriceChange> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin sets prices"));
  bool known = std::any_of(config_.classes.begin(), config_.classes.end(),
                           [&](const GpuClass& c) { return c.name == change.gpu_class; });
  if (!known) return done(FailedPrecondition("unknown GPU class '" + change.gpu_class + "'"));
  if (!KnownPriorityClass(change.priority_class)) {
    return done(FailedPrecondition("unknown priority class '" + change.priority_class +
                                   "' (production, standard, best-effort)"));
  }
  if (change.rate < 0 || change.rate > kMaxRate) {
    return done(FailedPrecondition("rate must be between 0 and 1000000 EUR per GPU-hour"));
  }
  const Millis now = clock_.Now();
  if (change.effective_from == 0) change.effective_from = now;
  if (change.effective_from < now) {
    return done(FailedPrecondition(
        "effective_from " + FormatRfc3339(change.effective_from) +
        " is in the past: a price applies from now or later, never to time already used "
        "(corrections of a closed month are credit notes)"));
  }
  change.id = next_price_++;
  change.created_at = now;
  prices_.Add(change);
  Persist({change}, [change, done = std::move(done)] { done(change); });
}

std::vector<PriceChange> Platform::ListPrices() const { return prices_.entries(); }

Result<Invoice> Platform::GetInvoice(const Principal& p, const std::string& entity,
                                     const std::string& month) const {
  if (p.agent) return PermissionDenied("agents do not read invoices");
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end() || !Visible(p, it->second)) {
    return NotFound("entity '" + entity + "' does not exist");
  }
  GPUAAS_ASSIGN_OR_RETURN(auto range, MonthRange(month));
  auto closed = closed_invoices_.find({it->second, month});
  if (closed != closed_invoices_.end()) {
    Invoice inv;
    inv.entity = it->second;
    inv.month = month;
    inv.closed = true;
    inv.closed_at = closed->second.closed_at;
    inv.lines = closed->second.lines;
    SumInvoice(inv, config_.billing.energy);
    return inv;
  }
  return LiveInvoice(it->second, month, range.first, range.second);
}

void Platform::CloseInvoice(const Principal& p, const std::string& entity, const std::string& month,
                            Done<Invoice> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin closes invoices"));
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end()) return done(NotFound("entity '" + entity + "' does not exist"));
  auto range = MonthRange(month);
  if (!range.ok()) return done(range.status());
  const Millis now = clock_.Now();
  if (now < range->second) {
    return done(FailedPrecondition(month + " is not over yet (it ends " +
                                   FormatRfc3339(range->second) + "): its invoice stays open"));
  }
  const EntityId id = it->second;
  auto answer = [this, p, entity, month, done = std::move(done)] {
    done(GetInvoice(p, entity, month));
  };
  if (closed_invoices_.count({id, month})) {
    // Already closed (perhaps by a batch still committing): answer once that batch is durable.
    return Persist({}, std::move(answer));
  }
  Invoice live = LiveInvoice(id, month, range->first, range->second);
  ClosedInvoice ci{id, month, now, live.lines};
  closed_invoices_[{id, month}] = ci;
  std::vector<Mutation> batch = {ci};
  AddBillingEvent(id, month, "invoice_closed",
                  "invoice " + month + " of " + entity + " closed: " + FormatEurCents(live.total) +
                      " EUR, " + std::to_string(live.lines.size()) + " lines",
                  batch);
  Persist(std::move(batch), std::move(answer));
}

void Platform::CreateCreditNote(const Principal& p, const std::string& entity,
                                const std::string& month, MicroEur amount,
                                const std::string& reason, Done<CreditNote> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin credits"));
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end()) return done(NotFound("entity '" + entity + "' does not exist"));
  const EntityId id = it->second;
  auto closed = closed_invoices_.find({id, month});
  if (closed == closed_invoices_.end()) {
    return done(FailedPrecondition("the invoice of " + entity + " for " + month +
                                   " is not closed: an open month is computed from the ledger "
                                   "and needs no correction"));
  }
  if (amount <= 0) return done(FailedPrecondition("a credit note's amount must be positive"));
  if (reason.empty() || reason.size() > kMaxReason) {
    return done(FailedPrecondition("a credit note needs a reason (1-500 characters)"));
  }
  Invoice inv;
  inv.lines = closed->second.lines;
  SumInvoice(inv, config_.billing.energy);
  MicroEur credited = 0;
  for (const CreditNote& c : CreditNotesOf(id, month)) credited += c.amount;
  if (credited + amount > inv.total) {
    return done(
        FailedPrecondition("credits would exceed the invoice: " + FormatEurCents(inv.total) +
                           " EUR invoiced, " + FormatEurCents(credited) + " EUR already credited"));
  }
  CreditNote note{next_credit_note_++, id, month, amount, reason, p.user, clock_.Now()};
  credit_notes_.push_back(note);
  std::vector<Mutation> batch = {note};
  AddBillingEvent(id, month, "credit_note",
                  "credit note " + std::to_string(note.id) + " of " + FormatEurCents(amount) +
                      " EUR on " + month + ": " + reason,
                  batch);
  Persist(std::move(batch), [note, done = std::move(done)] { done(note); });
}

std::vector<CreditNote> Platform::CreditNotesOf(EntityId entity, const std::string& month) const {
  std::vector<CreditNote> out;
  for (const CreditNote& c : credit_notes_) {
    if (c.entity == entity && c.month == month) out.push_back(c);
  }
  return out;
}

void Platform::SetBudget(const Principal& p, const std::string& entity, MicroEur monthly,
                         BudgetPolicy policy, Done<Budget> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin sets budgets"));
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end()) return done(NotFound("entity '" + entity + "' does not exist"));
  if (monthly < 0 || monthly > kMaxRate * 1000) {
    return done(FailedPrecondition("monthly budget must be between 0 and 1000000000 EUR"));
  }
  Budget b{it->second, monthly, policy, clock_.Now()};
  budgets_[b.entity] = b;
  Persist({b}, [this, b, done = std::move(done)] {
    CheckBudgets();
    done(b);
  });
}

Result<Platform::BudgetView> Platform::GetBudget(const Principal& p,
                                                 const std::string& entity) const {
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end() || p.agent || !Visible(p, it->second)) {
    return NotFound("entity '" + entity + "' does not exist");
  }
  BudgetView v;
  auto b = budgets_.find(it->second);
  if (b != budgets_.end()) v.budget = b->second;
  v.budget.entity = it->second;
  v.month = MonthOf(clock_.Now());
  v.spent = MonthToDate(it->second);
  return v;
}

Result<std::vector<BillingEvent>> Platform::ListBillingEvents(const Principal& p,
                                                              const std::string& entity) const {
  if (p.agent) return PermissionDenied("agents do not read events");
  EntityId only = 0;
  if (!entity.empty()) {
    auto it = entity_by_name_.find(entity);
    if (it == entity_by_name_.end() || !Visible(p, it->second)) {
      return NotFound("entity '" + entity + "' does not exist");
    }
    only = it->second;
  }
  std::vector<BillingEvent> out;
  for (auto it = billing_events_.rbegin();
       it != billing_events_.rend() && out.size() < kMaxEventsListed; ++it) {
    if (only != 0 && it->entity != only) continue;
    if (!Visible(p, it->entity)) continue;
    out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

MicroEur Platform::MonthToDate(EntityId entity) const {
  const Millis now = clock_.Now();
  const std::string month = MonthOf(now);
  auto range = MonthRange(month);
  if (!range.ok()) return 0;
  return LiveInvoice(entity, month, range->first, range->second).total;
}

void Platform::CheckBudgets() {
  if (!started_) return;
  const std::string month = MonthOf(clock_.Now());
  std::vector<Mutation> batch;
  for (const auto& [entity, b] : budgets_) {
    if (b.monthly <= 0) continue;
    const Entity* e = FindEntityById(entity);
    if (e == nullptr) continue;
    MicroEur spent = MonthToDate(entity);
    for (int pct : ReachedThresholds(b.monthly, spent)) {
      std::string kind = BudgetEventKind(pct);
      if (alerted_.count({entity, month, kind})) continue;
      AddBillingEvent(
          entity, month, kind,
          e->name + " has spent " + FormatEurCents(spent) + " EUR, " + std::to_string(pct) +
              "% of its " + FormatEurCents(b.monthly) + " EUR budget for " + month +
              (pct >= 100 ? std::string(" (policy: ") + BudgetPolicyName(b.policy) + ")" : ""),
          batch);
    }
  }
  if (!batch.empty()) Persist(std::move(batch), [] {});
}

Status Platform::CheckBillingAdmission(const JobRequest& req, EntityId entity) const {
  const Entity* e = FindEntityById(entity);
  if (e == nullptr) return NotFound("entity does not exist");
  auto b = budgets_.find(entity);
  if (b != budgets_.end() && b->second.monthly > 0) {
    GPUAAS_RETURN_IF_ERROR(CheckBudgetAdmission(e->name, b->second, MonthToDate(entity),
                                                req.priority_class == "best-effort",
                                                MonthOf(clock_.Now())));
  }
  auto used = storage_used_.find(entity);
  if (used != storage_used_.end() && used->second.measured) {
    auto q = storage_quota_.find(entity);
    int64_t quota = q != storage_quota_.end() ? q->second : config_.billing.workspace_quota_bytes;
    // Only jobs that mount the workspace read-write ("workspace": "rw", the default) write.
    GPUAAS_RETURN_IF_ERROR(
        CheckStorageAdmission(e->name, used->second.used_bytes, quota, req.workspace_mode == "rw"));
  }
  return Status::Ok();
}

MicroEur Platform::EstimatedJobCost(const Job& job) const {
  if (!job.gpu_type.empty()) {
    Millis start = job.started_at != 0 ? job.started_at : clock_.Now();
    return EstimateCost(job.gpus, job.walltime_s, start, job.gpu_type, job.priority_class, prices_);
  }
  std::vector<std::string> classes = job.gpu_types;
  if (classes.empty()) {
    for (const auto& c : config_.classes) classes.push_back(c.name);
  }
  MicroEur most = 0;
  for (const auto& cls : classes) {
    most = std::max(most, EstimateCost(job.gpus, job.walltime_s, clock_.Now(), cls,
                                       job.priority_class, prices_));
  }
  return most;
}

std::string Platform::BillingMetricsText() const {
  std::string out;
  auto gauge = [&](const char* name, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
  };
  gauge("gpuaas_budget_monthly_eur", "Monthly budget of an entity (EUR).");
  for (const auto& [id, b] : budgets_) {
    const Entity* e = FindEntityById(id);
    if (e && b.monthly > 0) {
      out += "gpuaas_budget_monthly_eur{entity=\"" + e->name + "\"} " + Eur(b.monthly) + "\n";
    }
  }
  gauge("gpuaas_month_to_date_cost_eur", "Bill of the current month so far (EUR).");
  gauge("gpuaas_budget_used_ratio", "Month-to-date bill over the monthly budget.");
  std::string ratios;
  for (const auto& [id, e] : entities_) {
    MicroEur spent = MonthToDate(id);
    out += "gpuaas_month_to_date_cost_eur{entity=\"" + e.name + "\"} " + Eur(spent) + "\n";
    auto b = budgets_.find(id);
    if (b != budgets_.end() && b->second.monthly > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6f",
                    static_cast<double>(spent) / static_cast<double>(b->second.monthly));
      ratios += "gpuaas_budget_used_ratio{entity=\"" + e.name + "\"} " + buf + "\n";
    }
  }
  out += ratios;
  gauge("gpuaas_storage_used_bytes", "Measured workspace usage of an entity.");
  gauge("gpuaas_storage_quota_bytes", "Workspace quota of an entity.");
  for (const auto& [id, e] : entities_) {
    auto q = storage_quota_.find(id);
    int64_t quota = q != storage_quota_.end() ? q->second : config_.billing.workspace_quota_bytes;
    out += "gpuaas_storage_quota_bytes{entity=\"" + e.name + "\"} " + std::to_string(quota) + "\n";
    auto u = storage_used_.find(id);
    if (u != storage_used_.end() && u->second.measured) {
      out += "gpuaas_storage_used_bytes{entity=\"" + e.name + "\"} " +
             std::to_string(u->second.used_bytes) + "\n";
    }
  }
  return out;
}

Result<Platform::StorageView> Platform::GetStorage(const Principal& p,
                                                   const std::string& entity) const {
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end() || p.agent || !Visible(p, it->second)) {
    return NotFound("entity '" + entity + "' does not exist");
  }
  StorageView v;
  auto u = storage_used_.find(it->second);
  if (u != storage_used_.end()) v = u->second;
  v.entity = entity;
  auto q = storage_quota_.find(it->second);
  v.quota_bytes = q != storage_quota_.end() ? q->second : config_.billing.workspace_quota_bytes;
  if (!config_.billing.workspace_root.empty()) {
    v.path = config_.billing.workspace_root + "/" + entity;
  }
  return v;
}

void Platform::SetStorageQuota(const Principal& p, const std::string& entity, int64_t quota_bytes,
                               Done<StorageView> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin sets quotas"));
  auto it = entity_by_name_.find(entity);
  if (it == entity_by_name_.end()) return done(NotFound("entity '" + entity + "' does not exist"));
  if (quota_bytes < 1) return done(FailedPrecondition("quota_bytes must be positive"));
  storage_quota_[it->second] = quota_bytes;
  StorageQuota q{it->second, quota_bytes, clock_.Now()};
  Persist({q}, [this, p, entity, done = std::move(done)] { done(GetStorage(p, entity)); });
}

Result<Platform::StorageView> Platform::MeasureStorage(const Principal& p,
                                                       const std::string& entity) {
  GPUAAS_ASSIGN_OR_RETURN(StorageView v, GetStorage(p, entity));
  if (v.path.empty()) return v;
  GPUAAS_ASSIGN_OR_RETURN(DirUsage u,
                          MeasureDirectory(v.path, config_.billing.storage_max_entries));
  v.used_bytes = u.bytes;
  v.truncated = u.truncated;
  v.measured = true;
  v.measured_at = clock_.Now();
  storage_used_[entity_by_name_.at(entity)] = v;
  return v;
}

void Platform::MeasureAllStorage() {
  const Principal system{0, "billing", 0, Role::kPlatformAdmin, false};
  for (const auto& [id, e] : entities_) (void)MeasureStorage(system, e.name);
}

}  // namespace gpuaas
