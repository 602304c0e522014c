#include "sim/class_mix.h"

#include <cmath>

#include "sim/rng.h"

namespace gpuaas::sim {

void AssignClasses(TraceJob* job, const std::vector<sched::ClassInfo>& classes, uint64_t seed) {
  if (!job->gpu_types.empty() || classes.size() < 2) return;
  size_t fast = 0, slow = 0;
  for (size_t i = 1; i < classes.size(); ++i) {
    if (classes[i].speed > classes[fast].speed) fast = i;
    if (classes[i].speed < classes[slow].speed) slow = i;
  }
  if (fast == slow) slow = fast == 0 ? 1 : 0;  // all equally fast: first and second
  const std::string& f = classes[fast].name;
  const std::string& s = classes[slow].name;
  Rng rng(SeedFor(seed, job->id));
  const double u = rng.Uniform();
  // Round the ratio to 2 decimals so that the trace text and the replay agree exactly.
  const double r = std::round(rng.Uniform(0.25, 0.55) * 100.0) / 100.0;
  auto both = [&](const std::string& first, const std::string& second, double second_speed) {
    job->gpu_types = {first, second};
    job->speeds = {{first, 1.0}, {second, second_speed}};
  };
  if (job->gpus >= 8) {
    if (u < 0.60) {
      job->gpu_types = {f};
    } else {
      both(f, s, r);
    }
  } else if (u < 0.30) {
    both(f, s, r);
  } else if (u < 0.55) {
    both(s, f, std::round(10000.0 / r) / 10000.0);
  } else if (u < 0.80) {
    job->gpu_types = {f};
  } else {
    job->gpu_types = {s};
  }
}

Result<bool> ClassMixSource::Next(TraceJob* job) {
  auto more = inner_.Next(job);
  if (more.ok() && *more) AssignClasses(job, classes_, seed_);
  return more;
}

}  // namespace gpuaas::sim
