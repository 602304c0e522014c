#include "sched/walltime.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sched {

double ClassSpeed(const Snapshot& snapshot, const std::string& gpu_class) {
  for (const ClassInfo& c : snapshot.classes) {
    if (c.name == gpu_class) return c.speed > 0 ? c.speed : 1.0;
  }
  return 1.0;
}

double JobSpeed(const JobView& job, const Snapshot& snapshot, const std::string& gpu_class) {
  auto it = job.speeds.find(gpu_class);
  if (it != job.speeds.end() && it->second > 0) return it->second;
  return ClassSpeed(snapshot, gpu_class);
}

int64_t ExpectedOnClassS(int64_t seconds, const JobView& job, const std::string& gpu_class,
                         const Snapshot& snapshot) {
  if (job.gpu_types.empty() || job.gpu_types.front() == gpu_class)
    return std::max<int64_t>(1, seconds);
  double ratio =
      JobSpeed(job, snapshot, job.gpu_types.front()) / JobSpeed(job, snapshot, gpu_class);
  double scaled = std::ceil(static_cast<double>(seconds) * ratio);
  if (scaled >= 9.0e15) return static_cast<int64_t>(9.0e15);
  return std::max<int64_t>(1, static_cast<int64_t>(scaled));
}

int64_t WalltimeOnClassS(const JobView& job, const std::string& gpu_class, const Snapshot& snapshot,
                         const Policy& policy) {
  int64_t stated = job.walltime_s > 0 ? job.walltime_s : policy.default_walltime_s;
  if (stated <= 0) stated = 1;
  return StretchS(stated, job, gpu_class, snapshot);
}

int64_t StretchS(int64_t seconds, const JobView& job, const std::string& gpu_class,
                 const Snapshot& snapshot) {
  if (job.gpu_types.empty() || job.gpu_types.front() == gpu_class) return seconds;
  double ratio =
      JobSpeed(job, snapshot, job.gpu_types.front()) / JobSpeed(job, snapshot, gpu_class);
  if (ratio <= 1.0) return seconds;
  double stretched = std::ceil(static_cast<double>(seconds) * ratio);
  if (stretched >= 9.0e15) return static_cast<int64_t>(9.0e15);
  return static_cast<int64_t>(stretched);
}

Millis AddSeconds(Millis t, int64_t seconds) {
  if (t == kNever || seconds >= (kNever - t) / kMillisPerSecond) return kNever;
  return t + seconds * kMillisPerSecond;
}

}  // namespace gpuaas::sched
