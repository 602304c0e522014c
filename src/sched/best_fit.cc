#include "sched/best_fit.h"

#include <algorithm>

namespace gpuaas::sched {

int64_t BestFitScore::Rank(const Ask& ask, size_t node_pos, const Timeline& timeline,
                           Millis start) const {
  return -static_cast<int64_t>(UsableDevices(ask, node_pos, timeline, start).size());
}

std::vector<int> LowestIndexPicker::Pick(const Ask& ask, size_t node_pos, const Timeline& timeline,
                                         Millis start) const {
  std::vector<int> usable = UsableDevices(ask, node_pos, timeline, start);
  std::sort(usable.begin(), usable.end());
  if (static_cast<int>(usable.size()) > ask.job->gpus) usable.resize(ask.job->gpus);
  return usable;
}

}  // namespace gpuaas::sched
