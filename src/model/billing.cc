#include "model/billing.h"

namespace gpuaas {

const char* BudgetPolicyName(BudgetPolicy p) {
  return p == BudgetPolicy::kRefuse ? "refuse" : "best-effort-only";
}

bool ParseBudgetPolicy(const std::string& s, BudgetPolicy* out) {
  if (s == "refuse") {
    *out = BudgetPolicy::kRefuse;
  } else if (s == "best-effort-only") {
    *out = BudgetPolicy::kBestEffortOnly;
  } else {
    return false;
  }
  return true;
}

}  // namespace gpuaas
