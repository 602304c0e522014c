#include "sched/fair_share.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sched {
namespace {

double One(const UsageInterval& u, Millis now, int64_t half_life_s) {
  Millis end = u.end == 0 ? now : std::min(u.end, now);
  if (u.gpus <= 0 || end <= u.start) return 0.0;
  double a = static_cast<double>(now - end) / 1000.0;  // seconds since the end
  double len = static_cast<double>(end - u.start) / 1000.0;
  if (half_life_s <= 0) return u.gpus * len / 3600.0;
  double h = static_cast<double>(half_life_s);
  double k = std::log(2.0) / h;
  // integral over [a, a + len] of e^(-k x) dx = e^(-k a) (1 - e^(-k len)) / k
  double integral = std::exp(-k * a) * -std::expm1(-k * len) / k;
  return u.gpus * integral / 3600.0;
}

}  // namespace

double DecayedUsage(const std::vector<UsageInterval>& intervals, Millis now, int64_t half_life_s) {
  double total = 0.0;
  for (const UsageInterval& u : intervals) total += One(u, now, half_life_s);
  return total;
}

std::map<EntityId, double> DecayedUsageByEntity(const std::vector<UsageInterval>& intervals,
                                                Millis now, int64_t half_life_s) {
  std::map<EntityId, double> out;
  for (const UsageInterval& u : intervals) out[u.entity] += One(u, now, half_life_s);
  return out;
}

}  // namespace gpuaas::sched
