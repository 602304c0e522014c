// GpuSample: one reading of one GPU at one instant, as an agent sends it in its heartbeat
// ("samples": [{"index", "t", "util", "mem_used_mb", "power_w", "temp_c"}], docs/api.md) and as
// the server keeps it. Plain value; thread-compatible.
#pragma once

#include <cstdint>

#include "base/time.h"

namespace gpuaas {

struct GpuSample {
  int index = 0;            // device index on its node
  Millis t = 0;             // when it was read (agent clock, ms since epoch)
  int util_pct = 0;         // 0..100, GPU (SM) utilisation over the driver's last period
  int64_t mem_used_mb = 0;  // framebuffer memory in use
  int64_t power_mw = 0;     // board power draw (milliwatts; "power_w" on the wire)
  int temp_c = 0;           // GPU temperature
};

}  // namespace gpuaas
