// Placement plugins: BestFitScore prefers the node whose free healthy devices of the class are
// fewest but enough (keeping big nodes whole for big jobs); CompactPicker takes, for a start
// now, the lowest device indices, and for a future start (a reservation) first the devices
// released last before it, so that devices free now stay free for backfill.
// Stateless; thread-safe.
#pragma once

#include "sched/plugins.h"

namespace gpuaas::sched {

class BestFitScore final : public Score {
 public:
  int64_t Rank(const Ask& ask, size_t node_pos, const Timeline& timeline,
               Millis start) const override;
  // Exactly the GPUs asked for, free.
  int64_t Ceiling(const Ask& ask) const override { return -static_cast<int64_t>(ask.job->gpus); }
};

class CompactPicker final : public DevicePicker {
 public:
  std::vector<int> Pick(const Ask& ask, size_t node_pos, const Timeline& timeline,
                        Millis start) const override;
};

}  // namespace gpuaas::sched
