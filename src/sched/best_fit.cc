#include "sched/best_fit.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace gpuaas::sched {

int64_t BestFitScore::Rank(const Ask& ask, size_t node_pos, const Timeline& timeline,
                           Millis start) const {
  return -static_cast<int64_t>(CountUsable(ask, node_pos, timeline, start));
}

std::vector<int> CompactPicker::Pick(const Ask& ask, size_t node_pos, const Timeline& timeline,
                                     Millis start) const {
  // (released, index): when the device's last hold before `start` ends (free now: never
  // released in the future), latest first; then the lowest index.
  std::vector<std::pair<Millis, int>> ranked;
  for (int index : UsableDevices(ask, node_pos, timeline, start)) {
    Millis released = std::numeric_limits<Millis>::min();
    for (const Hold& h : timeline.DeviceHolds(node_pos, timeline.DevicePos(node_pos, index))) {
      if (h.until <= start && h.until > timeline.now()) released = std::max(released, h.until);
    }
    ranked.push_back({released, index});
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<int> out;
  for (size_t i = 0; i < ranked.size() && static_cast<int>(i) < ask.job->gpus; ++i) {
    out.push_back(ranked[i].second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gpuaas::sched
