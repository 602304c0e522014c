// Budgets: which alert thresholds a month's spending has crossed, and whether a new job is
// admitted once the budget is exhausted (policy "refuse": no new job; "best-effort-only": only
// jobs of the best-effort priority class). Storage quota admission lives here too: over its
// workspace quota, an entity's new jobs that write to the workspace are refused.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/status.h"
#include "model/billing.h"

namespace gpuaas {

// Alert thresholds in percent of the monthly budget, ascending.
inline const std::vector<int>& BudgetThresholds() {
  static const std::vector<int> kThresholds = {80, 100};
  return kThresholds;
}

// Thresholds (percent) reached by `spent` (none without a budget).
std::vector<int> ReachedThresholds(MicroEur monthly, MicroEur spent);

// "budget_80", "budget_100".
std::string BudgetEventKind(int percent);

// OK, or FailedPrecondition with a message naming the entity, the spending and the way out.
Status CheckBudgetAdmission(const std::string& entity_name, const Budget& budget, MicroEur spent,
                            bool best_effort, const std::string& month);

// OK, or FailedPrecondition when `used_bytes` >= `quota_bytes` and the job writes.
Status CheckStorageAdmission(const std::string& entity_name, int64_t used_bytes,
                             int64_t quota_bytes, bool writes);

// "1.50 GB" style for messages (decimal units).
std::string FormatBytes(int64_t bytes);

}  // namespace gpuaas
