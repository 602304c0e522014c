// Placement plugins of v1: BestFitScore prefers the node whose free healthy devices of the class
// are fewest but enough (keeping big nodes whole for big jobs); LowestIndexPicker takes the
// lowest device indices. Stateless; thread-safe.
#pragma once

#include "sched/plugins.h"

namespace gpuaas::sched {

class BestFitScore final : public Score {
 public:
  int64_t Rank(const Ask& ask, size_t node_pos, const Timeline& timeline,
               Millis start) const override;
};

class LowestIndexPicker final : public DevicePicker {
 public:
  std::vector<int> Pick(const Ask& ask, size_t node_pos, const Timeline& timeline,
                        Millis start) const override;
};

}  // namespace gpuaas::sched
