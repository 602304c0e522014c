// The scheduler's input (Snapshot) and output (Plan): plain values that the state builds from
// its model and applies after re-checking, and that the simulator builds from a trace.
// Thread-safety: plain values. Preconditions: node ids and job ids are positive and unique.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "model/ids.h"

namespace gpuaas::sched {

struct DeviceView {
  int index = 0;
  std::string gpu_class;
  bool healthy = true;
  JobId used_by = 0;  // 0 = free
};

struct NodeView {
  NodeId id = 0;
  std::string name;
  bool schedulable = true;  // ready, not cordoned/draining/down
  std::vector<DeviceView> devices;
  std::map<std::string, std::string> labels;
  // Only jobs asking for at least this many GPUs run here (0 = any): a pool kept whole for large
  // jobs, as a partition or a taint would (the label gpuaas.io/min-gpus, sched/filters.h).
  int min_job_gpus = 0;
};

struct JobView {
  JobId id = 0;
  EntityId entity = 0;
  int gpus = 1;
  std::vector<std::string> gpu_types;  // acceptable classes, preferred first; empty = any
  int priority = 0;                    // higher runs first under the "priority" queue order
  Millis submitted_at = 0;
  int64_t walltime_s = 0;  // on the job's first class; 0 = the policy's default
  // Fields below were added after v1; all have defaults, so positional initialisers of the
  // fields above keep working.
  // The true run time on the job's first class (simulator only; 0 = unknown). Used ONLY by the
  // "sjf-oracle" queue order, never by production policies.
  int64_t oracle_runtime_s = 0;
  // Named priority class (Policy::priority_classes; empty = Policy::default_priority_class).
  // The queue orders by class first, then by `priority` within it.
  std::string priority_class = {};
  // Speed hints per class (relative, e.g. {"h200": 1, "l40s": 0.4}); absent = ClassInfo::speed.
  std::map<std::string, double> speeds = {};
  // false = only the first of gpu_types (no fallback to another class).
  bool allow_fallback = true;
  // Only nodes whose labels include all these (label -> value).
  std::map<std::string, std::string> node_selector = {};
  // Never a multi-node gang (a notebook): only classes with a node big enough for it.
  bool single_node = false;
};

// A job that holds devices: running, or "starting" (started_at 0 = not started yet, taken as now).
struct RunningView {
  JobId id = 0;
  EntityId entity = 0;
  NodeId node = 0;
  std::string gpu_class;
  std::vector<int> devices;
  Millis started_at = 0;
  int64_t walltime_s = 0;  // the limit on the class it got (already stretched); 0 = default
  int priority = 0;
  // Added after v1 (defaults keep positional initialisers working):
  std::string priority_class = {};  // as JobView::priority_class
  bool preemptible = true;          // false: never a victim of priority preemption (reclaim of
                                    // borrowed GPUs still applies)
  bool stopping = false;            // the state is stopping it (a preemption in progress)
  JobId stopping_for = 0;           // the job it is being preempted for (0 = unknown)
};

struct ClassInfo {
  std::string name;
  double speed = 1.0;  // throughput relative to the fastest class
  MicroEur hourly_rate = 0;
};

struct Snapshot {
  std::vector<NodeView> nodes;       // id order
  std::vector<JobView> queued;       // any order; the queue-order plugin sorts
  std::vector<RunningView> running;  // includes "starting" jobs
  std::map<EntityId, std::map<std::string, int>> quota_limit;  // absent = unlimited
  std::vector<ClassInfo> classes;                              // "any class" tries them in order
  std::map<EntityId, std::string> entity_names;  // for reasons in words; absent = "entity N"
  // Added after v1:
  // GPUs per class an entity can always obtain within Policy::preemption_grace_s (reclaiming
  // GPUs that other entities borrow beyond their own guarantee). Absent = 0.
  std::map<EntityId, std::map<std::string, int>> quota_guarantee = {};
  // Fair share: weight per entity (absent = 1) and decayed past usage in GPU-hours (absent = 0;
  // computed by the state with DecayedUsage(), sched/fair_share.h).
  std::map<EntityId, double> entity_shares = {};
  std::map<EntityId, double> decayed_usage = {};
  // Each entity's average wait over the platform's (sched/wait_fairness.h; absent = 0), for
  // Policy::fair_share_wait_ratio.
  std::map<EntityId, double> entity_wait_ratio = {};
  // The same ratio with Policy::fair_share_wait_rank_half_life_s, which ranks the late entities
  // (absent: by entity_wait_ratio; left empty when the two half-lives are the same).
  std::map<EntityId, double> entity_wait_rank = {};
  // `queued` is already in the order of Policy::queue_order for this snapshot (the simulator
  // sorts its queue itself to choose the jobs a pass sees): a pass does not sort it again. Any
  // sub-sequence of a queue in order is in order. False (the server): the pass sorts.
  bool queued_in_order = false;
  // `windowed` (the simulator): a pass sees only the queued jobs at these positions of `queued`
  // (each below queued.size()), in this order (the jobs that can start, block or reserve), and
  // plans for them alone.
  bool windowed = false;
  std::vector<uint32_t> window = {};
};

// The queued jobs a pass sees (Snapshot::windowed), in order: fn(const JobView&) for each.
template <class Fn>
void ForEachSeen(const Snapshot& snapshot, Fn fn) {
  if (!snapshot.windowed) {
    for (const JobView& j : snapshot.queued) fn(j);
    return;
  }
  for (uint32_t at : snapshot.window) fn(snapshot.queued[at]);
}
inline size_t SeenCount(const Snapshot& snapshot) {
  return snapshot.windowed ? snapshot.window.size() : snapshot.queued.size();
}

// The devices a job gets on one node.
struct Slice {
  NodeId node = 0;
  std::vector<int> devices;  // ascending
};

struct Placement {
  JobId job = 0;
  NodeId node = 0;  // the first slice (compatibility: single-node jobs have one)
  std::string gpu_class;
  std::vector<int> devices;  // ascending; the first slice's
  // Added after v1:
  std::string reason = {};         // why this class and node, in words (may be empty)
  std::vector<Slice> slices = {};  // every node's devices; a gang (multi-node) has several
};

// A running job the state must stop (SIGTERM, grace, stop, back to the queue as preempted).
struct Preemption {
  JobId job = 0;
  std::string reason;  // in words, e.g. "reclaimed: acme needs its guaranteed 8 h200; ..."
  JobId for_job = 0;   // the queued job the GPUs are freed for
};

struct Waiting {
  JobId job = 0;
  int queue_position = 0;      // 1-based among the jobs still queued, in queue order
  Millis estimated_start = 0;  // 0 = unknown
  std::string reason;          // in words, e.g. "over quota: acme uses 8 of its 8 h200"
  // Added later: false = not looked at in this pass (behind Policy::max_jobs_per_pass others);
  // its reason is then Plan::not_considered (one string, not one per job). See ReasonOf.
  bool considered = true;
};

struct Plan {
  std::vector<Placement> placements;         // in queue order
  std::vector<Waiting> waiting;              // every queued job not placed, in queue order
  std::vector<Preemption> preemptions = {};  // running jobs to stop, in decision order
  std::string not_considered = {};           // the reason of every waiting job not considered
};

// A waiting job's reason in words (Waiting::reason, or Plan::not_considered).
inline const std::string& ReasonOf(const Plan& plan, const Waiting& w) {
  return w.considered ? w.reason : plan.not_considered;
}

}  // namespace gpuaas::sched
