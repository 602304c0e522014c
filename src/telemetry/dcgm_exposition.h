// The Prometheus text exposition of GPU telemetry under the metric names and labels of NVIDIA's
// DCGM exporter, so that dashboards and alerts written for dcgm-exporter work unchanged:
//   DCGM_FI_DEV_GPU_UTIL (%), DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE (MiB),
//   DCGM_FI_DEV_POWER_USAGE (W), DCGM_FI_DEV_GPU_TEMP (C),
//   DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ, counter since the server first saw the device),
// each labelled gpu, UUID, device ("nvidiaN"), modelName, Hostname (the node), plus job and
// entity (empty when the device is free). Also gpuaas_gpu_healthy (1/0, with the reason).
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "telemetry/sample.h"

namespace gpuaas {

struct DcgmDevice {
  int gpu = 0;
  std::string uuid;
  std::string model_name;
  std::string hostname;
  std::string job;     // "" = free
  std::string entity;  // "" = free
  int64_t memory_mb = 0;
  bool healthy = true;
  std::string health_reason;
  bool has_sample = false;  // without one, only the health and energy series are written
  GpuSample last;
  int64_t energy_uj = 0;
};

// Appends the exposition of `devices` (in the given order) to `out`.
void AppendDcgmExposition(const std::vector<DcgmDevice>& devices, std::string& out);

// A label value escaped for the text format (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& v);

}  // namespace gpuaas
