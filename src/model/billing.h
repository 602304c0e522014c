// Billing values: price changes (the price book's history), budgets, billing events, invoice
// lines, closed invoices and credit notes. Plain values persisted by the store; the logic that
// computes them lives in billing/ (pure) and state/platform_billing.cc (wiring).
// Money is integer micro-euros, time integer milliseconds since the epoch (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

// One entry of the price book: from `effective_from` on, a device-hour of `gpu_class` for jobs
// of `priority_class` ("" = every priority class without an entry of its own) costs `rate`.
struct PriceChange {
  int64_t id = 0;
  std::string gpu_class;
  std::string priority_class;
  MicroEur rate = 0;  // per device-hour
  Millis effective_from = 0;
  Millis created_at = 0;

  bool operator==(const PriceChange&) const = default;
};

enum class BudgetPolicy { kRefuse, kBestEffortOnly };
const char* BudgetPolicyName(BudgetPolicy p);  // "refuse", "best-effort-only"
bool ParseBudgetPolicy(const std::string& s, BudgetPolicy* out);

// A monthly budget of an entity (0 = none). Past 100%, `policy` applies to new submissions.
struct Budget {
  EntityId entity = 0;
  MicroEur monthly = 0;
  BudgetPolicy policy = BudgetPolicy::kRefuse;
  Millis updated_at = 0;

  bool operator==(const Budget&) const = default;
};

// Something the platform tells an entity about its bill: "budget_80", "budget_100",
// "invoice_closed", "credit_note". Append-only.
struct BillingEvent {
  int64_t id = 0;
  EntityId entity = 0;
  std::string month;  // "YYYY-MM"
  std::string kind;
  Millis at = 0;
  std::string message;

  bool operator==(const BillingEvent&) const = default;
};

// One line of an invoice: the part of one allocation billed at one rate within one month.
// amount = CostOf(gpus x billed_seconds x 1000, rate), rounded half up to the micro-euro.
struct InvoiceLine {
  JobId job = 0;
  AllocationId allocation = 0;
  UserId user = 0;
  std::string project;
  std::string gpu_class;
  std::string priority_class;
  int gpus = 0;
  Millis start = 0;  // first billed instant of this line
  Millis end = 0;    // end of the billed time of this line (start + billed_seconds)
  int64_t billed_seconds = 0;
  MicroEur rate = 0;  // per device-hour
  MicroEur amount = 0;
  int64_t energy_mwh = 0;       // this line's share of the allocation's energy
  int64_t idle_gpu_millis = 0;  // this line's share of the allocation's idle device-time
  int64_t net_rx_bytes = 0;     // this line's share of the allocation's network traffic
  int64_t net_tx_bytes = 0;     // (container jobs: their own network namespace's counters)

  bool operator==(const InvoiceLine&) const = default;
};

// A month's invoice once closed: frozen with its lines (a later price change or correction
// never rewrites it; corrections are credit notes).
struct ClosedInvoice {
  EntityId entity = 0;
  std::string month;  // "YYYY-MM"
  Millis closed_at = 0;
  std::vector<InvoiceLine> lines;

  bool operator==(const ClosedInvoice&) const = default;
};

// A correction of a (closed) month's invoice: a positive `amount` is credited to the entity.
struct CreditNote {
  int64_t id = 0;
  EntityId entity = 0;
  std::string month;
  MicroEur amount = 0;
  std::string reason;
  UserId created_by = 0;
  Millis created_at = 0;

  bool operator==(const CreditNote&) const = default;
};

}  // namespace gpuaas

namespace gpuaas {

// An entity's workspace quota set by a platform-admin (absent: the configured default).
struct StorageQuota {
  EntityId entity = 0;
  int64_t quota_bytes = 0;
  Millis updated_at = 0;

  bool operator==(const StorageQuota&) const = default;
};

}  // namespace gpuaas
