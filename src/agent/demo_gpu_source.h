// DemoGpuSource: readings for the demo inventory (no driver; `--demo-gpus`). A device held by a
// running workload reads ~88-97% utilisation, most of its memory in use and power near the
// class's board limit; a free one reads 0% at the class's idle power. Small deterministic
// variations come from (device, time), so the same inputs give the same readings. Never
// unhealthy. Thread-safety: see GpuSource.
#pragma once

#include <vector>

#include "agent/gpu_source.h"
#include "model/gpu_class.h"

namespace gpuaas {

class DemoGpuSource : public GpuSource {
 public:
  // Watts come from `classes` (by gpu_class); unknown classes read 50 W idle / 300 W busy.
  DemoGpuSource(std::vector<GpuDevice> gpus, std::vector<GpuClass> classes);

  std::vector<GpuDevice> Inventory() const override { return gpus_; }
  bool simulated() const override { return true; }
  std::vector<GpuReading> Sample(Millis now, const std::set<int>& busy) override;

 private:
  std::vector<GpuDevice> gpus_;
  std::vector<GpuClass> classes_;
};

}  // namespace gpuaas
