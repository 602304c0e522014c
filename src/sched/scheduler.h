// The scheduler: a pure function from the cluster's state to a plan. No I/O, clocks, globals or
// randomness: the same Snapshot, Policy and `now` give the same Plan, in the server and in the
// simulator. The state re-checks a plan (CheckInvariants) before applying it.
// Thread-safe (no shared state). Policy knobs: sched/policy.h; the rules: docs/scheduling.md.
#pragma once

#include "base/time.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

class Timeline;  // sched/timeline.h

// One scheduling pass at `now`: which queued jobs start now and where, and for every other
// queued job its position, estimated start and reason. An invalid policy (ValidatePolicy)
// falls back to the defaults of the knobs it gets wrong.
Plan Schedule(const Snapshot& snapshot, const Policy& policy, Millis now);

// The same pass on a time line the caller keeps: `timeline` must equal
// Timeline(snapshot, policy, now) (Timeline::SameState), e.g. one kept across passes with
// Timeline::AddRunning/RemoveRunning/AdvanceTo and copied for the pass (the simulator: no time
// line built from the snapshot at every pass). The pass adds its placements and reservations to
// it. Same plan as the overload above.
Plan Schedule(const Snapshot& snapshot, const Policy& policy, Millis now, Timeline& timeline);

}  // namespace gpuaas::sched
