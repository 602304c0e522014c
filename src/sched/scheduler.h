// The scheduler: a pure function from the cluster's state to a plan. No I/O, clocks, globals or
// randomness: the same Snapshot, Policy and `now` give the same Plan, in the server and in the
// simulator. The state re-checks a plan (CheckInvariants) before applying it.
// Thread-safe (no shared state). Policy knobs: sched/policy.h; the rules: docs/scheduling.md.
#pragma once

#include "base/time.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

// One scheduling pass at `now`: which queued jobs start now and where, and for every other
// queued job its position, estimated start and reason. An invalid policy (ValidatePolicy)
// falls back to the defaults of the knobs it gets wrong.
Plan Schedule(const Snapshot& snapshot, const Policy& policy, Millis now);

}  // namespace gpuaas::sched
