#include "sched/wait_fairness.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sched {

double AgeWeight(Millis age_ms, int64_t half_life_s) {
  if (half_life_s <= 0 || age_ms <= 0) return 1.0;
  return std::exp2(-static_cast<double>(age_ms) / (1000.0 * static_cast<double>(half_life_s)));
}

void AddStartedWait(WaitTally* tally, Millis submitted_at, Millis started_at, Millis now,
                    int64_t half_life_s) {
  const double weight = AgeWeight(now - started_at, half_life_s);
  tally->waited_s +=
      weight * static_cast<double>(std::max<Millis>(0, started_at - submitted_at)) / 1000.0;
  tally->jobs += weight;
}

void AddQueuedWait(WaitTally* tally, Millis submitted_at, Millis now) {
  tally->waited_s += static_cast<double>(std::max<Millis>(0, now - submitted_at)) / 1000.0;
  tally->jobs += 1;
  tally->queued += 1;
}

std::map<EntityId, double> WaitRatios(const std::map<EntityId, WaitTally>& tallies,
                                      int64_t horizon_s) {
  const double ahead = static_cast<double>(std::max<int64_t>(0, horizon_s));
  auto waited_of = [ahead](const WaitTally& t) { return t.waited_s + t.queued * ahead; };
  double waited = 0, jobs = 0;
  for (const auto& [entity, t] : tallies) {
    waited += waited_of(t);
    jobs += t.jobs;
  }
  std::map<EntityId, double> ratios;
  if (!(waited > 0) || !(jobs > 0)) return ratios;
  const double platform = waited / jobs;
  for (const auto& [entity, t] : tallies) {
    if (t.jobs > 0) ratios[entity] = waited_of(t) / t.jobs / platform;
  }
  return ratios;
}

}  // namespace gpuaas::sched
