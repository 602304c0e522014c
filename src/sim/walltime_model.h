// Gives jobs of traces without walltimes (the public traces record only run times) the limit a
// user would have asked for, so that the policies that plan on walltimes (backfill, class choice,
// estimates) see what they would see in production rather than the platform's default for every
// job. The rule, per job that states no walltime (walltime_s = 0):
//   asked = duration_s x factor, rounded up to the granularity users type:
//     up to 1 h:  a multiple of 5 minutes      up to 1 day: a multiple of 30 minutes
//     up to 7 d:  a multiple of 6 hours        beyond:      a multiple of 1 day
// (factor >= 1: users over-request; 1 = perfect knowledge before rounding). The factor is one
// number for every job, or a range LO:HI: then each job draws its own, log-uniform in [LO, HI],
// from a stream seeded by (seed, job id) (users misjudge by different amounts; a fixed factor
// would make the request a perfect ranking of run times). The walltime is on the job's first
// class, as the trace format says, so with factors >= 1 no job is killed. Jobs that state a
// walltime are left alone. The same trace and seed give the same walltimes.
// Thread-safety: a WalltimeModelSource is used by one thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "sim/trace.h"

namespace gpuaas::sim {

struct WalltimeModel {
  double lo = 0, hi = 0;  // factors; lo == hi: fixed; 0 = no model
  uint64_t seed = 1;
};

// "2" or "1:8" (limits: 1 <= LO <= HI <= 100).
Result<WalltimeModel> ParseWalltimeModel(std::string_view text, uint64_t seed);
// Limits on the factor: [1, 100].
Status ValidateWalltimeFactor(double factor);

// `seconds` rounded up to the granularity above (at least 5 minutes).
int64_t RoundUpRequestS(int64_t seconds);

// Applies the rule to one job (factor already validated).
void AssignWalltime(TraceJob* job, double factor);
// The same with the model's factor for this job.
void AssignWalltime(TraceJob* job, const WalltimeModel& model);

// Wraps a source and applies AssignWalltime to each job.
class WalltimeModelSource final : public JobSource {
 public:
  WalltimeModelSource(JobSource& inner, WalltimeModel model) : inner_(inner), model_(model) {}
  Result<bool> Next(TraceJob* job) override;

 private:
  JobSource& inner_;
  WalltimeModel model_;
};

}  // namespace gpuaas::sim
