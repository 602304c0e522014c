// Gives jobs of untyped traces (the public traces know neither H200 nor L40S) a deterministic,
// seeded mix of acceptable classes and speed ratios. The rule, per job, from a random stream
// seeded by (seed, job id), so the result does not depend on row order:
//   fast = the cluster class with the highest catalogue speed, slow = the lowest (spec order
//   breaks ties); a one-class cluster leaves jobs untyped (any class).
//   jobs of 8 GPUs or more:  60% fast only, 40% fast|slow   (large training wants the big GPUs)
//   smaller jobs:            30% fast|slow, 25% slow|fast, 25% fast only, 20% slow only
//   speeds (a job with two classes): slow/fast throughput ratio r uniform in [0.25, 0.55]
//   (mean 0.4, the catalogue's L40S/H200; Gavel measures a model-dependent spread), written
//   relative to the job's first class: fast|slow -> fast=1;slow=r, slow|fast -> slow=1;fast=1/r.
// duration_s and walltime_s keep their meaning: time on the job's first class.
// Jobs that already name classes are left alone. Thread-safety: a ClassMixSource is used by one
// thread; the free function is pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sched/snapshot.h"
#include "sim/trace.h"

namespace gpuaas::sim {

// Applies the rule to one job if it has no gpu_types. `classes`: the cluster's, in spec order.
void AssignClasses(TraceJob* job, const std::vector<sched::ClassInfo>& classes, uint64_t seed);

// Wraps a source and applies AssignClasses to each job.
class ClassMixSource final : public JobSource {
 public:
  ClassMixSource(JobSource& inner, std::vector<sched::ClassInfo> classes, uint64_t seed)
      : inner_(inner), classes_(std::move(classes)), seed_(seed) {}
  Result<bool> Next(TraceJob* job) override;

 private:
  JobSource& inner_;
  std::vector<sched::ClassInfo> classes_;
  uint64_t seed_;
};

}  // namespace gpuaas::sim
