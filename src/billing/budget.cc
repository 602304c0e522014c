#include "billing/budget.h"

#include <cstdio>

namespace gpuaas {

std::vector<int> ReachedThresholds(MicroEur monthly, MicroEur spent) {
  std::vector<int> out;
  if (monthly <= 0) return out;
  for (int pct : BudgetThresholds()) {
    // spent / monthly >= pct / 100, in integers.
    if (static_cast<__int128>(spent) * 100 >= static_cast<__int128>(monthly) * pct) {
      out.push_back(pct);
    }
  }
  return out;
}

std::string BudgetEventKind(int percent) { return "budget_" + std::to_string(percent); }

Status CheckBudgetAdmission(const std::string& entity_name, const Budget& budget, MicroEur spent,
                            bool best_effort, const std::string& month) {
  if (budget.monthly <= 0 || spent < budget.monthly) return Status::Ok();
  std::string head = entity_name + " has spent " + FormatEurCents(spent) + " EUR of its " +
                     FormatEurCents(budget.monthly) + " EUR budget for " + month;
  if (budget.policy == BudgetPolicy::kRefuse) {
    return FailedPrecondition(head +
                              ": new jobs are refused until next month or until a "
                              "platform-admin raises the budget");
  }
  if (!best_effort) {
    return FailedPrecondition(head +
                              ": only best-effort jobs are accepted "
                              "(\"priority_class\": \"best-effort\")");
  }
  return Status::Ok();
}

std::string FormatBytes(int64_t bytes) {
  char buf[48];
  if (bytes >= 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f GB", static_cast<double>(bytes) / 1e9);
  } else if (bytes >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
  }
  return buf;
}

Status CheckStorageAdmission(const std::string& entity_name, int64_t used_bytes,
                             int64_t quota_bytes, bool writes) {
  if (!writes || quota_bytes <= 0 || used_bytes < quota_bytes) return Status::Ok();
  return FailedPrecondition(
      entity_name + "'s workspace is over its quota (" + FormatBytes(used_bytes) + " used of " +
      FormatBytes(quota_bytes) +
      "): free space in the workspace, or ask a platform-admin to raise the "
      "quota, before submitting new jobs that write to it (\"workspace\": \"ro\" or \"none\" "
      "are still accepted)");
}

}  // namespace gpuaas
