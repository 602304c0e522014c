// Invariants of a plan against the snapshot it was made from: what must hold whatever the
// policy. Tests and the simulator call it after every pass; the state calls it before applying
// a plan. Pure; thread-safe.
#pragma once

#include "base/status.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

// Checks: each placement names a queued job (placed at most once, not already running), a
// schedulable node of the snapshot, exactly job.gpus distinct devices that exist, are healthy,
// are of the placement's class and free (not used, not held by a running job, not given twice
// in the plan); the class is one the job accepts; per entity and class, running plus placed GPUs
// stay within the quota limit; a gang's slices are on distinct nodes matching its labels and only
// when no node of the class could hold it; each preemption names a running job not already
// stopping, once, for a queued job not placed, and never a job within its entity's guarantee;
// every other queued job is listed once in `waiting`, with positions 1..n in order. Returns
// the first violation as kInternal.
Status CheckInvariants(const Snapshot& before, const Plan& plan);

}  // namespace gpuaas::sched
