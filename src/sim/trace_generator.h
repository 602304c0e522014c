// A synthetic, seeded trace generator (`gpuaas trace generate`): a mix of sizes, durations,
// entities, kinds and classes resembling a shared GPU cluster, produced lazily so that a
// million-job trace costs no memory. The same options give the same jobs, byte for byte.
//
// The model (per job, from one seeded stream):
//   arrivals:  Poisson; the mean gap makes the offered load (GPU-time on the first class per
//              second, in expectation) `load` x the reference cluster's GPUs
//   entities:  `entities` names "entity-01".., Zipf-like weights (entity i has weight 1/i)
//   kind:      8% notebooks (1 GPU, median 2 h), else batch
//   gpus:      55% 1, 15% 2, 15% 4, 15% 8
//   duration:  log-normal, median 30 min, sigma 1.4, clamped to [1 min, 7 days]
//   walltime:  85% state one: duration x uniform[1.1, 4], rounded up to 15 min (users
//              overestimate); 15% none (the platform default applies)
//   priority:  10% priority 1, else 0
//   classes:   the class-mix rule of sim/class_mix.h on the reference cluster's classes
// Not thread-safe (a source used by one thread).
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "sched/snapshot.h"
#include "sim/rng.h"
#include "sim/trace.h"

namespace gpuaas::sim {

struct GenerateOptions {
  int64_t jobs = 1000;
  uint64_t seed = 1;
  int entities = 8;
  double load = 0.9;  // offered load as a fraction of the reference cluster's GPUs
  int cluster_gpus = 56;
  std::vector<sched::ClassInfo> classes;  // the reference cluster's; empty = untyped jobs
};

// Checks the options: jobs 1..100,000,000; entities 1..1000; load in (0, 100]; gpus >= 1.
Status ValidateGenerateOptions(const GenerateOptions& options);

class TraceGenerator final : public JobSource {
 public:
  // Precondition: ValidateGenerateOptions(options).ok().
  explicit TraceGenerator(GenerateOptions options);
  Result<bool> Next(TraceJob* job) override;

 private:
  GenerateOptions options_;
  Rng rng_;
  int64_t produced_ = 0;
  double clock_s_ = 0;
  double mean_gap_s_ = 0;
  std::vector<double> entity_cdf_;
};

// Writes the whole trace (header and rows) to `out`.
Status WriteGeneratedTrace(const GenerateOptions& options, std::ostream& out);

}  // namespace gpuaas::sim
