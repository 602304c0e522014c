// Where each entity stands in the fair-share order, in figures a user can check (Slurm's
// `sshare`): its shares, its decayed usage, the factor and the delay its jobs carry, its wait
// ratio and whether that puts it ahead of the others. Computed from the same snapshot and
// functions the "fair-share" queue order uses (FairShareOrder::Rank), so the figures are those of
// the next pass. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "model/ids.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

struct FairShareStanding {
  EntityId entity = 0;
  double shares = 1;           // its weight (Snapshot::entity_shares; absent = 1)
  double share_part = 0;       // S: its part of the shares counted (entities with usage or queued)
  double usage_gpu_hours = 0;  // its decayed usage (Snapshot::decayed_usage)
  double usage_part = 0;       // U: its part of all entities' decayed usage
  double factor = 0;           // Slurm's classic factor 1 - 2^(-U/S), in [0, 1]
  // How much later than submitted its jobs are placed (the factor in steps of
  // Policy::fair_share_usage_delay_s); 0 when late (those go first, by ratio) or with no delay.
  int64_t delay_s = 0;
  // Its average wait over the platform's, looking Policy::fair_share_wait_horizon_s ahead
  // (Snapshot::entity_wait_ratio; -1: no wait counted).
  double wait_ratio = -1;
  bool late = false;  // wait_ratio >= Policy::fair_share_wait_ratio: its jobs go first
  int64_t queued_jobs = 0;
};

// One standing per entity of `entities`, in that order. An entity with no queued job gets what
// its next job would get: its share counted among the totals as if it had one queued.
std::vector<FairShareStanding> FairShareStandings(const Policy& policy, const Snapshot& snapshot,
                                                  const std::vector<EntityId>& entities);

}  // namespace gpuaas::sched
