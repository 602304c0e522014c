// Preemption: which running jobs to stop so that a queued job can start (Kueue's reclaim within
// a cohort, Run:ai's over-quota reclaim, priority preemption). Two rules, one victim search:
//  * reclaim: an entity below its guarantee (Snapshot::quota_guarantee) whose job cannot fit
//    takes back GPUs that other entities borrow beyond their own guarantee;
//  * priority: a job of a higher priority class takes GPUs from preemptible jobs of strictly
//    lower classes (best-effort first).
// A job is "borrowing" when, ordering its entity's running jobs of its class by start (then id),
// the running total including it exceeds the entity's guarantee (no guarantee = all borrowing).
// No rule ever takes a job within its entity's guarantee. Jobs already stopping are not taken
// again: a claimer that can start once they are gone just waits ("reclaiming ...").
// Not thread-safe (a value owned by one scheduling pass); deterministic.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sched/policy.h"
#include "sched/snapshot.h"
#include "sched/timeline.h"

namespace gpuaas::sched {

struct PreemptionDecision {
  std::vector<Preemption> preemptions;  // new victims; empty when already reclaiming
  std::string reason;                   // the claimer's wait reason, in words
  size_t node_pos = 0;                  // where the claimer will run once they are stopped
  std::string gpu_class;
  std::vector<int> devices;  // ascending: free ones first, then the victims'
  int64_t walltime_s = 0;
};

class Preemptor {
 public:
  // Precondition: `snapshot` outlives the Preemptor.
  Preemptor(const Snapshot& snapshot, const Policy& policy);

  // For a job that cannot start now for want of free GPUs (not for quota): the victims to stop
  // for it on the best node of the first class that allows it, or nullopt if no rule applies.
  // Victims chosen here are not offered to later claimers of the same pass.
  std::optional<PreemptionDecision> Decide(const JobView& job,
                                           const std::vector<std::string>& classes,
                                           const Timeline& timeline);

  bool Borrowing(JobId running_job) const { return borrowing_.contains(running_job); }

  // The entity's guarantee for the class (0 if none).
  int Guarantee(EntityId entity, const std::string& gpu_class) const;

 private:
  const Snapshot& snapshot_;
  const Policy& policy_;
  std::set<JobId> borrowing_;
  std::set<JobId> chosen_;
  // The highest priority level among jobs a priority preemption could take (INT_MIN: none),
  // and, per class, the fewest GPUs a search already failed to find for a level (the pass only
  // adds holds, so a job of that level asking as many or more would fail too).
  int max_victim_level_;
  std::map<std::pair<std::string, int>, int> failed_;
  std::map<std::pair<EntityId, std::string>, int> stopping_gpus_;
  std::vector<std::vector<const RunningView*>> on_node_;  // by node position
};

}  // namespace gpuaas::sched
