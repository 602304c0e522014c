// Fair share's input: decayed past GPU usage per entity (Slurm's fair-share usage with a
// half-life). The state records who held how many GPUs when, and computes the decayed usage
// for Snapshot::decayed_usage with these; the simulator does the same. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "base/time.h"
#include "model/ids.h"

namespace gpuaas::sched {

// `gpus` GPUs held by `entity` over [start, end); end 0 = still held (open, up to now).
struct UsageInterval {
  EntityId entity = 0;
  int gpus = 0;
  Millis start = 0;
  Millis end = 0;
};

// Sum over the intervals (whatever their entity) of gpus x the integral over [start, min(end,
// now)) of 2^(-(now - t) / half_life) dt, in GPU-hours: exact (closed form), so the order of
// intervals and how often it is called do not matter. A GPU-hour used one half-life ago counts
// 0.5. half_life_s <= 0 = no decay (plain GPU-hours). Parts after `now` count nothing.
double DecayedUsage(const std::vector<UsageInterval>& intervals, Millis now, int64_t half_life_s);

// The same per entity.
std::map<EntityId, double> DecayedUsageByEntity(const std::vector<UsageInterval>& intervals,
                                                Millis now, int64_t half_life_s);

}  // namespace gpuaas::sched
