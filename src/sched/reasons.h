// Reasons in words for a waiting job ("over quota: acme uses 8 of its 8 h200"), shown to users
// in the job's "reason". Pure functions; thread-safe.
#pragma once

#include <string>

#include "sched/placer.h"
#include "sched/timeline.h"

namespace gpuaas::sched {

// What the pass knows about a job it did not place, beyond the placer's evaluation.
struct WaitContext {
  int ahead_same_class = 0;    // waiting jobs ahead of it in the queue that accept that class
  JobId blocked_by = 0;        // strict order: the job at the head that blocks it
  std::string reserved_on;     // backfill: the node whose GPUs are reserved for it
  std::string reserved_class;  // and their class
};

std::string EntityName(const Snapshot& snapshot, EntityId entity);

// Precondition: `ev` was evaluated for `job` on `timeline` at timeline.now().
std::string WaitReason(const JobView& job, const Evaluation& ev, const Timeline& timeline,
                       const WaitContext& context);

}  // namespace gpuaas::sched
