// GpuSource: where an agent's GPUs come from and how they are read. Two implementations: the
// NVML one (real devices, or the test suite's stand-in library through the same code path;
// nvml_gpu_source.h) and the demo one (simulated devices whose readings follow the load;
// demo_gpu_source.h).
//
// Health: a reading may carry a `problem` (uncorrectable ECC errors, too hot, fell off the
// bus). The agent then reports the device unhealthy with that reason; the server stops
// scheduling on it and fails the job holding it.
//
// Thread-safety: Inventory() is safe from any thread (immutable after construction); Sample()
// from one thread at a time (the agent's sampler).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/time.h"
#include "model/node.h"
#include "telemetry/sample.h"

namespace gpuaas {

struct GpuReading {
  GpuSample sample;
  bool valid = true;    // false: no values could be read (sample must not be sent)
  std::string problem;  // non-empty: the device is unhealthy, and why
};

struct GpuHealthLimits {
  int max_temp_c = 90;               // at or above: "too hot"
  uint64_t max_ecc_uncorrected = 0;  // above: "uncorrectable ECC errors"
};

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  // The devices found at start (state healthy unless discovery already saw a problem).
  virtual std::vector<GpuDevice> Inventory() const = 0;
  virtual bool simulated() const = 0;
  // One reading per device of Inventory(), taken at `now`. `busy`: device indices held by
  // running workloads (the demo source derives its load from it; NVML reads the hardware).
  virtual std::vector<GpuReading> Sample(Millis now, const std::set<int>& busy) = 0;
};

}  // namespace gpuaas
