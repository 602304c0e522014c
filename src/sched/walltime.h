// Walltime arithmetic shared by the scheduler, the state and the simulator: a job states its
// walltime on its first acceptable class; on a slower class the limit is stretched by the speed
// ratio (a job that falls back from H200 to L40S gets proportionally longer).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "base/time.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

// "Never" / "unknown" on the scheduler's time line.
constexpr Millis kNever = std::numeric_limits<Millis>::max();

// Speed of a class from the snapshot's catalogue (1.0 when unknown or not positive).
double ClassSpeed(const Snapshot& snapshot, const std::string& gpu_class);
// The job's speed on a class: its hint (JobView::speeds) if positive, else ClassSpeed.
double JobSpeed(const JobView& job, const Snapshot& snapshot, const std::string& gpu_class);

// The walltime in seconds a job gets on `gpu_class`: its stated walltime (or the policy's
// default), stretched by speed(first class) / speed(gpu_class) when that ratio exceeds 1,
// rounded up. Never less than 1 s.
int64_t WalltimeOnClassS(const JobView& job, const std::string& gpu_class, const Snapshot& snapshot,
                         const Policy& policy);

// `seconds` measured on the job's first class, as long on `gpu_class`: stretched by
// speed(first class) / speed(gpu_class) (JobSpeed) when that ratio exceeds 1, rounded up.
int64_t StretchS(int64_t seconds, const JobView& job, const std::string& gpu_class,
                 const Snapshot& snapshot);

// The expected run time on `gpu_class` of `seconds` measured on the job's first class: scaled
// by the speed ratio both ways (a faster class shortens it), rounded up, at least 1 s. Used to
// compare classes by expected completion; the walltime limit itself never shrinks (StretchS).
int64_t ExpectedOnClassS(int64_t seconds, const JobView& job, const std::string& gpu_class,
                         const Snapshot& snapshot);

// t + seconds, saturating at kNever.
Millis AddSeconds(Millis t, int64_t seconds);

}  // namespace gpuaas::sched
