#include "sched/policy.h"

#include "sched/queue_order.h"

namespace gpuaas::sched {

Result<Policy> PolicyByName(std::string_view name) {
  Policy p;
  if (name != "default") {  // the baselines of plain systems: no preemption of any kind
    p.preempt_lower_priority = false;
    p.reclaim = false;
    p.faster_class_wait_ratio = -1;  // (and the flexible-class rule they were measured with)
  }
  if (name == "fifo") {
    p.queue_order = "fifo";
    p.backfill = false;
    p.strict_order = true;
  } else if (name == "backfill") {
    p.queue_order = "fifo";
    p.backfill = true;
  } else if (name == "ordered-fallback") {
    p.queue_order = "fifo";
    p.backfill = false;
    p.strict_order = false;
  } else if (name == "sjf-oracle") {
    p.queue_order = "sjf-oracle";
    p.backfill = false;
    p.strict_order = false;
  } else if (name != "default") {
    return InvalidArgument("unknown scheduling policy \"" + std::string(name) + "\"");
  }
  return p;
}

std::vector<std::string> PolicyNames() {
  return {"fifo", "backfill", "ordered-fallback", "sjf-oracle", "default"};
}

int PriorityLevel(const Policy& policy, const std::string& priority_class) {
  auto it = policy.priority_classes.find(priority_class);
  if (it != policy.priority_classes.end()) return it->second;
  it = policy.priority_classes.find(policy.default_priority_class);
  return it != policy.priority_classes.end() ? it->second : 0;
}

bool IsBestEffort(const Policy& policy, const std::string& priority_class) {
  return !policy.best_effort_class.empty() && priority_class == policy.best_effort_class;
}

Status ValidatePolicy(const Policy& policy) {
  if (!MakeQueueOrder(policy.queue_order).ok()) {
    return InvalidArgument("unknown queue order \"" + policy.queue_order + "\"");
  }
  if (policy.reservations < 0) return InvalidArgument("reservations must be >= 0");
  if (policy.default_walltime_s <= 0) return InvalidArgument("default walltime must be > 0");
  if (policy.max_estimates < 0 || policy.max_jobs_per_pass <= 0) {
    return InvalidArgument("scheduler limits must be positive");
  }
  if (policy.preemption_grace_s < 0) return InvalidArgument("preemption grace must be >= 0");
  if (policy.fair_share_half_life_s < 0) return InvalidArgument("half-life must be >= 0");
  if (policy.fair_share_wait_horizon_s < 0 || policy.fair_share_wait_horizon_s > 1'000'000'000) {
    return InvalidArgument(
        "fair_share_wait_horizon_s must be between 0 (the waits so far) and 1e9 seconds");
  }
  if (policy.fair_share_wait_rank_half_life_s < 0 ||
      policy.fair_share_wait_rank_half_life_s > 1'000'000'000) {
    return InvalidArgument(
        "fair_share_wait_rank_half_life_s must be between 0 (the whole history) and 1e9 "
        "seconds");
  }
  if (policy.fair_share_usage_delay_s < 0 || policy.fair_share_usage_delay_s > 1'000'000'000) {
    return InvalidArgument(
        "fair_share_usage_delay_s must be between 0 (the strict order by usage) and 1e9 seconds");
  }
  if (policy.fair_share_wait_floor_s < 0 || policy.fair_share_wait_floor_s > 1'000'000'000) {
    return InvalidArgument("fair_share_wait_floor_s must be between 0 and 1e9 seconds");
  }
  if (!(policy.faster_class_wait_ratio <= 1e6)) {  // (NaN too)
    return InvalidArgument("faster_class_wait_ratio must be at most 1e6 (negative: no bound)");
  }
  if (policy.faster_class_patience_extra_s < 0 ||
      policy.faster_class_patience_extra_s > 1'000'000'000) {
    return InvalidArgument("faster_class_patience_extra_s must be between 0 (off) and 1e9 seconds");
  }
  if (!(policy.fair_share_wait_ratio >= 0) || policy.fair_share_wait_ratio > 1e6) {
    return InvalidArgument("fair_share_wait_ratio must be between 0 (off) and 1e6");
  }
  if (policy.small_first_cap_s < 0 || policy.small_first_cap_s > 1'000'000'000) {
    return InvalidArgument("small_first_cap_s must be between 0 and 1e9 seconds");
  }
  if (!(policy.small_first_rate <= 1e9)) {  // (NaN too)
    return InvalidArgument(
        "small_first_rate must be at most 1e9 GPU-seconds per second (negative: from the "
        "platform's GPUs)");
  }
  if (!(policy.small_first_delay_factor >= 0) || policy.small_first_delay_factor > 1e9) {
    return InvalidArgument("small_first_delay_factor must be between 0 (off) and 1e9");
  }
  return Status::Ok();
}

}  // namespace gpuaas::sched
